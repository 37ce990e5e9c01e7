"""Issue 13: shortcuts work again once a dialog closes; the Examples gallery's selected row is readable."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialog

from nnstudio.ui.gallery import ExamplesGallery


def press(window, qtbot, key, modifier=Qt.KeyboardModifier.ControlModifier) -> None:
    """A key press as the user makes it: to whatever has the keyboard focus now."""
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifier)


def counter(window, action_id: str) -> list[bool]:
    hits: list[bool] = []
    window.actions_by_id[action_id].triggered.connect(lambda *_: hits.append(True))
    return hits


def test_shortcuts_work_after_a_modal_dialog_closes(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.view.setFocus()
    hits = counter(window, "view.fit")
    gallery = ExamplesGallery(window)
    QTimer.singleShot(50, gallery.reject)
    gallery.exec()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    press(window, qtbot, Qt.Key.Key_0)
    assert hits == [True]
    assert QApplication.focusWidget() is window.view


def test_shortcuts_work_after_a_modeless_dialog_closes(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.view.setFocus()
    hits = counter(window, "edit.select_all")
    dialog = QDialog(window)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.close()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    press(window, qtbot, Qt.Key.Key_A)
    assert hits == [True]
    assert len(window.view.selected_node_ids()) == len(window.document.graph.nodes)


def test_the_selected_example_is_drawn_in_highlighted_text(qtbot):
    gallery = ExamplesGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    palette = gallery.list.palette()
    highlighted = palette.color(QPalette.ColorRole.HighlightedText).name()
    assert gallery.list.currentRow() == 0
    assert gallery.label_colors(0) == (highlighted, highlighted)
    assert highlighted not in gallery.label_colors(1)
    gallery.list.setCurrentRow(2)
    assert gallery.label_colors(2) == (highlighted, highlighted)
    assert highlighted not in gallery.label_colors(0)
