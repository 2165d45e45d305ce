"""Supervised training: any model and any augmenter by registry name, callbacks, resumable checkpoints."""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, in_range, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult

from .base import optional_positive_int
from .callbacks import Callback, TrainState
from .evaluation import accuracy, as_positions, evaluate_splits, mean_loss, per_example_loss, predict


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"options must be a mapping of config fields, got {type(value).__name__}")
    return dict(value)


def _optional_widths(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(value)


def _optional_each_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        each(positive)(instance, attribute, value)


@configclass
class SupervisedTrainingConfig:
    model: str = field(default="mlp", doc="registered model trained (its sizes are filled in from the task)")
    model_options: dict = field(factory=dict, converter=_options, doc="config of the model (e.g. {'hidden': [64]})")
    hidden: tuple[int, ...] | None = field(default=None, converter=_optional_widths, validator=_optional_each_positive,
                                           doc="shortcut for model_options['hidden'] (the MLP's widths; None: the model's default)")
    augmenter: str = field(default="none", doc="registered augmenter ('mixup', 'mixupe', ...) or 'none' for ERM")
    augmenter_options: dict = field(factory=dict, converter=_options, doc="config of the augmenter (e.g. {'alpha': 1.0})")
    loss: str = field(default="cross-entropy", validator=one_of("cross-entropy", "mse", "l1"),
                      doc="'cross-entropy' (classification), 'mse' (regression; one-hot targets for classes) "
                          "or 'l1' (mean absolute error, regression)")
    optimizer: str = field(default="sgd", validator=one_of("sgd", "adam", "rmsprop"),
                           doc="'sgd', 'adam' or 'rmsprop' (RMSprop without momentum, smoothing constant alpha)")
    lr: float = field(default=0.05, validator=positive, doc="learning rate")
    momentum: float = field(default=0.9, validator=non_negative, doc="SGD momentum")
    alpha: float = field(default=0.99, validator=in_range(0.0, 1.0, high_open=True),
                         doc="RMSprop smoothing constant of the squared-gradient average (torch's default 0.99)")
    nesterov: bool = field(default=True, doc="Nesterov momentum (SGD)")
    weight_decay: float = field(default=1e-4, validator=non_negative, doc="L2 weight decay (coupled, as torch.optim)")
    schedule: str = field(default="cosine", validator=one_of("cosine", "constant", "multistep"),
                          doc="learning rate per step: 'cosine' to 0, 'constant', or 'multistep' (x gamma at milestones)")
    milestones: tuple[int, ...] = field(default=(), validator=each(positive), doc="epochs where 'multistep' multiplies lr by gamma")
    gamma: float = field(default=0.1, validator=positive, doc="'multistep' factor")
    epochs: int = field(default=100, validator=positive, doc="passes over the training split")
    batch_size: int | None = field(default=64, validator=optional_positive_int,
                                   doc="minibatch size (the last, smaller batch is kept); None: full batch")
    grad_clip: float | None = field(default=None, doc="clip the gradients' global norm to this (None: no clipping)")
    eval_every: int = field(default=1, validator=positive, doc="evaluate (history) every this many epochs, and at the end")
    checkpoint_every: int = field(default=0, validator=non_negative,
                                  doc="epochs between checkpoints when run(checkpoint=path) is given (0: only at the end)")

    def __attrs_post_init__(self) -> None:
        if self.optimizer == "sgd" and self.nesterov and self.momentum == 0:
            raise FieldValueError("momentum", self.momentum, "> 0 when nesterov is true (or set nesterov=false)")
        if self.hidden is not None and "hidden" in self.model_options:
            raise FieldValueError("hidden", self.hidden, "None when model_options gives 'hidden' (set one of them)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise FieldValueError("grad_clip", self.grad_clip, "None or a number > 0")


class SupervisedTraining(Procedure):
    """Minibatch training on a task, with the model and the augmenter chosen by registry name.

    ERM (``augmenter="none"``) minimises the mean per-example loss
    (cross-entropy, or squared error averaged over output dimensions);
    otherwise the loss is ``augmenter.loss(model, x, y, num_classes=C,
    generator=g, x_mean=..., progress=...)`` (mixup, MixupE, adversarial
    training, ...; ``progress`` is the fraction of training steps done),
    and everything else (model, initialisation, batch order, optimiser,
    schedule) is identical, so methods are compared all else equal under
    paired seeds. Minibatches are drawn by index from the in-memory train
    tensors on the data's device (one permutation per epoch from a CPU
    generator seeded with ``seed``; the augmenter's generator is seeded with
    ``seed + 1``); no DataLoader. The model is built after
    ``seed_everything(seed)``.

    The model is ``model`` by name (default ``"mlp"``) with
    ``model_options``; fields it declares among ``in_features``,
    ``out_features``, ``num_classes`` and ``input_shape`` are filled from
    the task unless given. ``run(model=...)`` takes a module or a factory
    ``(in_features, out_features) -> nn.Module`` instead.

    Every ``eval_every`` epochs (and after the last) the model is evaluated
    in eval mode: history ``epoch``, ``train_loss`` (mean minibatch loss of
    the epoch), ``test_loss`` and, for classification, ``test_accuracy``,
    ``val_accuracy`` / ``val_loss`` with a val split, ``memorized_fraction``
    with noisy labels (flipped examples predicted as their wrong label) and
    ``regulariser`` for augmenters with ``terms`` (MixupE). A model with a
    ``loss_scale`` attribute (e.g. the lazy-training wrapper's ``1 / alpha^2``)
    has ``loss_scale * loss`` back-propagated; recorded losses are unscaled. Final metrics:
    ``test_accuracy``, ``train_accuracy`` (labels as trained on),
    ``train_clean_accuracy``, ``final_loss``, ``test_loss`` (and
    ``memorized_fraction``, ``val_accuracy``); for regression ``test_loss``
    and ``train_eval_loss``. A NaN/inf loss stops training with
    :class:`~etude.runtime.NonFiniteLossError` naming the step.

    Forking: ``run(init_from=path)`` starts from the model weights of a
    checkpoint (a fresh optimiser, schedule and history: a new run from a
    trained network), and ``run(model_transform=fn)`` trains ``fn(model)``
    instead of the model (after ``init_from``), e.g. the lazy-training
    wrapper around the checkpoint's network.

    Checkpoints: ``run(checkpoint=path)`` writes an atomic
    :func:`etude.runtime.save_checkpoint` every ``checkpoint_every`` epochs
    and at the end (model, optimiser, scheduler, batch-order and augmenter
    generators, global RNG states, history); if ``path`` exists, the run
    resumes from it, and on CPU ends bit-identical to an uninterrupted run.

    Defaults follow the MixupE brief's CPU experiment: SGD lr 0.05,
    momentum 0.9, Nesterov, weight decay 1e-4, cosine schedule, batch 64.

    References:
        H. Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018, arXiv:1710.09412;
        Y. Zou et al., "MixupE", UAI 2023, arXiv:2212.13381 (the default setting).

    Examples:
        >>> from etude.data import BreastCancer
        >>> result = SupervisedTraining(epochs=2, hidden=(16,)).run(BreastCancer(), seed=0)
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

    def build_model(self, task: Any, model: Any = None) -> nn.Module:
        """The network for ``task``: ``model`` (module or factory) or the configured registry model."""
        c = self.config
        in_features, out_features = _dimensions(task, c.loss)
        if model is not None:
            if not (isinstance(model, nn.Module) or callable(model)):
                raise TypeError(
                    f"model must be an nn.Module, a factory (in_features, out_features) -> Module, or None; got {model!r}"
                )
            if c.hidden is not None or c.model_options:
                raise ValueError("run(model=...) was given: drop the config's hidden / model_options, they are unused")
            if isinstance(model, nn.Module):
                return model
            built = model(in_features, out_features)
            if not isinstance(built, nn.Module):
                raise TypeError(f"model factory must return an nn.Module, got {type(built).__name__}")
            return built
        import etude  # noqa: PLC0415
        from etude.config import config_class  # noqa: PLC0415

        options = dict(c.model_options)
        if c.hidden is not None:
            options["hidden"] = tuple(c.hidden)
        cls = config_class(etude.get_registry().get("model", c.model).load())
        names = {f.name for f in attrs.fields(cls)} if cls is not None else set()
        shape = tuple(getattr(task, "input_shape", None) or task.split("train").inputs.shape[1:])
        for name, value in (("in_features", in_features), ("out_features", out_features),
                            ("num_classes", out_features), ("input_shape", shape)):
            if name in names and name not in options:
                options[name] = value
        return etude.create("model", c.model, **options)

    def run(
        self,
        task: Any,
        *,
        seed: int = 0,
        device: Any = None,
        model: nn.Module | Callable[[int, int], nn.Module] | None = None,
        callbacks: Iterable[Callback] = (),
        progress: bool = False,
        checkpoint: str | os.PathLike | None = None,
        init_from: str | os.PathLike | None = None,
        model_transform: Callable[[nn.Module], nn.Module] | None = None,
        **kwargs: Any,
    ) -> ProcedureResult:
        """Train on ``task`` (``train`` / ``test`` splits, optional ``val``) and evaluate; see the class docstring."""
        if kwargs:
            raise TypeError(f"SupervisedTraining.run got unexpected keywords {sorted(kwargs)}")
        from etude.runtime import check_finite, resolve_device, seed_everything  # noqa: PLC0415

        c = self.config
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be etude.data.Callback instances, got {type(cb).__name__}")
        classification = isinstance(getattr(task, "num_classes", None), int)
        if c.loss == "cross-entropy" and not classification:
            raise ValueError(f"loss='cross-entropy' needs a classification task (num_classes set); "
                             f"{type(task).__name__} has none: use loss='mse' or 'l1'")
        num_classes = int(task.num_classes) if classification else None
        dev = resolve_device("cpu" if device is None else device)
        splits = task.splits()
        data = {name: (s.inputs.to(dev), s.targets.to(dev)) for name, s in splits.items()}
        train = splits["train"]
        info = {k: (v.to(dev) if isinstance(v, Tensor) else v) for k, v in train.info.items()}
        x_train, y_train = data["train"]
        noisy_mask = info.get("noisy")
        has_noise = classification and noisy_mask is not None and bool(noisy_mask.any())
        if c.augmenter != "none" and not classification:
            raise ValueError("augmenters need a classification task (soft labels over num_classes)")

        seed_everything(int(seed))
        net = self.build_model(task, model).to(dev)
        if init_from is not None:
            _load_weights(net, init_from, dev)
        if model_transform is not None:
            if not callable(model_transform):
                raise TypeError(f"model_transform must be a callable Module -> Module, got {model_transform!r}")
            net = model_transform(net)
            if not isinstance(net, nn.Module):
                raise TypeError(f"model_transform must return an nn.Module, got {type(net).__name__}")
            net = net.to(dev)
        augmenter = self.make_augmenter()
        extra: dict[str, Any] = {"x_mean": x_train.float().mean(0, keepdim=True)}
        with_terms = augmenter is not None and hasattr(augmenter, "terms")

        n = x_train.shape[0]
        batch = n if c.batch_size is None else int(c.batch_size)
        steps_per_epoch = math.ceil(n / batch)
        total_steps = c.epochs * steps_per_epoch
        loss_scale = _loss_scale(net)
        if loss_scale != 1.0 and c.weight_decay != 0:
            raise FieldValueError("weight_decay", c.weight_decay,
                                  f"0 with a model whose loss_scale is {loss_scale:g} ({type(net).__name__}: coupled "
                                  "decay of a rescaled objective has no agreed meaning); set weight_decay=0")
        optimiser = _optimiser(c, net)
        scheduler = _scheduler(c, optimiser, total_steps, steps_per_epoch)
        order_gen = torch.Generator().manual_seed(int(seed))
        aug_gen = torch.Generator().manual_seed(int(seed) + 1)
        history: dict[str, list[float]] = {}
        state = TrainState(model=net, optimizer=optimiser, scheduler=scheduler, task=task, device=dev, config=c,
                           epochs=c.epochs, steps_per_epoch=steps_per_epoch, data=data, info=info, history=history)
        start_epoch = 0
        path = pathlib.Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists():
            start_epoch = self._resume(path, state, order_gen, aug_gen, seed)

        epochs: Any = range(start_epoch, c.epochs)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            epochs = tqdm(epochs, desc=f"supervised[{c.model}, {c.augmenter}]", leave=False)
        for cb in callbacks:
            cb.on_train_start(state)
        for epoch in epochs:
            state.epoch = epoch
            net.train()
            perm = torch.randperm(n, generator=order_gen).to(dev)
            loss_sum, reg_sum, batches = 0.0, 0.0, 0
            for start in range(0, n, batch):
                idx = perm[start:start + batch]
                for cb in callbacks:
                    cb.on_batch_start(state, idx)
                xb, yb = x_train[idx], y_train[idx]
                per_example = None
                if augmenter is None:
                    per_example = per_example_loss(c.loss, net(xb), yb, num_classes)
                    loss = per_example.mean()
                elif with_terms:
                    parts = augmenter.terms(net, xb, yb, num_classes=num_classes, generator=aug_gen, **extra)
                    loss = parts["loss"]
                    reg_sum += float(parts["regulariser"].detach())
                else:
                    loss = augmenter.loss(net, xb, yb, num_classes=num_classes, generator=aug_gen,
                                          progress=state.step / total_steps, **extra)
                loss_sum += check_finite(loss, step=state.step)
                optimiser.zero_grad(set_to_none=True)
                (loss if loss_scale == 1.0 else loss * loss_scale).backward()
                if c.grad_clip is not None:
                    nn.utils.clip_grad_norm_(net.parameters(), c.grad_clip)
                optimiser.step()
                if scheduler is not None:
                    scheduler.step()
                state.step += 1
                batches += 1
                for cb in callbacks:
                    cb.on_batch_end(state, idx, None if per_example is None else per_example.detach())
                if state.stop:
                    break
            def record_epoch() -> None:
                record = {"epoch": float(epoch + 1), "train_loss": loss_sum / max(batches, 1)}
                record.update(evaluate_splits(net, data, c.loss, num_classes, info if has_noise else None))
                if with_terms:
                    record["regulariser"] = reg_sum / max(batches, 1)
                for key, value in record.items():
                    history.setdefault(key, []).append(value)
                state.metrics = record

            recorded = (epoch + 1) % c.eval_every == 0 or epoch == c.epochs - 1 or state.stop
            if recorded:
                record_epoch()
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stop and not recorded:  # a callback stopped training at this epoch's end: evaluate it too
                record_epoch()
            done = epoch + 1
            if path is not None and ((c.checkpoint_every and done % c.checkpoint_every == 0) or done == c.epochs
                                     or state.stop):
                self._save(path, state, order_gen, aug_gen, done, seed)
            if state.stop:
                break

        metrics = self._final_metrics(net, data, info, history, num_classes, has_noise)
        state.metrics = metrics
        for cb in callbacks:
            cb.on_train_end(state)
        run_info = {"model": c.model, "augmenter": c.augmenter, "augmenter_options": dict(c.augmenter_options),
                    "seed": int(seed), "steps": state.step, "resumed_from_epoch": start_epoch,
                    "config": attrs.asdict(c)}
        return ProcedureResult(metrics=metrics, history=history, models={"model": net}, info=run_info)

    def _final_metrics(self, net, data, info, history, num_classes, has_noise) -> dict[str, float]:
        c = self.config
        if not history:
            raise RuntimeError("no epoch was evaluated (stopped before the first epoch ended?)")
        x_train, y_train = data["train"]
        if num_classes is None:
            return {"test_loss": history["test_loss"][-1], "final_loss": history["train_loss"][-1],
                    "train_eval_loss": mean_loss(net, x_train, y_train, c.loss, None)}
        metrics = {
            "test_accuracy": history["test_accuracy"][-1],
            "train_accuracy": accuracy(net, x_train, y_train),
            "train_clean_accuracy": accuracy(net, x_train, info.get("clean_targets", y_train)),
            "final_loss": history["train_loss"][-1],
            "test_loss": history["test_loss"][-1],
        }
        if "val_accuracy" in history:
            metrics["val_accuracy"] = history["val_accuracy"][-1]
        if has_noise:
            metrics["memorized_fraction"] = history["memorized_fraction"][-1]
        return metrics

    # -- checkpoints -------------------------------------------------------
    def _save(self, path, state, order_gen, aug_gen, epochs_done, seed) -> None:
        from etude.runtime import save_checkpoint  # noqa: PLC0415

        extra = {
            "procedure": "supervised", "seed": int(seed), "epochs_done": int(epochs_done), "step": int(state.step),
            "optimizer": state.optimizer.state_dict(),
            "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
            "order_generator": order_gen.get_state(), "augmenter_generator": aug_gen.get_state(),
            "history": {k: list(v) for k, v in state.history.items()},
        }
        save_checkpoint(path, state.model, config=self.config, extra=extra)

    def _resume(self, path, state, order_gen, aug_gen, seed) -> int:
        from etude.runtime import load_checkpoint  # noqa: PLC0415

        payload = load_checkpoint(path, map_location=state.device, restore_rng=True)
        extra = payload["extra"]
        if extra.get("procedure") != "supervised" or extra.get("seed") != int(seed):
            raise ValueError(f"{path} is not a checkpoint of procedure/supervised with seed {seed} "
                             f"(found {extra.get('procedure')!r}, seed {extra.get('seed')!r}); delete it or pass another path")
        from etude.config import config_as_dict  # noqa: PLC0415

        saved, now = payload["config"], config_as_dict(self.config)
        changed = sorted(k for k in now if k not in ("epochs", "checkpoint_every") and saved.get(k) != now[k])
        if changed:
            raise ValueError(f"{path} was written with a different configuration ({', '.join(changed)}); "
                             "resume with the same configuration or delete the checkpoint")
        state.model.load_state_dict(payload["state"])
        state.optimizer.load_state_dict(extra["optimizer"])
        if state.scheduler is not None and extra["scheduler"] is not None:
            state.scheduler.load_state_dict(extra["scheduler"])
        order_gen.set_state(extra["order_generator"])
        aug_gen.set_state(extra["augmenter_generator"])
        state.history.update({k: list(v) for k, v in extra["history"].items()})
        state.step = int(extra["step"])
        return int(extra["epochs_done"])


def _dimensions(task: Any, loss: str) -> tuple[int, int]:
    train = task.split("train")
    in_features = int(train.inputs[0].numel())
    if isinstance(getattr(task, "num_classes", None), int):
        return in_features, int(task.num_classes)
    targets = train.targets
    return in_features, 1 if targets.dim() == 1 else int(targets[0].numel())


def _load_weights(net: nn.Module, path: str | os.PathLike, device: Any) -> None:
    """Load a checkpoint's model weights into ``net`` (forking: a fresh optimiser, schedule and history follow)."""
    from etude.runtime import load_checkpoint  # noqa: PLC0415

    state = load_checkpoint(path, map_location=device)["state"]
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"init_from={str(path)!r}: its weights do not fit the model {type(net).__name__} "
                         f"({str(exc).splitlines()[0]}); build the same architecture as the checkpoint") from exc


def _loss_scale(net: nn.Module) -> float:
    """The model's ``loss_scale`` attribute (default 1): the loop back-propagates ``loss_scale * loss``.

    A reparametrised model whose objective is a rescaled loss (the lazy-training
    wrapper's ``1 / alpha^2``) declares it; the recorded losses stay unscaled.
    """
    scale = getattr(net, "loss_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"model.loss_scale must be a finite number > 0, got {scale!r} "
                         f"(from {type(net).__name__}); fix the model's loss_scale attribute")
    return float(scale)


def _optimiser(c: SupervisedTrainingConfig, net: nn.Module) -> torch.optim.Optimizer:
    if c.optimizer == "sgd":
        return torch.optim.SGD(net.parameters(), lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                               weight_decay=c.weight_decay)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(net.parameters(), lr=c.lr, alpha=c.alpha, weight_decay=c.weight_decay)
    return torch.optim.Adam(net.parameters(), lr=c.lr, weight_decay=c.weight_decay)


def _scheduler(c: SupervisedTrainingConfig, optimiser, total_steps: int, steps_per_epoch: int):
    if c.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=total_steps)
    if c.schedule == "multistep":
        milestones = [m * steps_per_epoch for m in c.milestones]
        return torch.optim.lr_scheduler.MultiStepLR(optimiser, milestones=milestones, gamma=c.gamma)
    return None


__all__ = ["SupervisedTraining", "SupervisedTrainingConfig", "accuracy", "as_positions", "predict"]
