"""Synthetic tasks several papers share: Gaussian blobs and the 2-D disk (classification), sums of sines (regression)."""

from __future__ import annotations

import math

import numpy as np
import torch

from etude.config import FieldValueError, configclass, each, field, non_negative, one_of, positive
from etude.kinds import Split, Task

from .base import (
    ClassificationTask,
    label_noise_field,
    noise_type_field,
    seed_field,
    standardize_field,
    test_fraction_field,
    train_size_field,
    val_fraction_field,
)


def _at_least(low: int):
    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


@configclass
class GaussianBlobsConfig:
    seed: int = seed_field()
    num_classes: int = field(default=3, validator=_at_least(2), doc="number of blobs (classes)")
    num_features: int = field(default=2, validator=_at_least(1), doc="input dimension")
    num_samples: int = field(default=600, validator=_at_least(4), doc="examples in total, split evenly over classes")
    cluster_std: float = field(default=1.0, validator=positive, doc="standard deviation of each blob")
    center_box: float = field(default=5.0, validator=positive, doc="centres are uniform in [-center_box, center_box]^d")
    test_fraction: float = test_fraction_field(0.25)
    val_fraction: float = val_fraction_field()
    train_size: int | None = train_size_field()
    label_noise: float = label_noise_field()
    noise_type: str = noise_type_field()
    standardize: bool = standardize_field(False)


class GaussianBlobs(ClassificationTask):
    """Isotropic Gaussian blobs: ``num_classes`` centres uniform in a box, points ``N(centre, cluster_std^2 I)``.

    Centres and points are drawn from ``numpy.random.default_rng(seed)``;
    classes get ``num_samples // num_classes`` examples (the first
    ``num_samples % num_classes`` classes one more). The usual toy data of
    2-D experiments (decision boundaries, kernel alignment).

    Examples:
        >>> task = GaussianBlobs(num_classes=4, num_samples=400)
        >>> task.split("train").inputs.shape, task.num_classes
        (torch.Size([300, 2]), 4)
    """

    Config = GaussianBlobsConfig

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.num_classes = int(self.config.num_classes)
        self.input_shape = (int(self.config.num_features),)

    def load_pool(self):
        c = self.config
        rng = np.random.default_rng([int(c.seed), 0])
        centres = rng.uniform(-c.center_box, c.center_box, size=(c.num_classes, c.num_features))
        counts = [c.num_samples // c.num_classes + (k < c.num_samples % c.num_classes) for k in range(c.num_classes)]
        y = np.repeat(np.arange(c.num_classes), counts)
        x = centres[y] + c.cluster_std * rng.standard_normal((c.num_samples, c.num_features))
        return x.astype(np.float64), y.astype(np.int64)


def _floats(value) -> tuple[float, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),)
    return tuple(float(v) for v in value)


@configclass
class SineRegressionConfig:
    seed: int = seed_field()
    frequencies: tuple[float, ...] = field(default=(5.0, 10.0, 15.0, 20.0, 25.0), converter=_floats,
                                           validator=each(positive), doc="frequencies k of sin(2 pi k x + phase)")
    amplitudes: tuple[float, ...] = field(default=(1.0,), converter=_floats, validator=each(non_negative),
                                          doc="amplitude per frequency (one value: the same for all)")
    phases: str = field(default="random", validator=one_of("random", "zero"),
                        doc="'random': phases uniform in [0, 2 pi) from the seed; 'zero': all 0")
    num_train: int = field(default=200, validator=_at_least(1), doc="training points")
    num_test: int = field(default=1000, validator=_at_least(1), doc="test points")
    grid: bool = field(default=True, doc="train on the equispaced grid i / num_train (else uniform random points)")
    noise_std: float = field(default=0.0, validator=non_negative, doc="Gaussian noise added to the training targets")

    def __attrs_post_init__(self) -> None:
        if len(self.amplitudes) not in (1, len(self.frequencies)):
            raise FieldValueError("amplitudes", self.amplitudes,
                                  f"one value or {len(self.frequencies)} (one per frequency)")


