"""The first-run hint: drawn on an empty canvas, gone as soon as a node is there, back when the last goes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QColor

from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import load
from nnstudio.ui.editor.hint import HINT_LINES


def dark_pixels(view, area: QRect) -> int:
    """Pixels dark enough to be text, in `area` of the viewport (the grid and nodes' fill are light)."""
    image = view.viewport().grab().toImage()
    return sum(
        1
        for x in range(area.left(), area.right(), 2)
        for y in range(area.top(), area.bottom(), 2)
        if QColor(image.pixel(x, y)).lightness() < 140
    )


def centre_band(view) -> QRect:
    rect = view.viewport().rect()
    return QRect(rect.center().x() - 220, rect.center().y() - 40, 440, 80)


def test_hint_shows_on_an_empty_canvas_and_goes_with_the_first_node(canvas, qtbot) -> None:
    view = canvas.view
    assert dark_pixels(view, centre_band(view)) > 200  # the hint's text, in the middle
    assert view.hint.shown and "F5" in " ".join(HINT_LINES) and "File ▸ Examples" in HINT_LINES[-1]
    corner = view.mapToScene(view.viewport().rect().topLeft()) + QPointF(40, 40)
    canvas.drop("Linear", corner)
    assert len(canvas.document.graph.nodes) == 1
    qtbot.waitUntil(lambda: dark_pixels(view, centre_band(view)) == 0)
    assert not view.hint.shown
    canvas.document.undo_stack.undo()
    qtbot.waitUntil(lambda: dark_pixels(view, centre_band(view)) > 200)
    assert view.hint.shown


def test_no_hint_over_a_project(make_canvas, registry) -> None:
    canvas = make_canvas(load(EXAMPLES[DEFAULT_EXAMPLE].path, registry))
    canvas.view.viewport().grab()
    assert not canvas.view.hint.shown and not canvas.view.hint.wanted()
