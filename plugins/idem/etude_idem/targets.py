"""Particle targets: the 4-particle double well (DW-4) and Lennard-Jones clusters (LJ-13, LJ-55).

Both are invariant under E(d) x S_n (rotations, reflections, translations and
particle permutations) and have no known log Z. Configurations are flat,
(..., n*d). :meth:`reference_samples` draws the MCMC reference that stands in
for the Klein et al. (2023) test sets, which cannot be shipped or downloaded
here: many parallel MALA chains (Metropolis-adjusted, step size adapted during
burn-in only), thinned, centred, and checked by split R-hat <= 1.05 on the
energy and the mean pairwise distance (``pyro.ops.stats.split_gelman_rubin``).

References:
    T. Akhound-Sadegh et al., "Iterated Denoising Energy Matching for Sampling from
    Boltzmann Densities", ICML 2024, arXiv:2402.06121 (Sec. 5, App. C.2).
    J. Köhler, L. Klein, F. Noé, "Equivariant Flows", ICML 2020, arXiv:2006.02425 (DW-4, LJ-13).
    L. Klein, A. Krämer, F. Noé, "Equivariant flow matching", NeurIPS 2023, arXiv:2306.15030 (test sets).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, in_range, one_of, positive
from etude.kinds import Target

from .particles import pairwise_distances, remove_mean


def _at_least(n: int):
    def check(instance, attribute, value):
        if not isinstance(value, int) or isinstance(value, bool) or value < n:
            raise FieldValueError(attribute.name, value, f"an integer >= {n}")

    return check


class ParticleTarget(Target):
    """Shared machinery of the particle targets: layout, distances, the MALA reference."""

    has_exact_samples = False

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self._references: dict[tuple[int, int], tuple[Tensor, dict]] = {}

    @property
    def n_particles(self) -> int:
        return self.config.n_particles

    @property
    def spatial_dim(self) -> int:
        return self.config.spatial_dim

    @property
    def layout(self) -> tuple[int, int]:
        return (self.n_particles, self.spatial_dim)

    @property
    def dim(self) -> int:
        return self.n_particles * self.spatial_dim

    @property
    def log_Z(self) -> None:
        return None

    def _check(self, x: Tensor, who: str) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"{who}: x must be a floating-point tensor of shape (..., {self.dim})")
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"{who}: x must have shape (..., {self.dim}) ({self.n_particles} particles in {self.spatial_dim}-D), got {tuple(x.shape)}")
        return x

    def distances(self, x: Tensor) -> Tensor:
        """Unique pairwise distances (..., n(n-1)/2)."""
        return pairwise_distances(x, self.layout)

    def _spacing(self) -> float:
        raise NotImplementedError

    def initial_state(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Starting points of the reference chains: a cubic lattice at the pair minimum's spacing, perturbed (mean-free).

        Random starts can put a pair far out on the quartic or LJ walls, where a
        chain with the shared adapted step size never accepts a move.
        """
        c = self.config
        side = math.ceil(c.n_particles ** (1 / c.spatial_dim) - 1e-9)
        axes = [torch.arange(side, dtype=torch.float32) * self._spacing()] * c.spatial_dim
        lattice = torch.cartesian_prod(*axes).reshape(-1, c.spatial_dim)[: c.n_particles].reshape(1, -1)
        x = lattice + c.init_scale * torch.randn(n, self.dim, generator=generator)
        return remove_mean(x, self.layout)

    def reference_samples(self, n: int, seed: int = 0, *, chains: int = 0, thin: int = 0, burn_in: int = 0) -> Tensor:
        """``n`` MCMC reference samples (n, dim), mean-free; cached per (n, seed) on the instance.

        Parallel MALA (``etude_diffusion_samplers.local_search.mala``): ``chains``
        chains (default ``max(64, n // 20)``) adapt their step size for
        ``burn_in`` steps (default ``config.reference_burn_in``), then run without
        adaptation, keeping every ``thin``-th state (default ``config.reference_thin``).
        The split R-hat of the energy and of the mean pairwise distance is
        stored in :attr:`reference_info` and a warning is raised above 1.05.
        """
        key = (int(n), int(seed))
        if key in self._references:
            return self._references[key][0]
        from etude_diffusion_samplers.local_search import mala  # noqa: PLC0415
        from pyro.ops.stats import split_gelman_rubin  # noqa: PLC0415

        c = self.config
        chains = chains or max(64, n // 20)
        thin = thin or c.reference_thin
        burn_in = burn_in or c.reference_burn_in
        per_chain = math.ceil(n / chains)
        g = torch.Generator().manual_seed(seed)
        x = self.initial_state(chains, g).double()
        target = self.to(dtype=torch.float64)
        calls = target.energy_calls
        res = mala(x, target, n_steps=burn_in + 1, burn_in=burn_in, step_size=c.reference_step, generator=g)
        x, step = res.final, res.step_size
        states = []
        for _ in range(per_chain):
            res = mala(x, target, n_steps=thin, burn_in=thin - 1, step_size=step, adaptive=False, generator=g)
            x = res.final
            states.append(remove_mean(x, self.layout))
        trace = torch.stack(states, 1)  # (chains, per_chain, dim)
        self.to(dtype=torch.float32)
        with torch.no_grad():
            stats = torch.stack([self.unnormalized_log_prob(trace), self.distances(trace).mean(-1)], -1)
        rhat = split_gelman_rubin(stats.double(), chain_dim=0, sample_dim=1) if per_chain >= 4 else torch.full((2,), float("nan"))
        info = {
            "chains": chains, "thin": thin, "burn_in": burn_in, "step_size": step,
            "rhat_energy": float(rhat[0]), "rhat_distance": float(rhat[1]),
            "energy_calls": target.energy_calls - calls,
        }
        target.energy_calls = calls
        if per_chain >= 4 and not max(info["rhat_energy"], info["rhat_distance"]) <= 1.05:
            warnings.warn(f"{type(self).__name__} reference: split R-hat {max(info['rhat_energy'], info['rhat_distance']):.3f} > 1.05; "
                          "run longer chains (burn_in, thin)", RuntimeWarning, stacklevel=2)
        samples = trace.permute(1, 0, 2).reshape(-1, self.dim)[:n].float()
        self._references[key] = (samples, info)
        self.reference_info = info
        return samples


@configclass
class MultiDoubleWellConfig:
    n_particles: int = field(default=4, validator=_at_least(2), doc="number of particles n (DW-4: 4)")
    spatial_dim: int = field(default=2, validator=_at_least(1), doc="spatial dimension d (DW-4: 2)")
    a: float = field(default=0.9, doc="quartic coefficient a")
    b: float = field(default=-4.0, doc="quadratic coefficient b")
    c: float = field(default=0.0, doc="constant c per pair")
    offset: float = field(default=4.0, doc="distance offset d0")
    init_scale: float = field(default=0.5, validator=positive, doc="perturbation std of the lattice start of the reference chains")
    reference_step: float = field(default=0.05, validator=positive, doc="initial MALA step of the reference")
    reference_burn_in: int = field(default=5000, validator=_at_least(1), doc="adaptive MALA burn-in steps of the reference")
    reference_thin: int = field(default=1000, validator=_at_least(1), doc="MALA steps between kept reference states (the pair-distance pattern mixes slowly)")


class MultiDoubleWell(ParticleTarget):
    """Multi double well (DW-4): ``E(x) = sum_{i<j} a (d_ij - d0)^4 + b (d_ij - d0)^2 + c``.

    Pairwise distances ``d_ij = |x_i - x_j|`` over unique pairs; a = 0.9,
    b = -4, c = 0, d0 = 4 (bgflow's ``MultiDoubleWellPotential`` as configured
    by DEM). Each pair has two minima ``d = d0 ± sqrt(-b / (2a))`` of energy
    ``c - b^2 / (4a)``. Invariant under E(d) x S_n; ``log_Z = None``.

    References:
        J. Köhler, L. Klein, F. Noé, "Equivariant Flows", ICML 2020, arXiv:2006.02425.
        T. Akhound-Sadegh et al., ICML 2024, arXiv:2402.06121.

    Examples:
        >>> import torch
        >>> t = MultiDoubleWell()
        >>> x = torch.tensor([[0.0, 0.0, 4.0, 0.0, 0.0, 4.0, 4.0, 4.0]])
        >>> round(float(t.energy(x)), 4)  # four pairs at d0 (E = 0), two at 4 sqrt(2)
        -8.3966
    """

    Config = MultiDoubleWellConfig

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        self._check(x, "MultiDoubleWell.log_prob")
        c = self.config
        r = self.distances(x) - c.offset
        return -(c.a * r**4 + c.b * r**2 + c.c).sum(-1)

    def _spacing(self) -> float:
        return self.config.offset


@configclass
class LennardJonesConfig:
    n_particles: int = field(default=13, validator=_at_least(2), doc="number of particles n (LJ-13: 13, LJ-55: 55)")
    spatial_dim: int = field(default=3, validator=_at_least(1), doc="spatial dimension d")
    eps: float = field(default=1.0, validator=positive, doc="well depth epsilon")
    rm: float = field(default=1.0, validator=positive, doc="distance of the pair minimum r_m")
    pair_factor: float = field(default=1.0, validator=one_of(1.0, 0.5), doc="1.0: sum over ordered pairs (each pair twice, DEM's default); 0.5: unique pairs (the EACF convention)")
    oscillator_scale: float = field(default=1.0, validator=in_range(0.0, 1e6), doc="harmonic term 0.5 * scale * sum_i |x_i - mean|^2 (0 = off)")
    init_scale: float = field(default=0.05, validator=positive, doc="perturbation std of the compact starting cluster of the reference chains")
    reference_step: float = field(default=1e-4, validator=positive, doc="initial MALA step of the reference")
    reference_burn_in: int = field(default=5000, validator=_at_least(1), doc="adaptive MALA burn-in steps of the reference")
    reference_thin: int = field(default=500, validator=_at_least(1), doc="MALA steps between kept reference states")


class LennardJones(ParticleTarget):
    """Lennard-Jones cluster: ``E = f sum_{i != j} eps ((r_m/d_ij)^12 - 2 (r_m/d_ij)^6) + 0.5 sum_i |x_i - x̄|^2``.

    The sum runs over **ordered** pairs (each unordered pair twice) with
    ``f = pair_factor = 1``, DEM's default, which matches its LJ-13 data;
    ``pair_factor=0.5`` gives the usual one-count-per-pair (EACF) energy. The
    harmonic oscillator to the centre of mass (scale 1) keeps the cluster
    bound. eps = r_m = 1. ``log_Z = None``. The reference chains start from a
    compact, perturbed cluster (a cubic lattice of spacing r_m).

    References:
        J. E. Jones, "On the determination of molecular fields", Proc. R. Soc. A 1924.
        T. Akhound-Sadegh et al., ICML 2024, arXiv:2402.06121 (LJ-13, LJ-55).

    Examples:
        >>> import torch
        >>> t = LennardJones(n_particles=2, spatial_dim=3)
        >>> round(float(t.energy(torch.tensor([[0.0, 0, 0, 1.0, 0, 0]]))), 4)  # (-1) twice + 0.5 * 2 * 0.25
        -1.75
    """

    Config = LennardJonesConfig

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        self._check(x, "LennardJones.log_prob")
        c = self.config
        inv6 = (c.rm / self.distances(x)) ** 6
        pair = c.eps * (inv6**2 - 2 * inv6)
        energy = 2 * c.pair_factor * pair.sum(-1)
        if c.oscillator_scale:
            y = x.reshape(*x.shape[:-1], self.n_particles, self.spatial_dim)
            energy = energy + 0.5 * c.oscillator_scale * ((y - y.mean(-2, keepdim=True)) ** 2).sum((-2, -1))
        return -energy

    def _spacing(self) -> float:
        return self.config.rm
