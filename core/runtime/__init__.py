"""Runtime utilities: seeding, devices, atomic checkpoints, a guarded training loop."""

from .atomic import atomic_open, atomic_write, atomic_write_text
from .seeding import make_generator, seed_everything


def __getattr__(name: str):
    import importlib  # noqa: PLC0415

    homes = {
        "resolve_device": "device",
        "resolve_dtype": "device",
        "save_checkpoint": "checkpoint",
        "load_checkpoint": "checkpoint",
        "CheckpointError": "checkpoint",
        "rng_state": "checkpoint",
        "set_rng_state": "checkpoint",
        "train": "training",
        "check_finite": "training",
        "NonFiniteLossError": "training",
    }
    if name in homes:
        return getattr(importlib.import_module(f"etude.runtime.{homes[name]}"), name)
    raise AttributeError(name)


__all__ = [
    "CheckpointError",
    "NonFiniteLossError",
    "atomic_open",
    "atomic_write",
    "atomic_write_text",
    "check_finite",
    "load_checkpoint",
    "make_generator",
    "resolve_device",
    "resolve_dtype",
    "rng_state",
    "save_checkpoint",
    "seed_everything",
    "set_rng_state",
    "train",
]
