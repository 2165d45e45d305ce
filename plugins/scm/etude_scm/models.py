"""Ready-made random SCMs, each drawn from its family by a seed on any skeleton.

================================  =====================================================================
``model/linear-gaussian-scm``     ``X_i := w . PA_i + U_i``, weights ``±U(0.5, 2)``, noise scales ``U(0.5, 1.5)``
``model/categorical-scm``         ``K`` categories, every table row ``~ Dirichlet(1)`` (``"A->B"``: meta-transfer's SCM)
``model/spline-scm``              ``B := spline(A) + N(0, 1)``, anchors on ``[-span, span]`` (span 8, 10 anchors)
``model/categorical-mlp-scm``     the chemistry environment: one-hot parents -> MLP -> colour
================================  =====================================================================

Each is an :class:`~etude_scm.scm.SCM` with a validated config (``graph``:
a skeleton name, an edge list like ``"0->{1-3},2->4"`` or ``"A->B"``, or
``"random"`` with ``num_nodes`` and ``edge_prob``; ``seed``). The graph is
drawn first, then each node's mechanism in index order, from
``torch.Generator().manual_seed(seed)``. The ``create_*`` functions build the
same SCMs from a graph and a generator, for library use.

References:
    B. Schölkopf et al. "Toward Causal Representation Learning". Proc. IEEE,
    2021. arXiv:2102.11107. Y. Bengio, T. Deleu, N. Rahaman, R. Ke, S.
    Lachapelle, O. Bilaniuk, A. Goyal, C. Pal. "A Meta-Transfer Objective for
    Learning to Disentangle Causal Mechanisms". ICLR 2020. arXiv:1901.10912
    (the categorical and spline SCMs). N. R. Ke et al. "Systematic Evaluation
    of Causal Discovery in Visual Model Based Reinforcement Learning". NeurIPS
    Datasets and Benchmarks 2021. arXiv:2107.00848 (the chemistry SCM).

Example:
    >>> import etude
    >>> scm = etude.create("model", "categorical-scm", graph="A->B", num_categories=4, seed=0)
    >>> scm.nodes, tuple(scm.mechanisms["B"].logits.shape)
    (('A', 'B'), (4, 4))
"""

from __future__ import annotations

import torch

from etude.config import FieldValueError, configclass, field, in_range, positive

from .graphs import CausalGraph, random_dag, skeleton
from .mechanisms import CategoricalMLP, CategoricalTable, CubicSpline, LinearGaussian
from .scm import SCM

__all__ = [
    "CategoricalMLPSCM",
    "CategoricalMLPSCMConfig",
    "CategoricalSCM",
    "CategoricalSCMConfig",
    "LinearGaussianSCM",
    "LinearGaussianSCMConfig",
    "SplineSCM",
    "SplineSCMConfig",
    "create_categorical_mlp_scm",
    "create_categorical_scm",
    "create_linear_gaussian_scm",
    "create_spline_scm",
    "resolve_graph",
]


def resolve_graph(graph, generator=None, num_nodes: int = 5, edge_prob: float | None = None) -> CausalGraph:
    """A :class:`CausalGraph` from a graph, a skeleton / edge-list string, or ``"random"``."""
    if isinstance(graph, CausalGraph):
        return graph
    if graph == "random":
        return random_dag(num_nodes, generator, edge_prob)
    return skeleton(graph)


def create_linear_gaussian_scm(graph="random", generator=None, *, num_nodes=5, edge_prob=None) -> SCM:
    """Linear-Gaussian SCM: weights ``±U(0.5, 2)`` (random sign), noise scales ``U(0.5, 1.5)``, bias 0."""
    g = resolve_graph(graph, generator, num_nodes, edge_prob)
    return SCM(g, {v: LinearGaussian.random(len(g.parents(v)), generator) for v in g.nodes})


