"""The layer palette: every registered layer, search as you type, drag data, double-click to place."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nnstudio.ui.editor import PALETTE_MIME
from nnstudio.ui.palette import Palette


def test_lists_every_registered_layer_by_category(qtbot, registry):
    palette = Palette(registry)
    qtbot.addWidget(palette)
    groups = [group.text(0) for group in palette.groups()]
    assert groups == [category for category, _ in registry.by_category()]
    assert sorted(palette.visible_types()) == sorted(spec.type for spec in registry)


def test_entries_have_a_glyph_icon_and_the_spec_tooltip(qtbot, registry):
    palette = Palette(registry)
    qtbot.addWidget(palette)
    for spec in registry:
        item = palette.item_for(spec.type)
        assert not item.icon(0).isNull()
        assert item.toolTip(0) == spec.tooltip
        assert spec.formula in item.toolTip(0)


def test_search_filters_by_name_title_and_summary_as_you_type(qtbot, registry):
    palette = Palette(registry)
    qtbot.addWidget(palette)
    qtbot.keyClicks(palette.search, "relu")
    shown = palette.visible_types()
    assert "ReLU" in shown and "LeakyReLU" in shown
    assert "Linear" not in shown
    hidden_groups = {group.text(0) for group in palette.groups() if group.isHidden()}
    assert "Dense" in hidden_groups and "Activation" not in hidden_groups
    palette.search.clear()
    palette.search.setText("weighted sum")  # words from Linear's one-line summary
    assert "Linear" in palette.visible_types()
    palette.search.setText("no layer is called this")
    assert palette.visible_types() == []
    assert all(group.isHidden() for group in palette.groups())
    palette.search.clear()
    assert len(palette.visible_types()) == len(registry)


def test_drag_data_carries_the_layer_type(qtbot, registry):
    palette = Palette(registry)
    qtbot.addWidget(palette)
    mime = palette.tree.mime_for(palette.item_for("Linear"))
    assert bytes(mime.data(PALETTE_MIME)).decode() == "Linear"
    assert palette.tree.mime_for(palette.groups()[0]) is None  # categories are not draggable


def test_double_click_places_the_layer_on_the_canvas(window, qtbot):
    palette, graph = window.palette, window.document.graph
    before = set(graph.nodes)
    item = palette.item_for("GELU")
    palette.tree.scrollToItem(item)
    centre = palette.tree.visualItemRect(item).center()
    viewport = palette.tree.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)  # a double-click starts with a press
    assert set(graph.nodes) == before  # a single click only selects the entry
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    added = set(graph.nodes) - before
    assert len(added) == 1
    assert graph.nodes[added.pop()].type == "GELU"
    window.actions_by_id["edit.undo"].trigger()
    assert set(graph.nodes) == before


def test_return_in_the_search_box_places_the_first_match(window, qtbot):
    graph = window.document.graph
    before = set(graph.nodes)
    qtbot.keyClicks(window.palette.search, "tanh")
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    added = set(graph.nodes) - before
    assert [graph.nodes[n].type for n in added] == ["Tanh"]
