"""The CIFAR-10 fork protocol of George et al.: train at alpha = 1, fork at accuracy milestones into alpha = 1 and 1e4.

The paper's main experiment (Section 5, ``exp_cifar`` of the official
code): a ResNet-18 (BN-free, the core's ``model/resnet18`` with
``norm="none"``) is trained on the first 40 000 CIFAR-10 training images
(the other 10 000 are the held-out split) with SGD, lr 0.01, momentum 0.9,
batch 125; checkpoints are written when the train accuracy first reaches
10 %, 15 %, ...; from each checkpoint, training is *forked*: continued
with ``alpha = 1`` (the plain network) and ``alpha = 1e4`` (its
linearisation around the checkpoint, ``AlphaScaled.fork``), both with lr
0.01 on ``(1/alpha^2) L`` (the reference's ``lr / alpha`` step), through the
core loop's ``run(init_from=checkpoint, model_transform=...)``. Per-decile
train accuracy of Jiang et al.'s c-scores (0 = most regular = easiest) is
tracked against the overall train accuracy.

Files (nothing is downloaded): the CIFAR-10 binary batches in
``<root>/cifar-10-batches-bin`` (the core's ``task/cifar10``) and the
c-scores ``<root>/cifar10-cscores-orig-order.npz`` (arrays ``scores`` and
``labels``, 50 000 entries in the original training-set order, from Jiang
et al.'s release), ``<root>`` being ``ETUDE_DATA`` (else ``~/etude-data``)
or the ``root`` given. A missing file raises
:class:`etude.data.DataNotFoundError` naming it.

Differences from the reference: the parent run is the plain network
(the reference also subtracts the initial function in the parent, a fixed
offset shared by both forks); the overall train accuracy is measured on the
whole train split at the logged iterations (the reference uses a running
average of minibatch accuracies); milestones are checked at those
iterations rather than every minibatch, with checkpoints written at once
(the reference writes them at the end of the epoch).

References:
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658.
    Z. Jiang, C. Zhang, K. Talwar, M. C. Mozer, "Characterizing Structural Regularities of Labeled Data in
    Overparameterized Models", ICML 2021, arXiv:2002.03206 (the c-scores).

Examples:
    >>> from etude.data import DataNotFoundError
    >>> try:
    ...     read_cscores("/nonexistent")
    ... except DataNotFoundError as error:
    ...     print(error.expected[0])
    cifar10-cscores-orig-order.npz
"""

from __future__ import annotations

import pathlib
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from etude.config import configclass, field, positive
from etude.data import Callback, DataFormatError, DataNotFoundError, data_root
from etude.kinds import Split, Task

CSCORE_FILE = "cifar10-cscores-orig-order.npz"


def read_cscores(root: str | None = None, *, labels: np.ndarray | None = None) -> np.ndarray:
    """The CIFAR-10 c-scores (float64, in the original training-set order) from ``<root>/cifar10-cscores-orig-order.npz``.

    With ``labels`` (the training labels, original order) the file's own
    ``labels`` array must equal them (a file of another order is an error).
    """
    path = data_root(root) / CSCORE_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"lazy-hasty: the CIFAR-10 c-score file {path} does not exist. Put {CSCORE_FILE} (Jiang et al. 2021's "
            f"consistency scores in the original training-set order, arrays 'scores' and 'labels') in {path.parent}, "
            "or point etude at another folder with the ETUDE_DATA environment variable. Nothing is downloaded.",
            folder=str(path.parent), expected=(CSCORE_FILE,))
    try:
        with np.load(path, allow_pickle=False) as data:
            scores, file_labels = np.asarray(data["scores"], dtype=np.float64), np.asarray(data["labels"])
    except (KeyError, ValueError, OSError) as exc:
        raise DataFormatError(str(path), f"expected an .npz with arrays 'scores' and 'labels' ({exc})") from None
    if scores.ndim != 1 or file_labels.shape != scores.shape or not np.isfinite(scores).all():
        raise DataFormatError(str(path), f"expected finite 'scores' (N,) and 'labels' (N,), got {scores.shape} "
                                         f"and {file_labels.shape}")
    if labels is not None and (file_labels.shape != labels.shape or not np.array_equal(file_labels, labels)):
        raise DataFormatError(str(path), f"its labels do not match the CIFAR-10 training labels ({labels.shape[0]} "
                                         "in the original order): the scores are in another order")
    return scores


