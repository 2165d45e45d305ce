"""Tasks of the two papers: sequential images at several resolutions, two-source toy, sparse sub-skill changes.

- :class:`SequentialImage` (``task/sequential-image``): any core image task
  (``mnist`` by default, read from a local folder; ``digits`` ships with
  scikit-learn) binarised, nearest-resized to ``train_size`` x
  ``train_size`` and read one pixel per step; the ``test_<s>`` splits
  resize the test images to each of ``test_sizes`` (RIMs Table: train 14,
  test 16 / 19 / 24; official ``train_mnist.py``); ``permutation`` (a
  seed) reads the pixels in a fixed random order instead, as permuted
  sequential MNIST (Le et al. 2015).
- :class:`TwoSource` (``task/two-source``): two independent Markov chains;
  each step shows one of them, flagged; the target is that chain's next
  symbol. The shown source is the ground-truth factor for specialisation.
- :class:`SparseChange` (``task/sparse-change``): fixed random sub-skills
  ``y = f_s(z)``; each task of a stream perturbs exactly one sub-skill
  (the sparse change Meta-RIMs' fast modules should absorb).

References:
    A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893;
    K. Madan, N. R. Ke, A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent
    Independent Mechanisms", ICLR 2021, arXiv:2105.08710.

Examples:
    >>> task = SequentialImage(image_task="digits", train_size=6, test_sizes=(8,), num_test=20)
    >>> task.split("train").inputs.shape[1:], task.split("test_8").inputs.shape
    (torch.Size([36, 1]), torch.Size([20, 64, 1]))
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from etude.config import FieldValueError, configclass, each, field, in_range, non_negative, positive
from etude.kinds import Split, Task


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


def _optional_non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        non_negative(instance, attribute, value)


def _int_tuple(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


# -- sequential image -------------------------------------------------------------------
@configclass
class SequentialImageConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the image task's splits and the test noise")
    image_task: str = field(default="mnist", doc="registered image task (mnist, fashion-mnist, cifar10, digits, ...)")
    image_options: dict = field(factory=dict, converter=dict,
                                doc="config of the image task (root, val_fraction, ...; seed is set)")
    train_size: int = field(default=14, validator=positive, doc="side in pixels of the training images (RIMs: 14)")
    test_sizes: tuple[int, ...] = field(default=(16, 19, 24), converter=_int_tuple, validator=each(positive),
                                        doc="sides of the test_<s> splits (RIMs: 16, 19, 24)")
    binarize: bool = field(default=True, doc="pixels > threshold become 1, else 0 (after resizing)")
    threshold: float = field(default=0.5, validator=in_range(0.0, 1.0), doc="binarisation threshold on [0, 1] pixels")
    noise: float = field(default=0.0, validator=non_negative,
                         doc="std of Gaussian noise added to the test splits' pixels (0: none; train is never noised)")
    num_train: int | None = field(default=None, validator=_optional_positive, doc="first N training images (None: all)")
    num_test: int | None = field(default=None, validator=_optional_positive, doc="first N test images (None: all)")
    permutation: int | None = field(default=None, validator=_optional_non_negative,
                                    doc="seed of a fixed random pixel order (permuted sequential images; None: row-major)")


class SequentialImage(Task):
    """Pixel-by-pixel image classification with a resolution shift at test time.

    Images from the core task ``image_task`` are scaled to [0, 1] (divided by
    the train maximum when it exceeds 1), nearest-resized with
    ``F.interpolate(mode="nearest")``, binarised and flattened row-major:
    inputs (N, s * s, C) float32, one pixel (C channels) per step; targets
    the int64 labels. Splits: ``train`` and ``test`` at ``train_size``,
    ``test_<s>`` for every ``s`` in ``test_sizes`` (the test images), and
    ``val`` when the image task has one. ``info["size"]`` is the side.
    With ``noise > 0`` the test splits (not train / val) get N(0, noise^2)
    pixel noise from a generator seeded by ``seed``. With ``permutation``
    set, every split's pixels are read in the order
    :meth:`pixel_order` gives (a ``torch.randperm`` of the ``s * s`` pixels
    from a generator seeded by ``permutation``, independent of ``seed``, so
    models and task seeds share one order; permuted sequential MNIST, Le et
    al. 2015). A missing local dataset raises the image task's
    :class:`~etude.data.DataNotFoundError`.

    References:
        A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893
        (sequential MNIST at 16 / 19 / 24 px after training at 14 px);
        Q. V. Le, N. Jaitly, G. E. Hinton, "A Simple Way to Initialize Recurrent Networks of
        Rectified Linear Units", arXiv:1504.00941, 2015 (permuted sequential MNIST).

    Examples:
        >>> task = SequentialImage(image_task="digits", train_size=4, test_sizes=(8,))
        >>> x = task.split("test_8").inputs
        >>> sorted(x.unique().tolist()), task.num_classes
        ([0.0, 1.0], 10)
    """

    Config = SequentialImageConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        c = self.config
        if "seed" in c.image_options:
            raise FieldValueError("image_options", c.image_options, "options without 'seed' (the task's seed is used)")
        self.image = etude.create("task", c.image_task, seed=c.seed, **c.image_options)
        self.num_classes = self.image.num_classes
        if self.num_classes is None:
            raise FieldValueError("image_task", c.image_task, "a classification task with num_classes")
        names = [n for n in self.image.split_names if n != "test"]
        self.split_names = (*names, "test", *(f"test_{s}" for s in c.test_sizes))
        self.channels = self._channels(self.image.input_shape)
        self.input_shape = (c.train_size * c.train_size, self.channels)

    @staticmethod
    def _channels(shape: tuple[int, ...] | None) -> int:
        if shape is not None and len(shape) == 3:
            return int(shape[0])
        return 1

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) images from the image task's (N, C, H, W), (N, H, W) or (N, H * W) inputs."""
        if x.dim() == 4:
            return x
        if x.dim() == 3:
            return x.unsqueeze(1)
        if x.dim() == 2:
            side = math.isqrt(x.shape[1])
            if side * side != x.shape[1]:
                raise FieldValueError("image_task", self.config.image_task,
                                      f"a task of square images, got {x.shape[1]} features per example")
            return x.view(x.shape[0], 1, side, side)
        raise FieldValueError("image_task", self.config.image_task, f"an image task, got inputs {tuple(x.shape)}")

    def _sequence(self, images: torch.Tensor, size: int, scale: float) -> torch.Tensor:
        c = self.config
        x = F.interpolate(images / scale, size=(size, size), mode="nearest")
        if c.binarize:
            x = (x > c.threshold).float()
        x = x.flatten(2).transpose(1, 2)  # (N, s * s, C), row-major pixels
        if c.permutation is not None:
            x = x[:, self.pixel_order(size)]
        return x.contiguous()

    def pixel_order(self, size: int) -> torch.Tensor:
        """The order in which the pixels of a ``size`` x ``size`` image are read: a permutation of ``size * size``.

        Row-major (``arange``) without ``permutation``; else ``torch.randperm``
        from a generator seeded by ``permutation`` (the same for every task seed).
        """
        if self.config.permutation is None:
            return torch.arange(size * size)
        return torch.randperm(size * size, generator=torch.Generator().manual_seed(int(self.config.permutation)))

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        source = self.image.splits()
        images = {k: self._images(v.inputs.float()) for k, v in source.items()}
        top = float(images["train"].max())
        scale = top if top > 1.0 else 1.0
        limit = {"train": c.num_train, "val": c.num_test, "test": c.num_test}
        out: dict[str, Split] = {}
        noise = torch.Generator().manual_seed(int(c.seed) * 7 + 3)
        for name, split in source.items():
            n = limit.get(name)
            imgs, targets = images[name][:n], split.targets[:n]
            sizes = [(name, c.train_size)] + ([(f"test_{s}", s) for s in c.test_sizes] if name == "test" else [])
            for out_name, size in sizes:
                x = self._sequence(imgs, size, scale)
                if c.noise > 0 and out_name.startswith("test"):
                    x = x + c.noise * torch.randn(x.shape, generator=noise)
                out[out_name] = Split(x, targets.clone(), {"size": size})
        return out


