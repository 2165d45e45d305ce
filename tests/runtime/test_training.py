"""The guarded training loop, seeding and device resolution."""

from __future__ import annotations

import pytest
import torch

from etude.runtime import NonFiniteLossError, resolve_device, resolve_dtype, seed_everything, train


def test_train_logs_history():
    history = train(lambda i: {"loss": torch.tensor(1.0 / (i + 1)), "acc": i / 10}, 5)
    assert history["loss"] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    assert len(history["acc"]) == 5


def test_nan_stops_with_step_and_value():
    def step(i):
        return torch.tensor(float("nan")) if i == 3 else torch.tensor(1.0)

    with pytest.raises(NonFiniteLossError, match="loss is nan at step 3") as info:
        train(step, 10)
    assert info.value.step == 3


def test_inf_in_named_metric():
    with pytest.raises(NonFiniteLossError, match="grad_norm is inf at step 0"):
        train(lambda i: {"loss": 1.0, "grad_norm": float("inf")}, 2)


def test_seed_everything_is_reproducible():
    seed_everything(3)
    a = torch.rand(4)
    seed_everything(3)
    torch.testing.assert_close(torch.rand(4), a)
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(-1)


def test_device_and_dtype():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda"}
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    assert resolve_dtype("float64") is torch.float64
    with pytest.raises(ValueError, match="dtype must be one of"):
        resolve_dtype("float128")


def test_nan_on_an_unlogged_step_still_stops_training():
    """Issue 14, item 17: with log_every=10 a NaN at step 3 was missed."""
    calls = []

    def step(i):
        calls.append(i)
        return torch.tensor(float("nan")) if i == 3 else torch.tensor(1.0)

    with pytest.raises(NonFiniteLossError, match="step 3"):
        train(step, 20, log_every=10)
    assert calls == [0, 1, 2, 3]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_log_every_and_steps_are_validated(bad):
    with pytest.raises(ValueError, match="log_every"):
        train(lambda i: 1.0, 3, log_every=bad)
    if bad != 0 or isinstance(bad, bool):
        with pytest.raises(ValueError, match="steps"):
            train(lambda i: 1.0, bad)
