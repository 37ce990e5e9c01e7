"""Compared runs: one line each, so any number of them can be told apart on the same plots."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nnstudio.ui.plots.base import RUN_STYLES, run_style, run_style_word, run_width


def test_five_styles_then_the_same_thicker():
    assert [run_style(i) for i in range(5)] == list(RUN_STYLES)
    assert run_style(5) == Qt.PenStyle.SolidLine and run_width(5, 2.0) > run_width(0, 2.0)
    assert run_width(12, 1.0) > run_width(7, 1.0) > run_width(2, 1.0)
    words = [run_style_word(i) for i in range(12)]
    assert len(set(words)) == 12 and words[0] == "solid" and words[6] == "thick dashed"
