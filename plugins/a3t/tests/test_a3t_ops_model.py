"""Gradient reversal, the DANN ramp, the A3T classifier and the A3T loss."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from etude.testing.conformance import AugmenterConformance, ModelConformance
from etude_a3t import A3T, FGSM, A3TClassifier, GradientReversal, dann_lambda, grad_reverse


def test_grl_forward_identity_and_backward_minus_lambda():
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    y = grad_reverse(x, 0.7)
    torch.testing.assert_close(y, x)
    g = torch.randn(4, 3, dtype=torch.float64)
    (grad,) = torch.autograd.grad(y, x, g)
    torch.testing.assert_close(grad, -0.7 * g)
    # the Jacobian autograd reports (through backward) is -lambda I, though the forward map is the identity
    jac = torch.autograd.functional.jacobian(lambda z: GradientReversal.apply(z, 0.7), x)
    torch.testing.assert_close(jac.reshape(12, 12), -0.7 * torch.eye(12, dtype=torch.float64))
    with pytest.raises(ValueError, match="lam"):
        grad_reverse(x, -1.0)


def test_grl_discriminator_same_gradient_encoder_opposite():
    torch.manual_seed(0)
    enc, disc = nn.Linear(5, 4), nn.Linear(4, 1)
    x = torch.randn(8, 5)

    def grads(lam):
        enc.zero_grad(), disc.zero_grad()
        h = enc(x)
        h = h if lam is None else grad_reverse(h, lam)
        disc(h).square().mean().backward()
        return [p.grad.clone() for p in enc.parameters()], [p.grad.clone() for p in disc.parameters()]

    e_plain, d_plain = grads(None)
    e_rev, d_rev = grads(0.3)
    for a, b in zip(d_plain, d_rev, strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(e_plain, e_rev, strict=True):
        torch.testing.assert_close(b, -0.3 * a)


def test_dann_ramp_values():
    assert dann_lambda(0.0, 0.3) == 0.0
    for p in (0.1, 0.5, 1.0):  # 2 / (1 + e^{-g p}) - 1 = tanh(g p / 2)
        assert math.isclose(dann_lambda(p, 0.3), 0.3 * math.tanh(5 * p), rel_tol=1e-12)
    assert math.isclose(dann_lambda(0.5, 1.0), 0.9866142981514305, rel_tol=1e-12)
    with pytest.raises(ValueError, match="progress"):
        dann_lambda(1.5)


def test_a3t_lambda_follows_progress_under_the_ramp():
    aug = A3T(lam=1.0, lam_schedule="dann")
    assert aug.current_lambda(0.0) == 0.0 and math.isclose(aug.current_lambda(0.2), math.tanh(1.0))
    with pytest.raises(ValueError, match="progress="):
        aug.current_lambda(None)
    assert A3T(lam=0.3).current_lambda(None) == 0.3


def _net(d=8, c=3, hidden=(16, 16)):
    torch.manual_seed(0)
    return A3TClassifier(in_features=d, out_features=c, classifier_options={"hidden": hidden})


class TestA3TClassifierConformance(ModelConformance):
    component = ("model", "a3t-classifier")

    def make_model(self):
        return self.create(in_features=8, out_features=3, classifier_options={"hidden": (16, 16)})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.rand(4, 8, dtype=dtype, device=device),)

    def test_float64_and_gradients(self):
        """D is trained through its own loss, not the logits: every parameter is reached by logits + D(h)."""
        model = self.make_model().to(torch.float64)
        logits, h = model.features(*self.make_inputs(dtype=torch.float64))
        assert logits.dtype == h.dtype == torch.float64
        (logits.square().sum() + model.discriminate(h).sum()).backward()
        assert all(p.grad is not None for p in model.parameters())


def test_classifier_matches_the_plain_mlp_and_hooks_the_named_layer():
    import etude

    net = _net()
    torch.manual_seed(0)
    mlp = etude.create("model", "mlp", in_features=8, out_features=3, hidden=(16, 16))
    x = torch.rand(5, 8)
    torch.testing.assert_close(net(x), mlp(x))  # same weights from the same seed
    logits, h = net.features(x)
    torch.testing.assert_close(h, mlp.blocks[1](mlp.blocks[0](x)))
    torch.testing.assert_close(logits, mlp(x))
    first = A3TClassifier(in_features=8, out_features=3, classifier_options={"hidden": (16, 32)}, layer="blocks.0")
    assert first.features(x)[1].shape == (5, 16) and first.discriminator.blocks[0][1].in_features == 16
    with pytest.raises(ValueError, match="layer"):
        A3TClassifier(in_features=8, out_features=3, layer="nope")


class TestA3TConformance(AugmenterConformance):
    component = ("augmenter", "a3t")

    def make_augmenter(self):
        return self.create(eps=0.1, clip_min=None, clip_max=None)

    def make_model(self, input_shape):
        torch.manual_seed(0)
        numel = math.prod(input_shape)
        return A3TClassifier(in_features=numel, out_features=self.num_classes, input_shape=input_shape,
                             classifier_options={"hidden": (8, 8)})


def test_a3t_loss_by_hand():
    net = _net()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(6, 8, generator=g), torch.randint(0, 3, (6,), generator=g)
    parts = A3T(eps=0.1, lam=0.3).terms_with_progress(net, x, y, num_classes=3)
    from etude_a3t.attacks import fgsm

    adv = fgsm(net, x, y, 0.1)
    (lc, hc), (la, ha) = net.features(x), net.features(adv)
    ce, bce = nn.functional.cross_entropy, nn.functional.binary_cross_entropy_with_logits
    expected = (0.5 * ce(lc, y) + 0.5 * ce(la, y) + bce(net.discriminate(hc), torch.zeros(6))
                + bce(net.discriminate(ha), torch.ones(6)))
    torch.testing.assert_close(parts["loss"], expected)


def test_lambda_zero_gives_fgsm_at_classifier_gradients():
    net = _net()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(6, 8, generator=g), torch.randint(0, 3, (6,), generator=g)
    A3T(eps=0.1, lam=0.0).loss(net, x, y, num_classes=3).backward()
    a3t = [p.grad.clone() for p in net.classifier.parameters()]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.discriminator.parameters())
    net.zero_grad(set_to_none=True)
    FGSM(eps=0.1).loss(net, x, y, num_classes=3).backward()
    for a, b in zip(a3t, [p.grad for p in net.classifier.parameters()], strict=True):
        torch.testing.assert_close(a, b)
    net.zero_grad(set_to_none=True)
    A3T(eps=0.1, lam=0.5).loss(net, x, y, num_classes=3).backward()  # lambda > 0 changes the encoder's gradient
    assert not torch.allclose(net.classifier.blocks[0][1].weight.grad, a3t[0])


def test_a3t_needs_a_discriminator_model():
    with pytest.raises(TypeError, match="a3t-classifier"):
        A3T().loss(nn.Linear(8, 3), torch.rand(2, 8), torch.tensor([0, 1]), num_classes=3)


def _train(lam, epochs=6, eps=0.1):
    import etude
    from etude_a3t import RobustAccuracyCallback

    task = etude.create("task", "digits", seed=0)
    proc = etude.create("procedure", "supervised", model="a3t-classifier",
                        model_options={"classifier_options": {"hidden": [64, 64]}}, augmenter="a3t",
                        augmenter_options={"eps": eps, "lam": lam}, optimizer="adam", lr=1e-3, weight_decay=0.0,
                        schedule="constant", epochs=epochs, batch_size=64)
    cb = RobustAccuracyCallback(eps, pgd=False)
    proc.run(task, seed=0, callbacks=[cb])
    return cb.history["discriminator_accuracy"]


def test_discriminator_accuracy_high_without_reversal_near_chance_with_it():
    """At eps = 0.3 (clean and adversarial codes far apart) D separates them when nothing reverses its gradient,
    and is pushed to chance by the encoder with lambda = 1 (the last three epochs' mean)."""
    torch.set_num_threads(1)
    free, reversed_ = _train(0.0, epochs=8, eps=0.3), _train(1.0, epochs=8, eps=0.3)
    assert free[-1] > 0.85, free
    assert abs(sum(reversed_[-3:]) / 3 - 0.5) < 0.12, reversed_


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_attacks_and_a3t_loss_match_cpu():
    from etude_a3t import fgsm, pgd

    net = _net().double()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 8, generator=g, dtype=torch.float64), torch.randint(0, 3, (16,), generator=g)
    gpu = _net().double().cuda()
    gpu.load_state_dict(net.state_dict())
    xc, yc = x.cuda(), y.cuda()
    torch.testing.assert_close(fgsm(gpu, xc, yc, 0.1).cpu(), fgsm(net, x, y, 0.1))
    torch.testing.assert_close(pgd(gpu, xc, yc, 0.1, steps=5, random_start=False).cpu(),
                               pgd(net, x, y, 0.1, steps=5, random_start=False))
    cpu_loss = A3T(eps=0.1).loss(net, x, y, num_classes=3)
    gpu_loss = A3T(eps=0.1).loss(gpu, xc, yc, num_classes=3)
    torch.testing.assert_close(gpu_loss.cpu(), cpu_loss)
    gpu_loss.backward()
    assert all(p.grad is not None and p.grad.is_cuda for p in gpu.parameters())
