"""The Inspector's "Search" toggle: a parameter becomes a dimension of the project's search space, its range is
edited in place, a bad range is refused with the parser's reason, and each change is one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.inspector.node_page import NodePage
from nnstudio.ui.training.settings_form import TrainingSettingsEditor


@pytest.fixture
def mlp_window(make_window):
    builder = GraphBuilder(name="mlp")
    builder.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 16}), "ReLU",
                       ("Dropout", {"p": 0.25}), ("Linear", {"out_features": 2}), "Output")
    return make_window(builder.project)


def _page(window, node_type: str) -> NodePage:
    node = next(n for n in window.document.graph.nodes.values() if n.type == node_type)
    window.view.select_nodes([node.id])
    return window.inspector.page


def _type(qtbot, line_edit, text: str) -> None:
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    qtbot.keyClick(line_edit, Qt.Key.Key_Return)


def test_a_node_param_is_searched_with_a_range_around_its_value(qtbot, mlp_window):
    page = _page(mlp_window, "Dropout")
    row = page.form.search_rows["p"]
    assert row.toggle.text() == "Search" and not row.range.isVisible()
    qtbot.mouseClick(row.toggle, Qt.MouseButton.LeftButton)
    space = mlp_window.document.project.search["space"]
    name = page.document.graph.nodes[page.node_id].name
    assert space == [{"kind": "float", "param": "p", "node": name, "low": 0.025, "high": 1.0, "log": True}]
    assert row.range.isVisible() and row.low.text() == "0.025"
    _type(qtbot, row.high, "0.6")
    assert mlp_window.document.project.search["space"][0]["high"] == 0.6
    stack = mlp_window.document.undo_stack
    assert stack.undoText() == "Search p"
    stack.undo()
    assert row.high.text() == "1"
    stack.undo()
    assert mlp_window.document.project.search == {} and not row.toggle.isChecked()


def test_a_bad_range_is_refused_with_the_parsers_reason(qtbot, mlp_window):
    page = _page(mlp_window, "Linear")
    row = page.form.search_rows["out_features"]
    row.toggle.click()
    entry = mlp_window.document.project.search["space"][0]
    assert (entry["kind"], entry["low"], entry["high"]) == ("int", 8, 32)
    count = mlp_window.document.undo_stack.count()
    _type(qtbot, row.low, "64")
    assert row.message.isVisible() and row.message.text().startswith("Refused:") and "low" in row.message.text()
    assert mlp_window.document.undo_stack.count() == count and row.low.text() == "8"


def test_training_settings_get_the_toggle_too(qtbot, mlp_window):
    editor = TrainingSettingsEditor(mlp_window.document)
    qtbot.addWidget(editor)
    editor.show()
    row = editor.forms["optimizer"].search_rows["name"]
    row.toggle.click()
    entry = mlp_window.document.project.search["space"][0]
    assert entry["param"] == "training.optimizer.name" and entry["kind"] == "choice"
    assert "adam" in entry["choices"] and "sgd" in entry["choices"]
    _type(qtbot, row.choices, "adam, sgd")
    assert mlp_window.document.project.search["space"][0]["choices"] == ["adam", "sgd"]
    lr = editor.forms["optimizer"].search_rows["lr"]
    lr.toggle.click()
    assert [e["param"] for e in mlp_window.document.project.search["space"]] == [
        "training.optimizer.name", "training.optimizer.lr"]
