"""Pieces shared by the two-network procedures: config fields, data, models, evaluation."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, in_range, non_negative, positive

__all__ = ["NoisyData", "TrainingConfig", "augment", "build_network", "evaluate", "make_optimizer", "start_run"]


def _int_positive(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise FieldValueError(attribute.name, value, "an integer > 0")


@configclass
class TrainingConfig:
    """Fields every procedure of this plugin shares (the paper brief's CPU-scale defaults)."""

    epochs: int = field(default=60, validator=_int_positive, doc="training epochs (each network sees its half once per epoch)")
    batch_size: int = field(default=64, validator=_int_positive, doc="labelled mini-batch size")
    lr: float = field(default=0.05, validator=positive, doc="SGD learning rate (cosine-annealed to eta_min)")
    eta_min: float = field(default=1e-3, validator=non_negative, doc="final learning rate of the cosine schedule")
    momentum: float = field(default=0.9, validator=in_range(0.0, 1.0, high_open=True), doc="SGD momentum")
    weight_decay: float = field(default=5e-4, validator=non_negative, doc="SGD weight decay")
    hidden: tuple[int, ...] = field(default=(256, 256), validator=each(positive), doc="hidden widths of each network (an etude.data MLP)")
    augment_std: float = field(
        default=0.15, validator=non_negative,
        doc="std of the Gaussian input noise used as the weak/strong augmentation (0 disables it)",
    )


class NoisyData:
    """A task's train/test tensors on ``device``, with the clean labels and flipped mask when the task records them."""

    def __init__(self, task: Any, device: torch.device) -> None:
        from etude.kinds import Task  # noqa: PLC0415

        if not isinstance(task, Task):
            raise TypeError(f"task must be an etude Task (e.g. etude.create('task', 'digits', label_noise=0.4)), got {type(task).__name__}")
        if not task.num_classes or task.num_classes < 2:
            raise ValueError(f"task must be a classification task with num_classes >= 2, got num_classes={task.num_classes!r}")
        train, test = task.split("train"), task.split("test")
        for name, split in (("train", train), ("test", test)):
            if split.targets.dtype != torch.int64 or split.targets.dim() != 1:
                raise ValueError(
                    f"task's {name} targets must be int64 class indices of shape (N,), "
                    f"got dtype {split.targets.dtype}, shape {tuple(split.targets.shape)}"
                )
            if not torch.isfinite(split.inputs).all():
                raise ValueError(f"task's {name} inputs contain NaN or inf; clean the data first")
        self.num_classes = int(task.num_classes)
        self.x = train.inputs.reshape(len(train), -1).float().to(device)
        self.y = train.targets.to(device)
        clean = train.info.get("clean_targets")
        self.clean = self.y.clone() if clean is None else clean.to(device)
        noisy = train.info.get("noisy")
        self.noisy = (self.clean != self.y) if noisy is None else noisy.to(device).bool()
        self.x_test = test.inputs.reshape(len(test), -1).float().to(device)
        self.y_test = test.targets.to(device)
        self.n = int(self.x.shape[0])
        self.in_features = int(self.x.shape[1])


def build_network(data: NoisyData, hidden: tuple[int, ...], device: torch.device) -> nn.Module:
    """An :class:`etude.data.MLP` ``in_features -> hidden -> num_classes`` on ``device``."""
    from etude.data import MLP  # noqa: PLC0415

    return MLP(data.in_features, data.num_classes, hidden=tuple(hidden)).to(device)


def make_optimizer(net: nn.Module, config: TrainingConfig) -> tuple[torch.optim.Optimizer, Any]:
    """SGD with momentum and weight decay, cosine-annealed over ``epochs`` to ``eta_min``."""
    opt = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs, eta_min=min(config.eta_min, config.lr))
    return opt, sched


