"""Delete, cut/copy/paste, duplicate and insert-on-edge through the view, each one undo step."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication

from nnstudio.model import Endpoint
from nnstudio.ui.editor import FRAGMENT_MIME
from tests.helpers import mlp


def mlp_canvas(make_canvas):
    canvas = make_canvas(mlp().project)
    canvas.view.fit_to_window()
    return canvas


def names(canvas) -> list[str]:
    return [node.name for node in canvas.document.graph.nodes.values()]


def test_delete_removes_selected_nodes_and_links_in_one_undo_step(make_canvas, qtbot):
    canvas = mlp_canvas(make_canvas)
    before = canvas.dump()
    graph = canvas.document.graph
    relu = canvas.node_named("relu")
    last_edge = list(graph.edges)[-1]
    canvas.view.select_nodes([relu])
    canvas.scene.edges[last_edge].setSelected(True)
    canvas.view.setFocus()
    qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_Delete)
    assert relu not in graph.nodes
    assert last_edge not in graph.edges
    assert len(graph.edges) == 1  # input → linear survives; relu's two links and the last link are gone
    assert relu not in canvas.scene.nodes and last_edge not in canvas.scene.edges
    assert canvas.document.undo_stack.count() == 1
    canvas.document.undo_stack.undo()
    assert canvas.dump() == before
    assert len(canvas.scene.edges) == 4


def test_copy_paste_keeps_internal_links_with_new_ids_and_names(make_canvas):
    canvas = mlp_canvas(make_canvas)
    graph = canvas.document.graph
    chosen = [canvas.node_named("linear"), canvas.node_named("relu")]
    canvas.view.select_nodes(chosen)
    canvas.view.copy_selection()
    canvas.view.paste()
    assert len(graph.nodes) == 7
    new = [n for n in graph.nodes.values() if n.id not in chosen][-2:]
    assert [n.name for n in new] == ["linear_2", "relu_1"]
    assert all(n.id not in chosen for n in new)
    originals = [graph.nodes[i] for i in chosen]
    for copy, original in zip(new, originals):
        assert copy.type == original.type and copy.params == original.params
        assert copy.position == (original.position[0] + 40, original.position[1] + 40)
    internal = [e for e in graph.edges.values() if e.source.node == new[0].id]
    assert [(e.target) for e in internal] == [Endpoint(new[1].id, "in")]
    assert len(graph.edges) == 5  # one new link: the one inside the copied pair
    assert sorted(canvas.view.selected_node_ids()) == sorted(n.id for n in new)
    canvas.view.paste()
    assert names(canvas)[-2:] == ["linear_3", "relu_2"]
    assert graph.nodes[canvas.node_named("linear_3")].position[0] == originals[0].position[0] + 80
    canvas.document.undo_stack.undo()
    canvas.document.undo_stack.undo()
    assert len(graph.nodes) == 5


def test_paste_works_between_two_windows_through_the_clipboard(make_canvas):
    first = mlp_canvas(make_canvas)
    second = make_canvas()
    first.view.select_all()
    first.view.copy_selection()
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasFormat(FRAGMENT_MIME)
    assert json.loads(data.text())["format"] == "nnstudio.project"
    second.view.paste()
    pasted = second.document.graph
    assert names(second) == names(first)  # free names are kept in the other document
    assert set(pasted.nodes).isdisjoint(first.document.graph.nodes)
    assert len(pasted.edges) == 4
    second.settle()
    assert second.document.analysis.ok


def test_duplicate_and_cut(make_canvas):
    canvas = mlp_canvas(make_canvas)
    graph = canvas.document.graph
    relu = canvas.node_named("relu")
    canvas.view.select_nodes([relu])
    canvas.view.duplicate_selection()
    assert names(canvas)[-1] == "relu_1"
    duplicate = canvas.node_named("relu_1")
    canvas.view.select_nodes([duplicate])
    canvas.view.cut_selection()
    assert duplicate not in graph.nodes
    assert canvas.document.undo_stack.undoText().startswith("Cut")
    canvas.view.paste()
    assert names(canvas)[-1] == "relu_1"


def test_bad_clipboard_content_is_refused_with_a_reason(canvas):
    clipboard = QGuiApplication.clipboard()  # Qt-made QMimeData only: see put_on_clipboard
    clipboard.setText("just some words")
    canvas.view.paste()
    assert canvas.messages[-1] == "Nothing to paste: the clipboard holds no nnstudio layers."
    clipboard.setText("")
    clipboard.mimeData().setData(FRAGMENT_MIME, b'{"format": "something else", "version": 1}')
    canvas.view.paste()
    assert canvas.messages[-1].startswith("Cannot paste: the clipboard does not hold nnstudio layers")
    assert not canvas.document.graph.nodes


def test_the_app_quits_cleanly_after_a_copy(tmp_path):
    """A copy leaves data on the clipboard, a Qt global that outlives Python; quitting must not crash."""
    script = tmp_path / "copy_then_quit.py"
    script.write_text(
        "from PySide6.QtWidgets import QApplication\n"
        "from nnstudio.ui.editor import clipboard\n"
        "app = QApplication([])\n"
        "clipboard.put_on_clipboard('{\"format\": \"nnstudio\"}')\n"
        "assert QApplication.clipboard().mimeData().hasFormat(clipboard.FRAGMENT_MIME)\n",
        encoding="utf-8",
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_dropping_a_layer_onto_a_link_inserts_it(make_canvas):
    canvas = mlp_canvas(make_canvas)
    graph = canvas.document.graph
    before = canvas.dump()
    x, fc = canvas.node_named("input"), canvas.node_named("linear")
    edge_id = next(e.id for e in graph.edges.values() if e.source.node == x)
    canvas.drop("Dropout", canvas.scene.edges[edge_id].midpoint())
    dropout = canvas.node_named("dropout")
    assert edge_id not in graph.edges
    links = {(e.source, e.target) for e in graph.edges.values()}
    assert (Endpoint(x, "out"), Endpoint(dropout, "in")) in links
    assert (Endpoint(dropout, "out"), Endpoint(fc, "in")) in links
    assert canvas.document.undo_stack.count() == 1
    canvas.document.undo_stack.undo()
    assert canvas.dump() == before


def test_a_layer_that_cannot_split_a_link_is_placed_beside_it(make_canvas):
    canvas = mlp_canvas(make_canvas)
    graph = canvas.document.graph
    edge = next(iter(canvas.scene.edges.values()))
    canvas.drop("Add", edge.midpoint())
    assert canvas.node_named("add") in graph.nodes
    assert edge.edge_id in graph.edges
    assert canvas.messages[-1].startswith("Added add beside the link, not into it: ")
    assert canvas.messages[-1].endswith("needs at least 2 inputs; a link brings one")


def test_insert_is_refused_when_the_shape_does_not_fit(make_canvas):
    canvas = mlp_canvas(make_canvas)
    edge = next(iter(canvas.scene.edges.values()))  # input [N, 2] → linear
    canvas.drop("Conv2d", edge.midpoint())
    assert edge.edge_id in canvas.document.graph.edges
    assert "not into it" in canvas.messages[-1] and "[N, 2]" in canvas.messages[-1]


def test_double_click_placement_does_not_stack_nodes(canvas):
    canvas.view.add_node_at_center("ReLU")
    canvas.view.add_node_at_center("ReLU")
    first, second = canvas.document.graph.nodes.values()
    assert first.position != second.position
    assert canvas.view.selected_node_ids() == [second.id]


def test_unknown_layer_drop_is_refused(canvas):
    canvas.drop("NoSuchLayer", QPointF(0, 0))
    assert not canvas.document.graph.nodes
    assert "no such layer type" in canvas.messages[-1]
