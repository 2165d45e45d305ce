"""The two-layer diagonal linear network and its task: the paper's analytical model (Section 3).

Model: ``f(x) = sum_k u_k v_k x_k`` with ``u = v = sigma`` at initialisation.
Task: ``n = d`` examples ``x_k = sqrt(mu_k) e_k`` (the rows of
``diag(sqrt(mu))``), so every example is one mode with input eigenvalue
``mu_k``, and targets ``y_k = mu_{d+1-k} / sqrt(mu_k)``, so the label
alignment ``y~_k = <x_k, y_k> = mu_{d+1-k}`` is in the *reverse* order of
``mu``: rich dynamics (rates ``~ y~_k``) and lazy dynamics (rates ``~ mu_k``)
learn the examples in opposite orders. Inputs and targets are float64 (in
the lazy regime ``f - f0`` falls below float32 resolution).

References:
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658, Section 3 (worked example 1).

Examples:
    >>> task = DiagonalNetTask()
    >>> train = task.split("train")
    >>> net = DiagonalNet(in_features=5).double()
    >>> tuple(net(train.inputs).shape), train.inputs.dtype
    ((5, 1), torch.float64)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, non_negative, positive
from etude.kinds import Model, Split, Task


def _floats(value: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


@configclass
class DiagonalNetConfig:
    in_features: int = field(default=5, validator=positive, doc="input dimension d (one (u_k, v_k) pair per input)")
    out_features: int = field(default=1, doc="must be 1 (the network is scalar-valued); filled in by the loop")
    sigma: float = field(default=1e-3, validator=positive, doc="initial value of every u_k and v_k")

    def __attrs_post_init__(self) -> None:
        if self.out_features != 1:
            raise FieldValueError("out_features", self.out_features, "1 (the diagonal network is scalar-valued)")


class DiagonalNet(Model):
    """Two-layer diagonal linear network ``f(x) = sum_k u_k v_k x_k``, ``u = v = sigma`` at init; (N, d) -> (N, 1).

    Gradient descent on ``sum_k (f(x_k) - y_k)^2`` keeps ``u_k = v_k`` and
    moves ``theta_k = u_k v_k`` by a logistic equation (see
    :mod:`etude_lazy_hasty.analytical`). Parameters take the model's dtype
    (call ``.double()`` for the analytical experiments).

    Examples:
        >>> import torch
        >>> net = DiagonalNet(in_features=3, sigma=0.5)
        >>> net(torch.eye(3)).squeeze(1).tolist()
        [0.25, 0.25, 0.25]
    """

    Config = DiagonalNetConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        d, s = int(self.config.in_features), float(self.config.sigma)
        self.u = nn.Parameter(torch.full((d,), s))
        self.v = nn.Parameter(torch.full((d,), s))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.u.shape[0]:
            raise ValueError(f"DiagonalNet expects inputs (N, {self.u.shape[0]}), got shape {tuple(x.shape)}")
        return (x * (self.u * self.v)).sum(1, keepdim=True)


@configclass
class DiagonalNetTaskConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the optional input noise (the task is exact without it)")
    mu: tuple[float, ...] = field(default=(9.0, 8.0, 7.0, 6.0, 5.0), converter=_floats, validator=each(positive),
                                  doc="input eigenvalues mu_k (one example per mode)")
    input_noise: float = field(default=0.0, validator=non_negative,
                               doc="std of Gaussian noise added to the inputs (0: the paper's exact example)")

    def __attrs_post_init__(self) -> None:
        if len(self.mu) < 2:
            raise FieldValueError("mu", self.mu, "at least two eigenvalues (one example per mode)")


class DiagonalNetTask(Task):
    """Worked example 1 of the analytical model: ``x = diag(sqrt(mu))``, ``y_k = mu_rev,k / sqrt(mu_k)``.

    Regression, float64; ``train`` and ``test`` are the same ``d`` examples
    (the experiment is about the order of learning, not generalisation).
    ``info``: ``mu`` (input eigenvalues) and ``label_alignment``
    (``y~_k = sqrt(mu_k) y_k = mu_{d+1-k}``).

    Examples:
        >>> train = DiagonalNetTask(mu=(4.0, 1.0)).split("train")
        >>> train.targets.squeeze(1).tolist(), train.info["label_alignment"].tolist()
        ([0.5, 4.0], [1.0, 4.0])
    """

    Config = DiagonalNetTaskConfig
    num_classes = None
    output_dim = 1

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.input_shape = (len(self.config.mu),)

    def make_splits(self) -> dict[str, Split]:
        mu = torch.tensor(self.config.mu, dtype=torch.float64)
        x = torch.diag(mu.sqrt())
        y = mu.flip(0) / mu.sqrt()
        if self.config.input_noise > 0:
            g = torch.Generator().manual_seed(int(self.config.seed))
            x = x + self.config.input_noise * torch.randn(x.shape, generator=g, dtype=torch.float64)
        info = {"mu": mu, "label_alignment": mu.sqrt() * y}
        split = Split(x, y.unsqueeze(1), info)
        return {"train": split, "test": Split(x.clone(), y.unsqueeze(1).clone(), dict(info))}


__all__ = ["DiagonalNet", "DiagonalNetConfig", "DiagonalNetTask", "DiagonalNetTaskConfig"]
