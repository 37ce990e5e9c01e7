"""The inspector: generated editors push undoable commands, refuse bad values with the reason, and
follow changes made elsewhere (undo, other views)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.inspector.node_page import NodePage
from nnstudio.ui.inspector.panel import ProjectPage


@pytest.fixture
def conv_window(make_window):
    builder = GraphBuilder(name="conv")
    builder.sequential(("Input", {"shape": [1, 8, 8]}), ("Conv2d", {"out_channels": 4}), "Flatten",
                       ("Dropout", {"p": 0.25}), "Output")
    return make_window(builder.project)


def _select(window, node_type: str) -> NodePage:
    node = next(n for n in window.document.graph.nodes.values() if n.type == node_type)
    window.view.select_nodes([node.id])
    page = window.inspector.page
    assert isinstance(page, NodePage) and page.node_id == node.id
    return page


def _commit_text(qtbot, line_edit, text: str) -> None:
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    qtbot.keyClick(line_edit, Qt.Key.Key_Return)


def test_selection_shows_the_node_page_with_one_editor_per_param(conv_window):
    page = _select(conv_window, "Conv2d")
    spec = conv_window.document.registry["Conv2d"]
    assert list(page.form.specs) == [p.name for p in spec.params]
    assert page.form.editor("out_channels").value() == 4
    assert page.form.editor("kernel_size").value() == 3
    assert page.form.editor("padding_mode").value() == "zeros"
    assert page.init_combo is not None  # Conv2d has weights
    assert "[N, 4, 6, 6]" in page.output_label.text()
    conv_window.view.select_nodes([])
    assert isinstance(conv_window.inspector.page, ProjectPage)


def test_spin_box_edits_push_one_undoable_command_per_drag(conv_window):
    page = _select(conv_window, "Conv2d")
    document, box = conv_window.document, page.form.editor("out_channels").box
    depth = document.undo_stack.count()
    for _ in range(5):
        box.stepUp()
    node = document.graph.nodes[page.node_id]
    assert node.params["out_channels"] == 9
    assert document.undo_stack.count() == depth + 1  # the steps merged
    document.undo_stack.undo()
    assert node.params["out_channels"] == 4
    assert box.value() == 4  # the editor follows the undo


def test_text_editors_apply_tuples_and_refuse_bad_values_with_the_reason(conv_window, qtbot):
    page = _select(conv_window, "Conv2d")
    node = conv_window.document.graph.nodes[page.node_id]
    editor = page.form.editor("kernel_size")
    _commit_text(qtbot, editor.line, "3, 2")
    assert node.params["kernel_size"] == [3, 2]
    depth = conv_window.document.undo_stack.count()
    _commit_text(qtbot, editor.line, "0, 2")
    assert node.params["kernel_size"] == [3, 2]
    assert conv_window.document.undo_stack.count() == depth
    assert page.form.message("kernel_size").startswith("Refused: expected an integer or a list of 2 integers")
    assert editor.line.text() == "3, 2"  # reverted to the value in force
    _commit_text(qtbot, editor.line, "5")
    assert node.params["kernel_size"] == 5
    assert page.form.message("kernel_size") == ""


def test_typing_an_illegal_value_says_why_before_it_is_applied(conv_window, qtbot):
    page = _select(conv_window, "Dropout")
    box = page.form.editor("p").box
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "1.5")
    assert "expected a number in [0, 1]" in page.form.message("p")
    assert conv_window.document.graph.nodes[page.node_id].params["p"] == 0.25


def test_shape_editor_parses_comma_separated_dims(conv_window, qtbot):
    page = _select(conv_window, "Input")
    node = conv_window.document.graph.nodes[page.node_id]
    _commit_text(qtbot, page.form.editor("shape").line, "1, 28, 28")
    assert node.params["shape"] == [1, 28, 28]
    _commit_text(qtbot, page.form.editor("shape").line, "1, a")
    assert node.params["shape"] == [1, 28, 28]
    assert "got '1, a'" in page.form.message("shape")


def test_choice_and_bool_editors_push_commands(conv_window):
    page = _select(conv_window, "Conv2d")
    node = conv_window.document.graph.nodes[page.node_id]
    combo = page.form.editor("padding_mode").box
    combo.setCurrentIndex(combo.findText("reflect"))
    assert node.params["padding_mode"] == "reflect"
    page.form.editor("bias").box.setChecked(False)
    assert node.params["bias"] is False
    conv_window.document.undo_stack.undo()
    assert page.form.editor("bias").value() is True


def test_rename_keeps_names_unique_and_valid(conv_window, qtbot):
    page = _select(conv_window, "Conv2d")
    graph = conv_window.document.graph
    _commit_text(qtbot, page.name_edit, "features")
    assert graph.nodes[page.node_id].name == "features"
    other = next(n.name for n in graph.nodes.values() if n.type == "Dropout")
    _commit_text(qtbot, page.name_edit, other)
    assert graph.nodes[page.node_id].name == "features"
    assert "already used by another node" in page.name_error.text()
    assert page.name_edit.text() == "features"
    _commit_text(qtbot, page.name_edit, "2nd")
    assert graph.nodes[page.node_id].name == "features"
    assert "not a valid name" in page.name_error.text()
    conv_window.document.undo_stack.undo()
    assert page.name_edit.text() == graph.nodes[page.node_id].name != "features"


def test_weight_init_override_is_an_undoable_command(conv_window):
    page = _select(conv_window, "Conv2d")
    node = conv_window.document.graph.nodes[page.node_id]
    page.init_combo.setCurrentIndex(page.init_combo.findData("kaiming_normal"))
    assert node.init == "kaiming_normal"
    conv_window.document.undo_stack.undo()
    assert node.init is None
    assert page.init_combo.currentData() is None


def test_problems_of_the_node_show_on_its_page(make_window):
    builder = GraphBuilder(name="dangling")
    builder.add("Linear", "alone", out_features=3)
    window = make_window(builder.project)
    node_id = next(iter(window.document.graph.nodes))
    window.view.select_nodes([node_id])
    page = window.inspector.page
    assert "alone.in: required input is not connected" in page.problems_label.text()
    assert "unknown" in page.output_label.text()


def test_several_selected_nodes_show_a_summary(conv_window):
    ids = list(conv_window.document.graph.nodes)[:3]
    conv_window.view.select_nodes(ids)
    assert "3 nodes selected" in conv_window.inspector.page.text()


def test_project_page_edits_settings_through_commands(conv_window, qtbot):
    conv_window.view.select_nodes([])
    page = conv_window.inspector.page
    project = conv_window.document.project
    page.form.editor("seed").box.setValue(42)
    assert project.init.seed == 42
    _commit_text(qtbot, page.form.editor("name").line, "My net")
    assert project.metadata.name == "My net"
    assert conv_window.windowTitle().startswith("My net[*]")
    conv_window.document.undo_stack.undo()
    assert page.form.editor("name").value() == "conv"
    conv_window.document.undo_stack.undo()
    assert project.init.seed == 0 and page.form.editor("seed").value() == 0
