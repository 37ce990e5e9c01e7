"""Node, port and badge items. They show the document; they never own any of its state.

A NodeItem keeps only its node id and what it needs to paint: the text is laid out once into
QStaticText whenever the node changes (never inside paint()), and the item is cached in device
coordinates, so panning a large graph blits pixmaps instead of re-drawing text.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.analysis import Diagnostic
from nnstudio.layers.spec import LayerSpec, PortSpec
from nnstudio.model import Endpoint, Node
from nnstudio.ui.editor import style
from nnstudio.ui.editor.face import Face, FaceData, face_data, frame_height

if TYPE_CHECKING:
    from nnstudio.ui.editor.edges import EdgeItem

NODE_TYPE = QGraphicsItem.UserType + 1
PORT_TYPE = QGraphicsItem.UserType + 2


class PortState(Enum):
    NORMAL = "normal"
    COMPATIBLE = "compatible"  # a link being dragged could end here
    REFUSED = "refused"  # it could not, and says why when hovered
    TARGET = "target"  # the port the link would snap to if released now


class PortItem(QGraphicsItem):
    """An input (left) or output (right) port. Multi-input ports are drawn as a taller pill."""

    def __init__(self, parent: NodeItem, spec: PortSpec, is_input: bool, show_label: bool) -> None:
        super().__init__(parent)
        self.node_item = parent
        self.name = spec.name
        self.is_input = is_input
        self.multi = spec.multi
        self.state = PortState.NORMAL
        self._label = QStaticText(spec.name) if show_label else None
        self._label_width = style.text_width(spec.name, "port") if show_label else 0.0
        self.setZValue(1)
        self.setAcceptHoverEvents(True)
        direction = "input" if is_input else "output"
        many = f" (accepts {spec.min_count} or more links)" if spec.multi else ""
        self.setToolTip(f"{spec.name}: {direction}{many}" + (f"\n{spec.doc}" if spec.doc else ""))

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.node_item.node_id, self.name)

    def type(self) -> int:
        return PORT_TYPE

    def _body(self) -> QRectF:
        r = style.PORT_RADIUS
        return QRectF(-r * 0.75, -r * 1.6, r * 1.5, r * 3.2) if self.multi else QRectF(-r, -r, 2 * r, 2 * r)

    def boundingRect(self) -> QRectF:
        hit = style.PORT_HIT_RADIUS
        rect = QRectF(-hit, -hit, 2 * hit, 2 * hit)
        if self._label is not None:
            rect = rect.united(QRectF(-self._label_width - 6, -22, self._label_width + 6, 14))
        return rect

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        hit = style.PORT_HIT_RADIUS
        path.addEllipse(QPointF(0, 0), hit, hit)
        return path

    def set_state(self, state: PortState) -> None:
        if state is not self.state:
            self.state = state
            self.update()

    def hoverEnterEvent(self, event: Any) -> None:
        self.setCursor(Qt.CursorShape.CrossCursor)
        super().hoverEnterEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        fill, border, width = _PORT_LOOK[self.state]
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(fill))
        body = self._body()
        if self.state is PortState.TARGET:
            body = body.adjusted(-2, -2, 2, 2)
        if self.multi:
            painter.drawRoundedRect(body, body.width() / 2, body.width() / 2)
        else:
            painter.drawEllipse(body)
        if self._label is not None:
            painter.setFont(style.font("port"))
            painter.setPen(style.TEXT_MUTED)
            painter.drawStaticText(QPointF(-self._label_width - 4, -20), self._label)


_PORT_LOOK = {
    PortState.NORMAL: (style.PORT_FILL, style.PORT_BORDER, 1.5),
    PortState.COMPATIBLE: (style.PORT_OK, style.PORT_OK.darker(130), 1.5),
    PortState.REFUSED: (style.PORT_REFUSED, style.PORT_REFUSED.darker(120), 1.0),
    PortState.TARGET: (style.PORT_TARGET, style.PORT_TARGET.darker(150), 2.5),
}


class BadgeItem(QGraphicsItem):
    """The red (error) or amber (warning) dot in a node's header; its tooltip lists the problems."""

    RADIUS = 5.5

    def __init__(self, parent: NodeItem) -> None:
        super().__init__(parent)
        self._colour = style.ERROR
        self.setZValue(2)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        r = self.RADIUS + 1.5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_problems(self, problems: list[Diagnostic]) -> None:
        self.setVisible(bool(problems))
        if problems:
            self._colour = style.ERROR if any(p.is_error for p in problems) else style.WARNING
            self.setToolTip("\n".join(f"• {p.message}" for p in problems))
            self.update()

    @property
    def is_error(self) -> bool:
        return self.isVisible() and self._colour == style.ERROR

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(QPen(style.NODE_FILL, 1.5))
        painter.setBrush(self._colour)
        painter.drawEllipse(QPointF(0, 0), self.RADIUS, self.RADIUS)


