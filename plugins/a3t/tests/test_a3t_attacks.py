"""FGSM / PGD: bounds, closed forms, finite differences, projection, mode and gradient hygiene, ART agreement."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from etude.testing.conformance import AugmenterConformance
from etude_a3t.attacks import FGSM, PGD, fgsm, input_gradient, pgd, project


def _mlp(d=6, c=3, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, c)).to(dtype)


def _batch(n=10, d=6, c=3, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g, dtype=dtype), torch.randint(0, c, (n,), generator=g)


class TestFGSMConformance(AugmenterConformance):
    component = ("augmenter", "fgsm")

    def make_augmenter(self):
        return self.create(eps=0.1, clip_min=None, clip_max=None)


class TestPGDConformance(AugmenterConformance):
    component = ("augmenter", "pgd")

    def make_augmenter(self):
        return self.create(eps=0.1, steps=3, clip_min=None, clip_max=None)


def test_input_gradient_matches_finite_differences():
    model, (x, y) = _mlp(), _batch(n=3)
    grad = input_gradient(model, x, y)
    h = 1e-6
    numeric = torch.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            e = torch.zeros_like(x)
            e[i, j] = h
            f = lambda z: nn.functional.cross_entropy(model(z), y, reduction="sum")  # noqa: E731
            numeric[i, j] = (f(x + e) - f(x - e)) / (2 * h)
    torch.testing.assert_close(grad, numeric, atol=1e-7, rtol=1e-6)


def test_fgsm_bounds_and_sign_where_unclipped():
    model, (x, y) = _mlp(), _batch(n=50)
    eps = 0.1
    adv = fgsm(model, x, y, eps)
    assert (adv - x).abs().max() <= eps + 1e-12 and adv.min() >= 0 and adv.max() <= 1
    sign = input_gradient(model, x, y).sign()
    inside = ((x + eps * sign) >= 0) & ((x + eps * sign) <= 1)
    assert inside.float().mean() > 0.5
    torch.testing.assert_close(adv[inside], (x + eps * sign)[inside])
    assert not adv.requires_grad


def test_fgsm_on_a_two_class_linear_model_moves_along_sign_of_w_other_minus_w_y():
    torch.manual_seed(0)
    lin = nn.Linear(5, 2).double()
    x = torch.full((4, 5), 0.5, dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 0])
    adv = fgsm(lin, x, y, 0.1)
    w = lin.weight.detach()
    direction = torch.stack([(w[1 - int(k)] - w[int(k)]).sign() for k in y])
    torch.testing.assert_close(adv, x + 0.1 * direction)


def test_project_onto_ball_and_box():
    g = torch.Generator().manual_seed(0)
    center = torch.rand(200, 4, generator=g)
    z = center + 0.5 * torch.randn(200, 4, generator=g)
    p = project(z, center, 0.1)
    assert (p - center).abs().max() <= 0.1 + 1e-7 and p.min() >= 0 and p.max() <= 1
    torch.testing.assert_close(project(p, center, 0.1), p)  # idempotent
    # no feasible point is closer: compare with random feasible points
    low, high = (center - 0.1).clamp(min=0), (center + 0.1).clamp(max=1)
    for _ in range(20):
        q = low + (high - low) * torch.rand(200, 4, generator=g)
        assert ((z - p).square().sum(-1) <= (z - q).square().sum(-1) + 1e-9).all()


def test_pgd_stays_in_ball_and_box_and_raises_loss():
    model, (x, y) = _mlp(), _batch(n=64)
    eps = 0.1
    losses = []
    for steps in (1, 3, 10):
        adv = pgd(model, x, y, eps, steps=steps, step_size=eps / 4, random_start=False)
        assert (adv - x).abs().max() <= eps + 1e-12 and adv.min() >= 0 and adv.max() <= 1
        losses.append(float(nn.functional.cross_entropy(model(adv), y).detach()))
    clean = float(nn.functional.cross_entropy(model(x), y).detach())
    assert clean < losses[0] < losses[1] < losses[2]


def test_pgd_random_start_reproducible_and_inside_ball():
    model, (x, y) = _mlp(), _batch(n=32)
    a = pgd(model, x, y, 0.1, steps=2, generator=torch.Generator().manual_seed(4))
    b = pgd(model, x, y, 0.1, steps=2, generator=torch.Generator().manual_seed(4))
    c = pgd(model, x, y, 0.1, steps=2, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    # zero steps of size 0: the start itself lies uniformly in the ball intersected with [0, 1]
    start = pgd(model, x, y, 0.1, steps=1, step_size=1e-12, generator=torch.Generator().manual_seed(4))
    assert (start - x).abs().max() <= 0.1 + 1e-9 and start.min() >= 0 and start.max() <= 1
    assert (start - x).abs().mean() > 0.02


def test_one_pgd_step_of_size_eps_without_random_start_is_fgsm():
    model, (x, y) = _mlp(), _batch(n=32)
    torch.testing.assert_close(pgd(model, x, y, 0.1, steps=1, step_size=0.1, random_start=False), fgsm(model, x, y, 0.1))


def test_default_step_size_is_2_5_eps_over_steps():
    model, (x, y) = _mlp(), _batch(n=8)
    torch.testing.assert_close(pgd(model, x, y, 0.1, steps=4, random_start=False),
                               pgd(model, x, y, 0.1, steps=4, step_size=0.0625, random_start=False))


def _bn_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_attack_restores_mode_and_leaves_statistics_and_grads(attack):
    model = _bn_model()
    x, y = _batch(dtype=torch.float32)
    model(x).sum().backward()  # populate .grad
    grads = [p.grad.clone() for p in model.parameters()]
    stats = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    model[3].eval()  # a mixed-mode model keeps each submodule's own mode
    aug = FGSM(eps=0.1) if attack == "fgsm" else PGD(eps=0.1, steps=3)
    aug(x, y, num_classes=3, model=model, generator=torch.Generator().manual_seed(0))
    assert model.training and model[1].training and not model[3].training
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, stats[k], msg=f"{k} changed by the attack")
    for p, g in zip(model.parameters(), grads, strict=True):
        torch.testing.assert_close(p.grad, g)
    fresh = _bn_model()
    aug(x, y, num_classes=3, model=fresh, generator=torch.Generator().manual_seed(0))
    assert all(p.grad is None for p in fresh.parameters())


def test_attack_in_eval_mode_is_deterministic_despite_dropout():
    model = _bn_model().train()
    x, y = _batch(dtype=torch.float32)
    torch.testing.assert_close(fgsm(model, x, y, 0.1), fgsm(model, x, y, 0.1))


def test_adversarial_training_loss_is_half_clean_half_adversarial():
    model, (x, y) = _mlp(dtype=torch.float32), _batch(dtype=torch.float32)
    aug = FGSM(eps=0.1)
    loss = aug.loss(model, x, y, num_classes=3)
    adv = fgsm(model, x, y, 0.1)
    ce = nn.functional.cross_entropy
    torch.testing.assert_close(loss, 0.5 * ce(model(x), y) + 0.5 * ce(model(adv), y))
    loss = FGSM(eps=0.1, adv_weight=1.0).loss(model, x, y, num_classes=3)
    torch.testing.assert_close(loss, ce(model(adv), y))


def test_bad_inputs_and_configs():
    model = _mlp(dtype=torch.float32)
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"outside the valid range \[clip_min, clip_max\]"):
        fgsm(model, torch.full((2, 6), 2.0), y, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        fgsm(model, torch.full((2, 6), math.nan), y, 0.1)
    with pytest.raises(TypeError, match="floating point"):
        fgsm(model, torch.ones(2, 6, dtype=torch.int64), y, 0.1)
    with pytest.raises(TypeError, match="model="):
        FGSM()(torch.rand(2, 6), y, num_classes=3)
    with pytest.raises(ValueError, match="clip_max"):
        FGSM(clip_min=1.0, clip_max=0.0)
    with pytest.raises(ValueError, match="eps"):
        PGD(eps=-0.1)
    with pytest.raises(ValueError, match="step_size"):
        PGD(step_size=0.0)


def _art_classifier(model, d=6, c=3):
    art = pytest.importorskip("art.estimators.classification")
    return art.PyTorchClassifier(model=model, loss=nn.CrossEntropyLoss(), input_shape=(d,), nb_classes=c,
                                 clip_values=(0.0, 1.0))


def test_fgsm_equals_art_fast_gradient_method():
    model, (x, y) = _mlp(dtype=torch.float32), _batch(n=40, dtype=torch.float32)
    classifier = _art_classifier(model)
    from art.attacks.evasion import FastGradientMethod  # noqa: PLC0415

    ref = FastGradientMethod(classifier, norm=math.inf, eps=0.1).generate(x.numpy(), y=y.numpy())
    torch.testing.assert_close(fgsm(model, x, y, 0.1), torch.from_numpy(ref), atol=1e-6, rtol=0)


def test_pgd_equals_art_projected_gradient_descent_without_random_start():
    model, (x, y) = _mlp(dtype=torch.float32), _batch(n=40, dtype=torch.float32)
    classifier = _art_classifier(model)
    from art.attacks.evasion import ProjectedGradientDescent  # noqa: PLC0415

    ref = ProjectedGradientDescent(classifier, norm=math.inf, eps=0.1, eps_step=0.025, max_iter=10,
                                   num_random_init=0, verbose=False).generate(x.numpy(), y=y.numpy())
    ours = pgd(model, x, y, 0.1, steps=10, step_size=0.025, random_start=False)
    torch.testing.assert_close(ours, torch.from_numpy(ref), atol=1e-5, rtol=0)
