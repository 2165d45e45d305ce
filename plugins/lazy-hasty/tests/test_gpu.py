"""The CUDA path of the wrapper (its frozen copy moved by .cuda()), the difficulty scores, the callbacks and the CIFAR-10 fork protocol."""

import pytest
import torch

import etude
from etude.data import Digits, SupervisedTraining
from etude_lazy_hasty import AlphaScaled, GroupTracker, SignSimilarity, holdout_consistency

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_and_scores():
    task = Digits(train_size=300, label_noise=0.2)
    train = task.split("train")
    scores = holdout_consistency(train.inputs.cuda(), train.targets.cuda(), 10, models=4, steps=10)
    assert scores.device.type == "cuda"
    noisy = train.info["noisy"]
    model = AlphaScaled.wrap(etude.create("model", "mlp", in_features=64, out_features=10, hidden=[32]), 100.0)
    tracker, signs = GroupTracker({"noisy": noisy}), SignSimilarity(train.inputs[:50])
    SupervisedTraining(epochs=2, weight_decay=0.0).run(task, device="cuda", model=model, callbacks=[tracker, signs])
    assert model.w0.get_buffer(next(iter(dict(model.w0.named_buffers())))).device.type == "cuda"
    assert len(tracker.steps) > 2 and signs.similarity[-1] > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_frozen_copy_and_fork_protocol(tmp_path):
    import importlib.util
    import pathlib

    from etude_lazy_hasty.cifar import fork_protocol

    spec = importlib.util.spec_from_file_location("lazy_hasty_test_cifar", pathlib.Path(__file__).with_name("test_cifar.py"))
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    TINY, _write_folder = helpers.TINY, helpers._write_folder

    model = AlphaScaled.wrap(etude.create("model", "resnet18", width=2, norm="none"), 1e4).cuda()
    x = torch.randn(4, 3, 32, 32, device="cuda")
    assert model.initial_function(x).device.type == "cuda" and float(model(x).detach().abs().max()) == 0.0
    _write_folder(tmp_path)
    settings = {k: v for k, v in TINY.items() if k != "seeds"} | {"root": str(tmp_path)}
    out = fork_protocol(seed=0, device="cuda", **settings)
    assert set(out["forks"]) == {"0.12", "0.2"}
