"""The CUDA path of the wrapper, the difficulty scores and the callbacks."""

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
