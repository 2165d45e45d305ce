"""CoRelNet: the relation matrix, its invariances, the relational bottleneck, context norm, and the baselines."""

import pytest
import torch

import etude
from etude.config import ConfigError
from etude.testing.conformance import ModelConformance
from etude_corelnet import ContextNorm, CoRelNet, context_normalise

SMALL = {"input_shape": (6, 8), "num_classes": 2, "z_dim": 12, "encoder_options": {"hidden": (12,)}}


def _inputs(dtype=torch.float32, device="cpu", shape=(3, 6, 8)):
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(device=device, dtype=dtype),)


class TestCoRelNet(ModelConformance):
    component = ("model", "corelnet")

    def make_model(self):
        return self.create(**SMALL)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


class TestCoRelNetAttentionCat(ModelConformance):
    component = ("model", "corelnet")

    def make_model(self):
        return self.create(**SMALL, similarity="attention", preset="repository", concat_sensory=True)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


class TestCoRelNetGlyphs(ModelConformance):
    component = ("model", "corelnet")

    def make_model(self):
        return self.create(input_shape=(2, 32, 32), num_classes=2, z_dim=8, encoder="cnn",
                           encoder_options={"channels": (4, 4), "strides": (2, 2)})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device, (2, 2, 32, 32))


class TestRelationalMLP(ModelConformance):
    component = ("model", "relational-mlp")

    def make_model(self):
        return self.create(**SMALL)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


class TestRelationalTransformer(ModelConformance):
    component = ("model", "relational-transformer")

    def make_model(self):
        return self.create(**SMALL, layers=2, attention_options={"num_heads": 4})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


class TestRelationalLSTM(ModelConformance):
    component = ("model", "relational-lstm")

    def make_model(self):
        return self.create(**SMALL, hidden=16)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


def test_lstm_reads_the_encodings_in_slot_order_and_classifies_its_last_output():
    """y = W h_N of an LSTM over the context-normalised encodings, recomputed step by step with LSTMCell weights."""
    torch.manual_seed(0)
    net = etude.create("model", "relational-lstm", **SMALL, hidden=8)
    (x,) = _inputs(torch.float32, "cpu")
    z = net.norm(net.encoder(x))
    cell = torch.nn.LSTMCell(z.shape[-1], 8)
    with torch.no_grad():
        for a, b in (("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0"), ("bias_ih", "bias_ih_l0"),
                     ("bias_hh", "bias_hh_l0")):
            getattr(cell, a).copy_(getattr(net.lstm, b))
    h = c = torch.zeros(z.shape[0], 8)
    for t in range(z.shape[1]):
        h, c = cell(z[:, t], (h, c))
    torch.testing.assert_close(net(x), net.y_out(h))
    assert all(float(b.abs().max()) == 0.0 for n, b in net.lstm.named_parameters() if "bias" in n)  # reference init


class TestESBN(ModelConformance):
    component = ("model", "esbn")

    def make_model(self):
        return self.create(**SMALL, hidden=16, key_dim=8)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _inputs(dtype, device)


def test_esbn_controller_never_sees_the_encodings():
    """The output depends on the encodings only through their dot products (orthogonal invariance of z)."""
    from etude_corelnet import ESBN

    net = ESBN(**SMALL, hidden=16, key_dim=8, context_norm="none").double()
    x = _inputs(torch.float64)[0]
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=torch.Generator().manual_seed(5), dtype=torch.float64))
    out = net(x)
    encoder = net.encoder.net
    net.encoder.net = torch.nn.Sequential(encoder, torch.nn.Linear(12, 12, bias=False).double())
    with torch.no_grad():
        net.encoder.net[1].weight.copy_(q.T)
    torch.testing.assert_close(net(x), out)