# -- two-source Markov chains -------------------------------------------------------------
@configclass
class TwoSourceConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the transition matrices and every sample")
    num_symbols: int = field(default=5, validator=positive, doc="symbols per chain V (>= 2)")
    length: int = field(default=10, validator=positive, doc="sequence length T")
    determinism: float = field(default=0.9, validator=in_range(0.0, 1.0),
                               doc="probability of each chain's fixed successor (the rest uniform)")
    num_train: int = field(default=2000, validator=positive, doc="training sequences")
    num_test: int = field(default=500, validator=positive, doc="test sequences")

    def __attrs_post_init__(self) -> None:
        if self.num_symbols < 2:
            raise FieldValueError("num_symbols", self.num_symbols, "an integer >= 2")


class TwoSource(Task):
    """Two independent Markov chains, one shown per step (flagged); predict the shown chain's next symbol.

    Chain ``j`` in {0, 1} has a fixed successor permutation ``pi_j`` (drawn
    from ``seed``, different for the two chains) and moves to ``pi_j(x)``
    with probability ``determinism``, else to a uniform symbol. Both chains
    advance every step; at step t source ``s_t`` ~ Bernoulli(1/2) is shown:
    input ``[onehot_V(x^{s_t}_t), onehot_2(s_t)]`` (N, T, V + 2); target
    ``x^{s_t}_{t+1}`` (N, T) int64. ``info["source"]`` (N, T) is the shown
    source, ``info["chains"]`` (N, T + 1, 2) both chains' paths, and
    :meth:`successors` the permutations. The Bayes accuracy is
    ``determinism + (1 - determinism) / V``.

    Examples:
        >>> task = TwoSource(num_symbols=4, length=6, num_train=8, num_test=4)
        >>> split = task.split("train")
        >>> split.inputs.shape, split.targets.shape, split.info["source"].shape
        (torch.Size([8, 6, 6]), torch.Size([8, 6]), torch.Size([8, 6]))
    """

    Config = TwoSourceConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.num_classes = c.num_symbols
        self.input_shape = (c.length, c.num_symbols + 2)
        self.bayes_accuracy = c.determinism + (1 - c.determinism) / c.num_symbols

    def successors(self) -> torch.Tensor:
        """(2, V) successor permutations of the two chains (distinct, from ``seed``)."""
        g = torch.Generator().manual_seed(int(self.config.seed) * 2 + 101)
        v = self.config.num_symbols
        first = torch.randperm(v, generator=g)
        second = torch.randperm(v, generator=g)
        while torch.equal(first, second):
            second = torch.randperm(v, generator=g)
        return torch.stack([first, second])

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        succ = self.successors()
        out = {}
        for i, (name, n) in enumerate((("train", c.num_train), ("test", c.num_test))):
            g = torch.Generator().manual_seed(int(c.seed) * 2 + i)
            v, t = c.num_symbols, c.length
            chains = torch.empty(n, t + 1, 2, dtype=torch.int64)
            chains[:, 0] = torch.randint(0, v, (n, 2), generator=g)
            for step in range(t):  # sequential by nature: each state depends on the previous one
                follow = torch.rand(n, 2, generator=g) < c.determinism
                jump = torch.randint(0, v, (n, 2), generator=g)
                nxt = torch.stack([succ[0][chains[:, step, 0]], succ[1][chains[:, step, 1]]], dim=1)
                chains[:, step + 1] = torch.where(follow, nxt, jump)
            source = torch.randint(0, 2, (n, t), generator=g)
            shown = chains[:, :t].gather(2, source.unsqueeze(-1)).squeeze(-1)
            target = chains[:, 1:].gather(2, source.unsqueeze(-1)).squeeze(-1)
            x = torch.cat([F.one_hot(shown, v), F.one_hot(source, 2)], dim=-1).float()
            out[name] = Split(x, target, {"source": source, "chains": chains})
        return out