class SineRegression(Task):
    """1-D regression of ``f(x) = sum_i A_i sin(2 pi k_i x + phi_i)`` on [0, 1).

    Training inputs are the grid ``x_j = j / num_train`` (or uniform random
    points), test inputs uniform random points on [0, 1); inputs and targets
    are (N, 1) float32. Defaults follow the spectral-bias experiment:
    N = 200, k = (5, 10, 15, 20, 25), A = 1, random phases. ``info`` holds
    ``frequencies``, ``amplitudes`` and ``phases`` so that a callback can
    measure the learned function's spectrum at each frequency.

    References:
        N. Rahaman, A. Baratin, D. Arpit, F. Draxler, M. Lin, F. Hamprecht, Y. Bengio,
        A. Courville, "On the Spectral Bias of Neural Networks", ICML 2019, arXiv:1806.08734.

    Examples:
        >>> task = SineRegression(frequencies=(1, 2), amplitudes=(1.0, 0.5), num_train=64)
        >>> task.split("train").inputs.shape, task.split("train").targets.shape
        (torch.Size([64, 1]), torch.Size([64, 1]))
    """

    Config = SineRegressionConfig
    input_shape = (1,)
    output_dim = 1

    def function(self, x: torch.Tensor) -> torch.Tensor:
        """The noiseless target function at ``x`` (any shape), in float64."""
        k = torch.tensor(self.config.frequencies, dtype=torch.float64)
        a = torch.tensor(self.amplitudes(), dtype=torch.float64)
        phi = torch.tensor(self.phases(), dtype=torch.float64)
        x = x.to(torch.float64).unsqueeze(-1)
        return (a * torch.sin(2 * math.pi * k * x + phi)).sum(-1)

    def amplitudes(self) -> tuple[float, ...]:
        a = self.config.amplitudes
        return a * len(self.config.frequencies) if len(a) == 1 else a

    def phases(self) -> tuple[float, ...]:
        if self.config.phases == "zero":
            return (0.0,) * len(self.config.frequencies)
        rng = np.random.default_rng([int(self.config.seed), 0])
        return tuple(float(p) for p in rng.uniform(0.0, 2 * math.pi, len(self.config.frequencies)))

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        rng = np.random.default_rng([int(c.seed), 1])
        x_train = np.arange(c.num_train) / c.num_train if c.grid else rng.uniform(0.0, 1.0, c.num_train)
        x_test = rng.uniform(0.0, 1.0, c.num_test)
        noise = c.noise_std * rng.standard_normal(c.num_train)
        info = {"frequencies": torch.tensor(c.frequencies), "amplitudes": torch.tensor(self.amplitudes()),
                "phases": torch.tensor(self.phases())}

        def split(x: np.ndarray, extra: np.ndarray | float) -> Split:
            xt = torch.from_numpy(np.asarray(x, dtype=np.float64))
            y = self.function(xt) + torch.as_tensor(extra, dtype=torch.float64)
            return Split(xt.float().unsqueeze(-1), y.float().unsqueeze(-1), dict(info))

        return {"train": split(x_train, noise), "test": split(x_test, 0.0)}