def _z(b=4, n=6, d=12, seed=0):
    return torch.randn(b, n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_glyph_objects_get_a_2d_conv_encoder():
    net = CoRelNet(input_shape=(2, 32, 32), num_classes=2, z_dim=8, encoder="cnn",
                   encoder_options={"channels": (4,), "strides": (2,)})
    assert isinstance(net.encoder.net.conv_blocks[0][0], torch.nn.Conv2d)


@pytest.mark.parametrize("mask", ["none", "lower"])
def test_relation_rows_sum_to_one_and_shape(mask):
    net = CoRelNet(**SMALL, mask=mask).double()
    r = net.relation(_z())
    assert r.shape == (4, 6, 6)
    torch.testing.assert_close(r.sum(-1), torch.ones(4, 6, dtype=torch.float64))
    if mask == "lower":
        assert float(r.detach().triu(diagonal=1).abs().max()) == 0.0
    else:
        rows, cols = torch.triu_indices(6, 6, offset=1)
        assert float(r[:, rows, cols].min()) > 0.0


def test_relation_is_the_row_softmax_of_dot_products_by_hand():
    z = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]])
    net = CoRelNet(input_shape=(3, 2), num_classes=2, z_dim=2, context_norm="none")
    s = torch.tensor([[1.0, 0.0, 1.0], [0.0, 4.0, 2.0], [1.0, 2.0, 2.0]])
    expect = s.exp() / s.exp().sum(1, keepdim=True)
    torch.testing.assert_close(net.relation(z)[0], expect)


@pytest.mark.parametrize(("kw", "n_in"), [({}, 36), ({"reduced": True}, 21), ({"preset": "repository"}, 21),
                                          ({"concat_sensory": True}, 36 + 6 * 12),
                                          ({"preset": "repository", "concat_sensory": True}, 21 + 72)])
def test_decoder_input_size_on_the_module_graph(kw, n_in):
    net = CoRelNet(**SMALL, **kw)
    first = net.decoder.blocks[0][1]
    assert isinstance(first, torch.nn.Linear) and first.in_features == n_in == net.decoder_in_features
    assert first.out_features == 256 and net.decoder.head.out_features == 2


