"""MINE and its baselines as etude Estimators sharing one critic machinery.

- :class:`MINE` (``estimator/mine``): Donsker-Varadhan bound with the
  moving-average bias-corrected gradient.
- :class:`MINEf` (``estimator/mine-f``): the f-divergence bound.
- :class:`NWJ` (``estimator/nwj``): the same f-divergence objective, all-pairs negatives.
- :class:`InfoNCE` (``estimator/infonce``): contrastive bound, capped at log(batch size).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .bounds import (
    MovingAverage,
    dv_bound,
    dv_corrected,
    infonce_bound,
    log_mean_exp,
    nwj_bound,
)
from .critic_estimator import CriticEstimator, FDivConfig, InfoNCEConfig, MINEConfig, NWJConfig


class MINE(CriticEstimator):
    """Mutual Information Neural Estimation: the Donsker-Varadhan bound maximised over a critic.

    MINE estimates I(X; Y) = KL(P_XY || P_X x P_Y) by gradient ascent on the
    Donsker-Varadhan lower bound ``V(T) = E_P[T] - log E_Q[e^T]`` over a
    statistics network T, with Q samples made by re-pairing a minibatch. The
    minibatch gradient ``E_B[dT] - E_B[dT e^T] / E_B[e^T]`` is biased (a ratio
    of means), so the denominator is replaced by an exponential moving
    average ``mu <- (1 - ema_rate) mu + ema_rate E_B[e^T]`` (section 3.2).
    The estimate on held-out pairs uses log-mean-exp.

    References:
        M. I. Belghazi, A. Baratin, S. Rajeswar, S. Ozair, Y. Bengio, A. Courville,
        R. D. Hjelm, "Mutual Information Neural Estimation", ICML 2018, arXiv:1801.04062.

    Examples:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(2000, 1); y = 0.9 * x + 0.44 * torch.randn(2000, 1)
        >>> mine = MINE(hidden=32, batch_size=128, seed=0).fit(x[:1000], y[:1000], steps=300)
        >>> float(mine.estimate(x[1000:], y[1000:])) > 0.6   # true MI: 0.82 nats
        True
    """

    Config = MINEConfig
    bound_name = "dv"

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.moving_average = MovingAverage(self.config.ema_rate)

    def lower_bound(self, x: Tensor, y: Tensor) -> Tensor:
        """Donsker-Varadhan value on a batch (plain minibatch estimate, differentiable)."""
        x, y = self._check_batch(x, y)
        t_joint, t_marginal = self._scores(x, y, self.config.marginal)
        return dv_bound(t_joint, t_marginal)

    def objective(self, x: Tensor, y: Tensor) -> Tensor:
        """DV value whose gradient uses the moving average (updated by this call) when ``bias_correction``."""
        x, y = self._check_batch(x, y)
        t_joint, t_marginal = self._scores(x, y, self.config.marginal)
        log_mu = self.moving_average.update(log_mean_exp(t_marginal))
        if not self.config.bias_correction:
            return dv_bound(t_joint, t_marginal)
        return dv_corrected(t_joint, t_marginal, log_mu)

    def _held_out_bound(self, t_joint: Tensor, t_marginal: Tensor) -> Tensor:
        return dv_bound(t_joint, t_marginal)


class MINEf(CriticEstimator):
    """MINE-f: MINE with the f-divergence bound ``E_P[T] - E_Q[e^(T-1)]``.

    The f-divergence (Nguyen-Wainwright-Jordan) representation of the KL
    gives a looser bound than Donsker-Varadhan for a given T, but its
    minibatch gradient is unbiased, so no moving average is needed. It is
    tight at ``T* = 1 + log dP/dQ`` (the DV optimum shifted by one).

    References:
        M. I. Belghazi et al., "Mutual Information Neural Estimation", ICML 2018,
        arXiv:1801.04062 (section 3.1, MINE-f).

    Examples:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(1000, 1); y = 0.9 * x + 0.44 * torch.randn(1000, 1)
        >>> est = MINEf(hidden=16, batch_size=100, seed=0).fit(x, y, steps=20)
        >>> est.estimate(x, y).shape
        torch.Size([])
    """

    Config = FDivConfig
    bound_name = "nwj"

    def lower_bound(self, x: Tensor, y: Tensor) -> Tensor:
        """f-divergence value on a batch (differentiable; unbiased minibatch gradient)."""
        x, y = self._check_batch(x, y)
        return nwj_bound(*self._scores(x, y, self.config.marginal))

    def _held_out_bound(self, t_joint: Tensor, t_marginal: Tensor) -> Tensor:
        return nwj_bound(t_joint, t_marginal)


class NWJ(MINEf):
    """NWJ baseline: the f-divergence bound with all b(b-1) in-batch negatives.

    ``I(X; Y) >= E_P[T] - e^{-1} E_Q[e^T]`` (Nguyen, Wainwright & Jordan 2010,
    the form benchmarked by Poole et al. 2019). The objective equals MINE-f's;
    the default marginal samples differ: every off-diagonal pair of the
    (b, b) score matrix rather than one re-pairing of the batch.

    References:
        X. Nguyen, M. J. Wainwright, M. I. Jordan, "Estimating divergence functionals and
        the likelihood ratio by convex risk minimization", IEEE Trans. Inf. Theory 2010,
        arXiv:0809.0853. B. Poole et al., "On Variational Bounds of Mutual Information",
        ICML 2019, arXiv:1905.06922.

    Examples:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(500, 2); y = x + torch.randn(500, 2)
        >>> NWJ(hidden=16, batch_size=64, seed=0).fit(x, y, steps=10).estimate(x, y).shape
        torch.Size([])
    """

    Config = NWJConfig


class InfoNCE(CriticEstimator):
    """InfoNCE (contrastive predictive coding) bound; it can never exceed log(batch size).

    On a batch of b pairs with scores ``S_ij = T(x_i, y_j)`` the bound is
    ``mean_i [S_ii - log sum_j exp S_ij] + log b <= log b`` (Oord et al. 2018;
    Poole et al. 2019). Low variance, but saturates when I(X; Y) > log b.
    Held-out estimates average the bound over disjoint chunks of
    ``batch_size`` pairs, so they share the training ceiling ``log batch_size``.

    References:
        A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with Contrastive
        Predictive Coding", arXiv:1807.03748 (2018). B. Poole, S. Ozair, A. van den Oord,
        A. Alemi, G. Tucker, "On Variational Bounds of Mutual Information", ICML 2019,
        arXiv:1905.06922.

    Examples:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(512, 2); y = x + 0.1 * torch.randn(512, 2)
        >>> est = InfoNCE(critic="separable", hidden=16, batch_size=16, seed=0).fit(x, y, steps=30)
        >>> float(est.estimate(x, y)) <= math.log(16)
        True
    """

    Config = InfoNCEConfig
    bound_name = "infonce"

    def lower_bound(self, x: Tensor, y: Tensor) -> Tensor:
        """InfoNCE on a batch (differentiable), at most log(len(x))."""
        x, y = self._check_batch(x, y)
        return infonce_bound(self._require_critic().pairwise(x, y))

    @torch.no_grad()
    def estimate(self, x: Any, y: Any) -> Tensor:
        """Mean InfoNCE over disjoint chunks of ``batch_size`` held-out pairs (nats, 0-d tensor)."""
        x, y = self._prepare(x, y)
        critic = self._require_critic()
        was_training = critic.training
        critic.eval()
        n, b = x.shape[0], min(self.config.batch_size, x.shape[0])
        values = [infonce_bound(critic.pairwise(x[i : i + b], y[i : i + b])) for i in range(0, n - b + 1, b)]
        critic.train(was_training)
        return torch.stack(values).mean()
