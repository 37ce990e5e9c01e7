"""The editor of `dataset.augment`: a list of transforms and a form for the selected one's params.

Both are generated from the transform table (nnstudio.training.augment.specs): the Add menu lists every
transform, and the form shows the selected one's ParamSpecs with their checks. Every change (add, remove,
move, a param) replaces the dataset section through an undoable command; an emptied list removes the key.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.layers.params import ParamValueError
from nnstudio.training.augment import KEY, TRANSFORMS, transform_summary
from nnstudio.training.data import DEFAULT_DATASET
from nnstudio.ui.commands import SetSectionCommand
from nnstudio.ui.document import Document
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.wheel import guard_wheel
from nnstudio.ui.training.commands import SetSettingCommand

PLACE = f"dataset.{KEY}"


class EditAugmentCommand(SetSectionCommand):
    """Add, remove or move a transform: the dataset section with another list, named for the Edit menu."""

    def __init__(self, doc: Document, section: dict[str, Any], text: str) -> None:
        super().__init__(doc, "dataset", section)
        self.setText(text)


def entry_values(entry: Any) -> dict[str, Any]:
    """An entry's legal param values over the transform's defaults (illegal ones show the default)."""
    spec = TRANSFORMS.get(entry.get("type")) if isinstance(entry, dict) else None
    if spec is None:
        return {}
    values = spec.defaults()
    for param in spec.params:
        if param.name in entry:
            with contextlib.suppress(ParamValueError):
                values[param.name] = param.coerce(entry[param.name])
    return values


def entry_text(index: int, entry: Any) -> str:
    if isinstance(entry, dict) and entry.get("type") in TRANSFORMS:
        return f"{index + 1}. {transform_summary(entry['type'], entry_values(entry))}"
    return f"{index + 1}. (not a known transform: {entry!r})"[:90]


class AugmentEditor(QWidget):
    """The list of transforms applied to training batches, with Add, Remove, Up and Down, and the selected
    transform's params below."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.locked = False
        self.list = QListWidget()
        self.list.setObjectName("augment_list")
        self.list.setMaximumHeight(110)
        self.list.currentRowChanged.connect(lambda _row: self._show_params())
        self.choice = QComboBox()
        self.choice.setObjectName("augment_choice")
        for spec in TRANSFORMS.values():
            self.choice.addItem(spec.title, spec.name)
            self.choice.setItemData(self.choice.count() - 1, spec.doc, 3)  # ToolTipRole
        guard_wheel(self.choice)
        self.buttons = {name: QPushButton(text) for name, text in
                        (("add", "Add"), ("remove", "Remove"), ("up", "Up"), ("down", "Down"))}
        for name, button in self.buttons.items():
            button.setObjectName(f"augment_{name}")
        self.buttons["add"].clicked.connect(self.add)
        self.buttons["remove"].clicked.connect(self.remove)
        self.buttons["up"].clicked.connect(lambda: self.move(-1))
        self.buttons["down"].clicked.connect(lambda: self.move(1))
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b45309;")
        self.problems.setVisible(False)
        self.params_host = QVBoxLayout()
        self.params_host.setContentsMargins(12, 0, 0, 0)
        self.params: ParamForm | None = None
        self._params_for: tuple[int, str] | None = None
        row = QHBoxLayout()
        row.addWidget(self.choice, 1)
        for button in self.buttons.values():
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(self.problems)
        layout.addLayout(self.params_host)
        self.refresh()

    # --- reading the document ------------------------------------------------------------------
    @property
    def section(self) -> dict[str, Any]:
        dataset = self.document.project.dataset
        return dataset if isinstance(dataset, dict) else {}

    def entries(self) -> list[Any]:
        entries = self.section.get(KEY)
        return list(entries) if isinstance(entries, list) else []

    def set_document(self, document: Document) -> None:
        self.document = document
        self.refresh()

    def refresh(self) -> None:
        """Show the document's list (after an edit, undo or redo), keeping the selected row where it can."""
        entries = self.entries()
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for index, entry in enumerate(entries):
            self.list.addItem(QListWidgetItem(entry_text(index, entry)))
        self.list.setCurrentRow(min(max(row, 0), len(entries) - 1) if entries else -1)
        self.list.blockSignals(False)
        self._show_params()
        self._update_buttons()

    def _show_params(self) -> None:
        row, entries = self.list.currentRow(), self.entries()
        entry = entries[row] if 0 <= row < len(entries) else None
        name = entry.get("type") if isinstance(entry, dict) else None
        key = (row, name) if name in TRANSFORMS else None
        if key != self._params_for:
            if self.params is not None:
                self.params_host.removeWidget(self.params)
                self.params.deleteLater()
                self.params = None
            if key is not None:
                self.params = ParamForm(TRANSFORMS[name].params, {}, self._param_changed)
                self.params.setObjectName("augment_params")
                self.params.setEnabled(not self.locked)
                self.params_host.addWidget(self.params)
            self._params_for = key
        if self.params is not None:
            self.params.set_values(entry_values(entry))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row, count = self.list.currentRow(), self.list.count()
        self.buttons["add"].setEnabled(not self.locked)
        self.buttons["remove"].setEnabled(not self.locked and row >= 0)
        self.buttons["up"].setEnabled(not self.locked and row > 0)
        self.buttons["down"].setEnabled(not self.locked and 0 <= row < count - 1)

    # --- edits ---------------------------------------------------------------------------------
    def _with_entries(self, entries: list[Any]) -> dict[str, Any]:
        section = copy.deepcopy(self.section)
        if not section.get("name"):
            section["name"] = DEFAULT_DATASET  # as DatasetEditor suggests: editing makes the choice
        if entries:
            section[KEY] = entries
        else:
            section.pop(KEY, None)
        return section

    def add(self) -> None:
        if self.locked:
            return
        name = self.choice.currentData()
        entries = [*self.entries(), {"type": name}]
        self.document.push(EditAugmentCommand(self.document, self._with_entries(entries),
                                              f"Add {name} to {PLACE}"))
        self.list.setCurrentRow(len(entries) - 1)

    def remove(self) -> None:
        row, entries = self.list.currentRow(), self.entries()
        if self.locked or not 0 <= row < len(entries):
            return
        removed = entries.pop(row)
        name = removed.get("type") if isinstance(removed, dict) else "an entry"
        self.document.push(EditAugmentCommand(self.document, self._with_entries(entries),
                                              f"Remove {name} from {PLACE}"))

    def move(self, step: int) -> None:
        row, entries = self.list.currentRow(), self.entries()
        target = row + step
        if self.locked or not (0 <= row < len(entries) and 0 <= target < len(entries)):
            return
        entries[row], entries[target] = entries[target], entries[row]
        self.document.push(EditAugmentCommand(self.document, self._with_entries(entries),
                                              f"Move {PLACE}[{row}] {'up' if step < 0 else 'down'}"))
        self.list.setCurrentRow(target)

    def _param_changed(self, name: str, value: Any) -> str | None:
        if self.locked:
            return "training is running; stop it to change the augmentation"
        row, entries = self.list.currentRow(), self.entries()
        if not 0 <= row < len(entries) or not isinstance(entries[row], dict):
            return "select a transform first"
        entry = dict(entries[row])
        entry[name] = value
        entries[row] = entry
        self.document.push(SetSettingCommand(self.document, "dataset", self._with_entries(entries),
                                             f"{PLACE}[{row}].{name}", value))
        return None

    # --- state shown -----------------------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.choice.setEnabled(not locked)
        if self.params is not None:
            self.params.setEnabled(not locked)
        self._update_buttons()

    def show_problems(self, problems: list[tuple[str, str]]) -> None:
        """Problems placed under dataset.augment: a param's under its field, the rest (types, data fit) above."""
        if self.params is not None:
            self.params.clear_problems()
        row = self.list.currentRow()
        general = []
        for place, message in problems:
            prefix = f"{PLACE}[{row}]."
            param = place.removeprefix(prefix) if place.startswith(prefix) else None
            if self.params is not None and param in self.params.specs:
                self.params.set_problem(param, message)
            else:
                general.append(f"{place}: {message}")
        self.problems.setText("\n".join(general))
        self.problems.setVisible(bool(general))
