"""A mark on the canvas around the node where a run went non-finite.

The mark is a child of the node's item, so it moves with the node and disappears with it; it is not part
of the document, and the next run (or a click on "Clear") removes it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

MARK_COLOUR = QColor("#d62728")


class NodeMark(QGraphicsPathItem):
    def __init__(self, node_item: QGraphicsItem, label: str, tooltip: str) -> None:
        super().__init__(node_item)
        rect: QRectF = node_item.boundingRect().adjusted(-7, -7, 7, 7)
        path = QPainterPath()
        path.addRoundedRect(rect, 10, 10)
        self.setPath(path)
        pen = QPen(MARK_COLOUR, 3)
        pen.setDashPattern([4, 2])
        self.setPen(pen)
        self.setBrush(QBrush(QColor(214, 39, 40, 28)))
        self.setZValue(-1)
        self.setToolTip(tooltip)
        self.text = QGraphicsSimpleTextItem(label, self)
        font = QFont()
        font.setBold(True)
        self.text.setFont(font)
        self.text.setBrush(MARK_COLOUR)
        self.text.setPos(rect.left(), rect.top() - self.text.boundingRect().height() - 2)


class NodeMarker:
    """Marks at most one node of an EditorView's scene."""

    def __init__(self) -> None:
        self.mark: NodeMark | None = None
        self.node_id: str | None = None

    def show(self, view, node_id: str, label: str, tooltip: str) -> bool:
        """Mark `node_id` in `view`'s scene and bring it into view; False when the node is not on the canvas."""
        self.clear()
        item = view.scene().nodes.get(node_id)
        if item is None:
            return False
        self.mark = NodeMark(item, label, tooltip)
        self.node_id = node_id
        view.center_on_node(node_id)
        return True

    def clear(self) -> None:
        if self.mark is not None:
            try:
                scene = self.mark.scene()
                if scene is not None:
                    scene.removeItem(self.mark)
            except RuntimeError:  # the scene (and the mark with it) is already gone
                pass
        self.mark = None
        self.node_id = None
