"""Read-outs: conformance, permutation invariance without the time encoding, attention weights, frozen encoder."""

from __future__ import annotations

import pytest
import torch

from etude.testing.conformance import ModelConformance
from etude_diffusion_time_mixing.readouts import TimeAttention, TimeMLP, TimeRNN, sinusoidal_encoding


def _x(dtype=torch.float32, device="cpu"):
    return (torch.randn(4, 6, 5, generator=torch.Generator().manual_seed(0)).to(device, dtype),)


class TestTimeMLP(ModelConformance):
    component = ("model", "time-mlp")

    def make_model(self):
        return self.create(input_shape=(6, 5), out_features=3, hidden=[8])

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _x(dtype, device)


class TestTimeRNN(ModelConformance):
    component = ("model", "time-rnn")

    def make_model(self):
        return self.create(input_shape=(6, 5), out_features=3, hidden=8)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _x(dtype, device)


class TestTimeAttention(ModelConformance):
    component = ("model", "time-attention")

    def make_model(self):
        return self.create(input_shape=(6, 5), out_features=3, width=16)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return _x(dtype, device)


def test_single_time_mlp_reads_only_its_time():
    torch.manual_seed(0)
    m = TimeMLP(input_shape=(6, 5), out_features=3, time_index=2, hidden=[8])
    x = torch.randn(4, 6, 5)
    y = x.clone()
    y[:, [0, 1, 3, 4, 5]] = torch.randn(4, 5, 5)
    torch.testing.assert_close(m(x), m(y))
    y[:, 2] += 1.0
    assert not torch.allclose(m(x), m(y))
    concat = TimeMLP(input_shape=(6, 5), out_features=3, hidden=[8])
    assert concat.mlp.config.in_features == 30


def test_attention_without_time_encoding_is_permutation_invariant_and_with_it_is_not():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 5)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    plain = TimeAttention(input_shape=(6, 5), out_features=4, width=16, time_encoding=False).eval()
    out, att = plain(x, need_weights=True)
    out_p, att_p = plain(x[:, perm], need_weights=True)
    torch.testing.assert_close(out_p, out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(att_p, att[:, perm], atol=1e-6, rtol=1e-5)
    torch.manual_seed(0)
    encoded = TimeAttention(input_shape=(6, 5), out_features=4, width=16).eval()
    assert not torch.allclose(encoded(x[:, perm]), encoded(x), atol=1e-4)


def test_attention_weights_match_a_reference_computation():
    torch.manual_seed(0)
    m = TimeAttention(input_shape=(4, 3), out_features=2, width=8, num_heads=2, iterations=1).eval()
    x = torch.randn(2, 4, 3)
    _, att = m(x, need_weights=True)
    h = m.project(x) + m.encoding
    h = torch.cat([h, m.cls.expand(2, 1, -1)], 1)
    a = m.attention
    q = a.q_proj(h).view(2, 5, 2, 4).transpose(1, 2)
    k = a.k_proj(h).view(2, 5, 2, 4).transpose(1, 2)
    w = torch.softmax(q @ k.transpose(-1, -2) / 2.0, -1).mean(1)[:, -1, :-1]
    torch.testing.assert_close(att, w / w.sum(-1, keepdim=True))
    assert torch.allclose(att.sum(-1), torch.ones(2))


def test_uses_the_core_multihead_attention():
    from etude.builtin.attention import MultiHeadAttention  # noqa: PLC0415

    assert isinstance(TimeAttention(input_shape=(6, 5), out_features=2, width=16).attention, MultiHeadAttention)


def test_sinusoidal_encoding_values():
    pe = sinusoidal_encoding(3, 4)
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(pe[1, 0], torch.sin(torch.tensor(1.0)))
    torch.testing.assert_close(pe[1, 2], torch.sin(torch.tensor(1.0 / 100.0)))


def test_bad_shapes_and_config():
    m = TimeRNN(input_shape=(6, 5), out_features=3, hidden=4)
    with pytest.raises(ValueError, match=r"\(B, 6, 5\)"):
        m(torch.randn(2, 5, 5))
    from etude.config import ConfigError  # noqa: PLC0415

    with pytest.raises((ConfigError, ValueError), match="time_index"):
        TimeMLP(input_shape=(6, 5), out_features=3, time_index=6)
    with pytest.raises((ConfigError, ValueError), match="num_heads"):
        TimeAttention(input_shape=(6, 5), out_features=3, width=10, num_heads=4)


def test_encoder_is_frozen_while_readouts_train():
    from etude.data import SupervisedTraining  # noqa: PLC0415
    from etude_diffusion_time_mixing.drl import DRL  # noqa: PLC0415
    from etude_diffusion_time_mixing.tasks import TwoAttributeDigits  # noqa: PLC0415
    from etude_diffusion_time_mixing.trajectory import trajectory_task  # noqa: PLC0415

    torch.manual_seed(0)
    drl = DRL(in_features=64, latent_dim=4, width=16)
    before = {k: v.clone() for k, v in drl.state_dict().items()}
    task = trajectory_task(drl, TwoAttributeDigits(seed=0, train_size=100), 3)
    assert not task.split("train").inputs.requires_grad and task.split("train").inputs.grad_fn is None
    result = SupervisedTraining(model="time-attention", model_options={"width": 16}, optimizer="adam", lr=1e-3,
                                epochs=2, batch_size=32).run(task, seed=0)
    assert result.metrics["test_accuracy"] >= 0
    for k, v in drl.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert all(p.grad is None for p in drl.parameters())
