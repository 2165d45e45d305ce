"""The paper's regression targets: a sum of sinusoids on [0, 1) and the same target on a flower-shaped curve.

Both tasks share one target (Rahaman et al. 2019, the
experiment of Fig. 1 and ``ICML_SpectralBias.ipynb``):

    lambda(z) = sum_i A_i sin(2 pi k_i z + 2 pi phi_i),   phi_i ~ U(0, 1) from the seed,

sampled on the grid ``z_j = j / N`` (train, ``N`` points) and on a
``test_density`` times denser grid (test). Integer ``k_i < N / 2`` put every
component exactly on a bin of the N-point DFT, so
:func:`~etude_spectral_bias.spectrum.amplitudes` reads ``A_i`` back without
leakage.

- ``task/sum-of-sinusoids``: the inputs are ``z`` itself, shape (N, 1).
- ``task/flower-manifold``: the inputs are the points ``gamma_L(z)`` of a
  closed curve in R^2 with ``L`` petals (the curve of ``ICML_Manifolds.ipynb``),
  ``gamma_L(z) = (1 + 1/2 sin(2 pi L z)) (cos 2 pi z, sin 2 pi z)``; ``L = 0``
  is the unit circle. The target is a function of ``z`` along the curve.

Rows are in grid order (``info["z"]`` holds the grid), so the spectrum of a
prediction on the train split is its spectrum in ``z``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from etude.config import FieldValueError, configclass, field, non_negative, positive
from etude.kinds import Split, Task

DEFAULT_FREQUENCIES = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50)


def _frequencies(value: Any) -> tuple[Any, ...]:
    if isinstance(value, (int, float)):
        value = (value,)
    return tuple(value)


def _amplitudes(value: Any) -> Any:
    return value if isinstance(value, str) else tuple(float(a) for a in value)


def _check_frequencies(instance: Any, attribute: Any, value: tuple[Any, ...]) -> None:
    if not value:
        raise FieldValueError(attribute.name, value, "a non-empty sequence of integer frequencies")
    for k in value:
        if isinstance(k, bool) or not isinstance(k, (int, float)) or float(k) != int(k):
            raise FieldValueError(attribute.name, k, "integer frequencies (a non-integer k leaks into every DFT bin)")
    if len(set(int(k) for k in value)) != len(value):
        raise FieldValueError(attribute.name, value, "distinct frequencies")


def _check_amplitudes(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, str):
        if value not in ("unit", "increasing"):
            raise FieldValueError(attribute.name, value, "'unit', 'increasing' or a sequence of numbers > 0")
        return
    if any(not (a > 0 and math.isfinite(a)) for a in value):
        raise FieldValueError(attribute.name, value, "'unit', 'increasing' or a sequence of finite numbers > 0")


@configclass
class SumOfSinusoidsConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the phases phi_i ~ U(0, 1)")
    n_points: int = field(default=200, validator=positive, doc="N: train grid z_j = j / N, j = 0..N-1")
    frequencies: tuple[int, ...] = field(default=DEFAULT_FREQUENCIES, converter=_frequencies,
                                         validator=_check_frequencies, doc="integer frequencies k_i, each < N / 2")
    amplitudes: Any = field(default="unit", converter=_amplitudes, validator=_check_amplitudes,
                            doc="'unit' (A_i = 1), 'increasing' (A_i = i / n, the notebook's 0.1, ..., 1.0) or one number per k")
    test_density: int = field(default=4, validator=positive, doc="the test split is the grid j / (test_density N)")

    def __attrs_post_init__(self) -> None:
        for k in self.frequencies:
            if not 1 <= int(k) < self.n_points / 2:
                raise FieldValueError("frequencies", k, f"an integer in [1, N/2) = [1, {self.n_points / 2:g}) for "
                                      f"n_points={self.n_points} (raise n_points or drop k)")
        if not isinstance(self.amplitudes, str) and len(self.amplitudes) != len(self.frequencies):
            raise FieldValueError("amplitudes", self.amplitudes,
                                  f"one amplitude per frequency ({len(self.frequencies)}), 'unit' or 'increasing'")


@configclass
class FlowerManifoldConfig(SumOfSinusoidsConfig):
    frequencies: tuple[int, ...] = field(default=(5, 10, 15, 20), converter=_frequencies,
                                         validator=_check_frequencies, doc="integer frequencies k_i in z, each < N / 2")
    petals: int = field(default=10, validator=non_negative, doc="L: petals of the curve (0: the unit circle)")
    petal_depth: float = field(default=0.5, validator=non_negative,
                               doc="radius 1 + petal_depth sin(2 pi L z); < 1 keeps the curve simple")

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.petal_depth >= 1:
            raise FieldValueError("petal_depth", self.petal_depth, "a number in [0, 1) (the radius must stay > 0)")


def amplitude_values(amplitudes: Any, n: int) -> torch.Tensor:
    """The amplitudes A_i (float64, (n,)) for ``'unit'``, ``'increasing'`` or explicit values."""
    if amplitudes == "unit":
        return torch.ones(n, dtype=torch.float64)
    if amplitudes == "increasing":
        return torch.arange(1, n + 1, dtype=torch.float64) / n
    return torch.tensor(amplitudes, dtype=torch.float64)


def sum_of_sinusoids(z: torch.Tensor, frequencies, amplitudes: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """``sum_i A_i sin(2 pi k_i z + 2 pi phi_i)`` for z of any shape (float64 in, float64 out)."""
    k = torch.as_tensor(frequencies, dtype=torch.float64)
    arg = 2 * math.pi * (z.to(torch.float64)[..., None] * k + phases)
    return (amplitudes * torch.sin(arg)).sum(-1)


class SumOfSinusoids(Task):
    """1-D regression on ``lambda(z) = sum_i A_i sin(2 pi k_i z + 2 pi phi_i)`` over the grid z = j / N.

    The target of the paper's Fig. 1 (``ICML_SpectralBias.ipynb``): N = 200,
    k = 5, 10, ..., 50, A_i = 1 (or increasing), random phases from the seed.
    Train is the N-point grid on [0, 1), test the ``test_density`` x denser
    grid. ``info`` carries ``frequencies``, ``amplitudes`` and ``phases``
    (lists) and ``z`` (the grid, float64).

    References:
        N. Rahaman, A. Baratin, D. Arpit, F. Draxler, M. Lin, F. A. Hamprecht,
        Y. Bengio, A. Courville, "On the Spectral Bias of Neural Networks",
        ICML 2019, arXiv:1806.08734.

    Examples:
        >>> task = SumOfSinusoids(frequencies=(5, 10), seed=0)
        >>> s = task.split("train")
        >>> tuple(s.inputs.shape), tuple(s.targets.shape), len(task.split("test"))
        ((200, 1), (200, 1), 800)
    """

    Config = SumOfSinusoidsConfig
    num_classes = None
    input_shape = (1,)

    def target_parameters(self) -> dict[str, torch.Tensor]:
        """``frequencies`` (int64), ``amplitudes`` and ``phases`` (float64), drawn from the config's seed."""
        c = self.config
        n = len(c.frequencies)
        g = torch.Generator().manual_seed(int(c.seed))
        phases = torch.rand(n, generator=g, dtype=torch.float64)
        return {"frequencies": torch.tensor([int(k) for k in c.frequencies]),
                "amplitudes": amplitude_values(c.amplitudes, n), "phases": phases}

    def embed(self, z: torch.Tensor) -> torch.Tensor:
        """The inputs for grid points ``z`` (N,) -> (N, d)."""
        return z[:, None]

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        p = self.target_parameters()
        splits = {}
        for name, n in (("train", c.n_points), ("test", c.n_points * c.test_density)):
            z = torch.arange(n, dtype=torch.float64) / n
            y = sum_of_sinusoids(z, p["frequencies"], p["amplitudes"], p["phases"])
            info = {"z": z, "frequencies": p["frequencies"].tolist(), "amplitudes": p["amplitudes"].tolist(),
                    "phases": p["phases"].tolist()}
            splits[name] = Split(self.embed(z).float(), y[:, None].float(), info)
        return splits