@configclass
class CIFAR10CScoresConfig:
    root: str | None = field(default=None, doc="folder holding cifar-10-batches-bin and the c-score file "
                                               "(None: $ETUDE_DATA, else ~/etude-data)")
    train_examples: int = field(default=40000, validator=positive,
                                doc="the first N official training images are the train split, the rest the test split")


class CIFAR10CScores(Task):
    """CIFAR-10's training set split 40 000 / 10 000 in the original order, with the c-scores in ``info["cscore"]``.

    The paper's split (the official test set is not used). Inputs are
    standardised per channel with the train split's statistics; every split's
    ``info`` carries ``cscore`` (float32) and ``index`` (row in the official
    training set); the train split also ``clean_targets`` and ``noisy`` (no noise).
    """

    Config = CIFAR10CScoresConfig
    num_classes = 10
    input_shape = (3, 32, 32)

    def make_splits(self) -> dict[str, Split]:
        from etude.data import CIFAR10  # noqa: PLC0415

        c = self.config
        train = CIFAR10(root=c.root).split("train")  # official order, pixels in [0, 1]
        labels = train.targets.numpy()
        scores = torch.from_numpy(read_cscores(c.root, labels=labels)).float()
        n = labels.shape[0]
        if not 0 < c.train_examples < n:
            raise ValueError(f"train_examples must be in (0, {n}) (the CIFAR-10 training set has {n} images), "
                             f"got {c.train_examples}")
        x = train.inputs
        head = x[:c.train_examples]
        mean = head.mean(dim=(0, 2, 3), keepdim=True)
        std = head.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
        out = {}
        for name, rows in (("train", slice(0, c.train_examples)), ("test", slice(c.train_examples, n))):
            index = torch.arange(n)[rows]
            info: dict[str, Any] = {"cscore": scores[rows], "index": index}
            if name == "train":
                info.update(clean_targets=train.targets[rows].clone(), noisy=torch.zeros(index.numel(), dtype=torch.bool))
            out[name] = Split(((x[rows] - mean) / std).contiguous(), train.targets[rows].clone(), info)
        return out


class MilestoneCheckpoints(Callback):
    """Write a checkpoint (``etude.runtime.save_checkpoint``) when a tracker's overall accuracy first reaches each milestone.

    Runs after ``tracker`` (a :class:`~.callbacks.GroupTracker` listed before
    it): at each new measurement, every milestone at or below the measured
    accuracy not yet saved gets ``<folder>/milestone-<m>.pt``. ``saved``:
    milestone -> (path, step, accuracy).
    """

    def __init__(self, tracker: Any, milestones: Sequence[float], folder: str | pathlib.Path) -> None:
        self.tracker, self.milestones = tracker, sorted(float(m) for m in milestones)
        self.folder = pathlib.Path(folder)
        self.saved: dict[float, tuple[str, int, float]] = {}
        self._seen = 0

    def _check(self, state) -> None:
        if len(self.tracker.accuracy) == self._seen:
            return
        self._seen = len(self.tracker.accuracy)
        acc = self.tracker.accuracy[-1]
        from etude.runtime import save_checkpoint  # noqa: PLC0415

        for m in self.milestones:
            if m not in self.saved and acc >= m:
                path = self.folder / f"milestone-{m:.3f}.pt"
                save_checkpoint(path, state.model, extra={"step": int(state.step), "accuracy": float(acc)})
                self.saved[m] = (str(path), int(state.step), float(acc))
        if len(self.saved) == len(self.milestones):
            state.stop = True

    def on_train_start(self, state) -> None:
        self._check(state)

    def on_batch_end(self, state, indices, losses) -> None:
        self._check(state)

    def on_epoch_end(self, state) -> None:
        self._check(state)


