"""The project file's `comments` list (file version 3): canvas notes and frames, read strictly.

    "comments": [{"id": "c1", "kind": "frame", "text": "encoder", "colour": "#d6e6ff",
                  "position": [-20.0, -40.0], "size": [420.0, 300.0]}]

Every problem names its place (`comments[2].colour: expected a colour #rrggbb, got 'red'`), like the rest of the
file; a comment never changes what the graph computes, but a bad one is still refused rather than dropped, so
that saving the file again cannot lose it.
"""

from __future__ import annotations

from typing import Any

from nnstudio.io.reader import At, ProjectFileError
from nnstudio.model.annotations import (
    DEFAULT_COLOUR,
    DEFAULT_SIZE,
    KINDS,
    MAX_SIZE,
    MAX_TEXT,
    MIN_SIZE,
    Annotations,
    Comment,
    is_colour,
)

KEYS = ("id", "kind", "text", "colour", "position", "size")


def read_comments(at: At) -> list[Comment]:
    """Every comment of the list, or a ProjectFileError carrying the problems of all of them."""
    comments: list[Comment] = []
    problems: list[ProjectFileError] = []
    seen: set[str] = set()
    for item in at.items():
        try:
            comment = _read_comment(item)
        except ProjectFileError as exc:
            problems.extend(exc.problems)
            continue
        if comment.id in seen:
            problems.append(item.child("id").fail(f"duplicate comment id {comment.id!r}"))
            continue
        seen.add(comment.id)
        comments.append(comment)
    if problems:
        raise ProjectFileError.combine(problems)
    return comments


def _read_comment(at: At) -> Comment:
    at.object()
    for key in at.value:
        if key not in KEYS:
            raise at.child(key).fail(f"unknown key; a comment holds {', '.join(KEYS)}")
    id_at = at.field("id", kind=str)
    if not id_at.value.strip() or len(id_at.value) > 64:
        raise id_at.fail("expected a non-empty id of at most 64 characters")
    kind_at = at.field("kind", "note", str)
    if kind_at.value not in KINDS:
        raise kind_at.fail(f"expected one of {', '.join(KINDS)}, got {kind_at.value!r}")
    kind = kind_at.value
    text_at = at.field("text", "", str)
    if len(text_at.value) > MAX_TEXT:
        raise text_at.fail(f"a comment holds at most {MAX_TEXT:,} characters, got {len(text_at.value):,}")
    colour_at = at.field("colour", DEFAULT_COLOUR[kind], str)
    if not is_colour(colour_at.value):
        raise colour_at.fail(f"expected a colour #rrggbb, got {colour_at.value!r}")
    size = at.number_pair("size", list(DEFAULT_SIZE[kind]))
    if not all(low <= value <= MAX_SIZE for value, low in zip(size, MIN_SIZE, strict=True)):
        raise at.child("size").fail(f"expected a width in [{MIN_SIZE[0]:g}, {MAX_SIZE:g}] and a height in "
                                    f"[{MIN_SIZE[1]:g}, {MAX_SIZE:g}], got {list(size)}")
    return Comment(id_at.value, kind, text_at.value, colour_at.value.lower(), at.number_pair("position"), size)


def comments_entry(annotations: Annotations) -> list[dict[str, Any]]:
    """The `comments` list as the file stores it, in drawing order."""
    return [{"id": c.id, "kind": c.kind, "text": c.text, "colour": c.colour,
             "position": [round(c.position[0], 2), round(c.position[1], 2)],
             "size": [round(c.size[0], 2), round(c.size[1], 2)]} for c in annotations]
