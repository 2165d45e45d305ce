"""Per-dataset baselines on the same Pyro model: NUTS, Langevin (MALA), mean-field VI and MAP.

Each one fits every dataset of a padded batch separately (the posteriors of
independent datasets factorise, so one run over the batch is D independent
inferences) and returns a Pyro distribution with batch (D,) and event (P,),
as the amortised estimator does, but it pays the inference cost per dataset.

- :class:`NUTSPosterior` (``estimator/nuts-posterior``): ``pyro.infer.MCMC(NUTS)``, a ``dist.Empirical``.
- :class:`LangevinPosterior` (``estimator/langevin-posterior``): ``HMC(num_steps=1)``, i.e. the
  Metropolis-adjusted Langevin algorithm, a ``dist.Empirical``.
- :class:`MeanFieldVI` (``estimator/mean-field-vi``): ``AutoNormal`` fitted by SVI on all datasets at once.
- :class:`MAPEstimate` (``estimator/map``): batched Adam on log p(theta, D) (``prior=False``: MLE), a ``dist.Delta``.

References:
    M. D. Hoffman, A. Gelman, "The No-U-Turn Sampler", JMLR 2014, arXiv:1111.4246.
    G. O. Roberts, R. L. Tweedie, "Exponential convergence of Langevin distributions", Bernoulli 1996.
    S. Mittal et al., arXiv:2502.06601 (2025), Table 1 (Optimisation, Langevin and HMC rows).
"""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import HMC, MCMC, NUTS, SVI, Trace_ELBO
from pyro.infer.autoguide import AutoNormal
from torch import Tensor

from etude.config import configclass, field, non_negative, positive
from etude.kinds import Estimator

from ._checks import check_dataset


