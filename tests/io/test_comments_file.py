"""The project file's `comments` list: round trip, drawing order, and one line per bad value."""

from __future__ import annotations

import json

import pytest

from nnstudio.io import dumps, loads
from nnstudio.io.reader import ProjectFileError
from nnstudio.model.annotations import Comment
from tests.helpers import mlp


def with_comments(comments) -> str:
    document = json.loads(dumps(mlp().project))
    document["comments"] = comments
    return json.dumps(document)


def test_comments_round_trip_in_drawing_order():
    project = mlp().project
    project.annotations.add(Comment("c2", "frame", "encoder", "#d6e6ff", (-20.0, -40.0), (420.0, 300.0)))
    project.annotations.add(Comment("c1", "note", "2-D points in", "#fff3b0", (0.0, 200.0), (200.0, 90.0)))
    again = loads(dumps(project))
    assert list(again.annotations) == list(project.annotations)
    assert [c["id"] for c in json.loads(dumps(again))["comments"]] == ["c2", "c1"]


def test_a_project_without_comments_writes_no_key():
    assert "comments" not in json.loads(dumps(mlp().project))


def test_defaults_fill_what_a_comment_leaves_out():
    (comment,) = loads(with_comments([{"id": "a", "kind": "frame", "position": [0, 0]}])).annotations
    assert comment.size == (420.0, 300.0) and comment.colour == "#d6e6ff" and comment.text == ""


@pytest.mark.parametrize(("comment", "message"), [
    ({"id": "a", "position": [0, 0], "colour": "red"}, "comments[0].colour: expected a colour #rrggbb, got 'red'"),
    ({"id": "a", "position": [0, 0], "kind": "sticker"},
     "comments[0].kind: expected one of note, frame, got 'sticker'"),
    ({"id": "a"}, "comments[0].position: missing field"),
    ({"id": "a", "position": [0, 0], "size": [10, 10]},
     "comments[0].size: expected a width in [60, 100000] and a height in [40, 100000], got [10.0, 10.0]"),
    ({"id": "a", "position": [0, 0], "font": 3}, "comments[0].font: unknown key; a comment holds id, kind, text, "
                                                 "colour, position, size"),
    ({"id": "", "position": [0, 0]}, "comments[0].id: expected a non-empty id of at most 64 characters"),
    ({"id": "a", "position": [0, 0], "text": "x" * 10_001},
     "comments[0].text: a comment holds at most 10,000 characters, got 10,001"),
])
def test_a_bad_comment_names_its_place(comment, message):
    with pytest.raises(ProjectFileError) as caught:
        loads(with_comments([comment]))
    assert caught.value.line() == message


def test_every_bad_comment_is_reported_and_duplicates_too():
    with pytest.raises(ProjectFileError) as caught:
        loads(with_comments([{"id": "a", "position": [0, 0]}, {"id": "a", "position": [1, 1]},
                             {"id": "b", "position": "here"}]))
    lines = [problem.line() for problem in caught.value.problems]
    assert lines == ["comments[1].id: duplicate comment id 'a'",
                     "comments[2].position: expected a list, got a string"]
