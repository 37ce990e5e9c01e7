"""Undo commands for canvas comments and frames. The canvas follows the project's Annotations signals.

Moving a frame moves what it encloses (nodes and other comments whose top-left corner lies inside it) in the
same undo step, so one Ctrl+Z puts the whole group back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from nnstudio.model.annotations import Annotations, Comment, Point
from nnstudio.ui.commands import DocumentCommand, MoveNodesCommand

if TYPE_CHECKING:
    from nnstudio.ui.document import Document


def _noun(comment: Comment) -> str:
    return "frame" if comment.kind == "frame" else "note"


class _CommentCommand(DocumentCommand):
    @property
    def annotations(self) -> Annotations:
        return self.doc.project.annotations


class AddCommentCommand(_CommentCommand):
    def __init__(self, doc: Document, comment: Comment) -> None:
        super().__init__(doc, f"Add {_noun(comment)}")
        self.comment = comment

    def redo(self) -> None:
        self.annotations.add(self.comment)

    def undo(self) -> None:
        self.annotations.remove(self.comment.id)


class RemoveCommentsCommand(_CommentCommand):
    """Removes comments; undo puts each back at its place in the drawing order."""

    def __init__(self, doc: Document, comment_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(comment_ids))
        super().__init__(doc, f"Delete {len(ids)} comment{'s' if len(ids) != 1 else ''}")
        self.ids = ids
        self.removed: list[tuple[Comment, int]] = []

    def redo(self) -> None:
        self.removed = [self.annotations.remove(comment_id) for comment_id in self.ids]

    def undo(self) -> None:
        for comment, index in reversed(self.removed):
            self.annotations.add(comment, index)


class ChangeCommentCommand(_CommentCommand):
    """A comment's text, colour, position or size changed: the old and new comment, whole."""

    def __init__(self, doc: Document, new: Comment, text: str = "") -> None:
        self.old = doc.project.annotations.get(new.id)
        super().__init__(doc, text or f"Edit {_noun(new)}")
        self.new = new

    def redo(self) -> None:
        self.annotations.replace(self.new)

    def undo(self) -> None:
        self.annotations.replace(self.old)


class MoveCommentsCommand(_CommentCommand):
    """A drag of comments, with the nodes their frames carried: one undo step."""

    def __init__(self, doc: Document, moves: Mapping[str, tuple[Point, Point]],
                 node_moves: Mapping[str, tuple[Point, Point]]) -> None:
        count = len(moves)
        super().__init__(doc, f"Move {count} comment{'s' if count != 1 else ''}"
                         + (f" and {len(node_moves)} node{'s' if len(node_moves) != 1 else ''}" if node_moves else ""))
        self.moves = dict(moves)
        self.nodes = MoveNodesCommand(doc, node_moves) if node_moves else None

    def _place(self, which: int) -> None:
        for comment_id, ends in self.moves.items():
            comment = self.annotations.get(comment_id)
            self.annotations.replace(comment.with_changes(position=tuple(ends[which])))

    def redo(self) -> None:
        self._place(1)
        if self.nodes is not None:
            self.nodes.redo()

    def undo(self) -> None:
        if self.nodes is not None:
            self.nodes.undo()
        self._place(0)