def augment(x: Tensor, std: float, generator: torch.Generator) -> Tensor:
    """One random view: ``x + std * N(0, 1)`` (the CPU-scale stand-in for crop/flip and AutoAugment)."""
    if std == 0:
        return x
    return x + std * torch.randn(x.shape, generator=generator, device=generator.device).to(x.device)


@torch.no_grad()
def logits_of(nets: list[nn.Module], x: Tensor, batch: int = 4096) -> list[Tensor]:
    """Each network's logits on ``x`` in eval mode (restores the previous mode)."""
    outs = []
    for net in nets:
        was = net.training
        net.eval()
        outs.append(torch.cat([net(chunk) for chunk in x.split(batch)]))
        net.train(was)
    return outs


def penultimate_features(net: nn.Module, x: Tensor) -> Tensor:
    """The input of the network's last ``nn.Linear`` layer (its last hidden representation), with gradient.

    Used by the contrastive term; works for any network whose output layer is an ``nn.Linear``.
    """
    last = None
    for module in net.modules():
        if isinstance(module, nn.Linear):
            last = module
    if last is None:
        raise TypeError(f"{type(net).__name__} has no nn.Linear output layer; set lambda_c=0 or use an MLP")
    captured: list[Tensor] = []
    handle = last.register_forward_pre_hook(lambda module, args: captured.append(args[0]))
    try:
        net(x)
    finally:
        handle.remove()
    return captured[-1]


def _fraction(mask: Tensor) -> float:
    return float(mask.float().mean()) if mask.numel() else math.nan


def evaluate(nets: list[nn.Module], data: NoisyData) -> dict[str, float]:
    """Test accuracy of the logit-sum ensemble and of each network; train accuracy and memorisation.

    ``memorized_fraction``: among the flipped training examples, the fraction
    whose ensemble prediction equals the wrong (noisy) label (NaN if none is flipped).
    """
    test = logits_of(nets, data.x_test)
    train = logits_of(nets, data.x)
    ens_test, ens_train = sum(test), sum(train)
    out = {"test_accuracy": _fraction(ens_test.argmax(1) == data.y_test)}
    if len(nets) > 1:
        for k, logits in enumerate(test, start=1):
            out[f"test_accuracy_net{k}"] = _fraction(logits.argmax(1) == data.y_test)
    pred = ens_train.argmax(1)
    out["train_accuracy"] = _fraction(pred == data.y)
    out["train_clean_accuracy"] = _fraction(pred == data.clean)
    out["memorized_fraction"] = _fraction(pred[data.noisy] == data.y[data.noisy])
    return out


def append_history(history: dict[str, list[float]], values: dict[str, float]) -> None:
    for name, value in values.items():
        history.setdefault(name, []).append(float(value))


def final_metrics(history: dict[str, list[float]]) -> dict[str, float]:
    """The last finite value of every history entry (undefined ones, e.g. memorisation without noise, are left out)."""
    out = {}
    for name, values in history.items():
        if values and math.isfinite(values[-1]):
            out[name] = float(values[-1])
    return out


def resolve(device: Any) -> torch.device:
    from etude.runtime import resolve_device  # noqa: PLC0415

    return resolve_device("cpu" if device is None else device)


def start_run(name: str, task: Any, device: Any, kwargs: dict[str, Any], *, min_examples: int = 0) -> tuple[torch.device, NoisyData]:
    """The shared prologue of the procedures' ``run``: reject stray keywords, resolve the device, load the data."""
    if kwargs:
        raise TypeError(f"{name}.run got unexpected keyword(s) {sorted(kwargs)}; it takes seed, device, progress")
    dev = resolve(device)
    data = NoisyData(task, dev)
    if data.n < min_examples:
        raise ValueError(f"the task's train split has {data.n} examples; {name} needs at least {min_examples} to split in halves")
    return dev, data


def epochs_iter(epochs: int, progress: bool, desc: str):
    if not progress:
        return range(epochs)
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(range(epochs), desc=desc, leave=False)
