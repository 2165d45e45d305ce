"""SCM: coupling under do(), update, counterfactuals by hand, Pyro parity (pitfall 1), seeds, shifts."""

import contextlib
import math

import pyro
import pyro.poutine as poutine
import pytest
import torch

import etude
from etude.testing.conformance import ModelConformance, TaskConformance
from etude_scm import (
    SCM,
    AdditiveNoise,
    CategoricalTable,
    CausalGraph,
    CounterfactualError,
    LinearGaussian,
    create_linear_gaussian_scm,
    sparse_mechanism_shift,
)

# log_prob keeps the graph for training; the tests read scalars from it directly
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")


@contextlib.contextmanager
def default_dtype(dtype):
    """Build mechanisms with exact float64 parameters (Python floats are stored in the default dtype)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _five_node(dtype=torch.float64):
    """W (isolated root), Z -> X -> Y <- Z (Y := Z - 2 X + 0.5 U), Y -> V."""
    g = CausalGraph(["W", "Z", "X", "Y", "V"], [("Z", "X"), ("Z", "Y"), ("X", "Y"), ("Y", "V")])
    with default_dtype(dtype):
        mechs = {
            "W": LinearGaussian((), 0.5, 1.0), "Z": LinearGaussian(), "X": LinearGaussian([0.8]),
            "Y": LinearGaussian([1.0, -2.0], 0.0, 0.5), "V": AdditiveNoise(torch.tanh, noise=0.3),
        }
    return SCM(g, mechs).to(dtype)


# -- coupling ---------------------------------------------------------------------------------------
def test_do_keeps_non_descendants_bitwise_and_changes_descendants():
    scm = _five_node()
    obs = scm.sample(1000, torch.Generator().manual_seed(0))
    do = scm.do(X=3.0).sample(1000, torch.Generator().manual_seed(0))
    for v in ("W", "Z"):
        assert torch.equal(obs[v], do[v]), v
    assert torch.equal(do["X"], torch.full((1000,), 3.0, dtype=torch.float64))
    for v in ("Y", "V"):
        assert float((obs[v] != do[v]).double().mean()) == 1.0, v


def test_sink_intervention_changes_one_node():
    scm = _five_node()
    obs = scm.sample(500, torch.Generator().manual_seed(1))
    do = scm.do(V=0.0).sample(500, torch.Generator().manual_seed(1))
    assert [v for v in scm.nodes if not torch.equal(obs[v], do[v])] == ["V"]


def test_update_touches_descendants_only():
    scm = _five_node()
    values = scm.sample(400, torch.Generator().manual_seed(2))
    new = scm.update(values, do={"X": -1.0}, generator=torch.Generator().manual_seed(3))
    assert torch.equal(new["W"], values["W"]) and torch.equal(new["Z"], values["Z"])
    assert (new["X"] == -1.0).all()
    assert bool((new["Y"] != values["Y"]).all()) and bool((new["V"] != values["V"]).all())
    # the descendants follow the intervened mechanisms: Y | Z, do(X=-1) has mean Z + 2, sd 0.5
    resid = (new["Y"] - (values["Z"] - 2.0 * -1.0)) / 0.5
    assert abs(float(resid.mean())) < 4 / math.sqrt(400) and abs(float(resid.std()) - 1) < 0.15


def test_do_makes_x_independent_of_its_former_parent():
    scm = _five_node()
    n = 20_000
    x = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    s = scm.do(X=x).sample(n, torch.Generator().manual_seed(4))
    obs = scm.sample(n, torch.Generator().manual_seed(4))
    corr = lambda a, b: float(torch.corrcoef(torch.stack([a, b]))[0, 1])  # noqa: E731
    assert abs(corr(s["X"], s["Z"])) < 4 / math.sqrt(n)
    assert corr(obs["X"], obs["Z"]) > 0.5  # 0.8 / sqrt(1.64) = 0.62 before the intervention


def test_seeds_reproduce_samples():
    scm = _five_node()
    a = scm.sample(50, torch.Generator().manual_seed(7))
    b = scm.sample(50, torch.Generator().manual_seed(7))
    c = scm.sample(50, torch.Generator().manual_seed(8))
    assert all(torch.equal(a[v], b[v]) for v in scm.nodes)
    assert not any(torch.equal(a[v], c[v]) for v in scm.nodes)
    s1 = etude.create("model", "linear-gaussian-scm", num_nodes=6, seed=3)
    s2 = etude.create("model", "linear-gaussian-scm", num_nodes=6, seed=3)
    assert s1.graph == s2.graph and all(
        torch.equal(p, q) for p, q in zip(s1.parameters(), s2.parameters())
    )


# -- counterfactuals ------------------------------------------------------------------------------------
def test_linear_counterfactual_closed_form():
    beta = 1.7
    g = CausalGraph(["X", "Y"], [("X", "Y")])
    with default_dtype(torch.float64):
        scm = SCM(g, {"X": LinearGaussian(), "Y": LinearGaussian([beta])})
    obs = scm.sample(100, torch.Generator().manual_seed(0))
    x_new = torch.linspace(-3, 3, 100, dtype=torch.float64)
    cf = scm.counterfactual(obs, do={"X": x_new})
    ref = obs["Y"] + beta * (x_new - obs["X"])
    assert float((cf["Y"] - ref).abs().max()) < 1e-12 and torch.equal(cf["X"], x_new)


def test_tanh_chain_counterfactual_by_hand():
    g = CausalGraph(["A", "B", "C"], [("A", "B"), ("B", "C")])
    with default_dtype(torch.float64):
        scm = SCM(g, {
            "A": LinearGaussian(), "B": AdditiveNoise(torch.tanh, noise=0.5),
            "C": AdditiveNoise(lambda b: torch.tanh(2 * b), noise=0.2),
        })
    obs = scm.sample(64, torch.Generator().manual_seed(1))
    a, b, c = obs["A"], obs["B"], obs["C"]
    a_new = 0.3
    b_new = math.tanh(a_new) + (b - torch.tanh(a))
    c_new = torch.tanh(2 * b_new) + (c - torch.tanh(2 * b))
    cf = scm.counterfactual(obs, do={"A": a_new})
    assert float((cf["B"] - b_new).abs().max()) < 1e-12 and float((cf["C"] - c_new).abs().max()) < 1e-12
    cf_b = scm.counterfactual(obs, do={"B": 0.0})  # A is upstream: kept
    assert torch.equal(cf_b["A"], a)


def test_counterfactual_through_a_categorical_node_raises_naming_it():
    g = CausalGraph(["A", "B"], [("A", "B")])
    gen = torch.Generator().manual_seed(0)
    scm = SCM(g, {"A": CategoricalTable(3, generator=gen), "B": CategoricalTable(3, (3,), generator=gen)})
    obs = scm.sample(10, gen)
    with pytest.raises(CounterfactualError, match="node 'B' has a CategoricalTable"):
        scm.counterfactual(obs, do={"A": 1})
    assert torch.equal(scm.counterfactual(obs, do={"B": 2})["B"], torch.full((10,), 2))  # nothing downstream


# -- Pyro parity -----------------------------------------------------------------------------------------
def test_log_prob_equals_the_pyro_trace_of_the_conditioned_model():
    scm = _five_node()
    data = scm.sample(300, torch.Generator().manual_seed(5))
    tr = poutine.trace(pyro.condition(scm.model, data=data)).get_trace(300)
    assert float(scm.log_prob(data).sum()) == pytest.approx(float(tr.log_prob_sum()), abs=1e-10, rel=1e-12)
    cat = etude.create("model", "categorical-scm", graph="A->B", num_categories=4, seed=0).double()
    d2 = cat.sample(200, torch.Generator().manual_seed(0))
    tr2 = poutine.trace(pyro.condition(cat.model, data=d2)).get_trace(200)
    assert float(cat.log_prob(d2).sum()) == pytest.approx(float(tr2.log_prob_sum()), abs=1e-10, rel=1e-12)


def test_do_agrees_with_poutine_do_and_the_trace_pitfall():
    scm = _five_node()
    n, x = 20_000, 1.5
    ours = scm.do(X=x).sample(n, torch.Generator().manual_seed(6))
    pyro.set_rng_seed(0)
    xs = torch.full((n,), x, dtype=torch.float64)
    intervened = poutine.do(scm.model, data={"X": xs})
    tr = poutine.trace(intervened).get_trace(n)
    theirs = intervened(n)
    for v in ("Y", "V"):
        m1, m2 = ours[v].mean(), theirs[v].mean()
        v1, v2 = ours[v].var(), theirs[v].var()
        assert abs(float(m1 - m2)) < 4 * math.sqrt(float(v1 + v2) / n), v
        se_var = math.sqrt(2 / (n - 1)) * math.sqrt(float(v1**2 + v2**2))
        assert abs(float(v1 - v2)) < 4 * se_var, v
    # pitfall 1: the trace keeps a fresh sample site "X" whose value is not x ...
    assert not torch.allclose(tr.nodes["X"]["value"], xs)
    # ... so our interventional log_prob never sums that trace: it has no p(X | Z) term
    vals = scm.do(X=x).sample(50, torch.Generator().manual_seed(7))
    N = torch.distributions.Normal
    by_hand = (N(0.5, 1.0).log_prob(vals["W"]) + N(0.0, 1.0).log_prob(vals["Z"])
               + N(vals["Z"] - 2.0 * x, 0.5).log_prob(vals["Y"]) + N(torch.tanh(vals["Y"]), 0.3).log_prob(vals["V"]))
    torch.testing.assert_close(scm.do(X=x).log_prob(vals), by_hand, rtol=1e-12, atol=1e-12)
    assert torch.isinf(scm.do(X=x).log_prob({**vals, "X": vals["X"] + 1})).all()


def test_soft_interventions_share_untouched_mechanisms():
    scm = _five_node()
    shifted = scm.shift_noise("Y", 2.0)
    assert shifted.mechanisms["X"] is scm.mechanisms["X"] and shifted.mechanisms["Y"] is not scm.mechanisms["Y"]
    assert float(shifted.mechanisms["Y"].scale) == pytest.approx(2.0)
    replaced = scm.replace_mechanism("X", LinearGaussian([-1.0]).double())
    assert replaced.mechanisms["Z"] is scm.mechanisms["Z"] and float(replaced.mechanisms["X"].weight[0]) == -1.0
    with pytest.raises(TypeError, match="shift_noise\\('Z'\\)"):
        SCM(CausalGraph(["Z"]), {"Z": CategoricalTable(2)}).shift_noise("Z", 1.0)


def test_sparse_mechanism_shift_changes_exactly_k():
    scm = create_linear_gaussian_scm("random", torch.Generator().manual_seed(0), num_nodes=8)
    for k in (0, 1, 3, 8):
        new, nodes = sparse_mechanism_shift(scm, k, torch.Generator().manual_seed(k))
        changed = [v for v in scm.nodes if new.mechanisms[v] is not scm.mechanisms[v]]
        assert changed == list(nodes) and len(nodes) == k
        for v in nodes:
            assert not torch.equal(new.mechanisms[v].log_scale, scm.mechanisms[v].log_scale)
    with pytest.raises(ValueError, match="'k' must be an integer in \\[0, 8\\]"):
        sparse_mechanism_shift(scm, 9)


def test_scm_errors():
    g = CausalGraph(["A", "B"], [("A", "B")])
    with pytest.raises(Exception, match="mechanism of 'B' takes 0 parent"):
        SCM(g, {"A": LinearGaussian(), "B": LinearGaussian()})
    scm = SCM(g, {"A": LinearGaussian(), "B": LinearGaussian([1.0])})
    with pytest.raises(Exception, match="unknown intervened node 'C'"):
        scm.do(C=1.0)
    with pytest.raises(ValueError, match=r"do\(A=...\) value has shape \(3,\)"):
        scm.do(A=torch.zeros(3)).sample(5)
    with pytest.raises(KeyError, match="lacks node"):
        scm.log_prob({"A": torch.zeros(2)})
    with pytest.raises(ValueError, match="NaN or inf"):
        scm.log_prob({"A": torch.tensor([float("nan")]), "B": torch.zeros(1)})


# -- conformance -----------------------------------------------------------------------------------------------
class _SCMConformance(ModelConformance):
    options: dict = {}

    def make_model(self):
        return self.create(**self.options)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        scm = self.make_model().to(dtype).to(device)
        return (scm.sample(32, torch.Generator().manual_seed(0)),)


class TestLinearGaussianSCMConformance(_SCMConformance):
    component = ("model", "linear-gaussian-scm")
    options = {"graph": "jungle5", "seed": 1}


class TestCategoricalSCMConformance(_SCMConformance):
    component = ("model", "categorical-scm")
    options = {"graph": "chain3", "num_categories": 3, "seed": 1}


class TestSplineSCMConformance(_SCMConformance):
    component = ("model", "spline-scm")


class TestCategoricalMLPSCMConformance(_SCMConformance):
    component = ("model", "categorical-mlp-scm")
    options = {"num_nodes": 5, "seed": 2}


class TestSCMShiftTaskConformance(TaskConformance):
    component = ("task", "scm-shift")

    def make_task(self, seed):
        return self.create(num_nodes=4, num_train=64, num_test=32, seed=seed)


def test_scm_shift_task_ood_moves_only_after_the_shift():
    task = etude.create("task", "scm-shift", graph="chain3", target="X2", k=1, num_train=4000, num_test=4000, seed=0)
    train, test, ood = task.split("train"), task.split("test"), task.split("ood")
    assert train.info["features"] == ("X0", "X1") and ood.info["shifted"]
    assert abs(float(train.targets.var() / test.targets.var()) - 1) < 0.1
    cat = etude.create("task", "scm-shift", scm="categorical-scm", num_train=10, num_test=10)
    assert cat.num_classes == 10 and cat.split("train").targets.dtype == torch.int64
    with pytest.raises(Exception, match="'target' 'Q' is not a node"):
        etude.create("task", "scm-shift", graph="chain3", target="Q")


# -- GPU ------------------------------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_cuda_sample_log_prob_update_match_cpu_moments():
    scm = _five_node(torch.float32)
    n = 200_000
    cpu = scm.sample(n, torch.Generator().manual_seed(0))
    gpu_scm = _five_node(torch.float32).to("cuda")
    gpu = gpu_scm.sample(n, torch.Generator(device="cuda").manual_seed(0))
    assert gpu["Y"].device.type == "cuda"
    for v in scm.nodes:
        se = math.sqrt(2 * float(cpu[v].var()) / n)
        assert abs(float(cpu[v].mean()) - float(gpu[v].mean().cpu())) < 4 * se, v
    lp_cpu, lp_gpu = scm.log_prob(cpu).mean(), gpu_scm.log_prob(gpu).mean().cpu()
    assert abs(float(lp_cpu - lp_gpu)) < 4 * math.sqrt(2 * float(scm.log_prob(cpu).var()) / n)
    new = gpu_scm.update(gpu, do={"X": 1.0}, generator=torch.Generator(device="cuda").manual_seed(1))
    assert torch.equal(new["Z"], gpu["Z"]) and (new["X"] == 1.0).all()
    cat = etude.create("model", "categorical-mlp-scm", num_nodes=5, seed=0)
    c_cpu = cat.sample(n, torch.Generator().manual_seed(0))
    c_gpu = cat.to("cuda").sample(n, torch.Generator(device="cuda").manual_seed(0))
    for v in cat.nodes:
        f_cpu = torch.bincount(c_cpu[v], minlength=5).double() / n
        f_gpu = torch.bincount(c_gpu[v].cpu(), minlength=5).double() / n
        assert float((f_cpu - f_gpu).abs().max()) < 4 * math.sqrt(0.25 * 2 / n) + 1e-12, v


def test_vector_valued_nodes():
    g = CausalGraph(["A", "B"], [("A", "B")])
    with default_dtype(torch.float64):
        scm = SCM(g, {
            "A": AdditiveNoise(None, 1.0, num_parents=0, event_shape=(3,)),
            "B": AdditiveNoise(lambda a: 2 * a, 0.5, event_shape=(3,)),
        })
    s = scm.sample(6, torch.Generator().manual_seed(0))
    assert s["A"].shape == s["B"].shape == (6, 3)
    ref = (torch.distributions.Normal(0.0, 1.0).log_prob(s["A"]).sum(-1)
           + torch.distributions.Normal(2 * s["A"], 0.5).log_prob(s["B"]).sum(-1))
    torch.testing.assert_close(scm.log_prob(s), ref)
    tr = poutine.trace(pyro.condition(scm.model, data=s)).get_trace(6)
    assert float(tr.log_prob_sum()) == pytest.approx(float(ref.sum()), abs=1e-10)
    cf = scm.counterfactual(s, do={"A": torch.ones(3, dtype=torch.float64)})
    assert float((cf["B"] - (s["B"] + 2 * (1 - s["A"]))).abs().max()) < 1e-12


def test_config_errors_name_the_field():
    from etude.config import ConfigError

    with pytest.raises(ConfigError, match="'num_categories' must be an integer >= 2, got 1"):
        etude.create("model", "categorical-scm", num_categories=1)
    with pytest.raises(ConfigError, match="'num_anchors' must be an integer >= 4"):
        etude.create("model", "spline-scm", num_anchors=3)
    with pytest.raises(ValueError, match="node 'X2' has 2 parents"):
        etude.create("model", "spline-scm", graph="collider3")
