"""Rule tasks (seeds, OoD split), the four networks (routing, shapes, gradients) and every claim at smoke scale."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.claims import run_claim
from etude.testing.conformance import ModelConformance, TaskConformance

from etude_modularity.models import GTModular, Modular, ModularOp, Monolithic
from etude_modularity.tasks import RuleClassification, RuleRegression


# -- tasks ------------------------------------------------------------------------------
class TestRuleRegressionConformance(TaskConformance):
    component = ("task", "rule-regression")

    def make_task(self, seed):
        return self.create(seed=seed, num_train=64, num_test=32, num_ood=32)


class TestRuleClassificationConformance(TaskConformance):
    component = ("task", "rule-classification")

    def make_task(self, seed):
        return self.create(seed=seed, num_train=64, num_test=32, num_ood=32)


def test_targets_follow_the_rules_and_info_holds_the_rule():
    task = RuleRegression(rules=5, num_train=200)
    split = task.split("train")
    a, b, rule = split.inputs[:, 0].double(), split.inputs[:, 1].double(), split.info["rule"]
    assert torch.equal(split.inputs[:, 2:].argmax(1), rule) and set(rule.tolist()) == set(range(5))
    alpha, beta = task.coefficients()
    torch.testing.assert_close(split.targets[:, 0].double(), alpha[rule] * a + beta[rule] * b, atol=1e-5, rtol=0)
    cls = RuleClassification(rules=5, num_train=200).split("train")
    assert torch.equal(cls.targets, (split.targets[:, 0] >= 0).long())


def test_data_v1_rules():
    split = RuleRegression(rules=5, version="data_v1", num_train=300).split("train")
    a, b, r = split.inputs[:, 0].double(), split.inputs[:, 1].double(), split.info["rule"]
    expected = torch.stack([a + b, a - b, a * b, torch.minimum(a, b), torch.maximum(a, b)], 1)[torch.arange(300), r]
    torch.testing.assert_close(split.targets[:, 0].double(), expected, atol=1e-5, rtol=0)
    with pytest.raises(etude.ConfigError, match="rules"):
        RuleRegression(rules=6, version="data_v1")


def test_coefficients_belong_to_the_data_seed():
    a0, b0 = RuleRegression(seed=0).coefficients()
    a1, _ = RuleRegression(seed=1).coefficients()
    assert not torch.equal(a0, a1)
    # the model seed (global RNG) does not enter the data
    torch.manual_seed(123)
    first = RuleRegression(seed=0).split("train")
    torch.manual_seed(456)
    second = RuleRegression(seed=0).split("train")
    assert torch.equal(first.inputs, second.inputs) and torch.equal(first.targets, second.targets)
    assert torch.equal(RuleRegression(seed=0).coefficients()[1], b0)


def test_ood_split_rescales_inputs_only():
    task = RuleRegression(rules=4, num_test=500, num_ood=500)
    test, ood = task.split("test"), task.split("ood")
    assert float(ood.inputs[:, :2].std()) == pytest.approx(2 * float(test.inputs[:, :2].std()), rel=0.15)
    # same one-hot layout, targets recomputed from the scaled inputs
    assert torch.equal(ood.inputs[:, 2:].sum(1), torch.ones(500))
    a, b = ood.inputs[:, 0].double(), ood.inputs[:, 1].double()
    alpha, beta = task.coefficients()
    r = ood.info["rule"]
    torch.testing.assert_close(ood.targets[:, 0].double(), alpha[r] * a + beta[r] * b, atol=1e-5, rtol=0)
    # stream-level check: the ood sample is exactly the same draw as an in-distribution one, x ood_scale
    same = task.sample(10, ood=False, stream=2)
    torch.testing.assert_close(task.sample(10, ood=True, stream=2).inputs[:, :2], 2 * same.inputs[:, :2])


# -- models -----------------------------------------------------------------------------
class _RuleModelSuite(ModelConformance):
    def make_model(self):
        return self.create(rules=3, encoder_dim=4)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        x = RuleRegression(rules=3, num_train=6).split("train").inputs
        return (x.to(dtype=dtype, device=device),)


class TestMonolithicConformance(_RuleModelSuite):
    component = ("model", "monolithic")


class TestModularConformance(_RuleModelSuite):
    component = ("model", "modular")


class TestModularOpConformance(_RuleModelSuite):
    component = ("model", "modular-op")


class TestGTModularConformance(_RuleModelSuite):
    component = ("model", "gt-modular")


def test_gt_routing_is_the_op_one_hot():
    x = RuleRegression(rules=4, num_train=50).split("train").inputs
    _, p = GTModular(rules=4, encoder_dim=8)(x, return_routing=True)
    assert torch.equal(p, x[:, 2:])


def test_modular_op_routing_ignores_a_and_b():
    x = RuleRegression(rules=4, num_train=50).split("train").inputs
    y = x.clone()
    y[:, :2] = torch.randn(50, 2)
    net = ModularOp(rules=4, encoder_dim=8)
    assert torch.equal(net(x, return_routing=True)[1], net(y, return_routing=True)[1])
    joint = Modular(rules=4, encoder_dim=8)
    assert not torch.allclose(joint(x, return_routing=True)[1], joint(y, return_routing=True)[1])


def test_shapes_parameter_counts_and_gradients():
    x = RuleRegression(rules=4, num_train=16).split("train").inputs
    counts = {}
    for cls in (Monolithic, Modular, ModularOp, GTModular):
        net = cls(rules=4, encoder_dim=32)
        y, p = net(x, return_routing=True)
        assert y.shape == (16, 1)
        assert (p is None) == (cls is Monolithic)
        y.sum().backward()
        assert all(q.grad is not None and torch.isfinite(q.grad).all() for q in net.parameters())
        counts[cls.__name__] = net.num_parameters()
    # the official widths (d // R per module) keep the counts within 25% of each other
    assert max(counts.values()) / min(counts.values()) < 1.25, counts
    assert Modular(rules=4, encoder_dim=4, out_features=2)(x).shape == (16, 2)


def test_model_errors():
    with pytest.raises(ValueError, match=r"2 \+ rules"):
        Modular(rules=4, encoder_dim=4)(torch.randn(3, 5))
    with pytest.raises(etude.ConfigError, match="in_features"):
        Modular(rules=4, in_features=7)
    with pytest.raises(ValueError, match="for GT-Modular"):
        GTModular(rules=4, modules=8)


# -- claims -----------------------------------------------------------------------------
@pytest.mark.parametrize("claim_id", ["modularity/ood-benefit-needs-specialisation",
                                      "modularity/end-to-end-fails-to-specialise",
                                      "modularity/benefit-grows-with-rules"])
def test_claims_at_smoke(claim_id, tmp_path):
    outcome = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert outcome.error is None, outcome.error
    assert outcome.holds is None
    if claim_id.endswith("specialise"):
        assert 0.0 <= outcome.metrics["inverse_mi_gt-modular"][0] < 0.01  # GT routing is specialised by construction
        assert outcome.metrics["alignment_gt-modular"][0] == pytest.approx(0.0, abs=1e-9)
    if claim_id.endswith("specialisation"):
        assert all(v > 0 for v in outcome.metrics["ood_l1_monolithic"])
        # smoke runs the MHA and RNN families too (as full does), each judged on its own
        assert set(outcome.metrics["holds_by_family"]) == {"mlp", "mha", "rnn"}
        for family in ("mha", "rnn"):
            fam = outcome.metrics[family]
            assert fam["setting"]["family"] == family
            assert all(v > 0 for m in ("monolithic", "modular", "gt-modular") for v in fam[f"ood_l1_{m}"])
