"""Mixup and MixupE: closed forms, the MixupE term, its sign, renormalisation."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import etude
from etude.kinds import soft_cross_entropy
from etude.testing.conformance import AugmenterConformance
from etude_mixupe.mixup import Mixup, MixupE, expected_one_minus_lambda, sample_lambda
from etude.data import MLP


class TestMixupConformance(AugmenterConformance):
    component = ("augmenter", "mixup")


class TestMixupEConformance(AugmenterConformance):
    component = ("augmenter", "mixupe")

    def make_augmenter(self):
        return self.create(alpha=1.0, eta=0.1)


def _batch(b=7, d=5, c=3, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, d, generator=g, dtype=dtype), torch.randint(0, c, (b,), generator=g)


class FixedMixup(Mixup):
    """Mixup with a given lambda and permutation (for closed-form checks)."""

    def __init__(self, lam, perm, **kw):
        super().__init__(**kw)
        self._fixed = (torch.as_tensor(lam, dtype=torch.float64), perm)

    def draw(self, batch, generator=None):
        return self._fixed


class FixedMixupE(MixupE):
    def __init__(self, lam, perm, **kw):
        super().__init__(**kw)
        self._fixed = (torch.as_tensor(lam, dtype=torch.float64), perm)

    def draw(self, batch, generator=None):
        return self._fixed


# -- mixup -------------------------------------------------------------------------
def test_lambda_one_is_identity_and_erm_loss():
    x, y = _batch()
    perm = torch.randperm(7)
    out = FixedMixup(1.0, perm)(x, y, num_classes=3)
    torch.testing.assert_close(out.inputs, x)
    torch.testing.assert_close(out.targets, nn.functional.one_hot(y, 3).float())
    model = nn.Linear(5, 3)
    torch.testing.assert_close(FixedMixup(1.0, perm).loss(model, x, y, num_classes=3), nn.functional.cross_entropy(model(x), y))


def test_labels_mix_with_the_inputs_lambda():
    x, y = _batch()
    out = Mixup(alpha=0.7)(x, y, num_classes=3, generator=torch.Generator().manual_seed(4))
    lam, perm = float(out.info["lam"]), out.info["perm"]
    torch.testing.assert_close(out.inputs, lam * x + (1 - lam) * x[perm])
    onehot = nn.functional.one_hot(y, 3).float()
    torch.testing.assert_close(out.targets, lam * onehot + (1 - lam) * onehot[perm])


def test_two_target_loss_closed_form():
    x, y = _batch()
    perm, lam = torch.randperm(7, generator=torch.Generator().manual_seed(1)), 0.3
    model = nn.Linear(5, 3)
    logits = model(lam * x + (1 - lam) * x[perm])
    expected = lam * nn.functional.cross_entropy(logits, y) + (1 - lam) * nn.functional.cross_entropy(logits, y[perm])
    torch.testing.assert_close(FixedMixup(lam, perm).loss(model, x, y, num_classes=3), expected)


def test_soft_label_loss_equals_hard_label_loss_on_one_hot():
    logits = torch.randn(6, 4)
    y = torch.tensor([0, 3, 1, 2, 2, 0])
    torch.testing.assert_close(soft_cross_entropy(logits, nn.functional.one_hot(y, 4).float()),
                               nn.functional.cross_entropy(logits, y))


def test_soft_targets_in_per_element_mode_and_images():
    x = torch.randn(5, 1, 4, 4)
    soft = torch.softmax(torch.randn(5, 3), -1)
    out = Mixup(mode="elem")(x, soft, num_classes=3, generator=torch.Generator().manual_seed(0))
    lam, perm = out.info["lam"].float(), out.info["perm"]
    assert lam.shape == (5,)
    torch.testing.assert_close(out.inputs, lam.view(5, 1, 1, 1) * x + (1 - lam.view(5, 1, 1, 1)) * x[perm])
    torch.testing.assert_close(out.targets, lam[:, None] * soft + (1 - lam[:, None]) * soft[perm])


@pytest.mark.parametrize("b", [1, 3, 9])
def test_odd_and_single_batches(b):
    x, y = _batch(b=b)
    out = Mixup()(x, y, num_classes=3, generator=torch.Generator().manual_seed(0))
    assert out.inputs.shape == x.shape and torch.isfinite(out.inputs).all()
    loss = MixupE(eta=0.1).loss(nn.Linear(5, 3), x, y, num_classes=3, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(loss)


def test_lambda_distribution():
    lam = sample_lambda(2.0, 20000, torch.Generator().manual_seed(0)).numpy()
    assert abs(lam.mean() - 0.5) < 0.01 and abs(lam.var() - 1 / 20) < 0.003  # Beta(2, 2): var 1/20
    assert expected_one_minus_lambda(1.0) == pytest.approx(1 / 3)
    assert 1 - expected_one_minus_lambda(2.0) == pytest.approx(0.6)  # E[lambda] of Beta(3, 2)
    # Monte Carlo: lambda ~ D~ is Beta(alpha, alpha) reweighted by lambda (size-biased)
    lam = sample_lambda(1.5, 200000, torch.Generator().manual_seed(1)).numpy()
    assert np.average(1 - lam, weights=lam) == pytest.approx(expected_one_minus_lambda(1.5), abs=3e-3)


def test_manifold_mixup_mixes_hidden_states():
    torch.manual_seed(0)
    model = MLP(in_features=5, out_features=3, hidden=(8, 8))
    x, y = _batch()
    perm, lam = torch.randperm(7), 0.4
    blocks = list(model.blocks)
    h = blocks[0](x)
    h = lam * h + (1 - lam) * h[perm]
    logits = blocks[2](blocks[1](h))
    onehot = nn.functional.one_hot(y, 3).float()
    expected = soft_cross_entropy(logits, lam * onehot + (1 - lam) * onehot[perm])
    torch.testing.assert_close(FixedMixup(lam, perm, layer=1).loss(model, x, y, num_classes=3), expected)
    with pytest.raises(ValueError, match="layer"):
        Mixup(layer=3).loss(model, x, y, num_classes=3)
    with pytest.raises(TypeError, match="blocks"):
        Mixup(layer=1).loss(nn.Linear(5, 3), x, y, num_classes=3)


def test_bad_configs_and_inputs():
    with pytest.raises(etude.ConfigError, match="alpha"):
        etude.create("augmenter", "mixup", alpha=0)
    with pytest.raises(etude.ConfigError, match="version"):
        etude.create("augmenter", "mixupe", version=5)
    with pytest.raises(etude.ConfigError, match="sign"):
        etude.create("augmenter", "mixupe", sign="minus")
    x, y = _batch()
    with pytest.raises(ValueError, match="class indices"):
        Mixup()(x, y + 5, num_classes=3)
    with pytest.raises(ValueError, match="NaN"):
        Mixup()(x * float("nan"), y, num_classes=3)
    with pytest.raises(ValueError, match="x_mean"):
        MixupE(version=1).loss(nn.Linear(5, 3), x, y, num_classes=3, x_mean=torch.zeros(4))


# -- the MixupE term --------------------------------------------------------------------
def test_v3_term_closed_form_and_threshold():
    logits = torch.zeros(3, 10)
    logits[0, 1:] = -2.0  # y = 0: t = 2 (1 - p_0) = 1.10 > tau, dropped
    logits[1] = torch.linspace(-1, 1, 10)
    logits[2, 3] = 4.0  # y = 0 but class 3 wins: t < 0, kept
    y = torch.tensor([0, 4, 0])

    class Fixed(nn.Module):
        def forward(self, x):
            return logits * x[:, :1]  # x = ones: the logits above

    aug = MixupE(alpha=1.0, eta=0.5, version=3, threshold=1.0)
    t = aug.per_example_term(Fixed(), torch.ones(3, 2), y, num_classes=10)
    p = torch.softmax(logits, -1)
    expected = ((nn.functional.one_hot(y, 10) - p) * logits).sum(-1)
    torch.testing.assert_close(t, expected)
    parts = aug.terms(Fixed(), torch.ones(3, 2), y, num_classes=10, generator=torch.Generator().manual_seed(0))
    keep = expected < 1.0
    assert keep.tolist() == [False, True, True] and int(parts["kept"]) == 2
    torch.testing.assert_close(parts["regulariser"], (1 / 3) * (expected * keep).sum() / 3)


def _mlp(bias=True, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return MLP(in_features=6, out_features=4, hidden=(16, 16), activation="tanh" if bias else "relu", bias=bias).to(dtype)


def test_v1_term_matches_finite_difference_directional_derivative():
    model = _mlp()
    x, y = _batch(b=5, d=6, c=4, seed=2, dtype=torch.float64)
    x_mean = torch.randn(1, 6, dtype=torch.float64)
    t = MixupE(version=1).per_example_term(model, x, y, num_classes=4, x_mean=x_mean)
    b = (torch.softmax(model(x), -1) - nn.functional.one_hot(y, 4)).detach()
    d, eps = x_mean - x, 1e-5
    fd = ((b * model(x + eps * d)).sum(-1) - (b * model(x - eps * d)).sum(-1)) / (2 * eps)
    torch.testing.assert_close(t, fd, rtol=1e-7, atol=1e-9)


def test_v1_parameter_gradients_match_forward_mode_jvp():
    """Double backprop (the official route) and torch.func.jvp give the same parameter gradients."""
    model = _mlp()
    x, y = _batch(b=5, d=6, c=4, seed=3, dtype=torch.float64)
    x_mean = x.mean(0, keepdim=True)
    t = MixupE(version=1).per_example_term(model, x, y, num_classes=4, x_mean=x_mean)
    g1 = torch.autograd.grad(t.sum(), list(model.parameters()), allow_unused=True)  # the last bias has no effect
    b = (torch.softmax(model(x), -1) - nn.functional.one_hot(y, 4)).detach()
    params = dict(model.named_parameters())

    def t_of(p):
        _, jd = torch.func.jvp(lambda inp: torch.func.functional_call(model, p, (inp,)), (x,), (x_mean - x,))
        return (b * jd).sum()

    g2 = torch.func.grad(t_of)(params)
    for a, (name, p) in zip(g1, model.named_parameters(), strict=True):
        torch.testing.assert_close(torch.zeros_like(p) if a is None else a, g2[name])


def test_homogeneity_links_v1_and_v3():
    model = _mlp(bias=False)  # bias-free ReLU: J_x f(x) x = f(x)
    x, y = _batch(b=8, d=6, c=4, seed=4, dtype=torch.float64)
    t1 = MixupE(version=1).per_example_term(model, x, y, num_classes=4, x_mean=torch.zeros(1, 6, dtype=torch.float64))
    t3 = MixupE(version=3).per_example_term(model, x, y, num_classes=4)
    torch.testing.assert_close(t1, t3, rtol=1e-5, atol=1e-5)


def test_renormalisation_magnitude_and_gradient():
    model = _mlp()
    x, y = _batch(b=6, d=6, c=4, seed=5, dtype=torch.float64)
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(0))
    aug = FixedMixupE(0.3, perm, alpha=1.0, eta=0.5, version=1, threshold=10.0)
    parts = aug.terms(model, x, y, num_classes=4)
    torch.testing.assert_close(parts["loss"].abs(), parts["mixup_loss"].abs())
    grad = torch.autograd.grad(parts["loss"], list(model.parameters()))
    raw = FixedMixupE(0.3, perm, alpha=1.0, eta=0.5, version=1, threshold=10.0, renormalise=False)
    raw_loss = raw.loss(model, x, y, num_classes=4)
    factor = (parts["mixup_loss"].abs() / raw_loss.abs()).detach()
    for g, r in zip(grad, torch.autograd.grad(raw_loss, list(model.parameters())), strict=True):
        torch.testing.assert_close(g, factor * r)


def test_eta_zero_gives_mixup_gradients_and_lambda_one_gives_erm_plus_term():
    model = _mlp()
    x, y = _batch(b=6, d=6, c=4, seed=6, dtype=torch.float64)
    perm = torch.randperm(6)
    for version in (1, 3):
        e = FixedMixupE(0.6, perm, eta=0.0, version=version).loss(model, x, y, num_classes=4)
        m = FixedMixup(0.6, perm).loss(model, x, y, num_classes=4)
        ge = torch.autograd.grad(e, list(model.parameters()))
        gm = torch.autograd.grad(m, list(model.parameters()))
        for a, b in zip(ge, gm, strict=True):
            torch.testing.assert_close(a, b)
    erm = nn.functional.cross_entropy(model(x), y)
    for sign, factor in (("paper", 1.0), ("released", -1.0)):
        aug = FixedMixupE(1.0, perm, alpha=1.0, eta=0.2, version=3, renormalise=False, sign=sign)
        parts = aug.terms(model, x, y, num_classes=4)
        torch.testing.assert_close(parts["loss"], erm + factor * 0.2 * parts["regulariser"])


def test_the_default_sign_is_the_released_code_s():
    """The default objective is the README command's (released v3: L_mix - eta * R1_hat), see issue 34."""
    assert MixupE().config.sign == "released"
    assert MixupE(version=3).sign_factor == -1.0 and MixupE(version=1).sign_factor == 1.0


