"""Meta-RIMs procedure: which parameters each loop moves, in every mode; determinism (conformance)."""

from __future__ import annotations

import pytest
import torch

from etude.testing.conformance import ProcedureConformance

from etude_meta_rims.models import RIMs
from etude_meta_rims.procedure import MetaRIMs, module_usage
from etude_meta_rims.tasks import SparseChange

TINY = {"hidden_size": 4, "num_modules": 4, "active": 1, "dropout": 0.0,
        "cell_options": {"input_embed_dim": 8, "comm_embed_dim": 8, "input_dropout": 0.0, "comm_dropout": 0.0}}


class TestMetaRIMsConformance(ProcedureConformance):
    component = ("procedure", "meta-rims")

    def make_procedure(self):
        return self.create(meta_steps=3, adapt_steps=2, batch_size=4, model_options=TINY)

    def make_task(self):
        return SparseChange(num_train_tasks=2, num_test_tasks=2, examples_per_task=8, length=3)


def _model():
    torch.manual_seed(0)
    return RIMs(input_size=8, output_size=1, **TINY)


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _batch():
    task = SparseChange(num_train_tasks=1, num_test_tasks=1, examples_per_task=4, length=1)
    split = task.split("train")
    return split.inputs[:1], split.targets[:1]  # one example, one step: exactly one module is active


@pytest.mark.parametrize("fast", ["modules", "attention", "all"])
def test_inner_and_outer_steps_move_exactly_their_groups(fast):
    model = _model()
    proc = MetaRIMs(fast=fast, inner_lr=0.5)
    x, y = _batch()
    usage = module_usage(model, x)
    assert int(usage.sum()) == 1
    theta, phi, other = model.module_parameters(), model.attention_parameters(), model.other_parameters()
    before = [_snapshot(g) for g in (theta, phi, other)]
    proc.inner_step(model, x, y)
    after = [_snapshot(g) for g in (theta, phi, other)]
    moved = [[not torch.equal(a, b) for a, b in zip(ga, gb, strict=True)] for ga, gb in zip(before, after, strict=True)]
    if fast == "modules":
        assert not any(moved[1]) and not any(moved[2])  # φ and the readout untouched
        for p0, p1 in zip(before[0], after[0], strict=True):  # θ: the active module's rows move, the others do not
            assert torch.equal(p0[~usage], p1[~usage])
        # (weight_hh gets no gradient at t = 0, where h = 0; the input weights and biases do)
        assert any(not torch.equal(p0[usage], p1[usage]) for p0, p1 in zip(before[0], after[0], strict=True))
    elif fast == "attention":
        assert not any(moved[0]) and not any(moved[2]) and any(moved[1])
    else:
        assert any(moved[0]) and any(moved[1]) and any(moved[2])
    # outer step: moves the slow group only
    opt = proc.slow_optimizer(model)
    proc.outer_step(model, x, y, opt)
    final = [_snapshot(g) for g in (theta, phi, other)]
    moved = [[not torch.equal(a, b) for a, b in zip(ga, gb, strict=True)] for ga, gb in zip(after, final, strict=True)]
    if fast == "modules":
        assert not any(moved[0]) and any(moved[1]) and any(moved[2])
    elif fast == "attention":
        assert not any(moved[1]) and any(moved[0]) and any(moved[2])
    else:
        assert any(moved[0]) and any(moved[1])


def test_without_masking_never_active_rows_still_get_no_gradient_but_masking_is_explicit():
    model = _model()
    proc = MetaRIMs(fast="modules", inner_lr=0.5, mask_inactive=False)
    x, y = _batch()
    usage = module_usage(model, x)
    before = _snapshot(model.module_parameters())
    proc.inner_step(model, x, y)
    for p0, p in zip(before, model.module_parameters(), strict=True):
        assert torch.equal(p0[~usage], p.detach()[~usage])  # blocked gradients already give exactly 0


def test_second_order_outer_gradient_crosses_the_inner_step():
    x, y = _batch()
    results = {}
    for second in (False, True):
        model = _model()
        proc = MetaRIMs(fast="modules", inner_lr=0.5, second_order=second, clip_norm=0.0)
        opt = torch.optim.SGD(proc.slow_optimizer(model).param_groups[0]["params"], lr=1.0)
        proc.meta_step(model, (x, y), (x, y), opt)
        results[second] = (_snapshot(model.module_parameters()), _snapshot(model.attention_parameters()))
    # same inner update of θ either way, different φ update (the second-order term)
    for a, b in zip(results[False][0], results[True][0], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert any(not torch.allclose(a, b, atol=1e-7) for a, b in zip(results[False][1], results[True][1], strict=True))


def test_run_reports_adaptation_area_and_rejects_models_without_groups():
    task = SparseChange(num_train_tasks=2, num_test_tasks=2, examples_per_task=8, length=3)
    result = MetaRIMs(meta_steps=4, adapt_steps=3, batch_size=4, model_options=TINY).run(task, seed=1)
    curve = result.history["adapt_curve"]
    assert len(curve) == 4 and len(result.history["train_loss"]) == 4
    area = sum(curve[1:]) / 3 / curve[0]
    per_task = result.history["adapt_area_per_task"]
    assert result.metrics["adaptation_area"] == pytest.approx(sum(per_task) / len(per_task))
    assert area > 0
    with pytest.raises(TypeError, match="module_parameters"):
        MetaRIMs(meta_steps=1, adapt_steps=0).run(task, model=torch.nn.GRU(8, 1, batch_first=True))
