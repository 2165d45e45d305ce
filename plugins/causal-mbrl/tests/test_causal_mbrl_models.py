"""World models: conformance, the grouped / batched transitions against loops, ranking metrics."""

import pytest
import torch

import etude
from etude.testing.conformance import ModelConformance

from etude_causal_mbrl import GroupedTransition, MLPTransition, TransitionGNN, ranking_metrics, ranks
from etude_causal_mbrl.models import ModularWorldModel

_SMALL = {"num_objects": 3, "action_dim": 4, "image_size": 20, "cell_size": 4, "hidden": 24, "embedding_dim": 3}


class _WorldModelSuite(ModelConformance):
    def make_model(self):
        return self.create(**_SMALL)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        g = torch.Generator().manual_seed(0)
        return (torch.rand(4, 3, 20, 20, generator=g).to(device=device, dtype=dtype),
                torch.tensor([0, 5, 11, 3], device=device))


class TestWorldModelAE(_WorldModelSuite):
    component = ("model", "world-model-ae")


class TestWorldModelVAE(_WorldModelSuite):
    component = ("model", "world-model-vae")


class TestWorldModelModular(_WorldModelSuite):
    component = ("model", "world-model-modular")


class TestWorldModelGNN(_WorldModelSuite):
    component = ("model", "world-model-gnn")

    def make_model(self):
        return self.create(**{**_SMALL, "encoder": "medium"})


def test_grouped_transition_equals_a_loop_of_per_object_mlps():
    torch.manual_seed(0)
    n, s, a, h, d = 5, 20, 25, 16, 4
    mlps = [MLPTransition(s, a, h, d).double() for _ in range(n)]
    for m in mlps:  # non-trivial layer-norm affine parameters
        for ln in (m.net[2], m.net[5]):
            torch.nn.init.normal_(ln.weight)
            torch.nn.init.normal_(ln.bias)
    grouped = GroupedTransition(n, s, a, h, d).double().load_from_mlps(mlps)
    state, action = torch.randn(7, s, dtype=torch.float64), torch.randn(7, a, dtype=torch.float64)
    loop = torch.stack([m(state, action) for m in mlps], 1)
    torch.testing.assert_close(grouped(state, action), loop, atol=1e-6, rtol=0)


def test_gnn_equals_a_loop_over_pairs():
    torch.manual_seed(0)
    n, d, a, h = 5, 3, 4, 8
    gnn = TransitionGNN(d, a, h).double()
    z, act = torch.randn(2, n, d, dtype=torch.float64), torch.randn(2, n, a, dtype=torch.float64)
    out = gnn(z, act)
    for b in range(2):
        for j in range(n):
            agg = sum(gnn.edge_mlp(torch.cat([z[b, i], z[b, j]])) for i in range(n) if i != j)
            ref = gnn.node_mlp(torch.cat([z[b, j], act[b, j], agg]))
            torch.testing.assert_close(out[b, j], ref, atol=1e-6, rtol=0)


def test_modular_transition_reads_every_slot_and_is_residual():
    torch.manual_seed(0)
    m = ModularWorldModel(**_SMALL).eval()
    z = torch.randn(2, 3, 3)
    a = torch.tensor([1, 7])
    delta = m.transition(z, a) - z
    torch.testing.assert_close(delta, m.transition_net(z.flatten(1), torch.nn.functional.one_hot(a, 12).float()))


def _brute_ranks(pred, target):
    n = pred.shape[0]
    out = []
    for i in range(n):
        own = float(((target[i] - pred[i]) ** 2).sum())
        out.append(sum(float(((target[i] - pred[j]) ** 2).sum()) < own for j in range(n)))
    return torch.tensor(out)


def test_ranks_equal_a_brute_force_loop_with_ties_and_duplicates():
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (40, 2, 2), generator=g).double()  # many duplicate next states
    pred = target + torch.randint(-1, 2, (40, 2, 2), generator=g).double()  # many exact ties
    torch.testing.assert_close(ranks(pred, target, chunk=7), _brute_ranks(pred.flatten(1), target.flatten(1)))
    r = _brute_ranks(pred.flatten(1), target.flatten(1)).double()
    m = ranking_metrics(pred, target)
    assert m["hits_at_1"] == pytest.approx(float((r == 0).double().mean()))
    assert m["mrr"] == pytest.approx(float((1 / (r + 1)).mean()))
    assert 0 < m["hits_at_1"] < 1


def test_perfect_and_shuffled_predictions():
    t = torch.randn(50, 3, 4)
    assert ranking_metrics(t.clone(), t) == {"hits_at_1": 1.0, "mrr": 1.0}
    m = ranking_metrics(t[torch.randperm(50)], t)
    assert m["hits_at_1"] < 0.2


def test_bad_inputs_are_named():
    m = etude.create("model", "world-model-ae", **_SMALL)
    with pytest.raises(ValueError, match=r"\(B, 3, 20, 20\)"):
        m(torch.rand(2, 3, 25, 25), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="action indices"):
        m(torch.rand(2, 3, 20, 20), torch.tensor([0, 12]))
    with pytest.raises(etude.config.ConfigError, match="image_size"):
        etude.create("model", "world-model-ae", image_size=21, cell_size=4)
    with pytest.raises(ValueError, match="same shape"):
        ranks(torch.zeros(3, 2), torch.zeros(4, 2))
