"""model/alpha-scaled: zero start, frozen w0, the knob step, alpha = 1 exactness, the lazy limit."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call, jvp

import etude
from etude.config import ConfigError, FieldValueError
from etude.data import SupervisedTraining
from etude.kinds import Split, Task
from etude.testing.conformance import ModelConformance
from etude_feature_alignment.tangent import TangentKernel
from etude_lazy_hasty import AlphaScaled


class TestAlphaScaledConformance(ModelConformance):
    component = ("model", "alpha-scaled")

    def make_model(self):
        return self.create(model="mlp", model_options={"hidden": [8]}, in_features=4, out_features=3, alpha=10.0)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(5, 4, dtype=dtype, device=device),)

    def test_float64_and_gradients(self):
        # the frozen w0 buffers must follow the dtype too; the base check then covers gradients
        super().test_float64_and_gradients()
        model = self.make_model().to(torch.float64)
        assert all(b.dtype == torch.float64 for b in model.w0.buffers())


class _Regression(Task):
    num_classes = None

    def __init__(self, x, y):
        super().__init__()
        self._x, self._y = x, y
        self.input_shape = (x.shape[1],)

    def make_splits(self):
        return {"train": Split(self._x, self._y), "test": Split(self._x, self._y)}


def _net(seed=0, d=3, width=16, out=1):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, out)).double()


@pytest.mark.parametrize("alpha", [1.0, 1e-2, 1e3, 1e8])
def test_zero_function_at_initialisation_for_every_alpha(alpha):
    model = AlphaScaled.wrap(_net(), alpha)
    x = torch.randn(7, 3, dtype=torch.float64)
    assert torch.equal(model(x), torch.zeros(7, 1, dtype=torch.float64))
    assert model.loss_scale == pytest.approx(1 / alpha**2)


def test_w0_is_frozen_and_gets_no_gradient():
    torch.manual_seed(0)
    model = AlphaScaled.wrap(_net(), 5.0)
    before = {k: v.clone() for k, v in model.reference_parameters().items()}
    assert not any(b.requires_grad for b in model.w0.buffers())
    assert {id(p) for p in model.parameters()} == {id(p) for p in model.net.parameters()}
    x, y = torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 1, dtype=torch.float64)
    SupervisedTraining(loss="mse", lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0, schedule="constant",
                       epochs=5, batch_size=8).run(_Regression(x, y), model=model)
    for name, value in model.reference_parameters().items():
        assert torch.equal(value, before[name]), name
        assert not torch.equal(dict(model.net.named_parameters())[name].detach(), value), name
    assert model.relative_weight_change() > 0


def test_knob_step_equals_sgd_on_the_rescaled_objective_with_momentum():
    """Reference step (dL/df~ back-propagated into f, lr / alpha, momentum) == the loop on (1/alpha^2) L(alpha (f - f0))."""
    alpha, lr, momentum = 7.0, 0.3, 0.9
    x = torch.randn(16, 3, dtype=torch.float64)
    y = torch.randint(0, 4, (16,))
    net = _net(out=4)
    ref = copy.deepcopy(net)
    frozen = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.SGD(ref.parameters(), lr=lr / alpha, momentum=momentum)
    for _ in range(3):
        f = ref(x)
        ft = alpha * (f - frozen(x))
        g_ft = torch.autograd.grad(nn.functional.cross_entropy(ft, y), ft)[0]
        opt.zero_grad()
        f.backward(g_ft)  # into f, not multiplied by alpha
        opt.step()

    class Classes(_Regression):
        num_classes = 4

    model = AlphaScaled.wrap(net, alpha)
    SupervisedTraining(lr=lr, momentum=momentum, nesterov=False, weight_decay=0.0, schedule="constant", epochs=3,
                       batch_size=None).run(Classes(x, y), model=model)
    for (name, p), q in zip(model.net.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-9, msg=name)
    # and the step is not the plain one: alpha matters
    assert not torch.allclose(next(model.net.parameters()), next(_net(out=4).parameters()))


def test_alpha_one_with_initial_offset_is_plain_training_bit_for_bit():
    from etude.data import Iris

    def run(wrap):
        torch.manual_seed(0)
        net = etude.create("model", "mlp", in_features=4, out_features=3, hidden=[16])
        model = AlphaScaled.wrap(net, 1.0, offset="initial") if wrap else net
        result = SupervisedTraining(epochs=3, weight_decay=1e-4).run(Iris(), seed=0, model=model)
        return net.state_dict(), result.history

    (s1, h1), (s2, h2) = run(True), run(False)
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert h1 == h2


def test_fork_starts_from_the_checkpoint_function():
    net = _net(seed=3)
    x = torch.randn(9, 3, dtype=torch.float64)
    for alpha in (1.0, 1e4):
        forked = AlphaScaled.fork(net, alpha)
        torch.testing.assert_close(forked(x), net(x), rtol=1e-12, atol=1e-12)
        assert forked.net is not net


def test_weight_decay_with_alpha_is_an_error_and_bad_alpha_is_named():
    from etude.data import Iris

    net = etude.create("model", "mlp", in_features=4, out_features=3, hidden=[8])
    with pytest.raises(FieldValueError, match="weight_decay"):
        SupervisedTraining(epochs=1, weight_decay=1e-4).run(Iris(), model=AlphaScaled.wrap(net, 10.0))
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ConfigError, match="alpha"):
            AlphaScaled.wrap(net, bad)
    with pytest.raises(ConfigError, match="offset"):
        AlphaScaled(module=net, offset="centre")


def test_registry_build_fills_the_sizes_from_the_loop():
    from etude.data import Iris

    result = SupervisedTraining(model="alpha-scaled", model_options={"model_options": {"hidden": [8]}, "alpha": 10.0},
                                epochs=2, weight_decay=0.0).run(Iris(), seed=0)
    model = result.models["model"]
    assert isinstance(model, AlphaScaled) and model.net.config.in_features == 4 and model.net.config.out_features == 3
    assert 0 < model.relative_weight_change() < 0.1


def _lazy_setup(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.sin(2 * x[:, :1]) + 0.5 * x[:, 1:2]
    return x, y


def _train_wrapped(net, alpha, x, y, lr, steps):
    model = AlphaScaled.wrap(net, alpha)
    SupervisedTraining(loss="mse", lr=lr, momentum=0.0, nesterov=False, weight_decay=0.0, schedule="constant",
                       epochs=steps, batch_size=None, eval_every=steps).run(_Regression(x, y), model=model)
    return model


def test_lazy_limit_matches_the_linearised_model_and_the_ntk_flow():
    x, y = _lazy_setup()
    n = x.shape[0]
    net = _net(seed=1)
    alpha = 1e6 / float(net(x).detach().norm())
    K = TangentKernel(net).gram(x).detach()  # initial NTK (n, n), one output
    lr = 0.005 / (2 / n * float(torch.linalg.eigvalsh(K).max()))
    steps = 2000
    w0 = {k: v.detach().clone() for k, v in net.named_parameters()}
    frozen = copy.deepcopy(net)
    model = _train_wrapped(net, alpha, x, y, lr, steps)
    with torch.no_grad():
        pred = model(x)

    # the linearised model f~_lin(w) = alpha J(w0) (w - w0), trained by the same gradient descent
    w = {k: v.clone().requires_grad_(True) for k, v in w0.items()}
    for _ in range(steps):
        delta = {k: w[k] - w0[k] for k in w}
        _, jd = jvp(lambda p: functional_call(frozen, p, (x,)), (w0,), (delta,))
        loss = ((alpha * jd - y) ** 2).mean() / alpha**2
        grads = torch.autograd.grad(loss, list(w.values()))
        with torch.no_grad():
            for (k, v), gk in zip(w.items(), grads, strict=True):
                v -= lr * gk
    delta = {k: (w[k] - w0[k]).detach() for k in w}
    _, jd = jvp(lambda p: functional_call(frozen, p, (x,)), (w0,), (delta,))
    linearised = alpha * jd
    assert float((pred - linearised).norm() / linearised.norm()) < 1e-2

    # closed-form gradient flow with the initial NTK: f~(t) = (I - exp(-(2/n) K t)) y, t = lr * steps
    flow = (torch.eye(n, dtype=torch.float64) - torch.linalg.matrix_exp(-(2 / n) * K * lr * steps)) @ y
    assert float((pred - flow).norm() / flow.norm()) < 1e-2
    # far from trivial: the prediction moved well away from its start (0) towards y
    assert float(pred.norm() / y.norm()) > 0.3 and float((pred - y).norm() / y.norm()) < 0.8


def test_relative_weight_change_decreases_with_alpha():
    x, y = _lazy_setup(n=16)
    changes = []
    for alpha in (1.0, 10.0, 100.0, 1000.0):
        model = _train_wrapped(_net(seed=2), alpha, x, y, lr=0.05, steps=200)
        changes.append(model.relative_weight_change())
    assert all(a > b for a, b in zip(changes, changes[1:])), changes
    assert changes[-1] < 1e-2 < changes[0]


def test_fork_through_the_core_loop(tmp_path):
    """Fork an alpha = 1 checkpoint: alpha = 1 continues exactly like the plain network; alpha = 1e4 stays lazy."""
    from etude.data import Iris

    path = tmp_path / "rich.pt"
    proc = SupervisedTraining(epochs=2, hidden=(16,), weight_decay=0.0, nesterov=False, schedule="constant")
    proc.run(Iris(), seed=0, checkpoint=path)
    plain = proc.run(Iris(), seed=5, init_from=path)
    same = proc.run(Iris(), seed=5, init_from=path, model_transform=lambda m: AlphaScaled.fork(m, 1.0))
    assert plain.history == same.history
    state = same.models["model"].net.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in plain.models["model"].state_dict().items())
    lazy = proc.run(Iris(), seed=5, init_from=path, model_transform=lambda m: AlphaScaled.fork(m, 1e4))
    forked = lazy.models["model"]
    assert forked.config.offset == "initial" and forked.relative_weight_change() < 1e-3
    assert forked.relative_weight_change() < 0.01 * same.models["model"].relative_weight_change()


def _reference_f0(model, x):
    with torch.no_grad():
        return functional_call(model.net, model.reference_parameters(), (x,))


def test_frozen_copy_is_f_at_w0_after_training_casts_loads_and_copies():
    torch.manual_seed(0)
    model = AlphaScaled.wrap(nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)), alpha=10.0)
    x = torch.randn(6, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        ((model(x) - 1.0).square().sum() * model.loss_scale).backward()
        opt.step()
    torch.testing.assert_close(model.initial_function(x), _reference_f0(model, x), rtol=0, atol=0)
    assert not torch.allclose(model.net(x), model.initial_function(x))  # w moved, w0 did not
    double = copy.deepcopy(model).double()
    torch.testing.assert_close(double.initial_function(x.double()), _reference_f0(double, x.double()), rtol=0, atol=0)
    torch.testing.assert_close(model.initial_function(x), _reference_f0(model, x))  # the original is untouched
    other = AlphaScaled.wrap(nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)), alpha=10.0)
    other.load_state_dict(model.state_dict())
    torch.testing.assert_close(other(x), model(x), rtol=0, atol=0)
    assert sorted(model.state_dict()) == sorted(other.state_dict())
    assert all(k.startswith(("net.", "w0.")) for k in model.state_dict())  # no duplicate state for the copy


def test_frozen_copy_shares_batchnorm_statistics_and_mode_and_tied_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 4))
    model = AlphaScaled.wrap(net, alpha=5.0)
    x = torch.randn(8, 3)
    model(x)  # train mode: both passes update the shared running statistics, as the module's own would
    torch.testing.assert_close(model.initial_function(x), _reference_f0(model, x))
    model.eval()
    torch.testing.assert_close(model.initial_function(x), _reference_f0(model, x), rtol=0, atol=0)
    assert not model.__dict__["_frozen"].training

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4, bias=False)
            self.b = nn.Linear(4, 4, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    tied = AlphaScaled.wrap(Tied(), alpha=3.0)
    with torch.no_grad():
        tied.w0.a__weight.mul_(2.0)  # w0 edited in place: both uses of the tied weight see it
    torch.testing.assert_close(tied.initial_function(torch.ones(2, 4)), _reference_f0(tied, torch.ones(2, 4)))