def create_categorical_scm(graph="A->B", generator=None, *, num_categories=10, num_nodes=5, edge_prob=None) -> SCM:
    """Categorical SCM: every node has ``K`` categories and every table row is ``~ Dirichlet(1)``."""
    g = resolve_graph(graph, generator, num_nodes, edge_prob)
    mechs = {
        v: CategoricalTable(num_categories, (num_categories,) * len(g.parents(v)), generator=generator) for v in g.nodes
    }
    return SCM(g, mechs)


def create_spline_scm(
    graph="A->B", generator=None, *, span=8.0, num_anchors=10, noise=1.0, root_scale=2.0, num_nodes=5, edge_prob=None
) -> SCM:
    """Roots ``~ N(0, root_scale^2)``; every other node ``:= spline(parent) + N(0, noise^2)`` (one parent each)."""
    g = resolve_graph(graph, generator, num_nodes, edge_prob)
    mechs = {}
    for v in g.nodes:
        k = len(g.parents(v))
        if k == 0:
            mechs[v] = LinearGaussian((), 0.0, root_scale)
        elif k == 1:
            mechs[v] = CubicSpline.random(span, num_anchors, noise, generator)
        else:
            raise ValueError(f"spline-scm: node {v!r} has {k} parents {list(g.parents(v))}; a spline mechanism takes one")
    return SCM(g, mechs)


def create_categorical_mlp_scm(
    graph="random", generator=None, *, num_categories=5, hidden=None, gain=3.5, bias_range=2.1,
    deterministic=False, num_nodes=5, edge_prob=None,
) -> SCM:
    """Chemistry SCM: each node's colour ``= MLP(one-hot parent colours)``; hidden width ``4 x nodes`` by default."""
    g = resolve_graph(graph, generator, num_nodes, edge_prob)
    width = hidden or 4 * len(g)
    mechs = {
        v: CategoricalMLP(
            num_categories, len(g.parents(v)), width, gain=gain, bias_range=bias_range,
            deterministic=deterministic, generator=generator,
        )
        for v in g.nodes
    }
    return SCM(g, mechs)


def _graph_field(default: str):
    return field(default=default, doc="skeleton name, edge list ('0->{1-3}', 'A->B'), or 'random'")


def _at_least(low: int):
    """Validator: an integer >= ``low``."""

    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


def _optional_at_least(low: int):
    inner = _at_least(low)

    def check(instance, attribute, value):
        if value is not None:
            inner(instance, attribute, value)

    return check


def _optional_prob(instance, attribute, value):
    if value is not None:
        in_range(0.0, 1.0)(instance, attribute, value)


@configclass
class _RandomGraphFields:
    num_nodes: int = field(default=5, validator=_at_least(1), doc="nodes of a random graph (graph='random')")
    edge_prob: float | None = field(
        default=None, validator=_optional_prob, doc="P(j -> i) of a random graph; None: min(0.5 i, 5)/(i + 1)"
    )
    seed: int = field(default=0, doc="seed of the graph and the mechanisms")


@configclass
class LinearGaussianSCMConfig(_RandomGraphFields):
    graph: str = _graph_field("random")


@configclass
class CategoricalSCMConfig(_RandomGraphFields):
    graph: str = _graph_field("A->B")
    num_categories: int = field(default=10, validator=_at_least(2), doc="categories K of every node")


@configclass
class SplineSCMConfig(_RandomGraphFields):
    graph: str = _graph_field("A->B")
    span: float = field(default=8.0, validator=positive, doc="anchors on [-span, span], values ~ U(-span, span)")
    num_anchors: int = field(default=10, validator=_at_least(4), doc="spline anchors (a not-a-knot cubic needs 4)")
    noise: float = field(default=1.0, validator=positive, doc="scale of the additive Gaussian noise")
    root_scale: float = field(default=2.0, validator=positive, doc="roots ~ N(0, root_scale^2)")


@configclass
class CategoricalMLPSCMConfig(_RandomGraphFields):
    graph: str = _graph_field("random")
    num_categories: int = field(default=5, validator=_at_least(2), doc="colours K")
    hidden: int | None = field(
        default=None, validator=_optional_at_least(1), doc="hidden width; None: 4 x number of nodes (the reference)"
    )
    gain: float = field(default=3.5, validator=positive, doc="orthogonal-init gain of the MLP weights")
    bias_range: float = field(default=2.1, validator=positive, doc="biases ~ U(-bias_range, bias_range)")
    deterministic: bool = field(default=False, doc="argmax colour instead of a categorical draw")


