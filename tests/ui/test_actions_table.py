"""The actions table: no key does two things, even where a platform's standard binding overlaps a named key."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QKeySequence

from nnstudio.ui import actions
from nnstudio.ui.actions import ACTIONS, shortcuts


def test_a_standard_binding_gives_way_to_a_named_key(monkeypatch) -> None:
    delete = next(spec for spec in ACTIONS if spec.id == "edit.delete")
    real = QKeySequence.keyBindings

    def x11_like(key):  # what Qt's X11 platform themes give Delete
        if key == QKeySequence.StandardKey.Delete:
            return [QKeySequence("Del"), QKeySequence("Ctrl+D")]
        return real(key)

    monkeypatch.setattr(actions.QKeySequence, "keyBindings", staticmethod(x11_like))
    keys = [key.toString() for key in shortcuts(delete)]
    assert keys == ["Del", "Backspace"]  # Ctrl+D stays Duplicate's


def test_no_two_actions_of_the_window_share_a_key(window) -> None:
    owned = [
        key.toString()
        for action in window.findChildren(actions.QAction)
        if action.parent() is window
        for key in action.shortcuts()
        if not key.isEmpty()
    ]
    assert "F5" in owned and "Ctrl+D" in owned
    shared = [key for key, count in Counter(owned).items() if count > 1]
    assert not shared