class _PerDataset(Estimator):
    """Shared plumbing: a Bayesian model from a registered task, data validation, the fitted posterior."""

    def __init__(self, config: Any = None, *, model: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if model is None:
            import etude  # noqa: PLC0415

            model = etude.create("task", self.config.task, **self.config.task_options).model
        self.model = model
        self.posterior: Any = None
        self.seconds = float("nan")

    def _data(self, data: tuple, owner: str) -> tuple[Tensor, Tensor | None, Tensor]:
        if not self.model.supervised and len(data) == 2:
            x, mask = data
            y = None
        else:
            x, y, mask = (tuple(data) + (None, None))[:3]
        return check_dataset(x, y, mask, supervised=self.model.supervised, owner=owner)

    def estimate(self, *data: Any, **kwargs: Any) -> Any:
        """The posterior fitted by the last :meth:`fit` (batch (D,), event (P,))."""
        if self.posterior is None:
            raise RuntimeError(f"{type(self).__name__}.estimate: call fit(x, y, mask) first")
        return self.posterior

    def _conditioned(self, x, y, mask):
        def program():
            return self.model.model(x, y, mask)

        return program


@configclass
class MCMCConfig:
    task: str = field(default="bayes-linear-regression", doc="registered bayes-* task whose model is used")
    task_options: dict[str, Any] = field(factory=dict, doc="config of the task")
    warmup_steps: int = field(default=200, validator=positive, doc="adaptation steps (step size, diagonal mass matrix)")
    num_samples: int = field(default=200, validator=positive, doc="kept samples per chain")
    num_chains: int = field(default=1, validator=positive, doc="chains (run sequentially on CPU)")
    max_tree_depth: int = field(default=10, validator=positive, doc="NUTS: maximum tree depth")
    target_accept_prob: float = field(default=0.8, doc="step-size adaptation target")
    seed: int = field(default=0, doc="seed of the chains")


class NUTSPosterior(_PerDataset):
    """NUTS on each dataset's posterior through ``pyro.infer.MCMC``; the estimate is a ``dist.Empirical``.

    All D datasets run as one chain over the product posterior (they are
    independent, and the diagonal mass matrix adapts per coordinate), which
    costs one Pyro MCMC call instead of D.

    Examples:
        >>> import torch
        >>> from etude_amortized_posterior.models import LinearRegression
        >>> m = LinearRegression(dim=1); data = m.simulate(2, generator=torch.Generator().manual_seed(0))
        >>> q = NUTSPosterior(model=m, warmup_steps=20, num_samples=20).fit(data["x"], data["y"], data["mask"]).estimate()
        >>> q.batch_shape, q.event_shape
        (torch.Size([2]), torch.Size([2]))
    """

    Config = MCMCConfig
    kernel_name = "nuts"

    def _kernel(self, program):
        c = self.config
        return NUTS(program, max_tree_depth=c.max_tree_depth, target_accept_prob=c.target_accept_prob,
                    max_plate_nesting=2)

    def fit(self, *data: Any, steps: int | None = None, progress: bool = False, **kwargs: Any) -> _PerDataset:
        import time  # noqa: PLC0415

        x, y, mask = self._data(data, f"{type(self).__name__}.fit")
        c = self.config
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            mcmc = MCMC(self._kernel(self._conditioned(x, y, mask)), num_samples=c.num_samples,
                        warmup_steps=c.warmup_steps if steps is None else int(steps), num_chains=c.num_chains,
                        disable_progbar=not progress, mp_context=None)
            mcmc.run()
        self.seconds = time.perf_counter() - start
        self.mcmc = mcmc
        theta = mcmc.get_samples(group_by_chain=False)["theta"].reshape(-1, x.shape[0], self.model.num_params)
        self.samples = theta  # (S, D, P)
        s = theta.shape[0]
        self.posterior = dist.Empirical(theta.transpose(0, 1), torch.zeros(x.shape[0], s, dtype=theta.dtype))
        return self


@configclass
class LangevinConfig(MCMCConfig):
    step_size: float = field(default=0.01, validator=positive, doc="initial step size (adapted during warm-up)")


class LangevinPosterior(NUTSPosterior):
    """Metropolis-adjusted Langevin: ``pyro.infer.HMC`` with one leapfrog step per proposal.

    Examples:
        >>> import torch
        >>> from etude_amortized_posterior.models import GaussianMean
        >>> m = GaussianMean(dim=2); data = m.simulate(2, generator=torch.Generator().manual_seed(0))
        >>> q = LangevinPosterior(model=m, warmup_steps=20, num_samples=20).fit(data["x"], data["mask"]).estimate()
        >>> q.sample().shape
        torch.Size([2, 2])
    """

    Config = LangevinConfig
    kernel_name = "langevin"

    def _kernel(self, program):
        c = self.config
        return HMC(program, step_size=c.step_size, num_steps=1, adapt_step_size=True,
                   target_accept_prob=0.57, max_plate_nesting=2)


@configclass
class MeanFieldVIConfig:
    task: str = field(default="bayes-linear-regression", doc="registered bayes-* task whose model is used")
    task_options: dict[str, Any] = field(factory=dict, doc="config of the task")
    steps: int = field(default=2000, validator=positive, doc="SVI steps")
    lr: float = field(default=0.02, validator=positive, doc="Adam learning rate")
    particles: int = field(default=8, validator=positive, doc="ELBO particles (vectorised)")
    init_scale: float = field(default=0.1, validator=positive, doc="AutoNormal initial scale")
    lr_decay: float = field(default=1.0, validator=positive, doc="total learning-rate decay over the run (ClippedAdam lrd)")
    seed: int = field(default=0, doc="seed")


class MeanFieldVI(_PerDataset):
    """Non-amortised mean-field VI: an ``AutoNormal`` guide per dataset, fitted by SVI on all datasets at once.

    The gap between it and the amortised reverse-KL estimator is the
    amortisation gap (a reviewer request on the 2023 paper).

    Examples:
        >>> import torch
        >>> from etude_amortized_posterior.models import GaussianMean
        >>> m = GaussianMean(dim=2); data = m.simulate(3, generator=torch.Generator().manual_seed(0))
        >>> q = MeanFieldVI(model=m, steps=50).fit(data["x"], data["mask"]).estimate()
        >>> q.batch_shape, q.event_shape
        (torch.Size([3]), torch.Size([2]))
    """

    Config = MeanFieldVIConfig

    def fit(self, *data: Any, steps: int | None = None, progress: bool = False, **kwargs: Any) -> MeanFieldVI:
        import time  # noqa: PLC0415

        x, y, mask = self._data(data, "MeanFieldVI.fit")
        c = self.config
        program = self._conditioned(x, y, mask)
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            pyro.clear_param_store()
            guide = AutoNormal(program, init_scale=c.init_scale)
            n_steps = c.steps if steps is None else int(steps)
            optim = pyro.optim.ClippedAdam({"lr": c.lr, "lrd": c.lr_decay ** (1.0 / max(1, n_steps))})
            svi = SVI(program, guide, optim,
                      loss=Trace_ELBO(num_particles=c.particles, vectorize_particles=True, max_plate_nesting=2))
            for _ in range(n_steps):
                svi.step()
            loc, scale = guide._get_loc_and_scale("theta")
        self.seconds = time.perf_counter() - start
        d, p = x.shape[0], self.model.num_params
        self.posterior = dist.Normal(loc.detach().reshape(d, p), scale.detach().reshape(d, p)).to_event(1)
        return self


@configclass
class MAPConfig:
    task: str = field(default="bayes-linear-regression", doc="registered bayes-* task whose model is used")
    task_options: dict[str, Any] = field(factory=dict, doc="config of the task")
    steps: int = field(default=2000, validator=positive, doc="Adam steps")
    lr: float = field(default=0.02, validator=positive, doc="Adam learning rate")
    prior: bool = field(default=True, doc="maximise log p(theta, D) (MAP); False: log p(D | theta) (MLE)")
    init_std: float = field(default=0.1, validator=non_negative, doc="std of the random initialisation")
    seed: int = field(default=0, doc="seed of the initialisation")


class MAPEstimate(_PerDataset):
    """Per-dataset MAP (or MLE with ``prior=False``) by batched Adam; the estimate is a ``dist.Delta``.

    The paper's "Optimisation" baseline. All D problems are one batched
    tensor of parameters (D, P) optimised together (their objectives are a sum).

    Examples:
        >>> import torch
        >>> from etude_amortized_posterior.models import LinearRegression
        >>> m = LinearRegression(dim=2); data = m.simulate(3, generator=torch.Generator().manual_seed(0))
        >>> MAPEstimate(model=m, steps=100).fit(data["x"], data["y"], data["mask"]).estimate().sample().shape
        torch.Size([3, 3])
    """

    Config = MAPConfig

    def fit(self, *data: Any, steps: int | None = None, progress: bool = False, init: Tensor | None = None,
            **kwargs: Any) -> MAPEstimate:
        import time  # noqa: PLC0415

        x, y, mask = self._data(data, "MAPEstimate.fit")
        c = self.config
        d, p = x.shape[0], self.model.num_params
        gen = torch.Generator().manual_seed(c.seed)
        theta0 = c.init_std * torch.randn(d, p, generator=gen).to(x) if init is None else init.detach().clone().to(x)
        theta = theta0.requires_grad_(True)
        opt = torch.optim.Adam([theta], lr=c.lr)
        prior = self.model.prior(x)
        start = time.perf_counter()
        self.trace: list[float] = []
        for _ in range(c.steps if steps is None else int(steps)):
            objective = self.model.log_likelihood(theta, x, y, mask)
            if c.prior:
                objective = objective + prior.log_prob(theta)
            loss = -objective.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self.trace.append(float(loss.detach()) / d)
        self.seconds = time.perf_counter() - start
        self.theta = theta.detach()
        self.posterior = dist.Delta(self.theta, event_dim=1)
        return self
