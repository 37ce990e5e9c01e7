"""Window shortcuts must not steal editing keys from the inspector's text fields."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


@pytest.mark.parametrize("key", [Qt.Key.Key_Backspace, Qt.Key.Key_Delete])
def test_editing_keys_in_the_inspector_do_not_delete_nodes(window, qtbot, key):
    graph = window.document.graph
    node = graph.node_by_name("fc1")
    window.view.select_nodes([node.id])
    page = window.inspector.page
    for field in (page.name_edit, page.form.editor("out_features").box.lineEdit()):
        window.activateWindow()
        field.setFocus()
        field.setCursorPosition(1)
        before = field.text()
        qtbot.keyClick(field, key)
        assert node.id in graph.nodes
        assert field.text() != before  # the key edited the text instead


@pytest.mark.parametrize("key", [Qt.Key.Key_Backspace, Qt.Key.Key_Delete])
def test_the_same_keys_on_the_canvas_delete_the_selection(window, qtbot, key):
    graph = window.document.graph
    node = graph.node_by_name("relu1")
    window.view.select_nodes([node.id])
    window.activateWindow()
    window.view.setFocus()
    qtbot.keyClick(window.view, key)
    assert node.id not in graph.nodes
