"""Causal graphs: a DAG of named variables, random DAGs and the named skeletons.

A :class:`CausalGraph` wraps a :class:`networkx.DiGraph` whose nodes keep the
order they were given in (the *index order*). Graph queries (parents,
children, ancestors, descendants, a topological order) return nodes in index
order, and :meth:`CausalGraph.adjacency` is the matrix ``A[i, j] = 1`` iff
``node_j -> node_i`` (child row, parent column), as in CausalMBRL. Graphs made
by :func:`random_dag` and :func:`skeleton` only have edges from lower to
higher index, so their adjacency is strictly lower-triangular.

References:
    B. Schölkopf, F. Locatello, S. Bauer, N. R. Ke, N. Kalchbrenner, A. Goyal,
    Y. Bengio. "Toward Causal Representation Learning". Proceedings of the
    IEEE, 2021. arXiv:2102.11107 (Sec. 3: SCMs over a DAG).
    N. R. Ke, A. Didolkar, S. Mittal, A. Goyal, G. Lajoie, S. Bauer, D.
    Rezende, Y. Bengio, M. Mozer, C. Pal. "Systematic Evaluation of Causal
    Discovery in Visual Model Based Reinforcement Learning". NeurIPS Datasets
    and Benchmarks, 2021. arXiv:2107.00848 (the random-DAG prior and the
    skeleton table of its chemistry environment).

Example:
    >>> from etude_scm.graphs import skeleton
    >>> g = skeleton("collider3")
    >>> g.parents("X2"), sorted(g.descendants("X0"))
    (('X0', 'X1'), ['X2'])
    >>> g.adjacency().tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import networkx as nx
import torch

from etude.registry.errors import EtudeError

__all__ = [
    "CausalGraph",
    "GraphError",
    "SKELETON_FAMILIES",
    "expected_random_dag_edges",
    "parse_edges",
    "random_dag",
    "skeleton",
]


class GraphError(EtudeError, ValueError):
    """A graph was not a DAG, named an unknown node, or could not be parsed."""


class CausalGraph:
    """A directed acyclic graph over named variables, in a fixed index order.

    Args:
        nodes: variable names, in index order (strings; a name used with
            ``SCM.do(name=value)`` must be a Python identifier).
        edges: ``(parent, child)`` pairs. An edge that would close a cycle
            raises :class:`GraphError` naming that edge.

    Example:
        >>> g = CausalGraph(["Z", "X", "Y"], [("Z", "X"), ("Z", "Y"), ("X", "Y")])
        >>> g.topological_order(), g.ancestors("Y")
        (('Z', 'X', 'Y'), ('Z', 'X'))
        >>> CausalGraph(["A", "B"], [("A", "B"), ("B", "A")])
        Traceback (most recent call last):
        ...
        etude_scm.graphs.GraphError: edge B -> A closes the cycle A -> B -> A; a causal graph must be acyclic
    """

    def __init__(self, nodes: Iterable[str], edges: Iterable[tuple[str, str]] = ()) -> None:
        nodes = tuple(nodes)
        for v in nodes:
            if not isinstance(v, str) or not v:
                raise GraphError(f"node names must be non-empty strings, got {v!r}")
        if len(set(nodes)) != len(nodes):
            dup = sorted({v for v in nodes if nodes.count(v) > 1})
            raise GraphError(f"node names must be unique; repeated: {dup}")
        self._nodes = nodes
        self._index = {v: i for i, v in enumerate(nodes)}
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        for edge in edges:
            u, v = edge
            self._check_node(u, "edge parent")
            self._check_node(v, "edge child")
            if u == v:
                raise GraphError(f"edge {u} -> {v} is a self-loop; a causal graph must be acyclic")
            if g.has_edge(u, v):
                continue
            if nx.has_path(g, v, u):
                path = nx.shortest_path(g, v, u)
                cycle = " -> ".join([*path, v])
                raise GraphError(f"edge {u} -> {v} closes the cycle {cycle}; a causal graph must be acyclic")
            g.add_edge(u, v)
        self._g = g
        self._topo = tuple(nx.lexicographical_topological_sort(g, key=self._index.__getitem__))

    # -- construction ------------------------------------------------------------
    @classmethod
    def from_adjacency(cls, adjacency, nodes: Sequence[str] | None = None) -> CausalGraph:
        """From ``A[i, j] != 0`` iff ``nodes[j] -> nodes[i]`` (names default to ``X0, X1, ...``)."""
        a = torch.as_tensor(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise GraphError(f"adjacency must be a square (n, n) matrix, got shape {tuple(a.shape)}")
        n = a.shape[0]
        nodes = tuple(nodes) if nodes is not None else tuple(f"X{i}" for i in range(n))
        if len(nodes) != n:
            raise GraphError(f"{len(nodes)} node names for an adjacency of size {n}")
        rows, cols = torch.nonzero(a, as_tuple=True)
        pairs = sorted(zip(cols.tolist(), rows.tolist()), key=lambda e: (e[1], e[0]))
        return cls(nodes, [(nodes[j], nodes[i]) for j, i in pairs])

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph) -> CausalGraph:
        """From a networkx DiGraph (node order kept; names converted with ``str``)."""
        names = {v: str(v) for v in graph.nodes}
        return cls(list(names.values()), [(names[u], names[v]) for u, v in graph.edges])

    # -- queries -----------------------------------------------------------------
    @property
    def nodes(self) -> tuple[str, ...]:
        """Variable names in index order."""
        return self._nodes

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """``(parent, child)`` pairs, sorted by (child, parent) index."""
        return tuple(sorted(self._g.edges, key=lambda e: (self._index[e[1]], self._index[e[0]])))

    @property
    def num_edges(self) -> int:
        return self._g.number_of_edges()

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CausalGraph) and self._nodes == other._nodes and set(self.edges) == set(other.edges)

    def __hash__(self) -> int:
        return hash((self._nodes, frozenset(self.edges)))

    def __repr__(self) -> str:
        edges = ", ".join(f"{u}->{v}" for u, v in self.edges)
        return f"CausalGraph(nodes={list(self._nodes)}, edges=[{edges}])"

    def index(self, node: str) -> int:
        """Position of ``node`` in the index order."""
        self._check_node(node)
        return self._index[node]

    def _sorted(self, nodes: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(nodes, key=self._index.__getitem__))

    def parents(self, node: str) -> tuple[str, ...]:
        self._check_node(node)
        return self._sorted(self._g.predecessors(node))

    def children(self, node: str) -> tuple[str, ...]:
        self._check_node(node)
        return self._sorted(self._g.successors(node))

    def ancestors(self, node: str) -> tuple[str, ...]:
        self._check_node(node)
        return self._sorted(nx.ancestors(self._g, node))

    def descendants(self, node: str) -> tuple[str, ...]:
        self._check_node(node)
        return self._sorted(nx.descendants(self._g, node))

    def descendants_of(self, nodes: Iterable[str]) -> tuple[str, ...]:
        """Union of the descendants of ``nodes`` (the nodes themselves excluded unless descendants)."""
        out: set[str] = set()
        for v in nodes:
            out.update(self.descendants(v))
        return self._sorted(out)

    def topological_order(self) -> tuple[str, ...]:
        """A topological order; among valid orders, the one closest to index order."""
        return self._topo

    def adjacency(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``(n, n)`` tensor with ``A[i, j] = 1`` iff ``nodes[j] -> nodes[i]``."""
        a = torch.zeros(len(self._nodes), len(self._nodes), dtype=dtype)
        for u, v in self._g.edges:
            a[self._index[v], self._index[u]] = 1
        return a

    def to_networkx(self) -> nx.DiGraph:
        """A copy of the underlying networkx DiGraph."""
        return self._g.copy()

    # -- surgery -----------------------------------------------------------------
    def mutilate(self, nodes: Iterable[str]) -> CausalGraph:
        """The graph of ``do(nodes)``: every edge into ``nodes`` removed."""
        cut = set(nodes)
        for v in cut:
            self._check_node(v, "intervened node")
        return CausalGraph(self._nodes, [(u, v) for u, v in self.edges if v not in cut])

    def _check_node(self, node: object, what: str = "node") -> None:
        if node not in self._index:
            raise GraphError(f"unknown {what} {node!r}; the graph's nodes are {list(self._nodes)}")


