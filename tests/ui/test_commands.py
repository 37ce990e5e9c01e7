"""Undo commands and the Document: each command is exact on undo, and analysis is debounced."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nnstudio.io import dumps
from nnstudio.model import Edge, Endpoint, GraphError, InitSettings, Node, new_id
from nnstudio.ui.commands import (
    AddEdgeCommand,
    AddNodeCommand,
    AutoLayoutCommand,
    CompositeCommand,
    InsertOnEdgeCommand,
    MoveNodesCommand,
    PasteCommand,
    RemoveEdgesCommand,
    RemoveNodesCommand,
    RenameNodeCommand,
    SetNodeInitCommand,
    SetParamCommand,
    SetSectionCommand,
)
from nnstudio.ui.document import Document
from tests.helpers import mlp, residual


@pytest.fixture
def doc(qtbot, registry) -> Document:
    return Document(residual().project, registry)


def dump(doc: Document) -> str:
    return dumps(doc.project, doc.registry)


def node_id(doc: Document, name: str) -> str:
    return doc.graph.node_by_name(name).id


def check_round_trip(doc: Document, command) -> str:
    """Push, undo, redo: undo gives back the exact document, redo the exact edited one."""
    before = dump(doc)
    doc.push(command)
    after = dump(doc)
    assert after != before
    doc.undo_stack.undo()
    assert dump(doc) == before
    doc.undo_stack.redo()
    assert dump(doc) == after
    return after


def test_add_node_and_edge(doc):
    node = Node(new_id(), "ReLU", "extra", {}, (10.0, 20.0))
    check_round_trip(doc, AddNodeCommand(doc, node))
    node.name = "changed_by_caller"  # the command kept its own copy
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    assert doc.graph.nodes[node.id].name == "extra"
    check_round_trip(doc, AddEdgeCommand(doc, Endpoint(node_id(doc, "fc1"), "out"), Endpoint(node.id, "in")))


def test_remove_nodes_takes_their_edges_and_undo_restores_the_order(doc):
    ids = [node_id(doc, "act"), node_id(doc, "x")]
    after = check_round_trip(doc, RemoveNodesCommand(doc, ids))
    assert "act" not in after and len(doc.graph.edges) == 2
    assert doc.undo_stack.undoText() == "Delete 2 nodes"


def test_remove_edges(doc):
    edges = list(doc.graph.edges)
    check_round_trip(doc, RemoveEdgesCommand(doc, [edges[1], edges[3]]))


def test_composite_delete_of_links_and_nodes_is_one_step(doc):
    edges = list(doc.graph.edges)
    command = CompositeCommand(doc, "Delete", [RemoveEdgesCommand(doc, [edges[-1]]),
                                               RemoveNodesCommand(doc, [node_id(doc, "fc2")])])
    check_round_trip(doc, command)
    assert doc.undo_stack.count() == 1


def test_set_param_merges_consecutive_changes_and_restores_an_unset_param(doc):
    fc = node_id(doc, "fc1")
    before = dump(doc)
    assert "bias" not in doc.graph.nodes[fc].params
    for value in (False, True, False):
        doc.push(SetParamCommand(doc, fc, "bias", value))
    assert doc.undo_stack.count() == 1  # a spin-box drag is one undo step
    assert doc.graph.nodes[fc].params["bias"] is False
    doc.undo_stack.undo()
    assert dump(doc) == before and "bias" not in doc.graph.nodes[fc].params
    doc.undo_stack.redo()
    doc.push(SetParamCommand(doc, fc, "out_features", 9))
    assert doc.undo_stack.count() == 2  # another param: a new step


def test_a_param_dragged_back_to_its_start_leaves_nothing_to_undo(doc):
    fc = node_id(doc, "fc1")
    doc.push(SetParamCommand(doc, fc, "out_features", 12))
    doc.push(SetParamCommand(doc, fc, "out_features", 8))
    assert doc.undo_stack.count() == 0
    assert doc.graph.nodes[fc].params["out_features"] == 8


def test_rename_refuses_invalid_or_taken_names_before_changing_anything(doc):
    fc = node_id(doc, "fc1")
    with pytest.raises(GraphError, match="not a valid name"):
        RenameNodeCommand(doc, fc, "2fast")
    with pytest.raises(GraphError, match="already used"):
        RenameNodeCommand(doc, fc, "fc2")
    check_round_trip(doc, RenameNodeCommand(doc, fc, "encoder"))


def test_node_init_and_sections(doc):
    check_round_trip(doc, SetNodeInitCommand(doc, node_id(doc, "fc1"), "xavier_uniform"))
    check_round_trip(doc, SetSectionCommand(doc, "init", InitSettings("orthogonal", 7)))
    training = {"epochs": 3, "optimizer": {"name": "adam", "lr": 0.01}}
    check_round_trip(doc, SetSectionCommand(doc, "training", training))
    training["epochs"] = 99  # the command copied the value
    assert doc.project.training["epochs"] == 3
    with pytest.raises(ValueError, match="unknown project section"):
        SetSectionCommand(doc, "graph", {})


def test_move_and_auto_layout(doc):
    fc = node_id(doc, "fc1")
    old = doc.graph.nodes[fc].position
    check_round_trip(doc, MoveNodesCommand(doc, {fc: (old, (old[0] + 20, old[1] + 40))}))
    positions = {n: (float(i * 200), 0.0) for i, n in enumerate(doc.graph.nodes)}
    check_round_trip(doc, AutoLayoutCommand(doc, positions))
    assert doc.undo_stack.undoText() == "Auto layout"


def test_paste_and_insert_on_edge(doc):
    a, b = Node(new_id(), "ReLU", "p1"), Node(new_id(), "Tanh", "p2")
    link = Edge(new_id("e"), Endpoint(a.id, "out"), Endpoint(b.id, "in"))
    check_round_trip(doc, PasteCommand(doc, [a, b], [link]))
    edge = next(iter(doc.graph.edges.values()))
    inserted = Node(new_id(), "Dropout", "drop")
    check_round_trip(doc, InsertOnEdgeCommand(doc, edge.id, inserted))
    assert edge.id not in doc.graph.edges
    ends = {(e.source, e.target) for e in doc.graph.edges.values()}
    assert (edge.source, Endpoint(inserted.id, "in")) in ends
    assert (Endpoint(inserted.id, "out"), edge.target) in ends
    with pytest.raises(GraphError, match="needs an input and an output"):
        InsertOnEdgeCommand(doc, next(iter(doc.graph.edges)), Node(new_id(), "Input", "x2"))


def test_analysis_runs_once_after_a_burst_of_edits(doc, qtbot):
    seen = []
    doc.analysis_changed.connect(seen.append)
    fc = node_id(doc, "fc1")
    for width in (3, 4, 5):
        doc.push(RenameNodeCommand(doc, fc, f"fc_{width}"))
    assert not doc.analysis_is_current() and not seen
    qtbot.waitUntil(lambda: len(seen) == 1)
    assert doc.analysis_is_current() and seen[0] is doc.analysis
    qtbot.wait(20)
    assert len(seen) == 1


def test_modified_flag_clean_state_and_path(doc, tmp_path):
    flags, paths = [], []
    doc.modified_changed.connect(flags.append)
    doc.path_changed.connect(paths.append)
    doc.push(RenameNodeCommand(doc, node_id(doc, "fc1"), "renamed"))
    assert doc.is_modified()
    doc.set_clean()
    assert not doc.is_modified()
    doc.undo_stack.undo()
    assert doc.is_modified()
    doc.path = tmp_path / "a.nnstudio"
    doc.path = tmp_path / "a.nnstudio"
    assert flags == [True, False, True] and paths == [Path(tmp_path / "a.nnstudio")]


def test_only_the_gui_thread_may_edit(doc):
    errors = []

    def edit() -> None:
        try:
            doc.push(RenameNodeCommand(doc, node_id(doc, "fc1"), "elsewhere"))
        except RuntimeError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=edit)
    worker.start()
    worker.join()
    assert errors == ["the document may only be changed from the GUI thread"]
    assert doc.graph.node_by_name("elsewhere") is None


def test_dispose_stops_following_the_graph(registry, qtbot):
    doc = Document(mlp().project, registry)
    seen = []
    doc.analysis_changed.connect(seen.append)
    doc.dispose()
    doc.graph.rename_node(next(iter(doc.graph.nodes)), "other")
    qtbot.wait(20)
    assert not seen
