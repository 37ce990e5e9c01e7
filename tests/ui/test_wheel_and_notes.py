"""Issue 13: the wheel scrolls settings panels instead of changing values; refusals do not outlive an edit."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from nnstudio.layers.params import int_param
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.wheel import guard_wheel

NOISY_MOONS = {"name": "moons", "params": {"samples": 200, "noise": 0.05}}


def wheel(widget: QWidget, notches: int = -1) -> None:
    """A mouse wheel turned over the middle of `widget` (one notch is 120)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def settings_panel(qtbot, registry):
    from nnstudio.ui.document import Document
    from nnstudio.ui.training.panel import SettingsPanel
    from tests.ui.training.app_helpers import make_project

    document = Document(make_project(dataset=NOISY_MOONS), registry)
    panel = SettingsPanel(document)
    qtbot.addWidget(panel)
    panel.resize(340, 260)  # much shorter than its content: it scrolls
    panel.show()
    qtbot.waitExposed(panel)
    return panel, document


def test_the_wheel_over_the_training_settings_scrolls_them(qtbot, registry):
    panel, document = settings_panel(qtbot, registry)
    noise = panel.dataset.params.editor("noise").box
    panel.ensureWidgetVisible(noise)
    panel.setFocus()
    bar = panel.verticalScrollBar()
    before = bar.value()
    wheel(noise)
    assert noise.value() == 0.05 and document.project.dataset["params"]["noise"] == 0.05
    assert bar.value() > before  # the panel scrolled instead
    assert document.undo_stack.count() == 0

    choice = panel.dataset.choice
    panel.ensureWidgetVisible(choice)
    wheel(choice, notches=-2)
    assert choice.currentData() == "moons" and document.project.dataset["name"] == "moons"

    epochs = panel.settings.forms[""].editor("epochs").box
    panel.ensureWidgetVisible(epochs)
    shown = epochs.value()
    wheel(epochs)
    assert epochs.value() == shown and document.undo_stack.count() == 0


def test_a_focused_spin_box_still_takes_the_wheel(qtbot, registry):
    panel, _document = settings_panel(qtbot, registry)
    noise = panel.dataset.params.editor("noise").box
    panel.ensureWidgetVisible(noise)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    qtbot.mouseClick(noise.lineEdit(), Qt.MouseButton.LeftButton)  # a click gives it the focus
    assert noise.hasFocus() and noise.focusPolicy() == Qt.FocusPolicy.StrongFocus
    wheel(noise, notches=1)
    assert noise.value() != 0.05


def test_every_value_widget_of_the_inspector_is_guarded(window):
    node = window.document.graph.node_by_name("fc1")
    window.view.select_nodes([node.id])
    page = window.inspector.page
    box = page.form.editor("out_features").box
    assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus
    window.view.setFocus()
    value = box.value()
    wheel(box)
    assert box.value() == value and window.document.undo_stack.count() == 0


def test_the_guard_leaves_widgets_outside_scroll_areas_to_their_parents(qtbot):
    form = ParamForm([int_param("n", 3, "A count.", minimum=0, maximum=9)], {}, lambda name, value: None)
    qtbot.addWidget(form)
    guard_wheel(form)  # twice: harmless
    form.show()
    box = form.editor("n").box
    box.clearFocus()
    wheel(box)
    assert box.value() == 3


def test_a_refusal_goes_once_a_later_edit_succeeds(qtbot):
    odd = ParamForm(
        [int_param("epochs", 10, "Passes.", minimum=1, maximum=99)],
        {},
        lambda name, value: "must be even" if value % 2 else None,
    )
    other = ParamForm([int_param("batch", 8, "Batch size.", minimum=1, maximum=99)], {}, lambda name, value: None)
    qtbot.addWidget(odd)
    qtbot.addWidget(other)
    odd.editor("epochs").box.setValue(11)
    assert odd.message("epochs") == "Refused: must be even"
    other.editor("batch").box.setValue(16)  # an edit elsewhere goes through
    assert odd.message("epochs") == ""
    assert other.value("batch") == 16 and odd.value("epochs") == 10
