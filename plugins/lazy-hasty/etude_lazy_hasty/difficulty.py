"""Example-difficulty scores: a hold-out consistency (c-score proxy), quantile groups, and task annotation.

``holdout_consistency`` estimates Jiang et al.'s consistency score: the
expected accuracy on an example of models trained on random subsets that
*exclude* it. K multinomial logistic models (``nn.Linear``) are trained at
once by full-batch gradient descent on the mean cross-entropy of their
subsets: parameters stacked by ``torch.func.stack_module_state``, every
step one batched ``bmm`` over models with the exact logistic-regression
gradient (``vmap(grad)`` was 4x slower than a plain loop at this size,
being overhead-bound). The score of example ``i`` is the fraction of the models that did not see ``i`` and predict its
label. Low score = hard (atypical or mislabelled). The paper's CIFAR-10
experiments use the published c-scores; digits / MNIST-1D have none, hence
this proxy (on digits, 50 % subsets leave most scores tied at 1; small
subsets, e.g. 10 %, spread them).

References:
    Z. Jiang, C. Zhang, K. Talwar, M. C. Mozer, "Characterizing Structural Regularities of Labeled Data
    in Overparameterized Models", ICML 2021, arXiv:2002.03206 (the consistency score).
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty", TMLR 2022, arXiv:2209.09658 (difficulty groups).

Examples:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(60, 4, generator=g); y = (x[:, 0] > 0).long()
    >>> scores = holdout_consistency(x, y, 2, models=20, fraction=0.3, steps=50, seed=0)
    >>> tuple(scores.shape), bool(((scores >= 0) & (scores <= 1)).all())
    ((60,), True)
    >>> quantile_groups(scores, 3, seed=0).bincount().tolist()
    [20, 20, 20]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.func import stack_module_state

from etude.kinds import Split, Task


def _check(x: Tensor, y: Tensor, num_classes: int) -> None:
    if not (isinstance(x, Tensor) and x.dim() >= 2):
        raise ValueError(f"holdout_consistency: x must be a tensor (N, ...), got {getattr(x, 'shape', type(x))}")
    if not (isinstance(y, Tensor) and y.dim() == 1 and y.shape[0] == x.shape[0] and not y.is_floating_point()):
        raise ValueError(f"holdout_consistency: y must be int64 class indices (N,) = ({x.shape[0]},), "
                         f"got {getattr(y, 'dtype', None)} {tuple(getattr(y, 'shape', ()))}")
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError("holdout_consistency: x contains NaN or inf")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(f"holdout_consistency: labels must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]")


def subset_indices(n: int, models: int, fraction: float, seed: int) -> Tensor:
    """(models, m) int64: model ``k`` trains on ``m = round(fraction * n)`` examples drawn without replacement."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    if not (isinstance(models, int) and models >= 1):
        raise ValueError(f"models must be an integer >= 1, got {models!r}")
    size = max(1, min(n - 1, round(fraction * n)))
    g = torch.Generator().manual_seed(int(seed))
    return torch.stack([torch.randperm(n, generator=g)[:size] for _ in range(models)])  # K draws, not a loop over examples


def subset_masks(n: int, models: int, fraction: float, seed: int) -> Tensor:
    """(models, n) bool: the rows of :func:`subset_indices` as masks."""
    idx = subset_indices(n, models, fraction, seed)
    masks = torch.zeros(idx.shape[0], n, dtype=torch.bool)
    masks.scatter_(1, idx, True)
    return masks