# -- sparse change of sub-skills -------------------------------------------------------------
@configclass
class SparseChangeConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the sub-skills, the task stream and the samples")
    num_skills: int = field(default=4, validator=positive, doc="number of sub-skills S")
    input_dim: int = field(default=4, validator=positive, doc="dimension of z")
    hidden: int = field(default=8, validator=positive, doc="hidden width of each sub-skill's random tanh network")
    length: int = field(default=6, validator=positive, doc="steps per sequence T")
    perturbation: float = field(default=1.0, validator=positive,
                                doc="a perturbed sub-skill's output weights become w + perturbation * N(0, I)")
    num_train_tasks: int = field(default=64, validator=positive, doc="tasks in the meta-training stream")
    num_test_tasks: int = field(default=10, validator=positive, doc="held-out perturbations (adaptation)")
    examples_per_task: int = field(default=64, validator=positive, doc="sequences per task")


class SparseChange(Task):
    """A stream of tasks, each changing one of S fixed sub-skills; the quick analogue of Meta-RIMs' transfer.

    Sub-skill s is a fixed random network ``f_s(z) = v_s . tanh(W_s z)``
    (W_s (hidden, d), v_s (hidden,), drawn from ``seed``). A sequence has T
    steps; step t shows ``[onehot_S(s_t), z_t]`` with ``s_t`` uniform and
    ``z_t ~ N(0, I_d)``; the target is ``f^task_{s_t}(z_t)`` (N, T, 1).
    Task i perturbs exactly one sub-skill ``j_i``: ``v_j += perturbation *
    N(0, I)``; the others are unchanged. Splits: ``train`` (the
    meta-training stream, ``num_train_tasks`` tasks) and ``test``
    (``num_test_tasks`` held-out perturbations), each
    ``examples_per_task`` sequences per task, grouped by ``info["task"]``
    (N,); ``info["perturbed"]`` (N,) is j, ``info["skill"]`` (N, T) the cue.
    :meth:`targets_of` recomputes targets from the stored parameters.

    Examples:
        >>> task = SparseChange(num_train_tasks=3, num_test_tasks=2, examples_per_task=5)
        >>> split = task.split("train")
        >>> split.inputs.shape, split.targets.shape, split.info["task"].tolist()[:6]
        (torch.Size([15, 6, 8]), torch.Size([15, 6, 1]), [0, 0, 0, 0, 0, 1])
    """

    Config = SparseChangeConfig
    output_dim = 1

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.input_shape = (c.length, c.num_skills + c.input_dim)
        g = torch.Generator().manual_seed(int(c.seed) * 3 + 11)
        self.W = torch.randn(c.num_skills, c.hidden, c.input_dim, generator=g) / math.sqrt(c.input_dim)
        self.v = torch.randn(c.num_skills, c.hidden, generator=g) / math.sqrt(c.hidden)

    def task_skills(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(perturbed (n_tasks,), v (n_tasks, S, hidden))``: each task's changed skill and output weights."""
        c = self.config
        index = {"train": 0, "test": 1}[split]
        n = c.num_train_tasks if split == "train" else c.num_test_tasks
        g = torch.Generator().manual_seed(int(c.seed) * 3 + 20 + index)
        perturbed = torch.randint(0, c.num_skills, (n,), generator=g)
        v = self.v.expand(n, -1, -1).clone()
        delta = c.perturbation * torch.randn(n, c.hidden, generator=g) / math.sqrt(c.hidden)
        v[torch.arange(n), perturbed] += delta
        return perturbed, v

    def targets_of(self, skill: torch.Tensor, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``f_s(z)`` per step: skill (N, T), z (N, T, d), v (N, S, hidden) -> (N, T, 1)."""
        hidden = torch.tanh(torch.einsum("nthd,ntd->nth", self.W[skill], z))
        w = v.gather(1, skill.unsqueeze(-1).expand(-1, -1, v.shape[-1]))  # (N, T, hidden)
        return (hidden * w).sum(-1, keepdim=True)

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        out = {}
        for index, name in enumerate(("train", "test")):
            perturbed, v_task = self.task_skills(name)
            n_tasks = perturbed.shape[0]
            g = torch.Generator().manual_seed(int(c.seed) * 3 + 30 + index)
            task = torch.arange(n_tasks).repeat_interleave(c.examples_per_task)
            n = task.shape[0]
            skill = torch.randint(0, c.num_skills, (n, c.length), generator=g)
            z = torch.randn(n, c.length, c.input_dim, generator=g)
            y = self.targets_of(skill, z, v_task[task])
            x = torch.cat([F.one_hot(skill, c.num_skills).float(), z], dim=-1)
            out[name] = Split(x, y, {"task": task, "perturbed": perturbed[task], "skill": skill})
        return out


__all__ = ["SequentialImage", "SequentialImageConfig", "SparseChange", "SparseChangeConfig", "TwoSource",
           "TwoSourceConfig"]
