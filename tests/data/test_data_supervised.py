"""procedure/supervised: conformance, callbacks, per-example losses, resume bit-identical, losses and optimisers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import etude
from etude.data import MNIST1D, Callback, Copying, Digits, Iris, PerExampleLoss, SineRegression, SupervisedTraining
from etude.runtime import NonFiniteLossError
from etude.testing.conformance import ProcedureConformance

TINY = {"epochs": 2, "hidden": (16,), "batch_size": 32}


class TestSupervised(ProcedureConformance):
    component = ("procedure", "supervised")

    def make_procedure(self):
        return self.create(**TINY)

    def make_task(self):
        return etude.create("task", "iris", label_noise=0.2)


class TestSupervisedRegression(ProcedureConformance):
    component = ("procedure", "supervised")

    def make_procedure(self):
        return self.create(loss="mse", optimizer="adam", lr=1e-2, schedule="constant", batch_size=None, epochs=3,
                           hidden=(16, 16))

    def make_task(self):
        return SineRegression(num_train=64, num_test=32)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_start(self, state):
        self.calls.append(("train_start", state.epoch, state.step))

    def on_batch_start(self, state, indices):
        self.calls.append(("batch_start", state.epoch, state.step, indices.clone()))

    def on_batch_end(self, state, indices, losses):
        self.calls.append(("batch_end", state.epoch, state.step, indices.clone(), losses))

    def on_epoch_end(self, state):
        self.calls.append(("epoch_end", state.epoch, state.step, dict(state.metrics)))

    def on_train_end(self, state):
        self.calls.append(("train_end", state.epoch, state.step, dict(state.metrics)))


def test_callbacks_called_the_documented_number_of_times_with_the_documented_arguments():
    task = Iris(seed=0)  # 112 training examples: batches of 32 -> 4 per epoch (the last of 16)
    rec = Recorder()
    result = SupervisedTraining(epochs=3, hidden=(8,), batch_size=32).run(task, seed=0, callbacks=[rec])
    kinds = [c[0] for c in rec.calls]
    assert kinds.count("train_start") == 1 and kinds.count("train_end") == 1
    assert kinds.count("batch_start") == kinds.count("batch_end") == 3 * 4 and kinds.count("epoch_end") == 3
    assert kinds[0] == "train_start" and kinds[-1] == "train_end"
    starts = [c for c in rec.calls if c[0] == "batch_start"]
    ends = [c for c in rec.calls if c[0] == "batch_end"]
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        assert s[2] == i and e[2] == i + 1  # step before / after the optimiser step
        assert torch.equal(s[3], e[3]) and e[4].shape == e[3].shape and e[4].requires_grad is False
    for epoch in range(3):  # each epoch's batches are a permutation of the train split
        rows = torch.cat([e[3] for e in ends if e[1] == epoch])
        assert torch.equal(rows.sort().values, torch.arange(112))
    epoch_ends = [c for c in rec.calls if c[0] == "epoch_end"]
    assert [c[1] for c in epoch_ends] == [0, 1, 2] and epoch_ends[-1][3]["test_accuracy"] == result.history["test_accuracy"][-1]
    assert rec.calls[-1][3] == result.metrics and result.info["steps"] == 12


def test_per_example_losses_equal_a_manual_forward_pass():
    task = Digits(seed=0)
    x, y = task.split("train").inputs, task.split("train").targets

    class Check(Callback):
        def __init__(self):
            self.checked = 0

        def on_batch_start(self, state, indices):
            with torch.no_grad():
                self.expected = nn.functional.cross_entropy(state.model(x[indices]), y[indices], reduction="none")

        def on_batch_end(self, state, indices, losses):
            torch.testing.assert_close(losses, self.expected, rtol=0, atol=0)
            self.checked += 1

    check = Check()
    SupervisedTraining(epochs=1, hidden=(16,), batch_size=100).run(task, seed=2, callbacks=[check])
    assert check.checked == 14


def test_per_example_loss_tracker_and_mse_losses():
    tracker = PerExampleLoss()
    SupervisedTraining(epochs=2, hidden=(8,)).run(Iris(), callbacks=[tracker])
    assert tracker.losses.shape == (2, 112) and torch.isfinite(tracker.losses).all()
    task = SineRegression(num_train=32, num_test=8)

    class MSE(Callback):
        def on_batch_start(self, state, indices):
            with torch.no_grad():
                self.expected = (state.model(task.split("train").inputs[indices]) - task.split("train").targets[indices]).square().squeeze(-1)

        def on_batch_end(self, state, indices, losses):
            torch.testing.assert_close(losses, self.expected)

    result = SupervisedTraining(loss="mse", epochs=1, hidden=(8,), batch_size=8).run(task, callbacks=[MSE()])
    assert set(result.metrics) == {"test_loss", "final_loss", "train_eval_loss"}


def test_l1_loss_is_the_mean_absolute_error():
    task = SineRegression(num_train=32, num_test=8)

    class L1(Callback):
        def on_batch_start(self, state, indices):
            with torch.no_grad():
                split = task.split("train")
                self.expected = (state.model(split.inputs[indices]) - split.targets[indices]).abs().mean(-1)

        def on_batch_end(self, state, indices, losses):
            torch.testing.assert_close(losses, self.expected)

    result = SupervisedTraining(loss="l1", epochs=1, hidden=(8,), batch_size=8).run(task, callbacks=[L1()])
    assert math.isfinite(result.metrics["test_loss"])


def test_early_stop_from_a_callback():
    class StopAfterFive(Callback):
        def on_batch_end(self, state, indices, losses):
            if state.step == 5:
                state.stop = True

    result = SupervisedTraining(epochs=10, hidden=(8,), batch_size=16).run(Iris(), callbacks=[StopAfterFive()])
    assert result.info["steps"] == 5 and result.history["epoch"] == [1.0]


def test_stop_at_an_epoch_end_is_evaluated_even_between_evaluations():
    class StopAtEpochTwo(Callback):
        def on_epoch_end(self, state):
            if state.epoch == 1:
                state.stop = True

    result = SupervisedTraining(epochs=10, eval_every=10, hidden=(8,), batch_size=16).run(
        Iris(), callbacks=[StopAtEpochTwo()])
    assert result.history["epoch"] == [2.0] and result.metrics["test_accuracy"] == result.history["test_accuracy"][-1]


class Crash(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_start(self, state, indices):
        if state.epoch == self.epoch:
            raise KeyboardInterrupt("simulated crash")


@pytest.mark.parametrize("config", [
    {"hidden": (32,)},  # SGD, Nesterov, cosine schedule
    {"model_options": {"hidden": [32], "dropout": 0.3}, "optimizer": "adam", "lr": 1e-3,  # dropout: global RNG
     "schedule": "multistep", "milestones": (2,)},
], ids=["sgd-cosine", "adam-dropout-multistep"])
def test_resume_from_a_checkpoint_is_bit_identical(tmp_path, config):
    task = MNIST1D(num_samples=400, label_noise=0.1)
    common = dict(epochs=4, batch_size=64, **config)
    full = SupervisedTraining(**common).run(task, seed=5)
    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        SupervisedTraining(**common, checkpoint_every=1).run(task, seed=5, checkpoint=path, callbacks=[Crash(2)])
    torch.manual_seed(123)  # the resumed run must not depend on the global RNG state it starts in
    resumed = SupervisedTraining(**common, checkpoint_every=1).run(task, seed=5, checkpoint=path)
    assert resumed.info["resumed_from_epoch"] == 2
    for p, q in zip(full.models["model"].state_dict().values(), resumed.models["model"].state_dict().values(), strict=True):
        assert torch.equal(p, q)
    assert full.metrics == resumed.metrics and full.history == resumed.history
    with pytest.raises(ValueError, match="different configuration"):
        SupervisedTraining(**{**common, "lr": 0.5}).run(task, seed=5, checkpoint=path)
    with pytest.raises(ValueError, match="seed"):
        SupervisedTraining(**common).run(task, seed=6, checkpoint=path)


def test_nan_loss_stops_with_the_step():
    x = Iris().split("train")

    class Poison(Callback):
        def on_batch_start(self, state, indices):
            if state.step == 3:
                with torch.no_grad():
                    state.model.head.weight.fill_(float("nan"))

    with pytest.raises(NonFiniteLossError, match="step 3"):
        SupervisedTraining(epochs=2, hidden=(8,), batch_size=16).run(Iris(), callbacks=[Poison()])
    assert len(x) == 112


def test_model_by_name_and_by_factory():
    task = MNIST1D(num_samples=300)
    cnn = SupervisedTraining(model="cnn", model_options={"channels": [4, 4, 4]}, epochs=1).run(task)
    assert type(cnn.models["model"]).__name__ == "CNN"
    made = SupervisedTraining(epochs=1).run(task, model=lambda d, c: nn.Linear(d, c))
    assert isinstance(made.models["model"], nn.Linear)
    seq = SupervisedTraining(epochs=1, batch_size=16, optimizer="adam", lr=1e-2, schedule="constant").run(
        Copying(length=3, delay=4, num_train=64, num_test=16), model=_PerStep(10))
    assert 0.0 <= seq.metrics["test_accuracy"] <= 1.0


class _PerStep(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.linear = nn.Linear(classes, classes)

    def forward(self, x):
        return self.linear(x)


def test_paired_methods_share_initialisation():
    one = {"epochs": 1, "hidden": (8,), "lr": 1e-12, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    a = SupervisedTraining(**one).run(Iris(), seed=3).models["model"]
    b = SupervisedTraining(**one, grad_clip=1.0).run(Iris(), seed=3).models["model"]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-9, rtol=0)


def test_clear_errors():
    with pytest.raises(etude.ConfigError, match="momentum"):
        SupervisedTraining(momentum=0.0)
    with pytest.raises(etude.ConfigError, match="hidden"):
        SupervisedTraining(hidden=(4,), model_options={"hidden": [4]})
    with pytest.raises(ValueError, match="mse"):
        SupervisedTraining(epochs=1).run(SineRegression())
    with pytest.raises(TypeError, match="Callback"):
        SupervisedTraining(epochs=1).run(Iris(), callbacks=[object()])
    with pytest.raises(TypeError, match="model"):
        SupervisedTraining(epochs=1).run(Iris(), model=3)
    with pytest.raises(ValueError, match="unused"):
        SupervisedTraining(epochs=1, hidden=(4,)).run(Iris(), model=nn.Linear(4, 3))
    with pytest.raises(ValueError, match="augmenter_options"):
        SupervisedTraining(augmenter_options={"alpha": 1.0}).make_augmenter()


def test_rmsprop_is_torch_rmsprop_with_alpha():
    """optimizer='rmsprop' builds torch's RMSprop with the configured alpha, lr and no momentum, and trains."""
    from etude.data.supervised import _optimiser

    config = SupervisedTraining(optimizer="rmsprop", lr=1e-3, alpha=0.9, weight_decay=0.0).config
    opt = _optimiser(config, nn.Linear(3, 2))
    assert isinstance(opt, torch.optim.RMSprop)
    group = opt.param_groups[0]
    assert (group["lr"], group["alpha"], group["momentum"]) == (1e-3, 0.9, 0)
    result = SupervisedTraining(optimizer="rmsprop", lr=1e-3, epochs=1, batch_size=16, schedule="constant",
                                grad_clip=1.0).run(Copying(length=3, delay=4, num_train=64, num_test=16),
                                                   model=_PerStep(10))
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
    with pytest.raises(Exception, match="alpha"):
        SupervisedTraining(optimizer="rmsprop", alpha=1.5)