class _RandomSCM(SCM):
    """An SCM drawn from a family by its config's seed (shared construction)."""

    Config = None
    _build = None

    def __init__(self, config=None, **overrides) -> None:
        torch.nn.Module.__init__(self)
        self._init_config(config, overrides)
        cfg = self.config
        generator = torch.Generator().manual_seed(int(cfg.seed))
        options = {k: getattr(cfg, k) for k in attrs_names(cfg) if k not in ("graph", "seed")}
        built = type(self)._build(cfg.graph, generator, **options)
        self._setup(built.mechanism_graph, dict(built.mechanisms.items()))


def attrs_names(cfg) -> list[str]:
    import attrs  # noqa: PLC0415

    return [a.name for a in attrs.fields(type(cfg))]


class LinearGaussianSCM(_RandomSCM):
    """A random linear-Gaussian SCM (weights ``±U(0.5, 2)``, noise scales ``U(0.5, 1.5)``) on any skeleton.

    ``X_i := sum_j w_ij X_j + U_i``, ``U_i ~ N(0, s_i^2)``, with ``|w_ij| ~ U(0.5, 2)``
    of random sign and ``s_i ~ U(0.5, 1.5)``; its joint is Gaussian in closed
    form (:func:`~etude_scm.linear.implied_gaussian`).

    References:
        B. Schölkopf et al. "Toward Causal Representation Learning". Proc. IEEE, 2021. arXiv:2102.11107.

    Example:
        >>> LinearGaussianSCM(graph="chain3", seed=0).sample(5)["X2"].shape
        torch.Size([5])
    """

    Config = LinearGaussianSCMConfig
    _build = staticmethod(create_linear_gaussian_scm)


class CategoricalSCM(_RandomSCM):
    """A random categorical SCM (tables with ``Dirichlet(1)`` rows); ``graph="A->B"`` is meta-transfer's.

    Every node has ``K`` categories; ``p(x_i | pa_i)`` is a table whose rows
    are drawn from a flat Dirichlet, sampled by inverse CDF.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
        Causal Mechanisms". ICLR 2020. arXiv:1901.10912.

    Example:
        >>> CategoricalSCM(num_categories=3, seed=0).sample(4)["B"].dtype
        torch.int64
    """

    Config = CategoricalSCMConfig
    _build = staticmethod(create_categorical_scm)


class SplineSCM(_RandomSCM):
    """``B := spline(A) + N(0, 1)`` with a random not-a-knot cubic spline (span 8, 10 anchors).

    Anchors at ``linspace(-span, span, num_anchors)`` with values ``~ U(-span, span)``;
    roots ``~ N(0, root_scale^2)``; every non-root node has one parent.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
        Causal Mechanisms". ICLR 2020. arXiv:1901.10912 (continuous experiments).

    Example:
        >>> SplineSCM(seed=0).sample(3)["B"].shape
        torch.Size([3])
    """

    Config = SplineSCMConfig
    _build = staticmethod(create_spline_scm)


class CategoricalMLPSCM(_RandomSCM):
    """The chemistry environment's SCM: colours of objects on a random DAG, each an MLP of its parents'.

    Each node's colour is drawn from ``softmax(MLP(one-hot parent colours))``
    (orthogonal init, gain 3.5; biases ``U(-2.1, 2.1)``), or its argmax.

    References:
        N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual Model
        Based Reinforcement Learning". NeurIPS Datasets and Benchmarks, 2021. arXiv:2107.00848.

    Example:
        >>> CategoricalMLPSCM(num_nodes=4, seed=0).sample(2)["X3"].shape
        torch.Size([2])
    """

    Config = CategoricalMLPSCMConfig
    _build = staticmethod(create_categorical_mlp_scm)
