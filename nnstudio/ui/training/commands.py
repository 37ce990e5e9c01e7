"""Undoable edits of one training or dataset setting, and the dict surgery they need.

Each edit replaces the whole section through SetSectionCommand (the model API), so undo and redo behave
exactly like any other document change. Consecutive edits of the same setting merge into one undo step,
so clicking a spin box's arrow ten times is undone with one Undo.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from nnstudio.ui.commands import SetSectionCommand

if TYPE_CHECKING:
    from nnstudio.ui.document import Document

SET_SETTING_ID = 4301


class SetSettingCommand(SetSectionCommand):
    """Change one setting, e.g. place "training.optimizer.lr"; merges with the next change of the same place."""

    def __init__(self, doc: Document, section: str, value: Any, place: str, shown: Any) -> None:
        super().__init__(doc, section, value)
        self.place = place
        self.setText(f"Set {place} to {shown!r}" if not isinstance(shown, str) else f"Set {place} to {shown}")

    def id(self) -> int:
        return SET_SETTING_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSettingCommand) or other.place != self.place or other.section != self.section:
            return False
        self.new = copy.deepcopy(other.new)
        self.setText(other.text())
        return True


def with_value(section: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `section` with the nested key `path` set to `value` (missing levels are created)."""
    result = copy.deepcopy(section) if isinstance(section, dict) else {}
    target = result
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return result


def push_setting(doc: Document, section: str, path: tuple[str, ...], value: Any) -> None:
    """Push the undoable change of one setting of `section` ("training" or "dataset")."""
    current = getattr(doc.project, section)
    place = ".".join((section, *path))
    doc.push(SetSettingCommand(doc, section, with_value(current, path, value), place, value))
