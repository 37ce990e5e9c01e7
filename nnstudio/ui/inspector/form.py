"""ParamForm: a settings form generated from ParamSpecs. Reusable for layers, training and datasets.

The form owns no state beyond what the widgets display. A committed value is checked with
ParamSpec.coerce; a legal one goes to `on_change(name, value)` (which pushes an undo command or
similar), an illegal one is refused right under the field with coerce's own reason. External
changes (undo, another view) come back through `set_value`, which never calls `on_change`.
A refusal stays under its field only until the next edit that succeeds, in any form: it explains the
last attempt, not the state of the project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnstudio.layers.params import ParamSpec, ParamValueError
from nnstudio.ui.inspector.editors import ParamEditor, TextEditor, make_editor
from nnstudio.ui.inspector.search_toggle import SEARCHABLE, SearchBinding, SearchRow
from nnstudio.ui.inspector.wheel import guard_wheel

OnChange = Callable[[str, Any], "str | None"]  # returns a reason to refuse, or None to accept

ERROR_STYLE = "color: #c62828;"
PROBLEM_STYLE = "color: #b45309;"


class _Edits(QObject):
    """Tells every form that some form's edit went through, so old refusals can go."""

    succeeded = Signal()


EDITS = _Edits()


class ParamForm(QWidget):
    """One row per ParamSpec: label, editor, and a line for the reason a value was refused."""

    def __init__(self, specs: Iterable[ParamSpec], values: Mapping[str, Any], on_change: OnChange,
                 parent: QWidget | None = None, search: SearchBinding | None = None) -> None:
        super().__init__(parent)
        self.specs = {spec.name: spec for spec in specs}
        self.search = search  # with a binding, searchable params get a "Search" toggle (search_toggle.py)
        self.search_rows: dict[str, SearchRow] = {}
        self._on_change = on_change
        self._values: dict[str, Any] = {}
        self._editors: dict[str, ParamEditor] = {}
        self._messages: dict[str, QLabel] = {}
        self._refusals: dict[str, str] = {}
        self._problems: dict[str, str] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in self.specs.values():
            layout.addRow(self._label(spec), self._row(spec))
        guard_wheel(self)  # forms sit in scroll areas: the wheel scrolls them
        EDITS.succeeded.connect(self.clear_refusals)
        self.set_values(values)

    # --- building ----------------------------------------------------------------------------
    def _label(self, spec: ParamSpec) -> QLabel:
        label = QLabel(spec.title)
        label.setToolTip(_tooltip(spec))
        return label

    def _row(self, spec: ParamSpec) -> QWidget:
        editor = make_editor(spec)
        editor.setToolTip(_tooltip(spec))
        editor.setObjectName(f"param_{spec.name}")
        editor.edited.connect(lambda value, name=spec.name: self._commit(name, value))
        editor.typing.connect(lambda value, name=spec.name: self._check_typing(name, value))
        message = QLabel()
        message.setWordWrap(True)
        message.setVisible(False)
        self._editors[spec.name] = editor
        self._messages[spec.name] = message
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if self.search is not None and spec.kind in SEARCHABLE:
            row = self.search_rows[spec.name] = SearchRow(spec, self.search, lambda n=spec.name: self._values.get(n))
            line = QHBoxLayout()
            line.addWidget(editor, 1)
            line.addWidget(row.toggle)
            column.addLayout(line)
            column.addWidget(row.range)
            column.addWidget(row.message)
            row.message.setVisible(False)
        else:
            column.addWidget(editor)
        column.addWidget(message)
        return cell

    def refresh_search(self) -> None:
        """The project's search space changed (an edit elsewhere, an undo): show it."""
        for row in self.search_rows.values():
            row.refresh()

    # --- public ------------------------------------------------------------------------------
    def editor(self, name: str) -> ParamEditor:
        return self._editors[name]

    def value(self, name: str) -> Any:
        return self._values[name]

    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def set_value(self, name: str, value: Any) -> None:
        """Show a value that changed elsewhere (undo, another view). Never calls on_change."""
        if name not in self.specs:
            return
        self._values[name] = value
        self._editors[name].set_value(value)
        self._refusals.pop(name, None)
        self._show_message(name)

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, spec in self.specs.items():
            self.set_value(name, values.get(name, spec.default))

    def set_problem(self, name: str, message: str | None) -> None:
        """A problem found by analysis (e.g. a rule spanning two params), shown under the field."""
        if message:
            self._problems[name] = message
        else:
            self._problems.pop(name, None)
        if name in self._messages:
            self._show_message(name)

    def clear_problems(self) -> None:
        for name in list(self._problems):
            self.set_problem(name, None)

    def clear_refusals(self) -> None:
        """Drop the notes about refused values (a later edit succeeded)."""
        for name in list(self._refusals):
            if self._refusals[name].startswith("Refused"):
                del self._refusals[name]
                self._show_message(name)

    def message(self, name: str) -> str:
        """The text shown under a field: a refusal, else an analysis problem, else ''."""
        return self._messages[name].text()

    # --- internals ---------------------------------------------------------------------------
    def _commit(self, name: str, candidate: Any) -> None:
        spec = self.specs[name]
        try:
            value = spec.coerce(candidate)
        except ParamValueError as exc:
            self._refuse(name, str(exc))
            return
        if value == self._values.get(name):
            self._refusals.pop(name, None)
            self._show_message(name)
            return
        reason = self._on_change(name, value)
        if reason:
            self._refuse(name, reason)
            return
        self._values[name] = value
        self._refusals.pop(name, None)
        self._show_message(name)
        EDITS.succeeded.emit()

    def _refuse(self, name: str, reason: str) -> None:
        self._refusals[name] = f"Refused: {reason}"
        editor = self._editors[name]
        if isinstance(editor, TextEditor):
            editor.revert()
        else:
            editor.set_value(self._values.get(name))
        self._show_message(name)

    def _check_typing(self, name: str, candidate: Any) -> None:
        try:
            self.specs[name].coerce(candidate)
        except ParamValueError as exc:
            self._refusals[name] = f"Not accepted: {exc}"
        else:
            self._refusals.pop(name, None)
        self._show_message(name)

    def _show_message(self, name: str) -> None:
        label = self._messages[name]
        text = self._refusals.get(name) or self._problems.get(name, "")
        label.setText(text)
        label.setStyleSheet(ERROR_STYLE if name in self._refusals else PROBLEM_STYLE)
        label.setVisible(bool(text))


def _tooltip(spec: ParamSpec) -> str:
    return f"{spec.doc}\nAccepts {spec.describe()}."
