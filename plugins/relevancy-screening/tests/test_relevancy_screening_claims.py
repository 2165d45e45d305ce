"""Every claim at smoke scale, the saved-bytes measurement, and training through the core's loop."""

from __future__ import annotations

import pytest
import torch

from etude.claims import run_claim
from etude_relevancy_screening.training import saved_tensor_bytes, train_copy


@pytest.mark.parametrize("claim_id", [
    "relevancy-screening/bounded-attention-cost",
    "relevancy-screening/gradient-propagation",
    "relevancy-screening/copy-tradeoff",
    "relevancy-screening/transfer-copy",
])
def test_claim_smoke(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None, result.error
    assert result.holds is None  # one seed at smoke size cannot decide
    assert result.metrics and "criterion" in result.notes


def test_saved_bytes_counts_each_storage_once():
    w = torch.randn(64, 64, requires_grad=True)
    x = torch.randn(8, 64)
    n, y = saved_tensor_bytes(lambda: (x @ w).tanh().sum() + (x @ w).sum())
    # each mm saves x (8x64) for w's gradient (the same storage twice, counted once); tanh saves its output
    assert n == 4 * (8 * 64 + 8 * 64)
    y.backward()


def test_relevancy_memory_cost_is_linear_and_full_is_quadratic():
    import etude

    sizes = {}
    for memory in ("relevancy", "full"):
        for T in (20, 80):
            torch.manual_seed(0)
            net = etude.create("model", "self-attentive-rnn", input_size=4, num_classes=3, hidden_size=8,
                               memory=memory, buffer_size=3, relevant_size=2)
            sizes[memory, T], _ = saved_tensor_bytes(lambda: net(torch.randn(2, T, 4)).sum())
    assert sizes["relevancy", 80] / sizes["relevancy", 20] < 4.5
    assert sizes["full", 80] / sizes["full", 20] > 8.0


def test_train_copy_through_the_supervised_loop():
    r = train_copy(seed=0, length=2, delay=3, updates=3, batch=4, transfer_delays=(6,),
                   model_options={"hidden_size": 8, "buffer_size": 2, "relevant_size": 1})
    assert r["updates"] == 3 and 0.0 <= r["recall_accuracy"] <= 1.0 and r["seconds_per_update"] > 0
    assert set(r["transfer_recall_accuracy"]) == {"6"}
    with pytest.raises(ValueError, match="task must be"):
        train_copy(seed=0, task="adding")
