"""Meta-RIMs: fast module parameters, slow attention parameters (and the reversed and joint ablations).

Madan et al. (ICLR 2021) split a RIMs network's parameters in two groups:
the modules' own recurrent weights θ (:meth:`RIMs.module_parameters`) and
the attention side φ (:meth:`RIMs.attention_parameters`: input and
communication attention with their projections, gate and slot embedding).
Each meta-step on a task batch (support, query):

1. **inner loop** (fast): ``inner_steps`` plain SGD steps with ``inner_lr``
   on the fast group, on the support loss. With ``fast="modules"`` only the
   θ rows of modules that were active somewhere in the support batch move:
   the gradient of every stacked (K, ...) weight is multiplied by the (K,)
   usage mask (the paper's "only the dynamically activated modules are
   updated fast").
2. **outer loop** (slow): one Adam step with ``outer_lr`` on the slow group,
   from the query loss evaluated *after* the inner updates. First order by
   default (the slow gradient at the adapted fast weights); with
   ``second_order=True`` the inner steps are taken functionally
   (``torch.func.functional_call``) and the outer gradient crosses them.

The fast weights persist (they are not reset after the outer step: they
are the quickly changing part of the learner, not a MAML initialisation).
``fast="modules"`` is the paper's method; ``"attention"`` reverses the roles
(φ fast, θ slow); ``"all"`` is joint training: every parameter takes part
in both loops. The encoder and readout (:meth:`RIMs.other_parameters`,
not assigned by the paper) are slow in every mode except ``"all"``.

The paper trains a PPO agent on MiniGrid / BabyAI (:mod:`etude_meta_rims.ppo`
applies the same two loops to the PPO loss); this procedure is the
supervised form (regression or classification of sequence tasks whose
splits group examples by ``info["task"]``). After meta-training on the
``train`` split's task stream it adapts a copy of the learner to every task
of the ``test`` split for ``adapt_steps`` meta-steps and reports the
adaptation area: the mean held-out loss after steps 1..k divided by the
loss before adaptation (lower = faster adaptation).

The number of inner steps and the two learning rates are not given in the
paper brief and are not fixed by a public implementation (no official
Meta-RIMs code is known); the defaults here (1 inner step, SGD 0.05, Adam
1e-3) are this plugin's choice, recorded in the claims.

References:
    K. Madan, N. R. Ke, A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent
    Independent Mechanisms", ICLR 2021, arXiv:2105.08710.

Examples:
    >>> from etude_meta_rims.tasks import SparseChange
    >>> task = SparseChange(num_train_tasks=2, num_test_tasks=1, examples_per_task=8, length=3)
    >>> proc = MetaRIMs(meta_steps=2, adapt_steps=1, batch_size=4,
    ...                 model_options={"hidden_size": 4, "num_modules": 2, "active": 1,
    ...                                "cell_options": {"input_embed_dim": 8, "comm_embed_dim": 8}})
    >>> {"adaptation_area", "final_train_loss"} <= set(proc.run(task, seed=0).metrics)
    True
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from etude.config import configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult


def _optional_loss(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        one_of("mse", "cross-entropy")(instance, attribute, value)


@configclass
class MetaRIMsConfig:
    fast: str = field(default="modules", validator=one_of("modules", "attention", "all"),
                      doc="which group learns fast: 'modules' (θ, the paper), 'attention' (φ, reversed), 'all' (joint)")
    inner_steps: int = field(default=1, validator=positive, doc="inner (fast) SGD steps per meta-step")
    inner_lr: float = field(default=0.05, validator=positive, doc="inner-loop SGD learning rate")
    outer_lr: float = field(default=1e-3, validator=positive, doc="outer-loop Adam learning rate")
    second_order: bool = field(default=False,
                               doc="outer gradient through the inner updates (torch.func.functional_call)")
    mask_inactive: bool = field(default=True,
                                doc="inner steps on θ move only the rows of modules active in the support batch")
    meta_steps: int = field(default=200, validator=non_negative, doc="meta-steps over the training task stream")
    adapt_steps: int = field(default=10, validator=non_negative, doc="meta-steps of adaptation per held-out task")
    batch_size: int = field(default=32, validator=positive, doc="sequences in each support and each query batch")
    clip_norm: float = field(default=1.0, validator=non_negative, doc="gradient-norm clip per step (0: none)")
    loss: str | None = field(default=None, validator=_optional_loss,
                             doc="'mse' | 'cross-entropy' (None: cross-entropy when the task has num_classes)")
    model: str = field(default="rims", doc="registered model (needs module_parameters / attention_parameters)")
    model_options: dict = field(factory=dict, converter=dict, doc="model config (input_size, output_size are set)")
    eval_fraction: float = field(default=0.25, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
                                 doc="share of each held-out task's sequences kept to measure adaptation")


def _groups(model: nn.Module, fast: str) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    if fast == "all":  # joint training needs no grouping (any model, e.g. the LSTM baseline)
        everything = list(model.parameters())
        return everything, everything
    for name in ("module_parameters", "attention_parameters"):
        if not callable(getattr(model, name, None)):
            raise TypeError(f"MetaRIMs: the model {type(model).__name__} has no {name}(); use model/rims or "
                            "give the model module_parameters() and attention_parameters()")
    theta, phi = list(model.module_parameters()), list(model.attention_parameters())
    grouped = {id(p) for p in theta} | {id(p) for p in phi}
    other = [p for p in model.parameters() if id(p) not in grouped]
    if fast == "modules":
        return theta, phi + other
    return phi, theta + other


def mask_inactive_modules(model: nn.Module, params: list[nn.Parameter], grads: list[Tensor | None],
                          usage: Tensor) -> list[Tensor | None]:
    """The gradients with the rows of never-active modules zeroed on every stacked (K, ...) θ weight.

    ``usage`` (K,) bool; a gradient is masked when its parameter is one of
    ``model.module_parameters()`` with leading size K (the group cell's
    stacked weights); every other gradient is returned unchanged. Shared by
    :class:`MetaRIMs` and the PPO update of :mod:`etude_meta_rims.ppo`.
    """
    theta = {id(p) for p in model.module_parameters()}
    out = []
    for p, g in zip(params, grads, strict=True):
        if g is not None and id(p) in theta and p.shape[0] == usage.shape[0]:
            g = g * usage.view(-1, *([1] * (g.dim() - 1))).to(g.dtype)
        out.append(g)
    return out


def clip_gradients(grads: list[Tensor | None], max_norm: float) -> list[Tensor | None]:
    """The gradients scaled so their global L2 norm is at most ``max_norm`` (0: unchanged)."""
    present = [g for g in grads if g is not None]
    if not max_norm or not present:
        return grads
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in present]))
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    return [None if g is None else g * scale for g in grads]


def module_usage(model: nn.Module, x: Tensor) -> Tensor:
    """(K,) bool: modules active at some step of some example of ``x`` (from ``return_trace``)."""
    with torch.no_grad():
        _, trace = model(x, return_trace=True)
    return trace["active"].any(0).any(0)


class MetaRIMs(Procedure):
    """Fast-and-slow training of RIMs (Madan et al., ICLR 2021): inner steps on θ, outer steps on φ.

    ``run(task, seed=0, device=None, model=None, progress=False)`` builds the
    model (``model`` / ``model_options``, or the given module or factory),
    meta-trains it on the ``train`` split's task stream, adapts copies to
    the ``test`` split's tasks and returns metrics ``final_train_loss``,
    ``adaptation_area``, ``adapt_loss_start``, ``adapt_loss_end``; history
    ``train_loss`` (per meta-step) and ``adapt_curve`` (mean held-out loss
    after 0..k adaptation steps); models ``{"model": meta-trained}``. The
    method is in the module docstring; :meth:`inner_step` and
    :meth:`outer_step` are public for tests and custom loops.

    Examples:
        >>> proc = MetaRIMs(fast="attention")
        >>> proc.config.fast, proc.config.inner_steps
        ('attention', 1)
    """

    Config = MetaRIMsConfig

    def __init__(self, config: MetaRIMsConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        #: the loss of inner_step / outer_step outside run() (run() picks it from the task when loss=None)
        self._loss_name = self.config.loss or "mse"

    # -- losses ------------------------------------------------------------------------
    def _loss(self, out: Tensor, y: Tensor) -> Tensor:
        if self._loss_name == "cross-entropy":
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        return F.mse_loss(out, y)

    def loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """The task loss of ``model`` on a batch (MSE, or cross-entropy over every position)."""
        return self._loss(model(x), y)

    # -- the two loops ---------------------------------------------------------------
    def _masked(self, model: nn.Module, params: list[nn.Parameter], grads: list[Tensor | None],
                usage: Tensor | None) -> list[Tensor | None]:
        if usage is None or self.config.fast != "modules" or not self.config.mask_inactive:
            return grads
        return mask_inactive_modules(model, params, grads, usage)

    def _clip(self, grads: list[Tensor | None]) -> list[Tensor | None]:
        return clip_gradients(grads, self.config.clip_norm)

    def inner_step(self, model: nn.Module, x: Tensor, y: Tensor) -> float:
        """One fast SGD step on the fast group (θ rows of modules active in ``x`` only, for ``fast='modules'``)."""
        fast, _ = _groups(model, self.config.fast)
        usage = module_usage(model, x) if self.config.fast == "modules" and self.config.mask_inactive else None
        loss = self.loss(model, x, y)
        grads = torch.autograd.grad(loss, fast, allow_unused=True)
        grads = self._clip(self._masked(model, fast, list(grads), usage))
        with torch.no_grad():
            for p, g in zip(fast, grads, strict=True):
                if g is not None:
                    p.sub_(self.config.inner_lr * g)
        return float(loss.detach())

    def outer_step(self, model: nn.Module, x: Tensor, y: Tensor, optimizer: torch.optim.Optimizer) -> float:
        """One slow Adam step on the slow group from the loss on ``x`` at the current (adapted) fast weights."""
        _, slow = _groups(model, self.config.fast)
        loss = self.loss(model, x, y)
        grads = self._clip(list(torch.autograd.grad(loss, slow, allow_unused=True)))
        optimizer.zero_grad(set_to_none=True)
        for p, g in zip(slow, grads, strict=True):
            p.grad = g
        optimizer.step()
        return float(loss.detach())

    def _second_order_step(self, model: nn.Module, support: tuple[Tensor, Tensor], query: tuple[Tensor, Tensor],
                           optimizer: torch.optim.Optimizer) -> tuple[float, float]:
        """Inner steps taken functionally, outer gradient through them; the fast weights keep the adapted values."""
        from torch.func import functional_call  # noqa: PLC0415
        from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: PLC0415

        with sdpa_kernel(SDPBackend.MATH):  # the fused CPU kernels have no double backward
            return self._second_order_inner_outer(model, support, query, optimizer, functional_call)

    def _second_order_inner_outer(self, model, support, query, optimizer, functional_call):
        fast, slow = _groups(model, self.config.fast)
        names = {id(p): n for n, p in model.named_parameters()}
        params = dict(model.named_parameters())
        usage = module_usage(model, support[0]) if self.config.fast == "modules" and self.config.mask_inactive \
            else None
        inner_loss = 0.0
        for _ in range(self.config.inner_steps):
            loss = self._loss(functional_call(model, params, (support[0],)), support[1])
            inner_loss = float(loss.detach())
            current = [params[names[id(p)]] for p in fast]
            grads = torch.autograd.grad(loss, current, create_graph=True, allow_unused=True)
            grads = self._clip(self._masked(model, fast, list(grads), usage))
            for p, w, g in zip(fast, current, grads, strict=True):
                if g is not None:
                    params[names[id(p)]] = w - self.config.inner_lr * g
        loss = self._loss(functional_call(model, params, (query[0],)), query[1])
        grads = torch.autograd.grad(loss, slow, allow_unused=True)
        optimizer.zero_grad(set_to_none=True)
        for p, g in zip(slow, self._clip(list(grads)), strict=True):
            p.grad = g
        optimizer.step()
        slow_ids = {id(p) for p in slow}
        with torch.no_grad():
            for p in fast:
                if id(p) not in slow_ids:
                    p.copy_(params[names[id(p)]])
        return inner_loss, float(loss.detach())

    def meta_step(self, model: nn.Module, support: tuple[Tensor, Tensor], query: tuple[Tensor, Tensor],
                  optimizer: torch.optim.Optimizer) -> tuple[float, float]:
        """Inner steps on ``support``, then the outer step on ``query``; returns (last inner loss, outer loss)."""
        if self.config.second_order:
            return self._second_order_step(model, support, query, optimizer)
        inner = 0.0
        for _ in range(self.config.inner_steps):
            inner = self.inner_step(model, *support)
        return inner, self.outer_step(model, *query, optimizer)

    def slow_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """Adam on the slow group with ``outer_lr``."""
        _, slow = _groups(model, self.config.fast)
        return torch.optim.Adam(slow, lr=self.config.outer_lr)

    # -- data ------------------------------------------------------------------------
    @staticmethod
    def _tasks(split: Any) -> list[Tensor]:
        ids = split.info.get("task")
        if ids is None:
            return [torch.arange(len(split))]
        return [torch.nonzero(ids == t).flatten() for t in torch.unique(ids)]

    def _batch(self, split: Any, index: Tensor, g: torch.Generator, device: Any) -> tuple[Tensor, Tensor]:
        pick = index[torch.randint(0, index.numel(), (self.config.batch_size,), generator=g)]
        return split.inputs[pick].to(device), split.targets[pick].to(device)

    def _build(self, task: Any, model: Any, device: Any) -> nn.Module:
        import etude  # noqa: PLC0415

        if isinstance(model, nn.Module):
            return model.to(device)
        if callable(model):
            return model().to(device)
        train = task.split("train")
        out = task.num_classes if task.num_classes is not None else int(train.targets.shape[-1])
        options = {"input_size": int(train.inputs.shape[-1]), "output_size": out, **self.config.model_options}
        return etude.create("model", self.config.model, **options).to(device)

    def adapt(self, model: nn.Module, task_split: Any, index: Tensor, g: torch.Generator,
              device: Any) -> list[float]:
        """Held-out loss before and after each of ``adapt_steps`` meta-steps on one new task (a copy of ``model``)."""
        learner = copy.deepcopy(model)
        optimizer = self.slow_optimizer(learner)
        n_eval = max(1, int(round(self.config.eval_fraction * index.numel())))
        shuffled = index[torch.randperm(index.numel(), generator=g)]
        held, pool = shuffled[:n_eval], shuffled[n_eval:]
        if pool.numel() == 0:
            pool = held
        x_eval, y_eval = task_split.inputs[held].to(device), task_split.targets[held].to(device)

        def evaluate() -> float:
            learner.eval()
            with torch.no_grad():
                value = float(self.loss(learner, x_eval, y_eval))
            learner.train()
            return value

        curve = [evaluate()]
        for _ in range(self.config.adapt_steps):
            self.meta_step(learner, self._batch(task_split, pool, g, device), self._batch(task_split, pool, g, device),
                           optimizer)
            curve.append(evaluate())
        return curve

    def run(self, task: Any, *, seed: int = 0, device: Any = None, model: Any = None,
            progress: bool = False) -> ProcedureResult:
        from tqdm.auto import tqdm  # noqa: PLC0415

        device = torch.device(device or "cpu")
        self._loss_name = self.config.loss or ("cross-entropy" if task.num_classes is not None else "mse")
        torch.manual_seed(seed)
        net = self._build(task, model, device)
        net.train()
        g = torch.Generator().manual_seed(int(seed))
        train = task.split("train")
        stream = self._tasks(train)
        optimizer = self.slow_optimizer(net)
        history: dict[str, list[float]] = {"train_loss": [], "inner_loss": []}
        steps = range(self.config.meta_steps)
        for step in tqdm(steps, disable=not progress, desc="meta-rims"):
            index = stream[step % len(stream)]
            inner, outer = self.meta_step(net, self._batch(train, index, g, device), self._batch(train, index, g, device),
                                          optimizer)
            history["inner_loss"].append(inner)
            history["train_loss"].append(outer)
        metrics: dict[str, float] = {}
        if history["train_loss"]:
            tail = history["train_loss"][-max(1, len(history["train_loss"]) // 10):]
            metrics["final_train_loss"] = float(sum(tail) / len(tail))
        if "test" in task.split_names and self.config.adapt_steps > 0:
            test = task.split("test")
            curves = torch.tensor([self.adapt(net, test, index, g, device) for index in self._tasks(test)])
            areas = curves[:, 1:].mean(1) / curves[:, 0]
            metrics.update(adaptation_area=float(areas.mean()), adapt_loss_start=float(curves[:, 0].mean()),
                           adapt_loss_end=float(curves[:, -1].mean()))
            history["adapt_curve"] = curves.mean(0).tolist()
            history["adapt_area_per_task"] = areas.tolist()
        return ProcedureResult(metrics=metrics, history=history, models={"model": net},
                               info={"fast": self.config.fast, "loss": self._loss_name})


__all__ = ["MetaRIMs", "MetaRIMsConfig", "clip_gradients", "mask_inactive_modules", "module_usage"]
