"""The scene's comments: one CommentItem per model comment, kept in step through the Annotations signals, plus
the edits that create them (a note, a frame, a frame around the selection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from nnstudio.model import new_id
from nnstudio.model.annotations import DEFAULT_COLOUR, DEFAULT_SIZE, Comment
from nnstudio.ui.comment_commands import AddCommentCommand
from nnstudio.ui.editor import style
from nnstudio.ui.editor.comments import CommentItem
from nnstudio.ui.editor.interactions import snap

if TYPE_CHECKING:
    from nnstudio.model.annotations import Annotations
    from nnstudio.ui.editor.scene import EditorScene

FRAME_MARGIN = 40.0  # room between a fitted frame and the nodes it encloses (its title sits in the top margin)


class CommentLayer:
    def __init__(self, scene: EditorScene) -> None:
        self.scene = scene
        self.items: dict[str, CommentItem] = {}
        for comment in self.annotations:
            self._on_added(comment)

    @property
    def annotations(self) -> Annotations:
        return self.scene.document.project.annotations

    def connect(self) -> None:
        self.annotations.added.connect(self._on_added)
        self.annotations.removed.connect(self._on_removed)
        self.annotations.changed.connect(self._on_changed)

    def detach(self) -> None:
        self.annotations.added.disconnect(self._on_added)
        self.annotations.removed.disconnect(self._on_removed)
        self.annotations.changed.disconnect(self._on_changed)

    def _on_added(self, comment: Comment) -> None:
        item = CommentItem(self.scene, comment)
        self.items[comment.id] = item
        self.scene.addItem(item)

    def _on_removed(self, comment: Comment) -> None:
        item = self.items.pop(comment.id, None)
        if item is not None:
            if self.scene.interaction is not None:
                self.scene.cancel_interaction()
            self.scene.removeItem(item)

    def _on_changed(self, comment: Comment) -> None:
        if comment.id in self.items:
            self.items[comment.id].set_comment(comment)

    # --- queries -----------------------------------------------------------------------------
    def selected(self) -> list[CommentItem]:
        return [item for item in self.scene.selectedItems() if isinstance(item, CommentItem)]

    def enclosed_nodes(self, frame: Comment) -> list[str]:
        positions = ((node.id, node.position) for node in self.scene.document.graph.nodes.values())
        return self.annotations.enclosed(frame.id, positions)

    def enclosed_comments(self, frame: Comment) -> list[CommentItem]:
        inside = self.annotations.enclosed(frame.id, ((c.id, c.position) for c in self.annotations
                                                      if c.id != frame.id))
        return [self.items[comment_id] for comment_id in inside]

    # --- edits ---------------------------------------------------------------------------------
    def add(self, kind: str, at: QPointF, text: str = "", size: tuple[float, float] | None = None) -> None:
        """Add a note or frame with its top-left corner at `at` (snapped to the grid): one undo step."""
        corner = snap(at)
        comment = Comment(new_id("c"), kind, text or ("Note" if kind == "note" else "Frame"), DEFAULT_COLOUR[kind],
                          (corner.x(), corner.y()), size or DEFAULT_SIZE[kind])
        document = self.scene.document
        document.push(AddCommentCommand(document, comment))

    def frame_selection(self) -> bool:
        """A frame fitted around the selected nodes; False when none are selected."""
        items = self.scene.selected_node_items()
        if not items:
            return False
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        rect = rect.adjusted(-FRAME_MARGIN / 2, -FRAME_MARGIN, FRAME_MARGIN / 2, FRAME_MARGIN / 2)
        grid = style.GRID
        width = grid * round(rect.width() / grid + 1)
        height = grid * round(rect.height() / grid + 1)
        self.add("frame", rect.topLeft() - QPointF(grid / 2, grid / 2), f"{len(items)} layers", (width, height))
        return True
