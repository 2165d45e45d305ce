"""Baseline: NUTS (pyro.infer.MCMC) on ``potential_fn = energy`` with an energy-evaluation budget."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, positive
from etude.kinds import Sampler


def _pos_int(instance, attribute, value):
    if not isinstance(value, int) or value < 1:
        raise FieldValueError(attribute.name, value, "an integer >= 1")


def _non_neg_int(instance, attribute, value):
    if not isinstance(value, int) or value < 0:
        raise FieldValueError(attribute.name, value, "an integer >= 0")


@configclass
class NUTSConfig:
    num_samples: int = field(default=500, validator=_pos_int, doc="kept draws per chain (fit(steps=...) overrides)")
    warmup_steps: int = field(default=200, validator=_pos_int, doc="adaptation steps per chain")
    num_chains: int = field(default=4, validator=_pos_int, doc="independent chains, run one after another")
    init_scale: float = field(default=1.0, validator=positive, doc="chains start at N(0, init_scale^2 I)")
    max_tree_depth: int = field(default=8, validator=_pos_int, doc="NUTS maximum tree depth")
    energy_budget: int = field(default=0, validator=_non_neg_int, doc="stop adding chains once the target has used this many energy evaluations (0 = no limit)")


class NUTSSampler(Sampler):
    """No-U-Turn Sampler baseline (Hoffman & Gelman 2014) through ``pyro.infer.MCMC``.

    Runs ``num_chains`` NUTS chains on ``potential_fn(x) = -log R(x)`` (each
    evaluation counted by the target), each from ``N(0, init_scale^2 I)``, and
    pools their post-warm-up draws; ``energy_calls`` records the evaluations
    used so that a diffusion sampler can be compared at a matched budget.
    No log Z estimate.

    References:
        M. D. Hoffman, A. Gelman, "The No-U-Turn Sampler", JMLR 2014,
        arXiv:1111.4246. E. Bingham et al., "Pyro", JMLR 2019, arXiv:1810.09538.

    Examples:
        >>> from etude_diffusion_samplers.targets import Gaussian
        >>> s = NUTSSampler(num_samples=5, warmup_steps=5, num_chains=1).fit(Gaussian(dim=2))
        >>> s.sample(3).shape
        torch.Size([3, 2])
    """

    Config = NUTSConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.samples: Tensor | None = None
        self.energy_calls = 0

    def fit(self, target, *, steps: int | None = None, progress: bool = False, **kwargs: Any) -> NUTSSampler:
        from pyro.infer import MCMC, NUTS  # noqa: PLC0415

        c = self.config
        num_samples = c.num_samples if steps is None else max(int(steps), 1)
        start_calls = target.energy_calls

        def potential(params):
            return -target.log_prob(params["x"])

        draws = []
        for chain in range(c.num_chains):
            if c.energy_budget and target.energy_calls - start_calls >= c.energy_budget:
                break
            g = torch.Generator().manual_seed(torch.randint(0, 2**31 - 1, ()).item() + chain)
            init = {"x": c.init_scale * torch.randn(target.dim, generator=g)}
            kernel = NUTS(potential_fn=potential, max_tree_depth=c.max_tree_depth)
            mcmc = MCMC(kernel, num_samples=num_samples, warmup_steps=c.warmup_steps, initial_params=init, disable_progbar=not progress)
            mcmc.run()
            draws.append(mcmc.get_samples()["x"].detach())
        self.samples = torch.cat(draws)
        self.energy_calls = target.energy_calls - start_calls
        return self

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        if self.samples is None:
            raise RuntimeError("call fit(target) before sample()")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        idx = torch.randint(0, self.samples.shape[0], (n,), generator=generator)
        return self.samples[idx]
