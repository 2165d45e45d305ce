"""scikit-learn's bundled digits (8 x 8 images, 10 classes) as a seeded task; no download."""

from __future__ import annotations

import torch

from etude.config import configclass, field, in_range, non_negative
from etude.kinds import Split, Task


@configclass
class DigitsConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the train/val/test permutation")
    val_fraction: float = field(default=0.15, validator=in_range(0.0, 0.5, high_open=True),
                                doc="fraction held out to drive the accuracy-tolerance schedule")
    test_fraction: float = field(default=0.25, validator=in_range(0.0, 0.5, low_open=True, high_open=True),
                                 doc="fraction held out for the reported test accuracy")


class Digits(Task):
    """sklearn ``load_digits`` (1,797 examples, 64 pixels) split into train / val / test.

    Pixels are standardised with the training split's mean and standard
    deviation; the permutation comes from the config's seed.

    Examples:
        >>> task = Digits(seed=0)
        >>> task.split("train").inputs.shape[1], task.num_classes
        (64, 10)
    """

    Config = DigitsConfig
    split_names = ("train", "val", "test")
    num_classes = 10
    input_shape = (64,)

    def make_splits(self) -> dict[str, Split]:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        data = load_digits()
        X = torch.as_tensor(data.data, dtype=torch.float32)
        y = torch.as_tensor(data.target, dtype=torch.int64)
        n = X.shape[0]
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(self.config.seed))
        n_test = int(round(self.config.test_fraction * n))
        n_val = int(round(self.config.val_fraction * n))
        test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
        mean, std = X[train].mean(0), X[train].std(0).clamp_min(1e-3)
        splits = {"train": Split((X[train] - mean) / std, y[train]), "test": Split((X[test] - mean) / std, y[test])}
        if n_val:
            splits["val"] = Split((X[val] - mean) / std, y[val])
        return splits


__all__ = ["Digits", "DigitsConfig"]