class SquareToy(ClassificationTask):
    """Base of the 2-D toys on ``[-1, 1]^2`` (:class:`Disk`, :class:`YinYang`): uniform points, two classes.

    Points are drawn from ``numpy.random.default_rng([seed, 0])``; a subclass
    gives ``labels_and_info(x) -> (labels (N,) int64, {name: (N,) array})``
    and every split carries those arrays per example in its ``info``
    (floats as float32), computed before any standardisation.
    """

    num_classes = 2
    input_shape = (2,)
    one_class_hint = "raise num_samples"

    def labels_and_info(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def points(self) -> np.ndarray:
        """The pool's points (num_samples, 2), uniform in ``[-1, 1]^2``."""
        rng = np.random.default_rng([int(self.config.seed), 0])
        return rng.uniform(-1.0, 1.0, size=(self.config.num_samples, 2))

    def load_pool(self):
        x = self.points()
        y, _ = self.labels_and_info(x)
        if y.min() == y.max():
            raise ValueError(f"{type(self).__name__}: all {len(y)} points fell in one class; {self.one_class_hint}")
        return x, y

    def make_splits(self) -> dict[str, Split]:
        _, info = self.labels_and_info(self.points())
        per_example = {k: torch.from_numpy(v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in info.items()}
        splits = super().make_splits()
        return {name: Split(s.inputs, s.targets, {**s.info, **{k: v[s.info["index"]] for k, v in per_example.items()}})
                for name, s in splits.items()}


@configclass
class DiskConfig:
    seed: int = seed_field()
    num_samples: int = field(default=200, validator=_at_least(4), doc="examples in total (train and test)")
    radius: float | None = field(default=None, doc="disk radius (None: sqrt(2 / pi), half of the square's area)")
    test_fraction: float = test_fraction_field(0.25)
    val_fraction: float = val_fraction_field()
    train_size: int | None = train_size_field()
    label_noise: float = label_noise_field()
    noise_type: str = noise_type_field()
    standardize: bool = standardize_field(False)

    def __attrs_post_init__(self) -> None:
        if self.radius is not None and not 0 < self.radius < math.sqrt(2):
            raise FieldValueError("radius", self.radius, "None or a number in (0, sqrt(2)) (the square is [-1, 1]^2)")


class Disk(SquareToy):
    """The 2-D disk toy: points uniform in ``[-1, 1]^2``, class 1 inside the disk ``||x|| < r``, else 0.

    The default radius ``r = sqrt(2 / pi)`` makes the classes equally likely.
    Every split's ``info["boundary_distance"]`` (float32) is each example's
    distance to the decision boundary, ``| ||x|| - r |`` (before any
    standardisation): the toy's difficulty measure (near the circle = hard).
    Points are drawn from ``numpy.random.default_rng([seed, 0])``.

    References:
        T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts
        learning schedule based on example difficulty", TMLR 2022, arXiv:2209.09658 (the 2-D toy).

    Examples:
        >>> task = Disk(num_samples=100)
        >>> train = task.split("train")
        >>> train.inputs.shape, task.num_classes, bool((train.info["boundary_distance"] >= 0).all())
        (torch.Size([75, 2]), 2, True)
    """

    Config = DiskConfig
    one_class_hint = "raise num_samples or change the radius"

    def radius(self) -> float:
        """The disk's radius ``r``."""
        r = self.config.radius
        return math.sqrt(2 / math.pi) if r is None else float(r)

    def labels_and_info(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        norm = np.linalg.norm(x, axis=1)
        return (norm < self.radius()).astype(np.int64), {"boundary_distance": np.abs(norm - self.radius())}

YIN_YANG_DOTS = {1: ((0.5, -0.5), (-0.5, 0.5)), 2: ((-0.5, -0.5), (-0.5, 0.5))}


@configclass
class YinYangConfig:
    seed: int = seed_field()
    num_samples: int = field(default=200, validator=_at_least(4), doc="examples in total (train and test)")
    variant: int = field(default=1, validator=one_of(1, 2),
                         doc="dot centres: 1 = (0.5, -0.5) and (-0.5, 0.5) (opposite halves); 2 = (-0.5, -0.5) and "
                             "(-0.5, 0.5) (one column)")
    dot_radius: float = field(default=0.3, doc="radius of the two dots (< 0.5, so that they do not cross y = 0)")
    test_fraction: float = test_fraction_field(0.25)
    val_fraction: float = val_fraction_field()
    train_size: int | None = train_size_field()
    label_noise: float = label_noise_field()
    noise_type: str = noise_type_field()
    standardize: bool = standardize_field(False)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.dot_radius, bool) or not isinstance(self.dot_radius, (int, float)) or \
                not 0 < self.dot_radius < 0.5:
            raise FieldValueError("dot_radius", self.dot_radius, "a number in (0, 0.5) (the dots stay off y = 0)")


class YinYang(SquareToy):
    """The lazy-vs-hasty yin-yang toy: two half-planes, each with a dot of the other class.

    Points are uniform in ``[-1, 1]^2`` (``numpy.random.default_rng([seed,
    0])``). The label is 1 in the lower half ``x_2 <= 0`` and 0 in the upper
    half, flipped inside either of two dots of radius ``dot_radius`` (0.3)
    centred at ``(0.5, -0.5)`` and ``(-0.5, 0.5)`` (``variant=1``: the dot of
    each half carries the other half's class, the yin-yang) or at
    ``(-0.5, -0.5)`` and ``(-0.5, 0.5)`` (``variant=2``). This is the
    two-class geometry of George et al.'s toy experiments (their
    ``yinyang1`` / ``yinyang2``), not the three-class yin / yang / dots
    dataset of Kriener et al. (2021). Every split's
    ``info["boundary_distance"]`` (float32) is the exact distance to the
    decision boundary, ``min(|x_2|, | ||x - c_1|| - r |, | ||x - c_2|| - r |)``
    (the dots do not reach ``x_2 = 0``), and ``info["in_dot"]`` (bool) marks
    the dots, a small minority region (about 2 x 0.28 / 4 = 14 % of the square).

    References:
        T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts
        learning schedule based on example difficulty", TMLR 2022, arXiv:2209.09658 (the 2-D toys; the
        geometry of the official code's yin-yang generator, exp_toy).
        L. Kriener, J. Goeltz, M. A. Petrovici, "The Yin-Yang dataset", arXiv:2102.08211, 2021 (the
        three-class dataset this toy is named after).

    Examples:
        >>> task = YinYang(num_samples=200)
        >>> train = task.split("train")
        >>> train.inputs.shape, task.num_classes, bool((train.info["boundary_distance"] >= 0).all())
        (torch.Size([150, 2]), 2, True)
    """

    Config = YinYangConfig
    one_class_hint = "raise num_samples"

    def dots(self) -> tuple[tuple[float, float], ...]:
        """The two dots' centres."""
        return YIN_YANG_DOTS[int(self.config.variant)]

    def geometry(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Labels (int64), dot membership (bool) and distance to the boundary (float64) of points (N, 2)."""
        r = float(self.config.dot_radius)
        centre_distance = np.stack([np.linalg.norm(x - np.asarray(c), axis=1) for c in self.dots()])
        in_dot = (centre_distance < r).any(0)
        y = ((x[:, 1] <= 0) ^ in_dot).astype(np.int64)
        distance = np.minimum(np.abs(x[:, 1]), np.abs(centre_distance - r).min(0))
        return y, in_dot, distance

    def labels_and_info(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        y, in_dot, distance = self.geometry(x)
        return y, {"boundary_distance": distance, "in_dot": in_dot}

__all__ = ["Disk", "DiskConfig", "GaussianBlobs", "GaussianBlobsConfig", "SineRegression", "SineRegressionConfig",
           "SquareToy", "YinYang", "YinYangConfig"]
