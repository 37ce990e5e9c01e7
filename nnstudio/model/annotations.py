"""Comments and frames on the canvas: notes a user leaves beside the graph, never part of what it computes.

A *note* is a box of text. A *frame* is a titled, coloured rectangle drawn behind the nodes; moving it moves the
nodes it encloses (a node is enclosed when its position, the top-left corner of its box, lies inside the frame),
as Neural Network Console's frames do. Both live in the project file (`comments`, file version 3) and change
only through `Annotations`, whose signals the canvas follows, exactly as it follows the graph's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psygnal import Signal

KINDS = ("note", "frame")
# Soft colours that keep black text readable; the first is each kind's default.
COLOURS = {
    "yellow": "#fff3b0",
    "blue": "#d6e6ff",
    "green": "#d9f2d0",
    "pink": "#fadadd",
    "grey": "#e6e6e6",
    "violet": "#e7dcf7",
}
DEFAULT_COLOUR = {"note": COLOURS["yellow"], "frame": COLOURS["blue"]}
DEFAULT_SIZE = {"note": (200.0, 90.0), "frame": (420.0, 300.0)}
MIN_SIZE = (60.0, 40.0)
MAX_SIZE = 100_000.0  # a frame around a 10,000-node graph fits well inside
MAX_TEXT = 10_000  # characters: a note is a note, not a document

Point = tuple[float, float]


@dataclass(frozen=True)
class Comment:
    """One note or frame. `position` is its top-left corner in canvas coordinates, `size` its width and height."""

    id: str
    kind: str = "note"
    text: str = ""
    colour: str = DEFAULT_COLOUR["note"]
    position: Point = (0.0, 0.0)
    size: Point = DEFAULT_SIZE["note"]

    def contains(self, point: Point) -> bool:
        (x, y), (width, height) = self.position, self.size
        return x <= point[0] <= x + width and y <= point[1] <= y + height

    def with_changes(self, **changes: Any) -> Comment:
        return dataclasses.replace(self, **changes)


def is_colour(text: Any) -> bool:
    """Whether `text` is a `#rrggbb` colour."""
    return (isinstance(text, str) and len(text) == 7 and text[0] == "#"
            and all(c in "0123456789abcdefABCDEF" for c in text[1:]))


class Annotations:
    """The project's comments, in drawing order (later ones on top), with change signals."""

    added = Signal(object)  # Comment
    removed = Signal(object)  # Comment
    changed = Signal(object)  # the Comment as it is now

    def __init__(self, comments: Iterable[Comment] = ()) -> None:
        self._comments: dict[str, Comment] = {}
        for comment in comments:
            self._comments[comment.id] = comment

    def __iter__(self) -> Iterator[Comment]:
        return iter(list(self._comments.values()))

    def __len__(self) -> int:
        return len(self._comments)

    def __contains__(self, comment_id: object) -> bool:
        return comment_id in self._comments

    def get(self, comment_id: str) -> Comment:
        return self._comments[comment_id]

    def add(self, comment: Comment, index: int | None = None) -> Comment:
        if comment.id in self._comments:
            raise ValueError(f"a comment with id {comment.id!r} exists already")
        items = list(self._comments.items())
        items.insert(len(items) if index is None else index, (comment.id, comment))
        self._comments = dict(items)
        self.added.emit(comment)
        return comment

    def remove(self, comment_id: str) -> tuple[Comment, int]:
        """Remove a comment; returns it with its index, so an undo puts it back in the same drawing order."""
        index = list(self._comments).index(comment_id)
        comment = self._comments.pop(comment_id)
        self.removed.emit(comment)
        return comment, index

    def replace(self, comment: Comment) -> Comment:
        """Put a changed comment in place of the one with its id; returns the old one, for undo."""
        old = self._comments[comment.id]
        self._comments[comment.id] = comment
        if comment != old:
            self.changed.emit(comment)
        return old

    def enclosed(self, frame_id: str, positions: Iterable[tuple[str, Point]]) -> list[str]:
        """The ids (of `positions`' (id, position) pairs) whose position lies inside the frame."""
        frame = self._comments[frame_id]
        if frame.kind != "frame":
            return []
        return [item_id for item_id, position in positions if frame.contains(position)]