def fork_protocol(*, seed: int, device: str = "cpu", root: str | None = None, train_examples: int = 40000,
                  model_options: dict | None = None, milestones: Sequence[float] = (0.1, 0.15, 0.2, 0.25, 0.3),
                  parent_epochs: int = 100, fork_epochs: int = 50, gap: float = 0.2,
                  alphas: Sequence[float] = (1.0, 1e4), lr: float = 0.01, momentum: float = 0.9,
                  batch_size: int = 125, bins: int = 10, progress: bool = False) -> dict[str, Any]:
    """One seed of the CIFAR-10 fork protocol; per fork and alpha, every c-score bin's accuracy at matched progress.

    Forks from milestone ``m`` train until the overall train accuracy reaches
    ``m + gap`` (or ``fork_epochs``); bins are read at the overall levels
    ``m + gap / 2`` and ``m + gap`` (:func:`~.callbacks.matched_progress`).
    Bin 0 = highest c-scores (easiest), ``bins - 1`` = lowest (hardest).
    Raises :class:`~etude.data.DataNotFoundError` without the files.
    """
    from etude.data import SupervisedTraining  # noqa: PLC0415

    from .alpha_scaled import AlphaScaled  # noqa: PLC0415
    from .callbacks import GroupTracker, matched_progress  # noqa: PLC0415
    from .difficulty import quantile_groups  # noqa: PLC0415

    task = CIFAR10CScores(root=root, train_examples=train_examples)
    train = task.split("train")
    scores = train.info["cscore"]
    groups = quantile_groups(scores, bins, seed=seed)
    masks = {f"bin{k}": groups == k for k in range(bins)}
    options = {"norm": "none", **(model_options or {})}

    def procedure(epochs: int) -> SupervisedTraining:
        return SupervisedTraining(model="resnet18", model_options=options, optimizer="sgd", lr=lr, momentum=momentum,
                                  nesterov=False, weight_decay=0.0, schedule="constant", epochs=epochs,
                                  batch_size=batch_size, eval_every=max(1, epochs))

    out: dict[str, Any] = {"bin_score_means": [float(scores[groups == k].mean()) for k in range(bins)],
                           "train_examples": int(len(train)), "forks": {}}
    with tempfile.TemporaryDirectory(prefix="lazy-hasty-cifar-") as folder:
        tracker = GroupTracker(masks)
        saver = MilestoneCheckpoints(tracker, milestones, folder)
        parent = procedure(parent_epochs).run(task, seed=seed, device=device, callbacks=[tracker, saver],
                                              progress=progress)
        out["parent"] = {"steps": int(parent.info["steps"]), "accuracy": tracker.accuracy, "step": tracker.steps,
                         "milestones": {f"{m:g}": {"step": s, "accuracy": a} for m, (_, s, a) in saver.saved.items()}}
        for m, (path, _, start_accuracy) in sorted(saver.saved.items()):
            target = min(m + gap, 0.999)
            levels = (min(m + gap / 2, target), target)
            fork: dict[str, Any] = {"levels": list(levels), "start_accuracy": start_accuracy}
            for alpha in alphas:
                fork_tracker = GroupTracker(masks, stop_at=target)
                result = procedure(fork_epochs).run(
                    task, seed=seed, device=device, callbacks=[fork_tracker], progress=progress, init_from=path,
                    model_transform=lambda net, a=float(alpha): AlphaScaled.fork(net, a))
                rec = fork_tracker.records
                at = matched_progress(rec["accuracy"], {g: rec["groups"][g]["accuracy"] for g in masks}, levels)
                fork[f"{alpha:g}"] = {"at_levels": at, "steps": int(result.info["steps"]),
                                      "final_accuracy": rec["accuracy"][-1],
                                      "relative_weight_change": result.models["model"].relative_weight_change(),
                                      "curves": {"accuracy": rec["accuracy"],
                                                 **{g: rec["groups"][g]["accuracy"] for g in masks}}}
            out["forks"][f"{m:g}"] = fork
    return out


__all__ = ["CSCORE_FILE", "CIFAR10CScores", "CIFAR10CScoresConfig", "MilestoneCheckpoints", "fork_protocol",
           "read_cscores"]