def test_sign_paper_vs_released():
    model = _mlp()
    x, y = _batch(b=6, d=6, c=4, seed=7, dtype=torch.float64)
    perm = torch.randperm(6)
    for version, released_sign in ((1, 1.0), (2, 1.0), (3, -1.0), (4, -1.0)):
        kw = dict(alpha=1.0, eta=0.3, version=version, threshold=100.0, renormalise=False)
        paper = FixedMixupE(0.5, perm, sign="paper", **kw).terms(model, x, y, num_classes=4)
        released = FixedMixupE(0.5, perm, sign="released", **kw).terms(model, x, y, num_classes=4)
        torch.testing.assert_close(paper["loss"], paper["mixup_loss"] + 0.3 * paper["regulariser"])
        torch.testing.assert_close(released["loss"], released["mixup_loss"] + released_sign * 0.3 * released["regulariser"])


def test_paper_sign_adds_the_first_order_term_of_the_mixup_expansion():
    """The paper sign adds +eta * R1 where R1 is the first-order term of L_mix (checked against the exact expansion)."""
    from etude_mixupe.claims import expansion_terms

    model = _mlp()
    for p in model.parameters():
        p.requires_grad_(False)
    x, y = _batch(b=10, d=6, c=4, seed=8, dtype=torch.float64)
    x_bar = x.mean(0, keepdim=True)
    x = x_bar + 0.01 * (x - x_bar)
    terms = expansion_terms(model, x, y, alpha=1.0)
    delta = terms["L_mix"] - terms["L_std"]
    assert abs(delta - terms["R1"]) < 0.05 * abs(delta)  # R1 is the leading part of L_mix - L_std, same sign
    t = MixupE(version=2).per_example_term(model, x, y, num_classes=4, x_mean=x_bar)
    t1 = MixupE(version=1).per_example_term(model, x, y, num_classes=4, x_mean=x_bar)
    assert torch.equal(t, t1.abs())
    r1_v1 = expected_one_minus_lambda(1.0) * float(t1.detach().mean())
    assert r1_v1 == pytest.approx(terms["R1"], rel=1e-9)


