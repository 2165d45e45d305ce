"""Every claim at smoke scale, plus the count identities the parameter claim rests on."""

from __future__ import annotations

import pytest

from etude.builtin.attention import MultiHeadAttention
from etude.claims import run_claim
from etude_compositional_attention import CompositionalAttention, attention_parameter_count
from etude_compositional_attention.claims import multihead_parameter_count
from etude_compositional_attention.experiment import train_on_task


@pytest.mark.parametrize(
    "claim_id",
    [
        "compositional-attention/retrieval-mechanism",
        "compositional-attention/ood-retrieval",
        "compositional-attention/parameter-efficiency",
    ],
)
def test_claim_smoke(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None
    assert result.holds is None  # one seed and a few steps cannot decide
    assert result.metrics and "criterion" in result.notes


def test_multihead_count_matches_builtin():
    for E, H in ((16, 4), (32, 2), (24, 3)):
        mha = MultiHeadAttention(embed_dim=E, num_heads=H)
        assert sum(p.numel() for p in mha.parameters()) == multihead_parameter_count(E, H, E // H, E // H)


def test_compositional_has_fewer_parameters_than_SR_heads():
    for S, R in ((2, 2), (2, 4), (4, 4)):
        comp = attention_parameter_count(64, S, R)
        assert comp == sum(p.numel() for p in CompositionalAttention(embed_dim=64, searches=S, retrievals=R).parameters())
        assert comp < multihead_parameter_count(64, S * R, 64 // S, 64 // R)


def test_mechanism_reproduces_at_small_scale():
    """Fixed seed, 800 steps: compositional attention's L1 is well below 4-head multi-head attention's."""
    common = dict(task={}, seed=0, steps=800, batch=128, lr=3e-3, eval_size=2000)
    comp = train_on_task(model={"width": 32, "attention_options": {"searches": 2, "retrievals": 2}, "readout": "linear"}, **common)
    mha = train_on_task(model={"width": 32, "attention": "multihead", "attention_options": {"num_heads": 4}, "readout": "linear"}, **common)
    assert comp["l1_any"] < 0.8 * mha["l1_any"], (comp["l1_any"], mha["l1_any"])