def make_models(in_features: int, num_classes: int, models: int, seed: int) -> list[nn.Linear]:
    """The K logistic models (float64), initialised from ``seed`` (the default ``nn.Linear`` init)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return [nn.Linear(in_features, num_classes).double() for _ in range(models)]


def train_subsets(x: Tensor, y: Tensor, subsets: Tensor, nets: list[nn.Linear], *, steps: int, lr: float,
                  weight_decay: float = 0.0) -> dict[str, Tensor]:
    """Full-batch gradient descent of every model on the mean cross-entropy of its subset, all models at once.

    The models' parameters are stacked (``torch.func.stack_module_state``:
    ``weight`` (K, C, d), ``bias`` (K, C)) and every step is batched over
    models with the exact gradient of multinomial logistic regression,
    ``dL/dW_k = (softmax(W_k X_k^T + b_k) - Y_k^T) X_k / m + weight_decay W_k``:
    two ``bmm`` and a softmax over the class axis, in the (K, C, m) layout
    (classes first: the softmax and both products run along the long example
    axis, 2x faster on CPU than (K, m, C) with its 10-wide softmax rows), so
    the cost is that of one model on ``K m`` examples.
    """
    params, _ = stack_module_state(nets)
    w = params["weight"].detach().clone().double()
    b = params["bias"].detach().clone().double()
    num_classes = w.shape[1]
    rows = subsets.to(x.device)
    xs = x.reshape(x.shape[0], -1).to(w)[rows]  # (K, m, d)
    xt = xs.transpose(1, 2).contiguous()  # (K, d, m)
    target = nn.functional.one_hot(y.to(x.device)[rows], num_classes).to(w).transpose(1, 2)  # (K, C, m)
    m = xs.shape[1]
    for _ in range(int(steps)):
        err = torch.softmax(torch.baddbmm(b.unsqueeze(2), w, xt), dim=1).sub_(target)  # (K, C, m)
        gw = torch.bmm(err, xs).div_(m)
        if weight_decay:
            gw.add_(w, alpha=weight_decay)
        b = b - lr * err.mean(2)
        w = w - lr * gw
    return {"weight": w, "bias": b}


def holdout_consistency(x: Tensor, y: Tensor, num_classes: int, *, models: int = 20, fraction: float = 0.1,
                        steps: int = 100, lr: float = 0.5, weight_decay: float = 0.0, seed: int = 0) -> Tensor:
    """Per-example hold-out accuracy (N,) float32 of ``models`` logistic models trained on ``fraction`` subsets.

    NaN where no model held the example out (raise ``models``). Inputs are
    flattened; standardised features suit the default ``lr``. Float64 inside.
    """
    _check(x, y, num_classes)
    n = x.shape[0]
    subsets = subset_indices(n, models, fraction, seed)
    masks = torch.zeros(models, n, dtype=torch.bool, device=x.device)
    masks.scatter_(1, subsets.to(x.device), True)
    nets = make_models(x[0].numel(), num_classes, models, seed)
    params = train_subsets(x, y, subsets, nets, steps=steps, lr=lr, weight_decay=weight_decay)
    xf = x.reshape(n, -1).to(torch.float64)
    logits = torch.einsum("nd,kcd->knc", xf, params["weight"]) + params["bias"].unsqueeze(1)
    correct = (logits.argmax(-1) == y).to(torch.float64)
    held = (~masks).to(torch.float64)
    count = held.sum(0)
    score = (held * correct).sum(0) / count
    return torch.where(count > 0, score, torch.full_like(score, float("nan"))).float()


def quantile_groups(scores: Tensor, q: int, *, among: Tensor | None = None, seed: int = 0) -> Tensor:
    """Difficulty groups (N,) int64 in ``0..q-1``, 0 = easiest (highest score), ``q - 1`` = hardest; -1 = excluded.

    Examples in ``among`` (bool mask; default all with a finite score) are
    ranked by decreasing score, ties broken by a seeded random order, and cut
    into ``q`` groups of equal size (up to one example).
    """
    if not (isinstance(q, int) and q >= 1):
        raise ValueError(f"q must be an integer >= 1, got {q!r}")
    ok = torch.isfinite(scores) if among is None else (among.bool() & torch.isfinite(scores))
    idx = torch.nonzero(ok).squeeze(1)
    if idx.numel() < q:
        raise ValueError(f"quantile_groups: {idx.numel()} eligible examples cannot fill {q} groups")
    g = torch.Generator().manual_seed(int(seed))
    shuffled = idx[torch.randperm(idx.numel(), generator=g)]
    order = shuffled[torch.argsort(scores[shuffled].double(), descending=True, stable=True)]
    groups = torch.full((scores.shape[0],), -1, dtype=torch.int64)
    groups[order] = torch.arange(order.numel()) * q // order.numel()
    return groups


class Annotated(Task):
    """A task whose train split's ``info`` carries extra per-example annotations (difficulty scores, groups).

    Examples:
        >>> import torch
        >>> from etude.data import Iris
        >>> base = Iris()
        >>> task = Annotated(base, score=torch.zeros(len(base.split("train"))))
        >>> sorted(task.split("train").info)
        ['clean_targets', 'index', 'noisy', 'score']
    """

    def __init__(self, task: Task, **train_info: Any) -> None:
        super().__init__()
        n = len(task.split("train"))
        for key, value in train_info.items():
            if isinstance(value, Tensor) and (value.dim() == 0 or value.shape[0] != n):
                raise ValueError(f"Annotated: {key!r} must have one entry per train example ({n}), "
                                 f"got shape {tuple(value.shape)}")
        self.base = task
        self.train_info = dict(train_info)
        self.split_names = task.split_names
        self.num_classes = task.num_classes
        self.input_shape = task.input_shape

    def make_splits(self) -> dict[str, Split]:
        splits = dict(self.base.splits())
        train = splits["train"]
        splits["train"] = Split(train.inputs, train.targets, {**train.info, **self.train_info})
        return splits


__all__ = ["Annotated", "holdout_consistency", "make_models", "quantile_groups", "subset_indices", "subset_masks",
           "train_subsets"]
