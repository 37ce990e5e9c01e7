"""Edge items: a cubic Bézier from an output port to an input port, labelled with the tensor shape.

An edge recomputes its path only when one of its two nodes moves (the node calls adjust()), and
its hit shape is stroked lazily, only when Qt asks for it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
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


def _strip(line: QLineF) -> QRectF:
    return QRectF(line.p1(), line.p2()).normalized().adjusted(-2, -2, 2, 2)


class EdgeItem(QGraphicsItem):
    def __init__(self, edge_id: str, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.edge_id = edge_id
        self.source = source
        self.target = target
        self.label = ""
        self.has_problem = False
        self.flow_pen: QPen | None = None  # the health overlay's gradient colour (health_overlay.py), else None
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self._label_size = (0.0, 0.0)
        self._path = QPainterPath()
        self._ends = QLineF()
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
        start, end = self.source.scenePos(), self.target.scenePos()
        old = _strip(self._ends)
        self._path = bezier(start, end)
        self._ends = QLineF(start, end)
        self._hit = None
        self._place_label()
        self._notify_overview(old.united(_strip(self._ends)))

    @property
    def ends(self) -> QLineF:
        return self._ends

    def _notify_overview(self, region: QRectF | None = None) -> None:
        scene = self.scene()
        overview = getattr(scene, "overview", None)
        if overview is not None and overview.isVisible():
            overview.invalidate(region)

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._static.setText(text)
            self._label_size = (style.text_width(text, "label") + 8, style.metrics("label").height() + 2)
            self._place_label()
            self.update()

    def set_problems(self, problems: list[Diagnostic], description: str = "") -> None:
        """Mark the link red when a problem is about its target port; the tooltip says what and why."""
        flagged = bool(problems)
        tip = "\n".join([description, *(p.message for p in problems)]).strip()
        if flagged != self.has_problem or tip != self.toolTip():
            self.has_problem = flagged
            self.setToolTip(tip)
            self.update()
            self._notify_overview(_strip(self._ends))

    def set_flow_pen(self, pen: QPen | None) -> None:
        """Draw the link with `pen` (the gradient it carries back), or as usual with None."""
        if pen != self.flow_pen:
            self.flow_pen = pen
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
        plain = self.flow_pen is None or self.has_problem or self.isSelected()
        painter.setPen(QPen(colour, width) if plain else self.flow_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if not self.label or option.levelOfDetailFromTransform(painter.worldTransform()) < style.LABEL_ZOOM:
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


class EdgeOverview(QGraphicsItem):
    """Far out, one item draws every link as a hairline: one paint call per frame instead of one
    per link, which is what keeps panning a fitted 1,000-node graph smooth. Links are then too
    small to click; the real edge items come back when the view zooms in. The item spans the scene
    rect, so a moving link repaints only its own old and new strip, never the whole overview."""

    def __init__(self, edges: dict[str, EdgeItem]) -> None:
        super().__init__()
        self._edges = edges
        self._lines: list[QLineF] = []
        self._problem_lines: list[QLineF] = []
        self._bounds = QRectF()
        self._dirty = True
        self.setZValue(0)

    def set_bounds(self, rect: QRectF) -> None:
        if rect != self._bounds:
            self.prepareGeometryChange()
            self._bounds = QRectF(rect)

    def invalidate(self, region: QRectF | None = None) -> None:
        """Rebuild the line lists before the next paint; repaint `region` (default: everything)."""
        self._dirty = True
        self.update(region if region is not None else self._bounds)

    def _rebuild(self) -> None:
        self._lines = [e.ends for e in self._edges.values() if not e.has_problem]
        self._problem_lines = [e.ends for e in self._edges.values() if e.has_problem]
        self._dirty = False

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: Any, widget: QWidget | None = None) -> None:
        if self._dirty:
            self._rebuild()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for lines, colour in ((self._lines, style.EDGE), (self._problem_lines, style.EDGE_ERROR)):
            if lines:
                painter.setPen(QPen(colour, 0))
                painter.drawLines(lines)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
