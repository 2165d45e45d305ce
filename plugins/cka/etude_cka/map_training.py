"""CKA-map training (Davari et al. Sec. 4.3): fine-tune a network so its layer x layer CKA map matches a target."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult

from .debiased import DebiasedCKA
from .linear import LinearCKA
from .maps import cka_map, record_activations

TARGETS = ("identity", "ones", "single-one")


def target_map(name: str, num_layers: int, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """A named (L, L) target CKA map.

    ``"identity"`` (the paper's all-zeros map: 1 on the diagonal, 0 between
    layers), ``"ones"`` (every pair of layers identical), ``"single-one"``
    (identity plus first <-> last layer set to 1).
    """
    if num_layers < 2:
        raise ValueError(f"target_map: a CKA map needs at least 2 layers, got {num_layers}")
    eye = torch.eye(num_layers, dtype=dtype, device=device)
    if name == "identity":
        return eye
    if name == "ones":
        return torch.ones(num_layers, num_layers, dtype=dtype, device=device)
    if name == "single-one":
        eye[0, -1] = eye[-1, 0] = 1.0
        return eye
    raise ValueError(f"target_map: unknown target {name!r}; choose one of {', '.join(TARGETS)} or pass a tensor")


def log_cosh(diff: Tensor) -> Tensor:
    """Mean of log(cosh(diff)), computed stably as |x| + log1p(exp(-2|x|)) - log 2."""
    a = diff.abs()
    return (a + torch.log1p(torch.exp(-2.0 * a)) - torch.log(torch.tensor(2.0, dtype=diff.dtype))).mean()


class CKAMapLoss:
    """``task_loss + alpha * D(CKA-map(activations), target)`` with D log-cosh (default) or MSE.

    The map uses debiased linear CKA by default (as in the paper's code);
    ``alpha`` is a plain attribute so a schedule can change it between
    epochs (:class:`AccuracyToleranceScheduler`).

    Examples:
        >>> import torch
        >>> acts = [torch.randn(32, 6, requires_grad=True), torch.randn(32, 4)]
        >>> loss = CKAMapLoss(alpha=10.0)
        >>> total, parts = loss(torch.tensor(0.5), acts, torch.eye(2))
        >>> total.backward(); acts[0].grad is not None
        True
    """

    def __init__(self, alpha: float = 500.0, distance: str = "log-cosh", estimator: str = "debiased") -> None:
        if distance not in ("log-cosh", "mse"):
            raise ValueError(f"CKAMapLoss: distance must be 'log-cosh' or 'mse', got {distance!r}")
        if estimator not in ("debiased", "linear"):
            raise ValueError(f"CKAMapLoss: estimator must be 'debiased' or 'linear', got {estimator!r}")
        if not alpha >= 0:
            raise ValueError(f"CKAMapLoss: alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.distance = distance
        self.metric = DebiasedCKA() if estimator == "debiased" else LinearCKA()

    def map_distance(self, cka: Tensor, target: Tensor) -> Tensor:
        if cka.shape != target.shape:
            raise ValueError(f"CKAMapLoss: the CKA map is {tuple(cka.shape)} but the target is {tuple(target.shape)}")
        diff = cka - target.to(cka)
        return log_cosh(diff) if self.distance == "log-cosh" else diff.pow(2).mean()

    def __call__(self, task_loss: Tensor, activations: Sequence[Tensor] | dict[str, Tensor], target: Tensor):
        cka = cka_map(activations, metric=self.metric)
        map_loss = self.map_distance(cka, target)
        return task_loss + self.alpha * map_loss, {"task": task_loss.detach(), "map": map_loss.detach(), "cka": cka.detach()}


class AccuracyToleranceScheduler:
    """The paper's multiplicative schedule for alpha: back off when accuracy drops.

    After each epoch: if ``reference - accuracy > tolerance`` (accuracy in
    points), ``alpha *= factor``, otherwise ``alpha /= factor`` (factor 0.8).
    """

    def __init__(self, alpha: float, reference: float, *, tolerance: float = 1.0, factor: float = 0.8) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"AccuracyToleranceScheduler: factor must be in (0, 1), got {factor}")
        self.alpha, self.reference, self.tolerance, self.factor = float(alpha), float(reference), tolerance, factor

    def step(self, accuracy: float) -> float:
        if self.reference - accuracy > self.tolerance:
            self.alpha *= self.factor
        else:
            self.alpha /= self.factor
        return self.alpha


def make_mlp(in_features: int, hidden_sizes: Sequence[int], num_classes: int) -> nn.Sequential:
    """Linear-ReLU blocks then a linear read-out; hidden representations are the ReLU outputs."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden_sizes:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


@configclass
class CKAMapTrainingConfig:
    hidden_sizes: tuple[int, ...] = field(default=(128, 128, 128), doc="MLP hidden widths (when no model is given)")
    pretrain_epochs: int = field(default=40, validator=non_negative, doc="cross-entropy epochs before map training (0: model is pretrained)")
    map_epochs: int = field(default=40, validator=non_negative, doc="epochs of map training")
    batch_size: int = field(default=128, validator=in_range(4, 1e9), doc="minibatch size (>= 4 for the debiased CKA)")
    lr: float = field(default=1e-3, validator=positive, doc="Adam learning rate")
    grad_clip: float = field(default=1.0, validator=non_negative, doc="gradient-norm clip (0: off)")
    alpha: float = field(default=500.0, validator=non_negative, doc="initial weight of the map loss (paper: cka_alpha = 500)")
    distance: str = field(default="log-cosh", validator=one_of("log-cosh", "mse"), doc="D(map, target)")
    target: str = field(default="identity", validator=one_of(*TARGETS), doc="named target map (a tensor passed to run() overrides it)")
    estimator: str = field(default="debiased", validator=one_of("debiased", "linear"), doc="CKA estimator in the loss")
    schedule: bool = field(default=True, doc="adapt alpha with the accuracy-tolerance schedule (False: alpha fixed)")
    tolerance: float = field(default=1.0, validator=non_negative, doc="allowed validation-accuracy drop in points")
    reduction_factor: float = field(default=0.8, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
                                    doc="alpha *= factor when accuracy drops more than the tolerance, else /= factor")
    task_loss: str = field(default="cross-entropy", validator=one_of("cross-entropy", "distillation"),
                           doc="cross-entropy on labels or distillation from the pretrained network")
    temperature: float = field(default=2.0, validator=positive, doc="distillation temperature")


def _accuracy(model: nn.Module, X: Tensor, y: Tensor) -> float:
    model.eval()
    with torch.no_grad():
        acc = float((model(X).argmax(-1) == y).double().mean())
    model.train()
    return 100.0 * acc


def _eval_map(model: nn.Module, layers: list[str], X: Tensor, metric) -> Tensor:
    model.eval()
    with torch.no_grad(), record_activations(model, layers) as acts:
        model(X)
        cka = cka_map(dict(acts), metric=metric)
    model.train()
    return cka


def _off_diagonal(M: Tensor) -> Tensor:
    L = M.shape[0]
    i, j = torch.triu_indices(L, L, offset=1)
    return M[i, j]


class CKAMapTraining(Procedure):
    """Fine-tune a network so that its layer x layer CKA map matches a chosen target map.

    Loss = task loss (cross-entropy, or distillation from the pretrained
    network) + ``alpha * D(CKA-map, target)`` with D the log-cosh (or MSE)
    distance and the map computed per minibatch with debiased linear CKA.
    After each epoch alpha is multiplied by 0.8 when validation accuracy fell
    more than ``tolerance`` points below the pretrained network's, and divided
    by 0.8 otherwise. Davari et al. use it to show that CKA maps can be set to
    almost anything (all-zeros, all-ones, drawings) with accuracy preserved,
    i.e. CKA can be manipulated without changing the network's function.

    ``run(task, model=None, layers=None, target_map=None)``: without a model an
    MLP (``hidden_sizes``) is built and pretrained for ``pretrain_epochs``;
    ``layers`` name the modules whose outputs form the map (default: every
    ReLU). Metrics: test accuracy before/after (points), the mean and max
    off-diagonal CKA of the test-set map (debiased) before/after, and the
    final alpha.

    References:
        M. Davari, S. Horoi, A. Natik, G. Lajoie, G. Wolf, E. Belilovsky,
        "Reliability of CKA as a Similarity Measure in Deep Learning",
        ICLR 2023, arXiv:2210.16156.

    Examples:
        >>> from etude.data import Digits
        >>> proc = CKAMapTraining(hidden_sizes=(16, 16), pretrain_epochs=1, map_epochs=1)
        >>> result = proc.run(Digits(seed=0, val_fraction=0.15, standardize=True), seed=0)
        >>> sorted(result.metrics)[:2]
        ['accuracy_after', 'accuracy_before']
    """

    Config = CKAMapTrainingConfig

    def run(
        self,
        task: Any,
        *,
        seed: int = 0,
        device: Any = None,
        progress: bool = False,
        model: nn.Module | None = None,
        layers: Sequence[str] | None = None,
        target_map: Tensor | None = None,
    ) -> ProcedureResult:
        cfg = self.config
        device = torch.device(device or "cpu")
        train, test = task.split("train"), task.split("test")
        val = task.split("val") if "val" in task.splits() else test
        Xtr, ytr = train.inputs.to(device), train.targets.to(device)
        Xva, yva = val.inputs.to(device), val.targets.to(device)
        Xte, yte = test.inputs.to(device), test.targets.to(device)
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        if model is None:
            model = make_mlp(Xtr[0].numel(), cfg.hidden_sizes, int(task.num_classes))
        model = model.to(device)
        if layers is None:
            layers = [n for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
        layers = list(layers)
        if len(layers) < 2:
            raise ValueError(f"CKAMapTraining: a CKA map needs at least 2 layers, got {layers}; pass layers=[...]")
        if target_map is None:
            target = target_map_for(cfg.target, len(layers), device)
        else:
            target = torch.as_tensor(target_map, dtype=torch.float32, device=device)
            if target.shape != (len(layers), len(layers)):
                raise ValueError(f"CKAMapTraining: target_map must be ({len(layers)}, {len(layers)}), got {tuple(target.shape)}")
        n = Xtr.shape[0]
        bs = min(cfg.batch_size, n)

        def batches():
            perm = torch.randperm(n, generator=generator).to(device)
            for start in range(0, n, bs):
                idx = perm[start:start + bs]
                if idx.numel() >= 4:
                    yield Xtr[idx], ytr[idx]

        def clip_and_step(optimizer):
            if cfg.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()

        history: dict[str, list[float]] = {"pretrain_loss": [], "task_loss": [], "map_loss": [], "alpha": [], "val_accuracy": []}
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        model.train()
        for _ in range(cfg.pretrain_epochs):
            total = 0.0
            for xb, yb in batches():
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                clip_and_step(optimizer)
                total += float(loss.detach())
            history["pretrain_loss"].append(total)

        eval_metric = DebiasedCKA()
        acc_before = _accuracy(model, Xte, yte)
        val_reference = _accuracy(model, Xva, yva)
        map_before = _eval_map(model, layers, Xte, eval_metric)
        teacher = None
        if cfg.task_loss == "distillation":
            teacher = copy.deepcopy(model).eval()
            for p in teacher.parameters():
                p.requires_grad_(False)

        criterion = CKAMapLoss(alpha=cfg.alpha, distance=cfg.distance, estimator=cfg.estimator)
        scheduler = AccuracyToleranceScheduler(cfg.alpha, val_reference, tolerance=cfg.tolerance, factor=cfg.reduction_factor)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        epochs = range(cfg.map_epochs)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            epochs = tqdm(epochs, desc="CKA-map training", leave=False)
        for _ in epochs:
            task_total = map_total = 0.0
            for xb, yb in batches():
                optimizer.zero_grad()
                with record_activations(model, layers, detach=False) as acts:
                    logits = model(xb)
                if teacher is None:
                    task_term = nn.functional.cross_entropy(logits, yb)
                else:
                    with torch.no_grad():
                        soft = torch.softmax(teacher(xb) / cfg.temperature, dim=-1)
                    logp = torch.log_softmax(logits / cfg.temperature, dim=-1)
                    task_term = nn.functional.kl_div(logp, soft, reduction="batchmean") * cfg.temperature**2
                loss, parts = criterion(task_term, dict(acts), target)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"CKAMapTraining: the loss became {float(loss)}; lower lr or alpha")
                loss.backward()
                clip_and_step(optimizer)
                task_total += float(parts["task"])
                map_total += float(parts["map"])
            val_acc = _accuracy(model, Xva, yva)
            if cfg.schedule:
                criterion.alpha = scheduler.step(val_acc)
            history["task_loss"].append(task_total)
            history["map_loss"].append(map_total)
            history["alpha"].append(criterion.alpha)
            history["val_accuracy"].append(val_acc)

        acc_after = _accuracy(model, Xte, yte)
        map_after = _eval_map(model, layers, Xte, eval_metric)
        off_before, off_after = _off_diagonal(map_before), _off_diagonal(map_after)
        off_target = _off_diagonal(target.to(map_after))
        metrics = {
            "accuracy_before": acc_before,
            "accuracy_after": acc_after,
            "accuracy_change": acc_after - acc_before,
            "offdiag_cka_before": float(off_before.mean()),
            "offdiag_cka_after": float(off_after.mean()),
            "offdiag_cka_max_after": float(off_after.max()),
            "offdiag_cka_min_after": float(off_after.min()),
            "map_error_before": float((off_before - off_target).abs().mean()),
            "map_error_after": float((off_after - off_target).abs().mean()),
            "final_alpha": criterion.alpha,
        }
        return ProcedureResult(
            metrics=metrics,
            history=history,
            models={"model": model},
            info={"map_before": map_before, "map_after": map_after, "target": target, "layers": layers},
        )


def target_map_for(name: str, num_layers: int, device) -> Tensor:
    return target_map(name, num_layers, device=device)


__all__ = [
    "AccuracyToleranceScheduler",
    "CKAMapLoss",
    "CKAMapTraining",
    "CKAMapTrainingConfig",
    "log_cosh",
    "make_mlp",
    "target_map",
]