def test_loss_scale_attribute_scales_the_backward_loss_only():
    """A model's ``loss_scale`` multiplies the back-propagated loss: SGD with lr and scale s == SGD with lr * s
    (no momentum, no decay), and the recorded training loss is unscaled."""
    import torch
    from torch import nn

    from etude.data import Iris, SupervisedTraining

    class Scaled(nn.Module):
        def __init__(self, scale):
            super().__init__()
            torch.manual_seed(0)
            self.net = nn.Linear(4, 3)
            self.loss_scale = scale

        def forward(self, x):
            return self.net(x)

    def train(lr, scale):
        proc = SupervisedTraining(epochs=2, lr=lr, momentum=0.0, nesterov=False, weight_decay=0.0,
                                  schedule="constant", batch_size=None)
        model = Scaled(scale)
        result = proc.run(Iris(), seed=0, model=model)
        return model.net.weight.detach(), result.history["train_loss"]

    w_scaled, loss_scaled = train(0.1, 0.25)
    w_plain, loss_plain = train(0.025, 1.0)
    torch.testing.assert_close(w_scaled, w_plain, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(torch.tensor(loss_scaled), torch.tensor(loss_plain), rtol=1e-6, atol=1e-7)
    assert not torch.allclose(w_scaled, train(0.1, 1.0)[0])
    with pytest.raises(ValueError, match="loss_scale"):
        train(0.1, -1.0)


def test_weight_decay_with_a_loss_scale_is_an_error():
    from torch import nn

    from etude.config import FieldValueError
    from etude.data import Iris, SupervisedTraining

    model = nn.Linear(4, 3)
    model.loss_scale = 0.01
    with pytest.raises(FieldValueError, match="weight_decay"):
        SupervisedTraining(epochs=1, weight_decay=1e-4).run(Iris(), model=model)


def test_fork_from_a_checkpoint_under_a_model_transform(tmp_path):
    """init_from loads a checkpoint's weights into a fresh run; model_transform wraps the model before training."""
    import torch
    from torch import nn

    from etude.data import Iris, SupervisedTraining

    path = tmp_path / "base.pt"
    proc = SupervisedTraining(epochs=2, hidden=(8,))
    base = proc.run(Iris(), seed=0, checkpoint=path).models["model"]

    class Start(Callback):
        def on_train_start(self, state):
            self.model = state.model
            self.weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}

    class Wrap(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    start = Start()
    result = SupervisedTraining(epochs=1, hidden=(8,)).run(Iris(), seed=3, init_from=path, model_transform=Wrap,
                                                          callbacks=[start])
    assert isinstance(start.model, Wrap) and result.models["model"] is start.model
    for key, value in base.state_dict().items():
        assert torch.equal(start.weights[f"inner.{key}"], value), key
    # forked from trained weights, the run starts far better than from scratch
    scratch = SupervisedTraining(epochs=1, hidden=(8,)).run(Iris(), seed=3)
    assert result.history["train_loss"][0] < scratch.history["train_loss"][0]
    with pytest.raises(ValueError, match="do not fit the model"):
        SupervisedTraining(epochs=1, hidden=(16,)).run(Iris(), init_from=path)
    with pytest.raises(TypeError, match="model_transform must return"):
        SupervisedTraining(epochs=1, hidden=(8,)).run(Iris(), model_transform=lambda m: 3)