def test_repository_preset_matches_masked_softmax_and_tril_reference():
    net = CoRelNet(**SMALL, preset="repository", context_norm="none").double()
    z = _z()
    scores = z @ z.transpose(1, 2)
    n = z.shape[1]
    for i in range(n):
        for j in range(i + 1, n):
            scores[:, i, j] = float("-inf")
    soft = torch.softmax(scores, dim=2)
    reference = torch.cat([soft[:, i, : i + 1] for i in range(n)], dim=1)
    ours = net.relation_features(net.relation(z))
    assert ours.shape == (4, n * (n + 1) // 2)
    torch.testing.assert_close(ours, reference)


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
def test_orthogonal_map_of_every_z_leaves_r_and_output_unchanged(similarity):
    net = CoRelNet(**SMALL, similarity=similarity, context_norm="none").double()
    z = _z()
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    r, rq = net.relation(z), net.relation(z @ q)
    torch.testing.assert_close(rq, r)
    torch.testing.assert_close(net.decode_relation(rq, z @ q), net.decode_relation(r, z))
    # a non-orthogonal map changes R: the test can fail
    skew = q + 0.5 * torch.randn(12, 12, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert not torch.allclose(net.relation(z @ skew), r)


def test_permuting_objects_maps_r_to_p_r_pt():
    net = CoRelNet(**SMALL).double()
    z = _z()
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    p = torch.eye(6, dtype=torch.float64)[perm]
    r = net.relation(z)
    torch.testing.assert_close(net.relation(z[:, perm]), p @ r @ p.T)
    # and with context norm inside the encoder path: permuting the objects permutes Z
    x = _inputs(torch.float64)[0]
    torch.testing.assert_close(net.encode(x[:, perm]), net.encode(x)[:, perm])


def test_attention_similarity_is_softmax_of_projected_queries_and_keys():
    net = CoRelNet(**SMALL, similarity="attention", context_norm="none").double()
    z = _z()
    att = net.attention
    q = z @ att.q_proj.weight.T + att.q_proj.bias
    k = z @ att.k_proj.weight.T + att.k_proj.bias
    expect = torch.softmax(q @ k.transpose(1, 2) / 12 ** 0.5, dim=-1)
    torch.testing.assert_close(net.relation(z), expect)
    lower = CoRelNet(**SMALL, similarity="attention", mask="lower", context_norm="none").double()
    lower.load_state_dict(net.state_dict())
    r = lower.relation(z)
    torch.testing.assert_close(r.sum(-1), torch.ones(4, 6, dtype=torch.float64))
    assert float(r.detach().triu(diagonal=1).abs().max()) == 0.0


def test_decoder_sees_only_r():
    net = CoRelNet(**SMALL).double()
    z, other = _z(seed=0), _z(seed=1)
    r = net.relation(z)
    torch.testing.assert_close(net.decode_relation(r, other), net.decode_relation(r, z))
    assert not torch.allclose(net.decode_relation(net.relation(other), other), net.decode_relation(r, z))
    cat = CoRelNet(**SMALL, concat_sensory=True).double()
    assert not torch.allclose(cat.decode_relation(r, other), cat.decode_relation(r, z))


def test_context_norm_statistics():
    z = _z(b=5, n=7, d=3)
    out = context_normalise(z)
    torch.testing.assert_close(out.mean(1), torch.zeros(5, 3, dtype=torch.float64))
    torch.testing.assert_close(out.var(1, unbiased=True), torch.ones(5, 3, dtype=torch.float64), atol=1e-6, rtol=0)
    norm = ContextNorm(3).double()
    with torch.no_grad():
        norm.gamma.fill_(2.0)
        norm.beta.fill_(0.5)
    torch.testing.assert_close(norm(z), 2 * out + 0.5)


def test_context_norm_identical_objects_give_zeros_and_finite_gradients():
    z = torch.ones(2, 2, 4, requires_grad=True)
    norm = ContextNorm(4)
    out = norm(z)
    assert torch.equal(out, torch.zeros(2, 2, 4))
    out.square().sum().backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(norm.gamma.grad).all()
    net = CoRelNet(input_shape=(2, 4), num_classes=2, z_dim=4)
    x = torch.ones(3, 2, 4)
    y = net(x)
    y.sum().backward()
    assert torch.isfinite(y).all()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


def test_segmented_context_norm_normalises_each_segment():
    z = _z(n=6, d=3)
    norm = ContextNorm(3, segments=((0, 1), (2, 3), (4, 5))).double()
    expect = torch.cat([context_normalise(z[:, [0, 1]]), context_normalise(z[:, [2, 3]]),
                        context_normalise(z[:, [4, 5]])], dim=1)
    torch.testing.assert_close(norm(z), expect)
    with pytest.raises(ValueError, match="segments"):
        ContextNorm(3, segments=((0, 2), (1, 3)))(_z(n=4, d=3))


def test_config_and_input_errors():
    with pytest.raises(ConfigError, match="segments"):
        etude.create("model", "corelnet", **SMALL, context_norm="segmented")
    with pytest.raises(ConfigError, match="input_shape"):
        etude.create("model", "corelnet", input_shape=(1, 8), num_classes=2)
    with pytest.raises(ConfigError, match="similarity"):
        etude.create("model", "corelnet", **SMALL, similarity="l2")
    with pytest.raises(ConfigError, match="mask"):
        etude.create("model", "corelnet", **SMALL, mask="upper")
    with pytest.raises(ValueError, match=r"\(B, 6, 8\)"):
        CoRelNet(**SMALL)(torch.randn(3, 5, 8))
    with pytest.raises(ValueError, match="at least 2 objects"):
        context_normalise(torch.randn(2, 1, 3))


@pytest.mark.gpu
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    net = CoRelNet(input_shape=(6, 32, 32), num_classes=2, z_dim=16, encoder="cnn",
                   encoder_options={"channels": (8, 8), "strides": (2, 2)})
    x = torch.rand(16, 6, 32, 32)
    ref = net(x)
    out = net.cuda()(x.cuda())
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-3, atol=1e-3)
    out.sum().backward()
