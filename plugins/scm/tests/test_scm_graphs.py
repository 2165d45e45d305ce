"""Graphs: queries, cycles, the skeleton families against CausalMBRL's table, the random-DAG prior."""

import math

import pytest
import torch

from etude_scm import CausalGraph, GraphError, expected_random_dag_edges, parse_edges, random_dag, skeleton

# Strings from the graph table of CausalMBRL's envs/chemistry_env_time_delayed.py (data, for comparison).
REFERENCE_TABLE = {
    "chain4": "0->1->2->3",
    "fork3": "0->{1-2}",
    "collider5": "{0-3}->4",
    "confounder3": "{0-2}->{0-2}",
    "full5": "{0-4}->{0-4}",
    "tree9": "0->1->3->7,0->2->6,1->4,3->8,2->5",
    "tree15": "0->1->3->7,0->2->6->14,1->4->10,3->8,4->9,2->5->11,5->12,6->13",
    "jungle4": "0->1->3,0->2,0->3",
    "jungle8": "0->1->3->7,1->4,0->2->5,2->6,0->3,0->4,0->5,0->6,1->7",
    "jungle13": (
        "0->1->3->7,3->8,1->4->9,4->10,0->2->5->11,5->12,2->6,0->3,0->4,0->5,0->6,1->7,1->8,1->9,1->10,2->11,2->12"
    ),
    "bidiag3": "{0-2}->{0-2}",
    "bidiag6": "{0-1}->{1-2}->{2-3}->{3-4}->{4-5}",
}


def _pairs(g):
    return {(g.index(u), g.index(v)) for u, v in g.edges}


@pytest.mark.parametrize("name", sorted(REFERENCE_TABLE))
def test_skeleton_families_match_the_reference_table(name):
    n, edges = parse_edges(REFERENCE_TABLE[name])
    g = skeleton(name)
    assert len(g) == n and _pairs(g) == set(edges)


@pytest.mark.parametrize("n", [3, 5, 9, 15])
def test_skeleton_edge_counts(n):
    assert skeleton(f"chain{n}").num_edges == n - 1
    assert skeleton(f"collider{n}").num_edges == n - 1
    assert skeleton(f"tree{n}").num_edges == n - 1
    assert skeleton(f"full{n}").num_edges == n * (n - 1) // 2
    assert skeleton(f"bidiag{n}").num_edges == 2 * n - 3
    assert skeleton(f"jungle{n}").num_edges == n - 1 + max(n - 3, 0)


def test_adjacency_is_strictly_lower_triangular_child_rows():
    g = skeleton("0->{1-3},2->4")
    a = g.adjacency()
    assert a.shape == (5, 5) and bool((a.triu() == 0).all())
    assert a[4, 2] == 1 and a[2, 4] == 0 and int(a.sum()) == 4
    assert CausalGraph.from_adjacency(a) == g


def test_queries():
    g = CausalGraph(["Z", "X", "Y", "W"], [("Z", "X"), ("X", "Y"), ("Z", "Y"), ("Y", "W")])
    assert g.parents("Y") == ("Z", "X")
    assert g.children("Z") == ("X", "Y")
    assert g.descendants("X") == ("Y", "W")
    assert g.ancestors("W") == ("Z", "X", "Y")
    assert g.topological_order() == ("Z", "X", "Y", "W")
    m = g.mutilate(["Y"])
    assert m.parents("Y") == () and m.descendants("Z") == ("X",)


def test_topological_order_when_index_order_is_not_topological():
    g = CausalGraph(["Y", "X"], [("X", "Y")])
    assert g.topological_order() == ("X", "Y")
    assert g.adjacency().tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_cycle_names_the_closing_edge():
    with pytest.raises(GraphError, match=r"edge C -> A closes the cycle A -> B -> C -> A"):
        CausalGraph(["A", "B", "C"], [("A", "B"), ("B", "C"), ("C", "A")])
    with pytest.raises(GraphError, match="self-loop"):
        CausalGraph(["A"], [("A", "A")])


def test_bad_inputs_have_clear_errors():
    with pytest.raises(GraphError, match="unknown edge child 'Q'"):
        CausalGraph(["A"], [("A", "Q")])
    with pytest.raises(GraphError, match="unknown skeleton 'chian3'"):
        skeleton("chian3")
    with pytest.raises(GraphError, match="edge from 2 to its ancestor 1"):
        parse_edges("2->1")
    with pytest.raises(GraphError, match="ends with"):
        parse_edges("0->")
    with pytest.raises(GraphError, match="'n' must be an integer >= 1"):
        random_dag(0)


def test_named_edge_lists():
    g = skeleton("Z->X->Y,Z->Y")
    assert g.nodes == ("Z", "X", "Y") and g.parents("Y") == ("Z", "X")


def test_random_dag_mean_edge_count_matches_the_prior():
    n, draws = 10, 1000
    g = torch.Generator().manual_seed(0)
    counts = torch.tensor([random_dag(n, g).num_edges for _ in range(draws)], dtype=torch.float64)
    expected = sum(i * min(0.5 * i, 5) / (i + 1) for i in range(n))  # written out from the formula
    assert expected_random_dag_edges(n) == pytest.approx(expected)
    se = counts.std() / math.sqrt(draws)
    assert abs(float(counts.mean()) - expected) < 4 * float(se)


def test_random_dag_with_edge_prob_and_seed():
    a = random_dag(8, torch.Generator().manual_seed(3), edge_prob=0.3)
    b = random_dag(8, torch.Generator().manual_seed(3), edge_prob=0.3)
    assert a == b and bool((a.adjacency().triu() == 0).all())
    assert random_dag(6, torch.Generator().manual_seed(0), edge_prob=0.0).num_edges == 0
    assert random_dag(6, torch.Generator().manual_seed(0), edge_prob=1.0).num_edges == 15
