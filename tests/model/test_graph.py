import pytest

from nnstudio.model import Endpoint, Graph, GraphError, Node, new_id


def _node(name: str, type_: str = "Linear") -> Node:
    return Node(new_id(), type_, name, {})


def test_signals_fire_for_each_mutation():
    graph = Graph()
    seen = []
    graph.node_added.connect(lambda n: seen.append(("added", n.name)))
    graph.node_removed.connect(lambda n: seen.append(("removed", n.name)))
    graph.edge_added.connect(lambda e: seen.append(("edge+", e.id)))
    graph.edge_removed.connect(lambda e: seen.append(("edge-", e.id)))
    graph.param_changed.connect(lambda i, k, v: seen.append(("param", k, v)))
    graph.node_renamed.connect(lambda i, name: seen.append(("renamed", name)))
    graph.node_moved.connect(lambda i, pos: seen.append(("moved", pos)))
    a, b = graph.add_node(_node("a")), graph.add_node(_node("b"))
    edge = graph.connect(Endpoint(a.id, "out"), Endpoint(b.id, "in"), "e1")
    graph.set_param(a.id, "out_features", 4)
    graph.rename_node(a.id, "first")
    graph.move_node(a.id, (10, 20))
    graph.remove_node(b.id)
    assert seen == [("added", "a"), ("added", "b"), ("edge+", "e1"), ("param", "out_features", 4),
                    ("renamed", "first"), ("moved", (10.0, 20.0)), ("edge-", edge.id), ("removed", "b")]


def test_remove_node_returns_its_edges_for_undo():
    graph = Graph()
    a, b, c = (graph.add_node(_node(n)) for n in "abc")
    graph.connect(Endpoint(a.id, "out"), Endpoint(b.id, "in"))
    graph.connect(Endpoint(b.id, "out"), Endpoint(c.id, "in"))
    node, edges = graph.remove_node(b.id)
    assert node.name == "b" and len(edges) == 2 and not graph.edges


def test_names_are_unique_identifiers():
    graph = Graph()
    a = graph.add_node(_node("linear"))
    with pytest.raises(GraphError, match="already used"):
        graph.add_node(_node("linear"))
    with pytest.raises(GraphError, match="not a valid identifier"):
        graph.rename_node(a.id, "2fast")
    with pytest.raises(GraphError, match="not a valid identifier"):
        graph.rename_node(a.id, "class")
    assert graph.unique_name("Linear") == "linear_1"
    assert graph.unique_name("Conv 2d!") == "conv_2d"


def test_revision_tracks_analysis_relevant_changes_only():
    graph = Graph()
    a = graph.add_node(_node("a"))
    before = graph.revision
    graph.move_node(a.id, (5, 5))
    assert graph.revision == before
    graph.set_param(a.id, "bias", False)
    assert graph.revision == before + 1


def test_edges_to_missing_nodes_are_refused():
    graph = Graph()
    a = graph.add_node(_node("a"))
    with pytest.raises(GraphError, match="missing node"):
        graph.connect(Endpoint(a.id, "out"), Endpoint("nope", "in"))
