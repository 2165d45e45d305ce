"""Synthetic label noise for classification tasks (symmetric and asymmetric).

``inject_label_noise`` flips an exact number of labels, chosen with a seeded
``torch.Generator``, and returns the noisy labels with the mask of flipped
examples. It is shared by the tasks of this plugin and by plugins that study
learning with noisy labels (CrossSplit).

Symmetric noise
    Exactly ``round(rate * N)`` examples, drawn uniformly without replacement,
    each get a label drawn uniformly from the ``num_classes - 1`` *other*
    classes (so every selected label really changes).

Asymmetric noise
    A fixed class-dependent map ``c -> m(c)`` (:func:`asymmetric_map`):

    - ``num_classes == 10``: the MNIST map of Patrini et al. (CVPR 2017) used
      for digit data, ``2 -> 7, 3 -> 8, 5 -> 6, 6 -> 5, 7 -> 1``; the other
      classes (0, 1, 4, 8, 9) are never flipped.
    - any other ``num_classes >= 2``: the "next class" map
      ``c -> (c + 1) mod C`` (the CIFAR-100 style of Patrini et al., there
      applied within super-classes); for two classes this swaps 0 and 1.

    As in the asymmetric setting of CrossSplit (and Patrini et al.), the rate
    applies to the *eligible* examples (those whose class is in the map):
    exactly ``round(rate * N_eligible)`` of them, drawn uniformly without
    replacement from the pooled eligible examples, are set to ``m(c)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

NOISE_TYPES = ("symmetric", "asymmetric")

#: Patrini et al. (2017) asymmetric map for 10-class digit data (MNIST):
#: 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1.
MNIST_ASYMMETRIC_MAP = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}


def asymmetric_map(num_classes: int) -> dict[int, int]:
    """The class map used by asymmetric noise: source class -> noisy class (see module docstring)."""
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if num_classes == 10:
        return dict(MNIST_ASYMMETRIC_MAP)
    return {c: (c + 1) % num_classes for c in range(num_classes)}


def inject_label_noise(
    targets: Tensor,
    num_classes: int,
    rate: float,
    noise_type: str = "symmetric",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Flip labels: returns ``(noisy_targets, flipped_mask)``, both shaped like ``targets`` (N,).

    Args:
        targets: class indices, int64 (N,), in ``[0, num_classes)``.
        num_classes: number of classes C >= 2.
        rate: noise rate in [0, 1): the fraction of all examples (symmetric)
            or of the eligible examples (asymmetric) whose label is flipped;
            exactly ``round(rate * N)`` (resp. ``round(rate * N_eligible)``).
        noise_type: ``"symmetric"`` or ``"asymmetric"`` (see the module docstring).
        generator: a CPU ``torch.Generator`` for the choice of examples and of
            new labels (torch's global RNG when None).

    Every flipped label differs from the original, so ``flipped_mask ==
    (noisy_targets != targets)``.

    Examples:
        >>> import torch
        >>> y = torch.arange(10).repeat(10)
        >>> noisy, flipped = inject_label_noise(y, 10, 0.2, generator=torch.Generator().manual_seed(0))
        >>> int(flipped.sum()), bool((noisy != y).eq(flipped).all())
        (20, True)
    """
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.is_floating_point():
        shape = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
        raise ValueError(f"targets must be a 1-D integer tensor of class indices (N,), got {shape}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {noise_type!r}")
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise ValueError(
            f"targets must lie in [0, {num_classes}), got {int(targets.min())}..{int(targets.max())}; "
            "check num_classes"
        )
    device = targets.device
    y = targets.detach().to("cpu", torch.int64)
    noisy = y.clone()
    flipped = torch.zeros_like(y, dtype=torch.bool)
    if noise_type == "symmetric":
        count = int(round(float(rate) * y.numel()))
        chosen = torch.randperm(y.numel(), generator=generator)[:count]
        # an offset in 1..C-1 always lands on a different class, uniformly
        offset = torch.randint(1, num_classes, (count,), generator=generator)
        noisy[chosen] = (y[chosen] + offset) % num_classes
    else:
        mapping = asymmetric_map(num_classes)
        table = torch.arange(num_classes)
        eligible_class = torch.zeros(num_classes, dtype=torch.bool)
        for src, dst in mapping.items():
            table[src] = dst
            eligible_class[src] = True
        eligible = eligible_class[y].nonzero().flatten()
        count = int(round(float(rate) * eligible.numel()))
        chosen = eligible[torch.randperm(eligible.numel(), generator=generator)[:count]]
        noisy[chosen] = table[y[chosen]]
    flipped[chosen] = True
    return noisy.to(device), flipped.to(device)
