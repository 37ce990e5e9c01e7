"""Annotations: the canvas's notes and frames, with signals, drawing order and what a frame encloses."""

from __future__ import annotations

import pytest

from nnstudio.model.annotations import Annotations, Comment, is_colour


def test_removal_reports_the_index_so_undo_restores_the_drawing_order():
    notes = Annotations([Comment("a"), Comment("b"), Comment("c")])
    seen = []
    notes.removed.connect(lambda c: seen.append(("removed", c.id)))
    notes.added.connect(lambda c: seen.append(("added", c.id)))
    comment, index = notes.remove("b")
    notes.add(comment, index)
    assert [c.id for c in notes] == ["a", "b", "c"] and seen == [("removed", "b"), ("added", "b")]
    with pytest.raises(ValueError, match="exists already"):
        notes.add(Comment("a"))


def test_replace_signals_only_a_real_change():
    notes = Annotations([Comment("a", text="x")])
    changed = []
    notes.changed.connect(changed.append)
    assert notes.replace(Comment("a", text="x")).text == "x" and not changed
    notes.replace(Comment("a", text="y"))
    assert [c.text for c in changed] == ["y"]


def test_a_frame_encloses_what_has_its_corner_inside_and_a_note_encloses_nothing():
    notes = Annotations([Comment("f", "frame", position=(0.0, 0.0), size=(100.0, 100.0)), Comment("n")])
    points = [("in", (10.0, 90.0)), ("edge", (100.0, 100.0)), ("out", (101.0, 5.0))]
    assert notes.enclosed("f", points) == ["in", "edge"]
    assert notes.enclosed("n", points) == []


@pytest.mark.parametrize(("text", "ok"), [("#a0B1c2", True), ("#fff", False), ("red", False), (3, False)])
def test_colours_are_six_hex_digits(text, ok):
    assert is_colour(text) is ok
