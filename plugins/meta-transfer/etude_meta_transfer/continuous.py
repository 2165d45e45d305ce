"""Continuous multimodal hypotheses: mixture density networks on the spline SCM (Sec. 4 of the paper).

Data: etude-scm's ``model/spline-scm`` (``B := spline(A) + N(0, 1)``), ``A ~ N(0, 2^2)`` for
training; a transfer replaces A's mechanism by ``N(m, 2^2)``, ``m`` a uniform integer in [-4, 4]
(the official notebook ``bivariate-continuous-multimodal/02_meta_learning``).

Each hypothesis is a marginal and a conditional: G1 = p(A) p(B | A), G2 = p(B) p(A | B). The
conditionals are mixture density networks, ``p(y | x) = sum_k pi_k(x) N(y; mu_k(x), sigma_k(x)^2)``
(10 components, a body of the core's ``model/mlp`` with one hidden tanh layer of 32, a
``MixtureSameFamily``), pretrained on the training distribution (Adam 1e-3, 3000 steps of 1000
samples). As in the notebook, the marginal of each episode is a 10-component Gaussian mixture fitted
(EM) to the episode's inputs, and the conditional is fine-tuned (Adam lr 1e-3, 10 steps on the 1000
transfer samples), each step's log-likelihood taken **before** the step. Unlike the notebook (whose
alpha loss mixes exp(NLL)), gamma follows the paper's regret with its closed-form gradient; Adam lr 0.1.

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms".
    ICLR 2020. arXiv:1901.10912.

Example:
    >>> import torch
    >>> mdn = MixtureDensityNetwork(components=3, capacity=8)
    >>> mdn.log_prob(torch.zeros(5), torch.ones(5)).shape
    torch.Size([5])
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, MixtureSameFamily, Normal

from etude_scm import SCM, LinearGaussian, create_spline_scm

from .episodes import make_meta_optimizer
from .regret import regret_grad

__all__ = ["MixtureDensityNetwork", "fit_gaussian_mixture", "gaussian_mixture_log_prob", "continuous_meta_train"]


class MixtureDensityNetwork(nn.Module):
    """``p(y | x)``: a Gaussian mixture whose weights, means and scales are an MLP of ``x`` (core ``model/mlp``)."""

    def __init__(self, components: int = 10, capacity: int = 32) -> None:
        super().__init__()
        import etude  # noqa: PLC0415

        self.components = components
        self.body = etude.create(
            "model", "mlp", in_features=1, out_features=3 * components, hidden=(capacity,), activation="tanh"
        )

    def distribution(self, x: Tensor) -> MixtureSameFamily:
        logits, mu, log_sigma = self.body(x.unsqueeze(-1)).chunk(3, -1)
        return MixtureSameFamily(Categorical(logits=logits), Normal(mu, log_sigma.exp()))

    def log_prob(self, y: Tensor, x: Tensor) -> Tensor:
        return self.distribution(x).log_prob(y)


def fit_gaussian_mixture(x: Tensor, components: int = 10, iters: int = 50) -> tuple[Tensor, Tensor, Tensor]:
    """EM for 1-D Gaussian mixtures (init: means at quantiles, common scale); returns (log weights, means, scales).

    ``x`` is ``(n,)`` or batched ``(..., n)``, one mixture per leading index (parameters ``(..., K)``).
    """
    x = x.detach()
    q = torch.linspace(0.5 / components, 1 - 0.5 / components, components, dtype=x.dtype)
    mu = torch.quantile(x, q, dim=-1).movedim(0, -1)  # (..., K)
    sd = (x.std(-1, keepdim=True) / math.sqrt(components) + 1e-3).expand_as(mu)
    logw = torch.full_like(mu, -math.log(components))
    xs = x.unsqueeze(-1)  # (..., n, 1)
    for _ in range(iters):
        lp = logw.unsqueeze(-2) + Normal(mu.unsqueeze(-2), sd.unsqueeze(-2)).log_prob(xs)  # (..., n, K)
        r = (lp - lp.logsumexp(-1, keepdim=True)).exp()
        nk = r.sum(-2) + 1e-10
        mu = (r * xs).sum(-2) / nk
        sd = ((r * (xs - mu.unsqueeze(-2)) ** 2).sum(-2) / nk).sqrt().clamp_min(1e-2)
        logw = (nk / nk.sum(-1, keepdim=True)).log()
    return logw, mu, sd


def gaussian_mixture_log_prob(x: Tensor, params: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """Log-density of ``x`` ``(..., n)`` under mixtures ``(log weights, means, scales)`` each ``(..., K)``."""
    logw, mu, sd = params
    return (logw.unsqueeze(-2) + Normal(mu.unsqueeze(-2), sd.unsqueeze(-2)).log_prob(x.unsqueeze(-1))).logsumexp(-1)


def _pretrain(mdn: MixtureDensityNetwork, scm: SCM, x_name: str, y_name: str, steps: int, batch: int, g) -> None:
    opt = torch.optim.Adam(mdn.parameters(), lr=1e-3)
    for _ in range(steps):
        v = scm.sample(batch, g)
        loss = -mdn.log_prob(v[y_name], v[x_name]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def _online(mdn: MixtureDensityNetwork, x: Tensor, y: Tensor, steps: int, lr: float) -> float:
    """Sum over fine-tuning steps of the conditional's summed log-likelihood, each before its Adam step."""
    model = copy.deepcopy(mdn)  # the pretrained module itself is never changed (restored by construction)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    total = 0.0
    for _ in range(steps):
        ll = model.log_prob(y, x)
        total += float(ll.detach().sum())
        opt.zero_grad()
        (-ll.mean()).backward()
        opt.step()
    return total


def continuous_meta_train(
    seed: int, *, pretrain_steps: int = 3000, episodes: int = 500, samples: int = 1000, finetune_steps: int = 10,
    finetune_lr: float = 1e-3, meta_lr: float = 0.1, components: int = 10, capacity: int = 32,
) -> dict[str, list[float]]:
    """One spline SCM A -> B: pretrain both MDN conditionals, then meta-train gamma; sigma(gamma) per episode."""
    g = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # the MDN initialisation
    scm = create_spline_scm("A->B", g)
    g1, g2 = MixtureDensityNetwork(components, capacity), MixtureDensityNetwork(components, capacity)
    _pretrain(g1, scm, "A", "B", pretrain_steps, samples, g)
    _pretrain(g2, scm, "B", "A", pretrain_steps, samples, g)
    gamma = torch.zeros(1, dtype=torch.float64)
    opt = make_meta_optimizer("adam", meta_lr)
    sig = []
    for _ in range(episodes):
        m = float(torch.randint(-4, 5, (1,), generator=g))
        v = scm.replace_mechanism("A", LinearGaussian((), m, 2.0)).sample(samples, g)
        a, b = v["A"], v["B"]
        marg1 = float(gaussian_mixture_log_prob(a, fit_gaussian_mixture(a, components)).sum())
        marg2 = float(gaussian_mixture_log_prob(b, fit_gaussian_mixture(b, components)).sum())
        l1 = _online(g1, a, b, finetune_steps, finetune_lr) + finetune_steps * marg1
        l2 = _online(g2, b, a, finetune_steps, finetune_lr) + finetune_steps * marg2
        grad = regret_grad(gamma, torch.tensor([l1], dtype=torch.float64), torch.tensor([l2], dtype=torch.float64))
        gamma = opt.step(gamma, grad)
        sig.append(float(torch.sigmoid(gamma)))
    return {"sigma_gamma": sig}
