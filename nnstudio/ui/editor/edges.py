"""Edge items: a cubic Bézier from an output port to an input port, labelled with the tensor shape.

An edge recomputes its path only when one of its two nodes moves (the node calls adjust()), and
its hit shape is stroked lazily, only when Qt asks for it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.analysis import Diagnostic
from nnstudio.ui.editor import style
from nnstudio.ui.editor.items import PortItem

EDGE_TYPE = QGraphicsItem.UserType + 3


def bezier(start: QPointF, end: QPointF) -> QPainterPath:
    """Leaves the output heading right and enters the input heading right, even when going back."""
    reach = max(40.0, abs(end.x() - start.x()) / 2, min(abs(end.y() - start.y()), 160.0) / 2)
    path = QPainterPath(start)
    path.cubicTo(start + QPointF(reach, 0), end - QPointF(reach, 0), end)
    return path


class EdgeItem(QGraphicsItem):
    def __init__(self, edge_id: str, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.edge_id = edge_id
        self.source = source
        self.target = target
        self.label = ""
        self.has_problem = False
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self._label_size = (0.0, 0.0)
        self._path = QPainterPath()
        self._hit: QPainterPath | None = None
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        source.node_item.edges.add(self)
        target.node_item.edges.add(self)
        self.adjust()

    def type(self) -> int:
        return EDGE_TYPE

    def detach(self) -> None:
        """Forget the end nodes, so their moves no longer reach this item."""
        self.source.node_item.edges.discard(self)
        self.target.node_item.edges.discard(self)

    def adjust(self) -> None:
        self.prepareGeometryChange()
        self._path = bezier(self.source.scenePos(), self.target.scenePos())
        self._hit = None
        self._place_label()

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._static.setText(text)
            self._label_size = (style.text_width(text, "label") + 8, style.metrics("label").height() + 2)
            self._place_label()
            self.update()

    def set_problems(self, problems: list[Diagnostic]) -> None:
        flagged = bool(problems)
        tip = "\n".join(p.message for p in problems)
        if flagged != self.has_problem or tip != self.toolTip():
            self.has_problem = flagged
            self.setToolTip(tip)
            self.update()

    def _place_label(self) -> None:
        width, height = self._label_size
        middle = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height - 3, width, height)
        bounds = self._path.boundingRect().adjusted(-3, -3, 3, 3)
        self._bounds = bounds.united(self._label_rect) if self.label else bounds

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._hit is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(style.EDGE_HIT_WIDTH)
            self._hit = stroker.createStroke(self._path)
        return self._hit

    def path(self) -> QPainterPath:
        return QPainterPath(self._path)

    def midpoint(self) -> QPointF:
        return self._path.pointAtPercent(0.5)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colour = style.EDGE_ERROR if self.has_problem else style.EDGE
        if self.isSelected():
            colour = style.SELECTION
        width = style.EDGE_WIDTH + (1.0 if self.isSelected() or self.has_problem else 0.0)
        painter.setPen(QPen(colour, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if not self.label or option.levelOfDetailFromTransform(painter.worldTransform()) < style.DETAIL_ZOOM:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.LABEL_FILL)
        painter.drawRoundedRect(self._label_rect, 4, 4)
        painter.setFont(style.font("label"))
        painter.setPen(colour if self.has_problem else style.TEXT_MUTED)
        painter.drawStaticText(self._label_rect.topLeft() + QPointF(4, 1), self._static)


class LinkPreviewItem(QGraphicsItem):
    """The dashed link that follows the cursor while a connection is dragged."""

    def __init__(self, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self._anchor = anchor
        self._from_output = from_output
        self._path = QPainterPath()
        self.ok = True
        self.setZValue(3)
        self.move_to(anchor)

    def move_to(self, point: QPointF) -> None:
        self.prepareGeometryChange()
        start, end = (self._anchor, point) if self._from_output else (point, self._anchor)
        self._path = bezier(start, end)

    def set_ok(self, ok: bool) -> None:
        if ok != self.ok:
            self.ok = ok
            self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option: Any, widget: QWidget | None = None) -> None:
        pen = QPen(style.PORT_TARGET if self.ok else style.EDGE, 2.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
