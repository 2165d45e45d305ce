"""``estimator/amortized-posterior``: the amortised in-context posterior q_phi(theta | D).

References:
    S. Mittal, N. L. Bracher, G. Lajoie, P. Jaini, M. A. Brubaker, "Amortized In-Context Bayesian
    Posterior Estimation", arXiv:2502.06601 (2025). S. Mittal et al., "Exploring Exchangeable
    Dataset Amortization for Bayesian Posterior Inference", ICML 2023 Workshop on Structured
    Probabilistic Inference & Generative Modeling (SPIGM).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, one_of, positive
from etude.kinds import Estimator

from ._checks import check_dataset
from .guide import AmortizedGuide
from .objectives import forward_kl, reverse_kl, warmup_weight


@configclass
class AmortizedPosteriorConfig:
    task: str = field(default="bayes-gaussian-mean", doc="registered task whose model (prior, likelihood, simulator) is used")
    task_options: dict[str, Any] = field(factory=dict, doc="config of the task (dim, n_min, n_max, ...)")
    encoder: str = field(default="transformer", validator=one_of("transformer", "deepsets", "gru"), doc="set encoder")
    encoder_options: dict[str, Any] = field(factory=dict, doc="config of the encoder (hidden, layers, ...; in_features is set)")
    head: str = field(default="gaussian", validator=one_of("gaussian", "flow"), doc="posterior head")
    head_options: dict[str, Any] = field(factory=dict, doc="flow head: hidden (128), num_layers (6)")
    objective: str = field(default="reverse-kl", validator=one_of("forward-kl", "reverse-kl", "mixed"), doc="training objective")
    kl: str = field(default="analytic", validator=one_of("analytic", "monte-carlo"),
                    doc="reverse KL: closed-form KL(q || prior) (TraceMeanField_ELBO) or Monte Carlo (Trace_ELBO)")
    particles: int = field(default=1, validator=positive, doc="samples of theta per dataset in the reverse-KL ELBO")
    warmup_steps: int = field(default=1, validator=positive, doc="linear KL warm-up steps (reference default 1: none)")
    lr: float = field(default=1e-4, validator=positive, doc="Adam learning rate (paper: 1e-4)")
    batch_size: int = field(default=128, validator=positive, doc="datasets per step (paper: 128)")
    steps: int = field(default=10001, validator=positive, doc="training steps when fit() gets none (paper: 10,001)")
    grad_clip: float | None = field(default=None, doc="clip the gradient norm to this value (None: off)")
    seed: int = field(default=0, doc="seed of the initialisation and of the simulated training stream")


class AmortizedPosterior(Estimator, nn.Module):
    """Amortised in-context posterior: q_phi(theta | D) from one forward pass over the dataset.

    A permutation-invariant set encoder (Transformer with [CLS], DeepSets, or
    a GRU for comparison) summarises the dataset D; a head maps the summary
    to a diagonal Gaussian or a conditional normalizing flow over theta. It
    is trained over a distribution of datasets chi by

    - forward KL  ``E_{p(theta) p(D | theta)}[-log q(theta | D)]`` (simulated pairs only), or
    - reverse KL  ``E_{D ~ chi} E_q[log q(theta | D) - log p(theta) - sum_n log p(x_n | theta)]``
      (Pyro's ``Trace_ELBO`` / ``TraceMeanField_ELBO`` on the task's Pyro model),
      which needs no true theta and so also trains on real or switched data, or
    - ``mixed``, their average.

    ``fit()`` trains on fresh simulations of the task's model; ``fit(x, y, mask)``
    trains reverse KL on the given datasets (forward KL refuses them unless their
    ``theta=`` is given: a fixed pool of simulated pairs).
    ``estimate(x, y, mask)`` returns a Pyro distribution with batch (D,) and event (P,).

    References:
        S. Mittal, N. L. Bracher, G. Lajoie, P. Jaini, M. A. Brubaker, "Amortized In-Context
        Bayesian Posterior Estimation", arXiv:2502.06601 (2025).

    Examples:
        >>> import torch
        >>> est = AmortizedPosterior(task="bayes-gaussian-mean", task_options={"dim": 2}, encoder="deepsets",
        ...                          encoder_options={"hidden": 32, "out_features": 32}, lr=1e-3, batch_size=32)
        >>> _ = est.fit(steps=30)
        >>> data = est.task.simulate(4, torch.Generator().manual_seed(1))
        >>> q = est.estimate(data["x"], None, data["mask"])
        >>> q.batch_shape, q.event_shape
        (torch.Size([4]), torch.Size([2]))
    """

    Config = AmortizedPosteriorConfig

    def __init__(self, config: AmortizedPosteriorConfig | None = None, *, task_instance: Any = None,
                 **overrides: Any) -> None:
        nn.Module.__init__(self)
        Estimator.__init__(self, config, **overrides)
        c = self.config
        if task_instance is None:
            import etude  # noqa: PLC0415

            task_instance = etude.create("task", c.task, **c.task_options)
        if not hasattr(task_instance, "model"):
            raise ValueError(
                f"AmortizedPosterior: task {c.task!r} has no Bayesian model (attribute 'model'); use one of the "
                "bayes-* tasks, or train reverse KL on another task's data through procedure/amortized-inference"
            )
        self.task = task_instance
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.guide = AmortizedGuide(task_instance.model, encoder=c.encoder, encoder_options=c.encoder_options,
                                        head=c.head, head_options=c.head_options)
        self.optimizer = torch.optim.Adam(self.guide.parameters(), lr=c.lr)
        self.generator = torch.Generator().manual_seed(c.seed + 1)
        self.step = 0
        self.history: list[float] = []

    @property
    def model(self) -> Any:
        """The task's Bayesian model (a Pyro program)."""
        return self.task.model

    def _device(self) -> torch.device:
        return next(self.guide.parameters()).device

    def loss(self, data: dict[str, Tensor], objective: str | None = None) -> Tensor:
        """The training loss on one batch of datasets (mean over datasets)."""
        c = self.config
        objective = objective or c.objective
        weight = warmup_weight(self.step, c.warmup_steps)
        if objective == "forward-kl":
            return forward_kl(self.guide, data)
        rev = reverse_kl(self.guide, data, particles=c.particles, kl=c.kl, kl_weight=weight)
        if objective == "mixed":
            return 0.5 * (forward_kl(self.guide, data) + rev)
        return rev

    def _batches(self, data: tuple, theta: Tensor | None = None) -> Any:
        c = self.config
        sup = self.model.supervised
        if not sup and len(data) == 2:  # (x, mask)
            x, mask = data
            y = None
        else:
            x, y, mask = (tuple(data) + (None, None))[:3]
        x, y, mask = check_dataset(x, y, mask, supervised=sup, owner="AmortizedPosterior.fit")
        if theta is not None and (theta.dim() != 2 or theta.shape[0] != x.shape[0]):
            raise ValueError(f"AmortizedPosterior.fit: theta must have shape (D, P) with D = {x.shape[0]}, got {tuple(theta.shape)}")
        if c.objective != "reverse-kl" and theta is None:
            raise ValueError(
                f"AmortizedPosterior.fit: objective={c.objective!r} needs the true theta of each dataset, which "
                "given (real or switched) datasets do not have; train on them with objective='reverse-kl', or call "
                "fit() without data to train on simulations"
            )
        dev = self._device()
        n = x.shape[0]

        def draw() -> dict[str, Tensor]:
            idx = torch.randint(0, n, (min(c.batch_size, n),), generator=self.generator)
            return {"x": x[idx].to(dev), "y": None if y is None else y[idx].to(dev), "mask": mask[idx].to(dev),
                    "theta": None if theta is None else theta[idx].to(dev)}

        return draw

    def fit(self, *data: Any, steps: int | None = None, progress: bool = False, theta: Tensor | None = None,
            **kwargs: Any) -> AmortizedPosterior:
        """Train on simulations of the task's model (no data), or on given datasets ``(x, y, mask)``.

        Given datasets train reverse KL; forward KL and mixed need their true
        parameters too (``theta=`` (D, P), a fixed pool of simulated pairs).
        """
        c = self.config
        steps = c.steps if steps is None else int(steps)
        if data:
            draw = self._batches(data, theta)
        else:
            dev = self._device()

            def draw() -> dict[str, Tensor]:
                sim = self.task.simulate(c.batch_size, self.generator)
                return {k: (v.to(dev) if isinstance(v, Tensor) else v) for k, v in sim.items()}

        self.guide.train()
        iterator = range(steps)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            iterator = tqdm(iterator, desc=f"{c.objective} ({c.encoder}, {c.head})", leave=False)
        for _ in iterator:
            batch = draw()
            loss = self.loss(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"AmortizedPosterior.fit: the {c.objective} loss became {float(loss)} at step {self.step}; "
                    "lower lr or set grad_clip"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c.grad_clip is not None:
                nn.utils.clip_grad_norm_(self.guide.parameters(), c.grad_clip)
            self.optimizer.step()
            self.history.append(float(loss.detach()))
            self.step += 1
        self.guide.eval()
        return self

    @torch.no_grad()
    def estimate(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None, **kwargs: Any) -> Any:
        """q(theta | D) for each of the D datasets: a Pyro distribution, batch (D,), event (P,)."""
        x, y, mask = check_dataset(x, y, mask, supervised=self.model.supervised, owner="AmortizedPosterior.estimate")
        dev = self._device()
        return self.guide.posterior(x.to(dev), None if y is None else y.to(dev), mask.to(dev))

    def forward(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None) -> Any:
        return self.guide.posterior(x, y, mask)