# -- the edge mini-language ------------------------------------------------------------
_TOKEN = re.compile(r"\s*(->|,|\{[^{}]*\}|\d+)\s*")


def _parse_link(token: str) -> tuple[bool, list[int]]:
    """``(is_set, indices)`` of one link of a chain."""
    if token.startswith("{"):
        out: set[int] = set()
        for part in token[1:-1].split(","):
            part = part.strip()
            if not part:
                raise GraphError(f"empty element in set {token!r}")
            if "-" in part:
                a, b = (int(s) for s in part.split("-", 1))
                out.update(range(min(a, b), max(a, b) + 1))
            else:
                out.add(int(part))
        return True, sorted(out)
    return False, [int(token)]


def parse_edges(spec: str) -> tuple[int, list[tuple[int, int]]]:
    """Parse the CausalMBRL edge mini-language into ``(num_nodes, [(parent, child), ...])``.

    Grammar: chains separated by commas, ``CHAIN = LINK (-> LINK)*``, ``LINK``
    an integer or a set ``{a, b-c, ...}`` of integers and inclusive ranges.
    ``A -> B`` adds every edge ``j -> i`` with ``j in A``, ``i in B``; between
    two sets only ``j < i`` edges are kept (so ``{0-2}->{0-2}`` is the full
    graph); from a single node, an edge to itself or to a lower index is an
    error, as in the reference.

    Example:
        >>> parse_edges("0->{1-3},2->4")
        (5, [(0, 1), (0, 2), (0, 3), (2, 4)])
    """
    if not isinstance(spec, str) or not spec.strip():
        raise GraphError(f"an edge specification must be a non-empty string like '0->{{1-3}},2->4', got {spec!r}")
    pos, tokens = 0, []
    while pos < len(spec):
        m = _TOKEN.match(spec, pos)
        if m is None:
            raise GraphError(f"cannot parse edge specification {spec!r} at position {pos}: {spec[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    chains: list[list[tuple[bool, list[int]]]] = [[]]
    expect_link = True
    for tok in tokens:
        if tok == ",":
            if expect_link:
                raise GraphError(f"edge specification {spec!r}: a chain is empty or ends with '->'")
            chains.append([])
        elif tok == "->":
            if expect_link:
                raise GraphError(f"edge specification {spec!r}: '->' without a node before it")
            expect_link = True
            continue
        else:
            if not expect_link:
                raise GraphError(f"edge specification {spec!r}: two nodes without '->' between them")
            chains[-1].append(_parse_link(tok))
            expect_link = False
            continue
        expect_link = True
    if expect_link:
        raise GraphError(f"edge specification {spec!r} ends with '->' or ','")
    edges: set[tuple[int, int]] = set()
    num_nodes = 0
    for chain in chains:
        num_nodes = max(num_nodes, *(max(link) + 1 for _, link in chain))
        for (prev_is_set, prev), (_, nxt) in zip(chain[:-1], chain[1:]):
            if prev_is_set:
                edges.update((j, i) for j in prev for i in nxt if i > j)
                continue
            j, low = prev[0], min(nxt)
            if low <= j:
                target = "itself" if low == j else f"its ancestor {low}"
                raise GraphError(f"edge specification {spec!r}: edge from {j} to {target} (edges go to higher indices)")
            edges.update((j, i) for i in nxt)
    return num_nodes, sorted(edges, key=lambda e: (e[1], e[0]))


# -- named skeletons -----------------------------------------------------------------------
def _heap_parent(i: int) -> int:
    return (i - 1) // 2


def _family_edges(family: str, n: int) -> list[tuple[int, int]]:
    if family == "chain":
        return [(i - 1, i) for i in range(1, n)]
    if family == "collider":
        return [(j, n - 1) for j in range(n - 1)]
    if family == "full":
        return [(j, i) for i in range(n) for j in range(i)]
    if family == "bidiag":
        return [(j, i) for i in range(n) for j in (i - 2, i - 1) if j >= 0]
    if family == "tree":
        return [(_heap_parent(i), i) for i in range(1, n)]
    if family == "jungle":
        tree = [(_heap_parent(i), i) for i in range(1, n)]
        return tree + [(_heap_parent(_heap_parent(i)), i) for i in range(3, n)]
    raise AssertionError(family)


SKELETON_FAMILIES = {
    "chain": "0 -> 1 -> ... -> N-1 (N - 1 edges)",
    "collider": "{0 .. N-2} -> N-1 (N - 1 edges)",
    "full": "j -> i for every j < i (N(N - 1)/2 edges)",
    "bidiag": "i -> i+1 and i -> i+2 (2N - 3 edges)",
    "tree": "binary tree in heap order, parent(i) = (i - 1) // 2 (N - 1 edges)",
    "jungle": "the binary tree plus an edge from each node's grandparent (N - 1 + max(N - 3, 0) edges)",
}
_FIXED = {"fork3": "0->{1-2}", "confounder3": "{0-2}->{0-2}"}


def skeleton(name: str, *, nodes: Sequence[str] | None = None) -> CausalGraph:
    """A named skeleton (``chainN``, ``colliderN``, ``fullN``, ``treeN``, ``jungleN``, ``bidiagN``,
    ``fork3``, ``confounder3``), an edge specification in the mini-language (:func:`parse_edges`), or
    chains of named nodes (``"A->B"``, ``"Z->X->Y,Z->Y"``; nodes in order of first appearance).

    The families match the graph table of CausalMBRL's chemistry environment
    (which lists N = 3..15; here any N >= 2 works). Node names default to
    ``X0 .. X{N-1}``.

    Example:
        >>> skeleton("jungle4").edges
        (('X0', 'X1'), ('X0', 'X2'), ('X0', 'X3'), ('X1', 'X3'))
        >>> skeleton("0->{1-3},2->4").num_edges
        4
    """
    if not isinstance(name, str):
        raise GraphError(f"skeleton name must be a string, got {type(name).__name__}")
    key = name.strip()
    if "->" in key and re.search(r"[A-Za-z_]", key):
        return _named_edges(key)
    if key in _FIXED:
        n, edges = parse_edges(_FIXED[key])
    else:
        m = re.fullmatch(r"([a-z]+)(\d+)", key)
        if m and m.group(1) in SKELETON_FAMILIES:
            n = int(m.group(2))
            if n < 2:
                raise GraphError(f"skeleton {name!r}: N must be >= 2, got {n}")
            edges = _family_edges(m.group(1), n)
        elif re.fullmatch(r"[a-z]+\d*", key):
            known = ", ".join(f"{f}N" for f in SKELETON_FAMILIES) + ", " + ", ".join(_FIXED)
            raise GraphError(f"unknown skeleton {name!r}; known: {known}, or an edge list like '0->{{1-3}},2->4'")
        else:
            n, edges = parse_edges(key)
    names = tuple(nodes) if nodes is not None else tuple(f"X{i}" for i in range(n))
    if len(names) < n:
        raise GraphError(f"skeleton {name!r} has {n} nodes but {len(names)} names were given")
    return CausalGraph(names, [(names[j], names[i]) for j, i in edges])


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _named_edges(spec: str) -> CausalGraph:
    """``"A->B,B->C"``: chains of named nodes; nodes in order of first appearance."""
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    for chain in spec.split(","):
        names = [s.strip() for s in chain.split("->")]
        for v in names:
            if not re.fullmatch(_NAME, v):
                raise GraphError(f"edge list {spec!r}: {v!r} is not a node name (letters, digits, _; not starting with a digit)")
            if v not in nodes:
                nodes.append(v)
        edges.extend(zip(names[:-1], names[1:]))
    return CausalGraph(nodes, edges)


# -- random DAGs -------------------------------------------------------------------------------
def _default_edge_probs(n: int, dtype=torch.float64) -> torch.Tensor:
    i = torch.arange(n, dtype=dtype)
    return torch.clamp(0.5 * i, max=5.0) / (i + 1)


def expected_random_dag_edges(n: int, edge_prob: float | None = None) -> float:
    """Mean edge count of :func:`random_dag`: sum_i i p_i (p_i = min(0.5 i, 5)/(i + 1) by default)."""
    i = torch.arange(n, dtype=torch.float64)
    p = _default_edge_probs(n) if edge_prob is None else torch.full((n,), float(edge_prob), dtype=torch.float64)
    return float((i * p).sum())


def random_dag(
    n: int,
    generator: torch.Generator | None = None,
    edge_prob: float | None = None,
    *,
    nodes: Sequence[str] | None = None,
) -> CausalGraph:
    """A random DAG on ``n`` nodes whose edges go from lower to higher index.

    Each edge ``j -> i`` (``j < i``) is present independently with probability
    ``edge_prob``, or by default CausalMBRL's prior
    ``P(j -> i) = min(0.5 i, 5) / (i + 1)`` (about 5 expected parents for
    late nodes). Draws use ``generator`` (one ``torch.rand`` of shape (n, n)).

    Example:
        >>> g = random_dag(6, torch.Generator().manual_seed(0))
        >>> bool((g.adjacency().triu() == 0).all())
        True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GraphError(f"'n' must be an integer >= 1, got {n!r}")
    if edge_prob is None:
        p = _default_edge_probs(n).unsqueeze(1).expand(n, n)
    else:
        if not (0.0 <= float(edge_prob) <= 1.0):
            raise GraphError(f"'edge_prob' must be in [0, 1], got {edge_prob!r}")
        p = torch.full((n, n), float(edge_prob), dtype=torch.float64)
    u = torch.rand(n, n, generator=generator, dtype=torch.float64)
    adjacency = torch.tril((u < p).to(torch.float32), diagonal=-1)
    return CausalGraph.from_adjacency(adjacency, nodes)
