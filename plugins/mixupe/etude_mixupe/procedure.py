"""Supervised training of an MLP with any registered augmenter (ERM when none)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import configclass, each, field, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult

from .models import MLP


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"augmenter_options must be a mapping of config fields, got {type(value).__name__}")
    return dict(value)


@configclass
class SupervisedTrainingConfig:
    augmenter: str = field(default="none", doc="registered augmenter name ('mixup', 'mixupe', ...) or 'none' for ERM")
    augmenter_options: dict = field(factory=dict, converter=_options, doc="config of the augmenter (e.g. {'alpha': 1.0})")
    hidden: tuple[int, ...] = field(default=(256, 256), validator=each(positive), doc="hidden widths of the MLP")
    epochs: int = field(default=100, validator=positive, doc="passes over the training split")
    batch_size: int = field(default=64, validator=positive, doc="minibatch size (the last, smaller batch is kept)")
    lr: float = field(default=0.05, validator=positive, doc="SGD learning rate")
    momentum: float = field(default=0.9, validator=non_negative, doc="SGD momentum")
    nesterov: bool = field(default=True, doc="Nesterov momentum")
    weight_decay: float = field(default=1e-4, validator=non_negative, doc="L2 weight decay")
    schedule: str = field(default="cosine", validator=one_of("cosine", "constant"), doc="learning-rate schedule per step")
    eval_every: int = field(default=1, validator=positive, doc="evaluate (history) every this many epochs")

    def __attrs_post_init__(self) -> None:
        if self.nesterov and self.momentum == 0:
            from etude.config import FieldValueError  # noqa: PLC0415

            raise FieldValueError("momentum", self.momentum, "> 0 when nesterov is true (or set nesterov=false)")


class SupervisedTraining(Procedure):
    """Minibatch SGD on a classification task, with the augmenter chosen by registry name.

    ERM (``augmenter="none"``) minimises cross-entropy on the clean batch;
    otherwise the loss is ``augmenter.loss(model, x, y, ...)`` (mixup,
    MixupE, ...), and everything else (model, initialisation, batch order,
    optimiser, schedule, epochs) is identical, so methods are compared with
    all else equal under paired seeds. The model is an :class:`~etude_mixupe.models.MLP`
    (``hidden`` widths) unless ``run(model=...)`` gives a module or a factory
    ``(in_features, num_classes) -> nn.Module``. Every augmenter's ``loss``
    receives the mean training input as context ``x_mean`` (MixupE's ``x_bar``).
    The setting follows the MixupE brief's CPU experiment: SGD lr 0.05,
    momentum 0.9, Nesterov, weight decay 1e-4, cosine schedule, batch 64.

    Metrics: ``test_accuracy``, ``train_accuracy`` (against the training
    labels as given, noisy or not), ``train_clean_accuracy``, ``final_loss``,
    and with noisy labels ``memorized_fraction`` (fraction of flipped training
    examples predicted as their wrong label). History per evaluation:
    ``epoch``, ``test_accuracy``, ``train_loss`` and, with noisy labels,
    ``memorized_fraction``; MixupE also logs its raw ``regulariser``.

    References:
        H. Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018, arXiv:1710.09412;
        Y. Zou et al., "MixupE", UAI 2023, arXiv:2212.13381 (training setting).

    Examples:
        >>> from etude_mixupe.tasks import BreastCancer
        >>> result = SupervisedTraining(augmenter="mixup", epochs=2, hidden=(16,)).run(BreastCancer(), seed=0)
        >>> 0.0 <= result.metrics["test_accuracy"] <= 1.0
        True
    """

    Config = SupervisedTrainingConfig

    def make_augmenter(self) -> Any:
        """The configured augmenter, or None for ERM."""
        c = self.config
        if c.augmenter == "none":
            if c.augmenter_options:
                raise ValueError(f"augmenter_options {c.augmenter_options} given but augmenter='none'; drop them")
            return None
        import etude  # noqa: PLC0415

        return etude.create("augmenter", c.augmenter, **c.augmenter_options)

    def run(
        self,
        task: Any,
        *,
        seed: int = 0,
        device: Any = None,
        progress: bool = False,
        model: nn.Module | Callable[[int, int], nn.Module] | None = None,
        **kwargs: Any,
    ) -> ProcedureResult:
        """Train on ``task`` (a classification Task with ``train``/``test`` splits) and evaluate."""
        if kwargs:
            raise TypeError(f"SupervisedTraining.run got unexpected keywords {sorted(kwargs)}")
        from etude.runtime import resolve_device, seed_everything  # noqa: PLC0415

        c = self.config
        num_classes = getattr(task, "num_classes", None)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"task must be a classification Task with num_classes >= 2, got {num_classes!r}")
        dev = resolve_device("cpu" if device is None else device)
        train, test = task.split("train"), task.split("test")
        x_train, y_train = train.inputs.to(dev, torch.float32), train.targets.to(dev)
        x_test, y_test = test.inputs.to(dev, torch.float32), test.targets.to(dev)
        clean = train.info.get("clean_targets", train.targets).to(dev)
        noisy_mask = train.info.get("noisy", torch.zeros_like(train.targets, dtype=torch.bool)).to(dev)
        has_noise = bool(noisy_mask.any())

        seed_everything(int(seed))
        in_features = int(x_train[0].numel())
        net = self._build_model(model, in_features, num_classes).to(dev)
        augmenter = self.make_augmenter()
        extra: dict[str, Any] = {"x_mean": x_train.mean(0, keepdim=True)}  # Augmenter.loss takes **context
        with_terms = augmenter is not None and hasattr(augmenter, "terms")

        n = x_train.shape[0]
        steps_per_epoch = math.ceil(n / c.batch_size)
        total_steps = c.epochs * steps_per_epoch
        optimiser = torch.optim.SGD(net.parameters(), lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                                    weight_decay=c.weight_decay)
        schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=total_steps)
                    if c.schedule == "cosine" else None)
        order_gen = torch.Generator().manual_seed(int(seed))
        aug_gen = torch.Generator().manual_seed(int(seed) + 1)

        history: dict[str, list[float]] = {"epoch": [], "test_accuracy": [], "train_loss": []}
        if has_noise:
            history["memorized_fraction"] = []
        if with_terms:
            history["regulariser"] = []
        epochs: Any = range(c.epochs)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            epochs = tqdm(epochs, desc=f"supervised[{c.augmenter}]", leave=False)
        from etude.runtime import check_finite  # noqa: PLC0415

        step = 0
        for epoch in epochs:
            net.train()
            perm = torch.randperm(n, generator=order_gen).to(dev)
            loss_sum, reg_sum = 0.0, 0.0
            for start in range(0, n, c.batch_size):
                idx = perm[start:start + c.batch_size]
                xb, yb = x_train[idx], y_train[idx]
                if augmenter is None:
                    loss = nn.functional.cross_entropy(net(xb), yb)
                elif with_terms:
                    parts = augmenter.terms(net, xb, yb, num_classes=num_classes, generator=aug_gen, **extra)
                    loss = parts["loss"]
                    reg_sum += float(parts["regulariser"].detach())
                else:
                    loss = augmenter.loss(net, xb, yb, num_classes=num_classes, generator=aug_gen, **extra)
                loss_sum += check_finite(loss, step=step)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                if schedule is not None:
                    schedule.step()
                step += 1
            if (epoch + 1) % c.eval_every == 0 or epoch == c.epochs - 1:
                history["epoch"].append(float(epoch + 1))
                history["train_loss"].append(loss_sum / steps_per_epoch)
                history["test_accuracy"].append(_accuracy(net, x_test, y_test))
                if has_noise:
                    history["memorized_fraction"].append(_memorized(net, x_train, y_train, noisy_mask))
                if with_terms:
                    history["regulariser"].append(reg_sum / steps_per_epoch)

        metrics = {
            "test_accuracy": history["test_accuracy"][-1],
            "train_accuracy": _accuracy(net, x_train, y_train),
            "train_clean_accuracy": _accuracy(net, x_train, clean),
            "final_loss": history["train_loss"][-1],
        }
        if has_noise:
            metrics["memorized_fraction"] = history["memorized_fraction"][-1]
        info = {"augmenter": c.augmenter, "augmenter_options": dict(c.augmenter_options), "seed": int(seed),
                "steps": step, "config": attrs.asdict(c)}
        return ProcedureResult(metrics=metrics, history=history, models={"model": net}, info=info)

    def _build_model(self, model: Any, in_features: int, num_classes: int) -> nn.Module:
        if model is None:
            return MLP(in_features=in_features, num_classes=num_classes, hidden=self.config.hidden)
        if isinstance(model, nn.Module):
            return model
        if callable(model):
            built = model(in_features, num_classes)
            if not isinstance(built, nn.Module):
                raise TypeError(f"model factory must return an nn.Module, got {type(built).__name__}")
            return built
        raise TypeError(f"model must be an nn.Module, a factory (in_features, num_classes) -> Module, or None; got {model!r}")


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor, batch_size: int = 4096) -> Tensor:
    """Predicted classes (N,) in eval mode (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(inputs[i:i + batch_size]).argmax(-1) for i in range(0, inputs.shape[0], batch_size)])
    finally:
        model.train(was_training)


def _accuracy(model: nn.Module, inputs: Tensor, targets: Tensor) -> float:
    return float((predict(model, inputs) == targets).float().mean())


def _memorized(model: nn.Module, inputs: Tensor, noisy_targets: Tensor, mask: Tensor) -> float:
    pred = predict(model, inputs[mask])
    return float((pred == noisy_targets[mask]).float().mean())


__all__ = ["SupervisedTraining", "predict"]
