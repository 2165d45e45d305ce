"""etude.kinds.key_weights: head-averaged (B, Tq, Tk) probabilities from any mechanism's weights."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.kinds import key_weights


def test_multihead_weights_are_averaged_over_heads():
    attn = etude.create("attention", "multihead", embed_dim=8, num_heads=2).eval()
    q, kv = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    _, w = attn(q, kv, need_weights=True)
    assert w.shape == (3, 2, 4, 6)
    probs = key_weights(w)
    torch.testing.assert_close(probs, w.mean(1))
    torch.testing.assert_close(probs.sum(-1), torch.ones(3, 4))


def test_containers_and_errors():
    w = torch.softmax(torch.randn(2, 3, 5), -1)
    assert key_weights(w) is w
    assert key_weights({"search": w.unsqueeze(1), "retrieval": torch.rand(2, 3)}).shape == (2, 3, 5)
    assert torch.equal(key_weights([torch.zeros(2, 3, 5), w]), w)  # per-layer list: the last layer
    assert torch.equal(key_weights({"only": w}), w)
    with pytest.raises(ValueError, match="need_weights"):
        key_weights(None)
    with pytest.raises(ValueError, match="cannot tell"):
        key_weights({"a": w, "b": w})
    with pytest.raises(ValueError, match=r"\(B, Tq, Tk\)"):
        key_weights(torch.rand(2, 3))