class NodeItem(QGraphicsItem):
    """A layer on the canvas: header (glyph, name, badge), type, key params and output shape."""

    def __init__(self, node: Node, spec: LayerSpec | None, shape: str = "", known: bool = False) -> None:
        super().__init__()
        self.node_id = node.id
        self.spec = spec
        self.edges: set[EdgeItem] = set()
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.face = Face()
        self._shape_text = (shape, known)
        self._problems: tuple[tuple[Any, str], ...] = ()
        self._colour = style.header_colour(spec)
        self._role = spec.role if spec is not None else "layer"
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.badge = BadgeItem(self)
        self.badge.setPos(style.NODE_WIDTH - 13, style.HEADER_HEIGHT / 2)
        if spec is not None:
            labels = len(spec.inputs) > 1
            for port in spec.inputs:
                self.inputs[port.name] = PortItem(self, port, True, labels)
            for port in spec.outputs:
                self.outputs[port.name] = PortItem(self, port, False, False)
            self._tip = spec.tooltip
        else:
            self._tip = _unknown_tip(node.type)
        self.setToolTip(self._tip)
        self._rect = QRectF()
        self._header = QPainterPath()
        self._relayout_frame()
        self.update_face(node)
        self.setPos(*node.position)

    def type(self) -> int:
        return NODE_TYPE

    # --- geometry ----------------------------------------------------------------------------
    def _relayout_frame(self) -> None:
        """Size the box for its text lines and ports, then place the ports on its sides."""
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, style.NODE_WIDTH, frame_height(self.spec, len(self.inputs)))
        self._header = _header_path(style.NODE_WIDTH)
        # Ports sit at a fixed height, not centred, so links between nodes in a row stay straight.
        first = style.HEADER_HEIGHT + style.PORT_TOP
        for ports, x in ((self.inputs, 0.0), (self.outputs, style.NODE_WIDTH)):
            for index, port in enumerate(ports.values()):
                port.setPos(x, first + index * style.PORT_SPACING)
        if self.face.data is not None:  # the large mid-zoom name is centred on the new height
            data, self.face.data = self.face.data, None
            self._set_face(data)

    def ensure_port(self, name: str, is_input: bool) -> PortItem:
        """Ports of an unknown layer type are made from the edges that use them."""
        ports = self.inputs if is_input else self.outputs
        if name not in ports:
            ports[name] = PortItem(self, PortSpec(name), is_input, is_input and len(ports) > 0)
            self._relayout_frame()
            for edge in self.edges:
                edge.adjust()
        return ports[name]

    def show_ports(self, visible: bool) -> None:
        for port in (*self.inputs.values(), *self.outputs.values()):
            port.setVisible(visible)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, style.CORNER, style.CORNER)
        return path

    def size(self) -> tuple[float, float]:
        return self._rect.width(), self._rect.height()

    # --- content -----------------------------------------------------------------------------
    def update_face(self, node: Node) -> None:
        """Re-lay out the text from the node (name, params); called on add, rename, param change."""
        shape, known = self._shape_text
        self._set_face(face_data(node, self.spec, shape, known))

    def set_output_shape(self, text: str, known: bool) -> None:
        if (text, known) != self._shape_text:
            self._shape_text = (text, known)
            if self.face.data is not None:
                self._set_face(replace(self.face.data, shape=text, shape_known=known))

    def _set_face(self, data: FaceData) -> None:
        old = self.face.data
        if self.face.set(data, self._rect.width(), self._rect.height()):
            if old is None or (old.frozen, old.lr_scale) != (data.frozen, data.lr_scale):
                self.setToolTip(self._tip + _training_tip(data))
            self.update()

    @property
    def shape_text(self) -> str:
        return self._shape_text[0]

    @property
    def title_text(self) -> str:
        return self.face.data.name if self.face.data else ""

    def text_lines(self) -> list[str]:
        """Every line shown on the face close up, top to bottom (for tests and accessibility)."""
        return self.face.lines()

    def set_problems(self, problems: list[Diagnostic]) -> None:
        """The badge shows them; the node's own tooltip stays the layer's explanation."""
        key = tuple((p.severity, p.message) for p in problems)
        if key != self._problems:
            self._problems = key
            self.badge.set_problems(problems)

    # --- events and painting -------------------------------------------------------------------
    def move_to(self, position: QPointF) -> None:
        """Move the node and the links that touch it. Every move goes through here (no itemChange
        override: Qt would call it a dozen times per node while a scene is built)."""
        if position != self.pos():
            self.setPos(position)
            for edge in self.edges:
                edge.adjust()

    @property
    def frozen(self) -> bool:
        return bool(self.face.data and self.face.data.frozen)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        frozen = self.frozen
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BODY_FILLS.get("frozen" if frozen else self._role, style.NODE_FILL))
        painter.drawRoundedRect(self._rect, style.CORNER, style.CORNER)
        if frozen:
            painter.setBrush(QBrush(style.FROZEN_HATCH, Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(self._rect, style.CORNER, style.CORNER)
        painter.fillPath(self._header, self._colour)
        painter.setPen(self._border_pen(frozen))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._rect, style.CORNER, style.CORNER)
        self.face.paint(painter, option.levelOfDetailFromTransform(painter.worldTransform()))

    def _border_pen(self, frozen: bool) -> QPen:
        """Selection wins; then frozen (solid blue); losses and Targets get a dashed, training-only outline."""
        if self.isSelected():
            return QPen(style.SELECTION, 2.5)
        if frozen:
            return QPen(style.FROZEN_BORDER, 1.5)
        if self._role in ("loss", "target"):
            pen = QPen(style.TRAINING_ONLY_BORDER, 1.2)
            pen.setDashPattern([4.0, 3.0])
            return pen
        return QPen(style.NODE_BORDER, 1.0)


_BODY_FILLS = {"frozen": style.FROZEN_FILL, "loss": style.LOSS_FILL, "target": style.TARGET_FILL}


@cache
def _header_path(width: float) -> QPainterPath:
    """The coloured header: a rectangle with only its top corners rounded; shared by all nodes."""
    rect, radius = QRectF(0, 0, width, style.HEADER_HEIGHT), style.CORNER
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    square = QPainterPath()
    square.addRect(rect.adjusted(0, rect.height() / 2, 0, 0))
    return path.united(square)


def _training_tip(data: FaceData) -> str:
    if data.frozen:
        return "\n\n❄ Frozen: training leaves this layer's weights as they are."
    if data.lr_note:
        return f"\n\nLearns at {data.lr_scale:g} × the optimizer's learning rate."
    return ""


def _unknown_tip(type_name: str) -> str:
    return f"Unknown layer type {type_name!r}: install the plugin that provides it, or replace this node."
