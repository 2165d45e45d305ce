"""The pytest plugin: fixtures, markers, and one torch thread for small models."""

from __future__ import annotations

import os

import pytest

from .registry import temporary_registry


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes minutes")
    config.addinivalue_line("markers", "gpu: needs CUDA (skipped without it)")
    config.addinivalue_line("markers", "reproduction: runs claims at quick scale")
    threads = os.environ.get("ETUDE_TEST_THREADS", "1")
    if threads != "default":
        try:
            import torch  # noqa: PLC0415
        except ImportError:  # pragma: no cover
            return
        torch.set_num_threads(int(threads))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch  # noqa: PLC0415

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture
def etude_registry():
    """A registry with discovery blocked; add throwaway plugins with ``.add_plugin(obj, name)``."""
    with temporary_registry() as temp:
        yield temp


@pytest.fixture
def etude_builtin_registry():
    """Like ``etude_registry`` but with the built-in plugin loaded."""
    with temporary_registry(builtin=True) as temp:
        yield temp


@pytest.fixture(autouse=True)
def _etude_seeded_test():
    """Every test starts from the same RNG state (python, numpy, torch, pyro): no flaky randomness."""
    from etude.runtime.seeding import seed_everything  # noqa: PLC0415

    seed_everything(0)
    yield
