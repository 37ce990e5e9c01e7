"""Notes and frames on the canvas: items that follow the project's Annotations, and the gestures on them.

A frame is drawn behind links and nodes, with its title at the top; a note floats above them like a sticky note.
Dragging a comment moves it (a frame also carries the nodes and comments it encloses); dragging its bottom-right
corner resizes it; a double-click edits its text in place; its context menu picks a colour or deletes it. Every
one of these pushes one undo command; the items change only when the model says so, as node items do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nnstudio.model.annotations import COLOURS, MIN_SIZE, Comment
from nnstudio.ui.comment_commands import ChangeCommentCommand, MoveCommentsCommand, RemoveCommentsCommand
from nnstudio.ui.editor import style
from nnstudio.ui.editor.interactions import Interaction, locked_message, snap

if TYPE_CHECKING:
    from nnstudio.ui.editor.scene import EditorScene

HANDLE = 14.0  # the bottom-right square that resizes
PAD = 8.0
Z_FRAME, Z_NOTE = -5.0, 4.0


class CommentText(QGraphicsTextItem):
    """The comment's text, edited in place after a double-click; leaving it (focus out) commits one edit."""

    def __init__(self, owner: CommentItem) -> None:
        super().__init__(owner)
        self.owner = owner
        self.setDefaultTextColor(style.TEXT)

    def focusOutEvent(self, event: Any) -> None:
        super().focusOutEvent(event)
        self.owner.finish_editing()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setPlainText(self.owner.comment.text)  # Escape leaves the text as it was
            self.clearFocus()
            return
        super().keyPressEvent(event)


class CommentItem(QGraphicsRectItem):
    def __init__(self, scene: EditorScene, comment: Comment) -> None:
        super().__init__()
        self.editor_scene = scene
        self.comment = comment
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.label = CommentText(self)
        self.label.setPos(PAD, PAD / 2)
        self.set_comment(comment)

    @property
    def comment_id(self) -> str:
        return self.comment.id

    @property
    def is_frame(self) -> bool:
        return self.comment.kind == "frame"

    def set_comment(self, comment: Comment) -> None:
        """Show the model's comment as it is now."""
        self.comment = comment
        self.setZValue(Z_FRAME if self.is_frame else Z_NOTE)
        self.setPos(*comment.position)
        self.setRect(0.0, 0.0, *comment.size)
        font = QFont(self.label.font())
        font.setBold(self.is_frame)
        font.setPointSizeF(12.0 if self.is_frame else 10.5)
        self.label.setFont(font)
        self.label.setTextWidth(max(10.0, comment.size[0] - 2 * PAD))
        if self.label.toPlainText() != comment.text and not self.label.hasFocus():
            self.label.setPlainText(comment.text)
        self.setToolTip("Double-click to edit the text; drag the corner to resize"
                        + ("; moving the frame moves what it encloses" if self.is_frame else ""))
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        fill = QColor(self.comment.colour)
        if self.is_frame:
            fill.setAlpha(110)  # the grid and the links show through a frame
        border = style.SELECTION if self.isSelected() else QColor(self.comment.colour).darker(150)
        painter.setPen(QPen(border, 2.0 if self.isSelected() else 1.2))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(self.rect(), style.CORNER, style.CORNER)
        corner = self.handle_rect()
        painter.setPen(QPen(border, 1.2))
        for step in (4.0, 8.0):
            painter.drawLine(QPointF(corner.right() - step, corner.bottom() - 2),
                             QPointF(corner.right() - 2, corner.bottom() - step))

    def handle_rect(self) -> QRectF:
        rect = self.rect()
        return QRectF(rect.right() - HANDLE, rect.bottom() - HANDLE, HANDLE, HANDLE)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.editor_scene.read_only:
            self.editor_scene.status_message.emit(locked_message())
            return
        self.start_editing()

    def start_editing(self) -> None:
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.label.setFocus(Qt.FocusReason.MouseFocusReason)

    def finish_editing(self) -> None:
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        text = self.label.toPlainText()
        if text != self.comment.text:
            document = self.editor_scene.document
            document.push(ChangeCommentCommand(document, self.comment.with_changes(text=text),
                                               f"Edit {self.comment.kind} text"))

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        self.context_menu().exec(event.screenPos())

    def context_menu(self) -> QMenu:
        """Colours (the current one checked), then Delete."""
        menu = QMenu()
        for name, colour in COLOURS.items():
            action = menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(colour == self.comment.colour)
            action.triggered.connect(lambda _=False, c=colour: self.set_colour(c))
        menu.addSeparator()
        menu.addAction("Delete").triggered.connect(self.delete)
        return menu

    def set_colour(self, colour: str) -> None:
        if colour != self.comment.colour and not self._refused():
            document = self.editor_scene.document
            document.push(ChangeCommentCommand(document, self.comment.with_changes(colour=colour),
                                               f"Colour {self.comment.kind}"))

    def delete(self) -> None:
        if not self._refused():
            document = self.editor_scene.document
            document.push(RemoveCommentsCommand(document, [self.comment.id]))

    def _refused(self) -> bool:
        if self.editor_scene.read_only:
            self.editor_scene.status_message.emit(locked_message())
            return True
        return False


