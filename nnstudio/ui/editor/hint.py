"""The first-run hint: on an empty canvas, a few lines in the middle of the view saying how to begin.

It is painted by the view in viewport coordinates (after the scene, which is empty when it shows), so
it stays centred and readable at any zoom and never becomes an item the user could select, move or
export. The view repaints only the strips that change (MinimalViewportUpdate), so when the first node
arrives, or the last one goes, the hint asks for one whole-viewport repaint to appear or vanish at once.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from nnstudio.ui.editor import style

HINT_LINES = (
    "Drag a layer from the palette onto the canvas, or double-click it in the palette.",
    "Link an output port to an input port; F5 trains the model.",
    "Examples to start from: File ▸ Examples…",
)
PADDING = 18.0
LINE_GAP = 6.0


class CanvasHint:
    """Owned by its view, which it references weakly (as the Navigator does, to avoid a cycle)."""

    def __init__(self, view: QGraphicsView) -> None:
        self._view = weakref.ref(view)
        self.shown = False  # whether the last paint drew the hint

    def wanted(self) -> bool:
        view = self._view()
        return view is not None and not getattr(view.scene(), "nodes", None)

    def paint(self, painter: QPainter) -> None:
        view = self._view()
        if view is None:
            return
        wanted = self.wanted()
        if wanted != self.shown:
            self.shown = wanted
            QTimer.singleShot(0, view.viewport().update)  # the whole viewport, not only the dirty strip
        if wanted:
            painter.save()
            painter.resetTransform()  # viewport pixels: centred and the same size at every zoom
            _draw_card(painter, QRectF(view.viewport().rect()), view.font())
            painter.restore()


def _draw_card(painter: QPainter, area: QRectF, font: QFont) -> None:
    size = max(font.pointSizeF(), 9.0)
    title, body = QFont(font), QFont(font)
    title.setPointSizeF(size * 1.25)
    title.setBold(True)
    body.setPointSizeF(size * 1.05)
    head_metrics, body_metrics = QFontMetricsF(title), QFontMetricsF(body)
    heading = "An empty canvas"
    width = (
        max([head_metrics.horizontalAdvance(heading)] + [body_metrics.horizontalAdvance(line) for line in HINT_LINES])
        + 2 * PADDING
    )
    width = min(width, area.width() - 16)
    height = head_metrics.height() + len(HINT_LINES) * (body_metrics.height() + LINE_GAP) + 2 * PADDING
    card = QRectF(0, 0, width, height)
    card.moveCenter(area.center())
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(style.NODE_BORDER, 1))
    painter.setBrush(style.LABEL_FILL)
    painter.drawRoundedRect(card, style.CORNER, style.CORNER)
    text = card.adjusted(PADDING, PADDING, -PADDING, -PADDING)
    painter.setFont(title)
    painter.setPen(style.TEXT)
    painter.drawText(
        QRectF(text.left(), text.top(), text.width(), head_metrics.height()),
        Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextSingleLine,
        heading,
    )
    painter.setFont(body)
    painter.setPen(style.TEXT_MUTED)
    top = text.top() + head_metrics.height() + LINE_GAP
    for line in HINT_LINES:
        painter.drawText(
            QRectF(text.left(), top, text.width(), body_metrics.height()),
            Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextSingleLine,
            body_metrics.elidedText(line, Qt.TextElideMode.ElideRight, text.width()),
        )
        top += body_metrics.height() + LINE_GAP
