"""Structural causal models: sample, intervene, counterfact and score, in torch and as Pyro programs.

An :class:`SCM` is a :class:`~etude_scm.graphs.CausalGraph` plus one
mechanism per node, ``X_i := f_i(PA_i, U_i)`` with jointly independent
``U_i``. Sampling draws every node's noise first, from one
``torch.Generator``, in the graph's index order, then runs the mechanisms in
topological order; so an intervened SCM sampled from the same generator state
gives bitwise-equal values at every non-descendant of the intervened nodes.

Interventions make new SCMs that share the untouched mechanisms:
``do(X=x)`` (hard: the mutilated graph), :meth:`SCM.replace_mechanism` and
:meth:`SCM.shift_noise` (soft). :meth:`SCM.log_prob` is the truncated
factorisation ``sum_{i not in do} log p(x_i | pa_i)``, and ``forward`` is
``log_prob``, so an SCM with parameters is trained by maximising it.
:meth:`SCM.model` is the same SCM as a Pyro program for ``pyro.condition``,
``poutine.do`` and ``Predictive``; interventional values and likelihoods are
never read from a ``poutine.do`` trace (Pyro keeps a fresh sample site of the
intervened name there, whose value does not propagate).

References:
    B. Schölkopf, F. Locatello, S. Bauer, N. R. Ke, N. Kalchbrenner, A. Goyal,
    Y. Bengio. "Toward Causal Representation Learning". Proceedings of the
    IEEE, 2021. arXiv:2102.11107 (Sec. 3: SCMs, interventions, counterfactuals;
    Sec. 4: independent mechanisms and the sparse mechanism shift hypothesis).
    J. Pearl. "Causality", 2nd ed., Cambridge University Press, 2009 (the
    truncated factorisation; abduction-action-prediction).

Example:
    >>> import torch
    >>> from etude_scm import SCM, LinearGaussian, CausalGraph
    >>> g = CausalGraph(["Z", "X", "Y"], [("Z", "X"), ("Z", "Y"), ("X", "Y")])
    >>> scm = SCM(g, {"Z": LinearGaussian(), "X": LinearGaussian([1.0]), "Y": LinearGaussian([1.0, 1.0])})
    >>> s = scm.do(X=2.0).sample(4, generator=torch.Generator().manual_seed(0))
    >>> s["X"].tolist()
    [2.0, 2.0, 2.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyro
import torch
from torch import Tensor, nn

from etude.kinds import Model

from .graphs import CausalGraph, GraphError
from .mechanisms import AdditiveNoise, CounterfactualError, Mechanism, _float_dtype

__all__ = ["SCM"]


class SCM(Model):
    """A structural causal model over a :class:`CausalGraph`, one :class:`Mechanism` per node.

    Args:
        graph: the causal graph; ``graph.parents(v)`` are the inputs of ``v``'s
            mechanism, in index order.
        mechanisms: node name -> mechanism with ``num_parents == len(graph.parents(node))``.
        interventions: node -> value of hard interventions (normally made by :meth:`do`).

    Values are dicts ``{name: (n, *event_shape) tensor}``: float for
    continuous nodes, int64 for categorical ones.
    """

    Config = None

    def __init__(
        self,
        graph: CausalGraph,
        mechanisms: Mapping[str, Mechanism],
        *,
        interventions: Mapping[str, Any] | None = None,
    ) -> None:
        nn.Module.__init__(self)
        self.config = None
        self._setup(graph, mechanisms, interventions)

    def _setup(self, graph: CausalGraph, mechanisms: Mapping[str, Mechanism], interventions=None) -> None:
        if not isinstance(graph, CausalGraph):
            raise TypeError(f"'graph' must be a CausalGraph, got {type(graph).__name__}")
        missing = [v for v in graph.nodes if v not in mechanisms]
        extra = [v for v in mechanisms if v not in graph]
        if missing or extra:
            raise GraphError(f"mechanisms must cover exactly the graph's nodes; missing {missing}, unknown {extra}")
        for v in graph.nodes:
            m = mechanisms[v]
            if not isinstance(m, Mechanism):
                raise TypeError(f"mechanism of {v!r} must be an etude_scm Mechanism, got {type(m).__name__}")
            if m.num_parents != len(graph.parents(v)):
                raise GraphError(
                    f"mechanism of {v!r} takes {m.num_parents} parent(s) but {v!r} has parents {list(graph.parents(v))}"
                )
        self.mechanism_graph = graph
        self.mechanisms = nn.ModuleDict({v: mechanisms[v] for v in graph.nodes})
        self._do: dict[str, Any] = {}
        for v, value in dict(interventions or {}).items():
            graph._check_node(v, "intervened node")
            self._do[v] = value
        self.graph = graph.mutilate(self._do) if self._do else graph

    # -- graph queries -------------------------------------------------------------------
    @property
    def nodes(self) -> tuple[str, ...]:
        return self.graph.nodes

    @property
    def interventions(self) -> dict[str, Any]:
        """The hard interventions of this SCM, ``{node: value}``."""
        return dict(self._do)

    def parents(self, node: str) -> tuple[str, ...]:
        return self.graph.parents(node)

    def descendants(self, node: str) -> tuple[str, ...]:
        return self.graph.descendants(node)

    def ancestors(self, node: str) -> tuple[str, ...]:
        return self.graph.ancestors(node)

    def __repr__(self) -> str:
        do = f", do={sorted(self._do)}" if self._do else ""
        return f"{type(self).__name__}({self.graph!r}{do})"

    def extra_repr(self) -> str:
        return ""

    # -- helpers -------------------------------------------------------------------------------
    def _pa(self, v: str, values: Mapping[str, Tensor]) -> list[Tensor]:
        return [values[p] for p in self.mechanism_graph.parents(v)]

    def _intervention_value(self, v: str, n: int) -> Tensor:
        m = self.mechanisms[v]
        dtype = torch.long if m.discrete else _float_dtype(m)
        value = self._do[v]
        if isinstance(value, Tensor):
            value = value.to(device=_device_of(m), dtype=dtype)
        else:
            value = torch.as_tensor(value, dtype=dtype, device=_device_of(m))
        shape = m.event_shape
        if tuple(value.shape) == shape:
            return value.expand(n, *shape)
        if tuple(value.shape) == (n, *shape):
            return value
        raise ValueError(
            f"do({v}=...) value has shape {tuple(value.shape)}; expected {shape} (one value for every unit) "
            f"or {(n, *shape)} (one per unit)"
        )

    def _check_values(self, values: Mapping[str, Tensor], nodes: Sequence[str] | None = None) -> int:
        if not isinstance(values, Mapping):
            raise TypeError(f"'values' must be a dict {{node: tensor}}, got {type(values).__name__}")
        nodes = self.nodes if nodes is None else nodes
        missing = [v for v in nodes if v not in values]
        if missing:
            raise KeyError(f"'values' lacks node(s) {missing}; it must hold every node of {list(self.nodes)}")
        sizes = {v: int(values[v].shape[0]) for v in nodes}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"every node's values need the same first dimension n, got {sizes}")
        for v in nodes:
            t = values[v]
            if t.is_floating_point() and not torch.isfinite(t).all():
                raise ValueError(f"values of {v!r} contain NaN or inf")
        return next(iter(sizes.values()))

    def draw_noise(self, n: int, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Every node's exogenous noise for ``n`` units, drawn in index order from ``generator``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"'n' must be an integer >= 1, got {n!r}")
        return {v: self.mechanisms[v].noise(n, generator) for v in self.graph.nodes}

    def propagate(self, noise: Mapping[str, Tensor], fixed: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
        """Run the mechanisms in topological order on given noise; ``fixed`` nodes keep their values."""
        fixed = dict(fixed or {})
        n = int(next(iter(noise.values())).shape[0])
        values: dict[str, Tensor] = {}
        for v in self.graph.topological_order():
            if v in self._do:
                values[v] = self._intervention_value(v, n)
            elif v in fixed:
                values[v] = fixed[v]
            else:
                values[v] = self.mechanisms[v].sample(self._pa(v, values), noise[v])
        return {v: values[v] for v in self.graph.nodes}

    # -- sampling ---------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """``n`` joint samples ``{name: (n, *shape)}``: noise first (index order), then mechanisms.

        Runs without autograd; for samples differentiable in the mechanisms'
        parameters use ``scm.propagate(scm.draw_noise(n, generator))``.
        """
        return self.propagate(self.draw_noise(n, generator))

    def model(self, n: int = 1) -> dict[str, Tensor]:
        """This SCM as a Pyro program: each node a ``pyro.sample`` site in ``pyro.plate("units", n)``.

        Hard interventions of this SCM are ``pyro.deterministic`` sites (no
        log-density term). Use with ``pyro.condition``, ``poutine.do``,
        ``poutine.trace`` and ``pyro.infer.Predictive``.
        """
        values: dict[str, Tensor] = {}
        with pyro.plate("units", n):
            for v in self.graph.topological_order():
                if v in self._do:
                    values[v] = pyro.deterministic(v, self._intervention_value(v, n))
                else:
                    values[v] = pyro.sample(v, self.mechanisms[v].conditional(self._pa(v, values)))
        return {v: values[v] for v in self.graph.nodes}

    # -- likelihood --------------------------------------------------------------------------------------
    def log_prob(self, values: Mapping[str, Tensor]) -> Tensor:
        """Truncated factorisation ``sum_{i not intervened} log p(x_i | pa_i)``, shape ``(n,)``.

        Units whose intervened nodes differ from the intervention's value have
        probability 0 under this SCM (``-inf``).
        """
        n = self._check_values(values)
        total = None
        for v in self.graph.nodes:
            if v in self._do:
                continue
            lp = self.mechanisms[v].log_prob(values[v], self._pa(v, values))
            lp = lp.expand(n) if lp.ndim == 0 else lp
            total = lp if total is None else total + lp
        if total is None:
            total = torch.zeros(n, dtype=_float_dtype(self), device=_device_of(self))
        for v in self._do:
            target = self._intervention_value(v, n)
            mismatch = (values[v] != target).reshape(n, -1).any(-1)
            total = total.masked_fill(mismatch, float("-inf"))
        return total

    forward = log_prob

    # -- interventions -------------------------------------------------------------------------------------
    def _derive(self, mechanisms=None, interventions=None, graph=None) -> SCM:
        mechs = dict(self.mechanisms.items())
        mechs.update(mechanisms or {})
        return SCM(graph or self.mechanism_graph, mechs, interventions=self._do if interventions is None else interventions)

    def do(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> SCM:
        """Hard intervention ``do(X=x, ...)``: a new SCM on the mutilated graph sharing every mechanism.

        Values are scalars / event-shaped tensors (one value for all units) or
        ``(n, *shape)`` tensors. Either ``scm.do(X=1.0)`` or ``scm.do({"X": 1.0})``.
        """
        new = {**dict(values or {}), **kwargs}
        if not new:
            raise ValueError("do() needs at least one node=value pair, e.g. scm.do(X=1.0)")
        for v in new:
            self.mechanism_graph._check_node(v, "intervened node")
        return self._derive(interventions={**self._do, **new})

    def replace_mechanism(self, node: str, mechanism: Mechanism, parents: Sequence[str] | None = None) -> SCM:
        """Soft intervention: ``node``'s mechanism replaced (optionally with new parents); a hard
        intervention on ``node`` is lifted."""
        self.mechanism_graph._check_node(node)
        graph = self.mechanism_graph
        if parents is not None:
            keep = [(u, w) for u, w in graph.edges if w != node]
            graph = CausalGraph(graph.nodes, keep + [(p, node) for p in parents])
        do = {v: x for v, x in self._do.items() if v != node}
        return self._derive({node: mechanism}, interventions=do, graph=graph)

    def shift_noise(self, node: str, noise: Any) -> SCM:
        """Soft intervention on the noise of an additive-noise node: ``U_node`` gets a new scale / distribution."""
        self.mechanism_graph._check_node(node)
        m = self.mechanisms[node]
        if not isinstance(m, AdditiveNoise):
            raise TypeError(
                f"shift_noise({node!r}): its mechanism {type(m).__name__} has no additive noise; "
                "use replace_mechanism for other mechanisms"
            )
        return self._derive({node: m.with_noise(noise)})

    @torch.no_grad()
    def update(
        self,
        values: Mapping[str, Tensor],
        do: Mapping[str, Any],
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Apply ``do`` to existing ``values``: non-descendants kept, descendants re-drawn with fresh noise.

        This is the step of the chemistry environment (an intervention on one
        object recolours its descendants only). Noise is drawn for every node
        in index order from ``generator``; only the descendants use theirs.
        Runs without autograd, like :meth:`sample`.
        """
        if not do:
            raise ValueError("update() needs an intervention, e.g. update(values, do={'X1': 2})")
        n = self._check_values(values)
        scm = self.do(dict(do))
        redo = set(scm.graph.descendants_of(do)) | set(do)
        fixed = {v: values[v] for v in self.nodes if v not in redo}
        return scm.propagate(scm.draw_noise(n, generator), fixed=fixed)

    def abduct(self, values: Mapping[str, Tensor], nodes: Sequence[str] | None = None) -> dict[str, Tensor]:
        """Noise ``u_i = x_i - f_i(pa_i)`` of additive-noise ``nodes`` (default: all non-intervened)."""
        self._check_values(values)
        nodes = [v for v in self.nodes if v not in self._do] if nodes is None else list(nodes)
        out = {}
        for v in nodes:
            m = self.mechanisms[v]
            if not m.additive:
                raise CounterfactualError(
                    f"node {v!r} has a {type(m).__name__} mechanism, whose noise cannot be abducted; "
                    "counterfactuals by abduction are exact only for additive-noise mechanisms"
                )
            out[v] = m.abduct(values[v], self._pa(v, values))
        return out

    @torch.no_grad()
    def counterfactual(self, values: Mapping[str, Tensor], do: Mapping[str, Any]) -> dict[str, Tensor]:
        """Abduction-action-prediction: what ``values`` would have been under ``do``.

        The noise of every descendant of the intervened nodes is abducted
        (``u_i = x_i - f_i(pa_i)``; additive-noise mechanisms only: any other
        mechanism there raises :class:`CounterfactualError` naming the node),
        then the mechanisms are re-run under ``do``; other nodes keep their values.
        Runs without autograd (for a differentiable one: :meth:`abduct`, then
        ``self.do(...).propagate(noise, fixed=...)``).
        """
        if not do:
            raise ValueError("counterfactual() needs an intervention, e.g. counterfactual(values, do={'X': 1.0})")
        self._check_values(values)
        scm = self.do(dict(do))
        path = [v for v in scm.graph.descendants_of(do) if v not in scm._do]
        noise = self.abduct(values, path)
        fixed = {v: values[v] for v in self.nodes if v not in path and v not in scm._do}
        full_noise = {v: noise.get(v, values[v]) for v in self.nodes}
        return scm.propagate(full_noise, fixed=fixed)

    # -- learning ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def fit_mle(self, values: Mapping[str, Tensor], pseudo_count: float = 0.0) -> SCM:
        """Closed-form maximum likelihood of every non-intervened mechanism, in place.

        Categorical tables: counts (plus ``pseudo_count``); linear-Gaussian:
        least squares and the residual scale. Other mechanisms raise, naming
        the node (train them by maximising ``log_prob``). Mechanisms shared
        with SCMs derived from this one change there too.
        """
        from .mechanisms import CategoricalTable, LinearGaussian  # noqa: PLC0415

        self._check_values(values)
        for v in self.nodes:
            if v in self._do:
                continue
            m, pa = self.mechanisms[v], self._pa(v, values)
            if isinstance(m, CategoricalTable):
                m.fit_mle(values[v], pa, pseudo_count)
            elif isinstance(m, LinearGaussian):
                y = values[v].to(m.weight.dtype)
                X = torch.stack([*[p.to(y.dtype) for p in pa], torch.ones_like(y)], dim=-1)
                coef = torch.linalg.lstsq(X, y.unsqueeze(-1)).solution.squeeze(-1)
                resid = y - X @ coef
                m.weight.copy_(coef[:-1])
                m.bias.copy_(coef[-1])
                m.log_scale.copy_(resid.square().mean().sqrt().log())
            else:
                raise NotImplementedError(
                    f"fit_mle: node {v!r} has a {type(m).__name__} mechanism without a closed-form MLE; "
                    "train it by maximising scm.log_prob(values)"
                )
        return self


def _device_of(module: nn.Module) -> torch.device:
    for t in [*module.parameters(), *module.buffers()]:
        return t.device
    return torch.device("cpu")