class CommentMove(Interaction):
    """Drag selected comments; a frame carries the nodes and comments it enclosed when the drag began."""

    def __init__(self, scene: EditorScene, pressed: CommentItem, press: QPointF) -> None:
        super().__init__(scene)
        layer = scene.comment_layer
        items = [item for item in scene.selectedItems() if isinstance(item, CommentItem)]
        if pressed not in items:
            items.append(pressed)
        carried_nodes: set[str] = set()
        carried: list[CommentItem] = list(items)
        for item in items:
            if item.is_frame:
                carried_nodes.update(layer.enclosed_nodes(item.comment))
                carried += [other for other in layer.enclosed_comments(item.comment) if other not in carried]
        self.comments = {item: item.pos() for item in carried}
        self.nodes = {scene.nodes[node_id]: scene.nodes[node_id].pos() for node_id in carried_nodes}
        self.press = press
        self.moved = False

    def mouse_move(self, pos: QPointF) -> None:
        if self.scene.read_only:
            return
        delta = snap(pos - self.press)
        self.moved = self.moved or delta.manhattanLength() > 0
        for item, start in self.comments.items():
            item.setPos(start + delta)
        for node, start in self.nodes.items():
            node.move_to(start + delta)

    def mouse_release(self, pos: QPointF) -> None:
        if not self.moved:
            return
        graph = self.scene.document.graph
        moves = {item.comment_id: (item.comment.position, (item.x(), item.y())) for item in self.comments
                 if (item.x(), item.y()) != tuple(item.comment.position)}
        node_moves = {node.node_id: (graph.nodes[node.node_id].position, (node.x(), node.y()))
                      for node in self.nodes if (node.x(), node.y()) != tuple(graph.nodes[node.node_id].position)}
        if moves:
            document = self.scene.document
            document.push(MoveCommentsCommand(document, moves, node_moves))
        self.scene.grow_scene_rect()

    def cancel(self) -> None:
        for item, start in self.comments.items():
            item.setPos(start)
        for node, start in self.nodes.items():
            node.move_to(start)
        self.moved = False


class CommentResize(Interaction):
    """Drag a comment's bottom-right corner: its size snaps to the grid, and is at least MIN_SIZE."""

    def __init__(self, scene: EditorScene, item: CommentItem, press: QPointF) -> None:
        super().__init__(scene)
        self.item = item
        self.press = press
        self.start = QPointF(*item.comment.size)

    def _size(self, pos: QPointF) -> tuple[float, float]:
        size = snap(self.start + (pos - self.press))
        return max(MIN_SIZE[0], size.x()), max(MIN_SIZE[1], size.y())

    def mouse_move(self, pos: QPointF) -> None:
        if not self.scene.read_only:
            self.item.setRect(0.0, 0.0, *self._size(pos))

    def mouse_release(self, pos: QPointF) -> None:
        size = self._size(pos)
        if not self.scene.read_only and size != tuple(self.item.comment.size):
            document = self.scene.document
            document.push(ChangeCommentCommand(document, self.item.comment.with_changes(size=size),
                                               f"Resize {self.item.comment.kind}"))

    def cancel(self) -> None:
        self.item.setRect(0.0, 0.0, *self.item.comment.size)


def comment_interaction(scene: EditorScene, item: CommentItem, pos: QPointF) -> Interaction:
    if item.handle_rect().contains(item.mapFromScene(pos)):
        return CommentResize(scene, item, pos)
    return CommentMove(scene, item, pos)