def flower_curve(z: torch.Tensor, petals: int, petal_depth: float = 0.5) -> torch.Tensor:
    """``gamma_L(z) = (1 + d sin(2 pi L z)) (cos 2 pi z, sin 2 pi z)``: (N,) -> (N, 2), float64."""
    phi = 2 * math.pi * z.to(torch.float64)
    radius = 1 + petal_depth * torch.sin(petals * phi)
    return torch.stack([radius * torch.cos(phi), radius * torch.sin(phi)], dim=-1)


class FlowerManifold(SumOfSinusoids):
    """The sum-of-sinusoids target in z, observed through a closed curve ``gamma_L(z)`` with L petals in R^2.

    The paper's manifold experiment (``ICML_Manifolds.ipynb``): the
    network sees only the 2-D points ``gamma_L(z_j)``, the target is
    ``lambda(z_j)``. More petals make the curve longer and more curved, so a
    function oscillating fast in z can vary slowly in R^2, and high
    frequencies in z are learned sooner. ``L = 0`` is the unit circle.

    References:
        N. Rahaman et al., "On the Spectral Bias of Neural Networks", ICML 2019, arXiv:1806.08734.

    Examples:
        >>> s = FlowerManifold(petals=5).split("train")
        >>> tuple(s.inputs.shape), round(float(s.inputs.norm(dim=1).max()), 3)
        ((200, 2), 1.5)
    """

    Config = FlowerManifoldConfig
    input_shape = (2,)

    def embed(self, z: torch.Tensor) -> torch.Tensor:
        return flower_curve(z, self.config.petals, self.config.petal_depth)
