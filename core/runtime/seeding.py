"""One helper seeds python, numpy, torch and pyro."""

from __future__ import annotations

import random


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy, torch (CPU and CUDA) and Pyro's global RNGs."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    try:
        import pyro  # noqa: PLC0415

        pyro.set_rng_seed(seed)
    except ImportError:  # pragma: no cover
        pass


def make_generator(seed: int, device: str | None = None):
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    import torch  # noqa: PLC0415

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    generator = torch.Generator(device=device or "cpu")
    generator.manual_seed(seed)
    return generator