@pytest.mark.parametrize("kept", [0, 1])
def test_zero_or_one_kept_example(kept):
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0], [4.0, 0.0]])

    class Fixed(nn.Module):
        def forward(self, x):
            return logits * x[:, :1] + 0 * x.sum()

    y = torch.tensor([0, 1, 1]) if kept else torch.tensor([0, 1, 0])  # t > 0 when correct, < 0 when wrong
    x = torch.ones(3, 2, requires_grad=True)
    parts = MixupE(alpha=1.0, eta=0.1, threshold=0.0).terms(Fixed(), x, y, num_classes=2, generator=torch.Generator().manual_seed(0))
    assert int(parts["kept"]) == kept and torch.isfinite(parts["loss"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_all_versions_run_and_backprop(dtype, version):
    model = _mlp(dtype=dtype)
    x, y = _batch(b=8, d=6, c=4, seed=9, dtype=dtype)
    loss = MixupE(version=version, eta=0.1).loss(model, x, y, num_classes=4, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert loss.dtype == dtype and math.isfinite(float(loss))
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mixupe_on_cuda():
    model = _mlp(dtype=torch.float32).cuda()
    x, y = _batch(b=8, d=6, c=4, seed=9)
    x, y = x.cuda(), y.cuda()
    for version in (1, 3):
        gen = torch.Generator(device="cuda").manual_seed(0)
        loss = MixupE(version=version, eta=0.1).loss(model, x, y, num_classes=4, generator=gen, x_mean=x.mean(0))
        loss.backward()
        assert loss.device.type == "cuda" and torch.isfinite(loss)
    out = Mixup()(x, y, num_classes=4, generator=torch.Generator(device="cuda").manual_seed(0))
    assert out.inputs.device.type == "cuda" and out.targets.device.type == "cuda"
