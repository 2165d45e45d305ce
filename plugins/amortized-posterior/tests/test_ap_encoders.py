"""Set encoders: permutation invariance (DeepSets, Transformer; not the GRU), masks, conformance."""

import pytest
import torch

from etude.testing.conformance import ModelConformance
from etude_amortized_posterior.encoders import DeepSetsEncoder, GRUEncoder, TransformerEncoder


def _encoders():
    torch.manual_seed(0)
    return {
        "deepsets-mean": DeepSetsEncoder(in_features=3, hidden=16, out_features=8),
        "deepsets-sum": DeepSetsEncoder(in_features=3, hidden=16, out_features=8, pooling="sum"),
        "deepsets-max": DeepSetsEncoder(in_features=3, hidden=16, out_features=8, pooling="max", log_n=False),
        "transformer": TransformerEncoder(in_features=3, hidden=16, num_heads=2, layers=2, out_features=8),
        "gru": GRUEncoder(in_features=3, hidden=16, out_features=8),
    }


def _batch(d=4, n=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(d, n, 3, generator=g)
    lengths = torch.tensor([10, 7, 4, 9])[:d]
    mask = torch.arange(n)[None] < lengths[:, None]
    return x, mask


@pytest.mark.parametrize("name", ["deepsets-mean", "deepsets-sum", "deepsets-max", "transformer"])
def test_permuting_valid_elements_leaves_the_summary_unchanged(name):
    enc = _encoders()[name].eval()
    x, mask = _batch()
    out = enc(x, mask)
    perm_x = x.clone()
    for i in range(x.shape[0]):
        n = int(mask[i].sum())
        perm_x[i, :n] = x[i, torch.randperm(n)]
    torch.testing.assert_close(enc(perm_x, mask), out, atol=1e-5, rtol=1e-5)


def test_gru_is_not_permutation_invariant():
    enc = _encoders()["gru"].eval()
    x, mask = _batch()
    perm_x = x.clone()
    perm_x[0] = x[0].flip(0)  # dataset 0 has all 10 elements valid
    assert float((enc(perm_x, mask)[0] - enc(x, mask)[0]).abs().max()) > 1e-3


@pytest.mark.parametrize("name", list(_encoders()))
def test_masked_junk_elements_leave_the_summary_unchanged(name):
    enc = _encoders()[name].eval()
    x, mask = _batch()
    out = enc(x, mask)
    junk = torch.cat([x, 100 * torch.randn(4, 5, 3)], dim=1)
    junk_mask = torch.cat([mask, torch.zeros(4, 5, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(enc(junk, junk_mask), out, atol=1e-5, rtol=1e-5)
    garbage = x.clone()
    garbage[~mask] = 1e3  # junk inside the padded positions
    torch.testing.assert_close(enc(garbage, mask), out, atol=1e-5, rtol=1e-5)


def test_deepsets_log_n_distinguishes_set_sizes_with_mean_pooling():
    torch.manual_seed(0)
    x = torch.ones(2, 8, 3)
    mask = torch.tensor([[True] * 8, [True] * 2 + [False] * 6])
    with_n = DeepSetsEncoder(in_features=3, hidden=8, out_features=4)
    without = DeepSetsEncoder(in_features=3, hidden=8, out_features=4, log_n=False)
    assert not torch.allclose(with_n(x, mask)[0], with_n(x, mask)[1])
    torch.testing.assert_close(without(x, mask)[0], without(x, mask)[1])  # the reference cannot tell n


def test_transformer_uses_the_core_attention_by_name():
    enc = TransformerEncoder(in_features=3, hidden=16, num_heads=2, layers=1, out_features=8)
    from etude.builtin.attention import MultiHeadAttention

    assert isinstance(enc.blocks[0].attn, MultiHeadAttention)
    with pytest.raises(Exception, match="attention"):
        TransformerEncoder(in_features=3, hidden=16, num_heads=2, layers=1, attention="no-such-attention")


def test_bad_input_shapes_are_named():
    enc = DeepSetsEncoder(in_features=3, hidden=8, out_features=4)
    with pytest.raises(ValueError, match="in_features=3"):
        enc(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="mask must have shape"):
        enc(torch.randn(2, 5, 3), torch.ones(2, 4, dtype=torch.bool))


class _EncoderSuite(ModelConformance):
    options: dict = {}

    def make_model(self):
        return self.create(in_features=3, **self.options)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        x, mask = _batch()
        return x.to(dtype=dtype, device=device), mask.to(device)


class TestDeepSetsConformance(_EncoderSuite):
    component = ("model", "deepsets-encoder")
    options = {"hidden": 8, "out_features": 4}


class TestTransformerConformance(_EncoderSuite):
    component = ("model", "transformer-encoder")
    options = {"hidden": 8, "num_heads": 2, "layers": 1, "out_features": 4}


class TestGRUConformance(_EncoderSuite):
    component = ("model", "gru-encoder")
    options = {"hidden": 8, "out_features": 4}
