"""Conformance suite for AttentionMechanism."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import AttentionMechanism

from ._base import ConformanceSuite, assert_finite, devices


class AttentionConformance(ConformanceSuite):
    """Define ``make_attention()`` returning a module with ``embed_dim``; set ``embed_dim``."""

    embed_dim = 16
    batch, tq, tk = 2, 5, 7

    def make_attention(self) -> AttentionMechanism:
        return self.create(embed_dim=self.embed_dim)

    def _attn(self, dtype=torch.float32, device="cpu"):
        torch.manual_seed(0)
        return self.make_attention().to(device=device, dtype=dtype).eval()

    def _x(self, t, dtype=torch.float32, device="cpu", seed=0):
        g = torch.Generator().manual_seed(seed)
        return torch.randn(self.batch, t, self.embed_dim, generator=g, dtype=dtype).to(device)

    def test_is_attention(self):
        assert isinstance(self.make_attention(), AttentionMechanism)

    @pytest.mark.parametrize("device", devices())
    def test_self_and_cross_shapes(self, device):
        attn = self._attn(device=device)
        q, kv = self._x(self.tq, device=device), self._x(self.tk, device=device, seed=1)
        out, w = attn(q)
        assert out.shape == q.shape and w is None and out.device.type == device
        out, _ = attn(q, kv, kv)
        assert out.shape == q.shape
        assert_finite(out, "attention output")

    def test_float64(self):
        attn = self._attn(torch.float64)
        assert attn(self._x(self.tq, torch.float64))[0].dtype == torch.float64

    def test_key_permutation_invariance(self):
        attn = self._attn(torch.float64)
        q, kv = self._x(self.tq, torch.float64), self._x(self.tk, torch.float64, seed=1)
        perm = torch.randperm(self.tk, generator=torch.Generator().manual_seed(2))
        torch.testing.assert_close(attn(q, kv)[0], attn(q, kv[:, perm])[0])

    def test_masked_keys_have_no_effect(self):
        attn = self._attn(torch.float64)
        q, kv = self._x(self.tq, torch.float64), self._x(self.tk, torch.float64, seed=1)
        mask = torch.ones(self.batch, self.tq, self.tk, dtype=torch.bool)
        mask[..., -2:] = False
        changed = kv.clone()
        changed[:, -2:] = 100.0
        torch.testing.assert_close(attn(q, kv, mask=mask)[0], attn(q, changed, mask=mask)[0])

    def test_fully_masked_row_is_finite(self):
        attn = self._attn()
        q = self._x(self.tq)
        mask = torch.ones(self.batch, self.tq, self.tq, dtype=torch.bool)
        mask[:, 0] = False
        out, _ = attn(q, mask=mask)
        assert_finite(out, "output with a fully masked query")

    def test_fully_masked_row_outputs_zeros(self):
        """The kind's contract: a query that may attend to nothing outputs exactly 0 (not a bias)."""
        attn = self._attn(torch.float64)
        for p in attn.parameters():  # make every bias visibly non-zero
            torch.nn.init.constant_(p, 0.1) if p.dim() == 1 else None
        q, kv = self._x(self.tq, torch.float64), self._x(self.tk, torch.float64, seed=1)
        mask = torch.ones(self.batch, self.tq, self.tk, dtype=torch.bool)
        mask[:, 0] = False
        out, weights = attn(q, kv, mask=mask, need_weights=True)
        assert torch.equal(out[:, 0], torch.zeros_like(out[:, 0])), "a fully masked query must output zeros"
        assert out[:, 1:].abs().sum() > 0

    def test_need_weights(self):
        _, w = self._attn()(self._x(self.tq), need_weights=True)
        assert w is not None

    def test_key_weights_are_probabilities_over_keys(self):
        """``etude.kinds.key_weights`` reads (B, Tq, Tk) head-averaged probabilities from the returned weights."""
        from etude.kinds import key_weights  # noqa: PLC0415

        q, kv = self._x(self.tq, torch.float64), self._x(self.tk, torch.float64, seed=1)
        probs = key_weights(self._attn(torch.float64)(q, kv, need_weights=True)[1])
        assert probs.shape == (self.batch, self.tq, self.tk)
        assert (probs >= 0).all()
        torch.testing.assert_close(probs.sum(-1), torch.ones(self.batch, self.tq, dtype=probs.dtype))

    def test_gradients_reach_parameters(self):
        attn = self._attn(torch.float64).train()
        out, _ = attn(self._x(self.tq, torch.float64).requires_grad_(True))
        out.square().sum().backward()
        missing = [n for n, p in attn.named_parameters() if p.requires_grad and p.grad is None]
        assert not missing, f"no gradient reached {missing}"

    def test_bad_input_errors(self):
        attn = self._attn()
        with pytest.raises(ValueError, match="batch-first"):
            attn(torch.randn(self.tq, self.embed_dim))
        with pytest.raises(ValueError, match="embed_dim"):
            attn(torch.randn(self.batch, self.tq, self.embed_dim + 1))
