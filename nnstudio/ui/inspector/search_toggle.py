"""The "search" toggle beside a parameter: make it a dimension of the project's search space, with its range.

A ParamForm given a SearchBinding shows a small "Search" button after each parameter that can be searched
(numbers, whole numbers, choices, on/off). Checking it adds a dimension to the project's `search.space`, with a
range around the current value (a tenth to ten times it, on a log scale, for a positive number); the range is
edited right under the field. Each change is one undoable edit of the `search` section, checked by the same
parser `nnstudio search` uses, so the Inspector cannot write a space the command line would refuse.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from nnstudio.layers.params import ParamKind, ParamSpec
from nnstudio.ui.commands import SetSectionCommand

if TYPE_CHECKING:
    from nnstudio.ui.document import Document

SEARCHABLE = (ParamKind.INT, ParamKind.FLOAT, ParamKind.CHOICE, ParamKind.BOOL)


class SearchBinding:
    """Where a form's parameters live in the search space: `target(name)` gives the entry's `node` (None for a
    training setting) and `param` (a node param's name, or a dotted settings path such as training.optimizer.lr).
    """

    def __init__(self, document: Document, target: Callable[[str], tuple[str | None, str]]) -> None:
        self.document = document
        self.target = target

    def _matches(self, entry: Any, name: str) -> bool:
        node, param = self.target(name)
        return isinstance(entry, dict) and entry.get("param") == param and entry.get("node") == node

    def space(self) -> list[Any]:
        space = self.document.project.search.get("space", []) if isinstance(self.document.project.search, dict) \
            else []
        return list(space) if isinstance(space, list) else []

    def dimension(self, name: str) -> dict[str, Any] | None:
        return next((dict(e) for e in self.space() if self._matches(e, name)), None)

    def set_dimension(self, name: str, entry: dict[str, Any] | None) -> str | None:
        """Put (or, with None, remove) the dimension of `name`; the reason it is refused, else None."""
        space = [e for e in self.space() if not self._matches(e, name)]
        index = next((i for i, e in enumerate(self.space()) if self._matches(e, name)), len(space))
        if entry is not None:
            space.insert(index, entry)
        section = copy.deepcopy(self.document.project.search) if isinstance(self.document.project.search, dict) \
            else {}
        section["space"] = space
        if not space and set(section) == {"space"}:
            section = {}
        reason = self._problem(section, entry, index)
        if reason:
            return reason
        command = SetSectionCommand(self.document, "search", section)
        label = self.target(name)[1].split(".")[-1]
        command.setText(f"Search {label}" if entry is not None else f"Stop searching {label}")
        self.document.push(command)
        return None

    def _problem(self, section: dict, entry: dict | None, index: int) -> str | None:
        """The parser's first complaint about this dimension, if it has one."""
        if entry is None:
            return None
        try:
            from nnstudio.search.space import parse_space
        except ImportError as exc:  # the search package is part of nnstudio; only a broken install lands here
            return str(exc)
        _, problems = parse_space(section["space"], self.document.project)
        place = f"search.space[{index}]"
        mine = [message for where, message in problems if where == place or where.startswith(place + ".")]
        return mine[0] if mine else None


def default_entry(spec: ParamSpec, value: Any, node: str | None, param: str) -> dict[str, Any]:
    """A first range for a parameter, around its current value."""
    entry: dict[str, Any] = {"param": param, **({"node": node} if node else {})}
    if spec.kind is ParamKind.FLOAT:
        v = float(value) if isinstance(value, (int, float)) and value else 0.1
        low, high = (v / 10, v * 10) if v > 0 else (v - 1.0, v + 1.0)
        low = max(low, spec.minimum) if spec.minimum is not None and spec.minimum > 0 else low
        high = min(high, spec.maximum) if spec.maximum is not None else high
        return {"kind": "float", **entry, "low": _round(low), "high": _round(high), "log": low > 0}
    if spec.kind is ParamKind.INT:
        v = int(value) if isinstance(value, int) else 1
        low, high = max(1, v // 2), max(2, v * 2)
        low = max(low, int(spec.minimum)) if spec.minimum is not None else low
        high = min(high, int(spec.maximum)) if spec.maximum is not None else high
        return {"kind": "int", **entry, "low": low, "high": max(low, high)}
    choices = list(spec.choices) if spec.kind is ParamKind.CHOICE else [False, True]
    return {"kind": "choice", **entry, "choices": choices}


def _round(value: float) -> float:
    return float(f"{value:.4g}")


class SearchRow(QWidget):
    """The toggle and, when it is on, the range (low, high, log) or the choices, under one parameter."""

    def __init__(self, spec: ParamSpec, binding: SearchBinding, current: Callable[[], Any]) -> None:
        super().__init__()
        self.spec, self.binding, self.current = spec, binding, current
        self.toggle = QToolButton()
        self.toggle.setText("Search")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip(f"Make {spec.title} a dimension of the project's search space (Search tab)")
        self.toggle.toggled.connect(self._on_toggled)
        self.low, self.high = QLineEdit(), QLineEdit()
        self.log = QCheckBox("log")
        self.choices = QLineEdit()
        self.message = QLabel()
        self.message.setStyleSheet("color: #c62828;")
        self.message.setWordWrap(True)
        self.range = QWidget()
        line = QHBoxLayout(self.range)
        line.setContentsMargins(0, 0, 0, 0)
        numeric = spec.kind in (ParamKind.INT, ParamKind.FLOAT)
        widgets = [QLabel("from"), self.low, QLabel("to"), self.high] if numeric else [QLabel("of"), self.choices]
        if spec.kind is ParamKind.FLOAT:
            widgets.append(self.log)
        for widget in widgets:
            line.addWidget(widget)
        for edit in (self.low, self.high, self.choices):
            edit.editingFinished.connect(self._commit)
        self.log.toggled.connect(lambda _: self._commit())
        self.refresh()

    @property
    def name(self) -> str:
        return self.spec.name

    def refresh(self) -> None:
        """Show the dimension the project has now (after an undo, too)."""
        entry = self.binding.dimension(self.name)
        for widget in (self.toggle, self.low, self.high, self.log, self.choices):
            widget.blockSignals(True)
        self.toggle.setChecked(entry is not None)
        if entry is not None:
            self.low.setText(_show(entry.get("low")))
            self.high.setText(_show(entry.get("high")))
            self.log.setChecked(bool(entry.get("log")))
            self.choices.setText(", ".join(_show(c) for c in entry.get("choices", [])))
        for widget in (self.toggle, self.low, self.high, self.log, self.choices):
            widget.blockSignals(False)
        self.range.setVisible(entry is not None)

    def _on_toggled(self, on: bool) -> None:
        node, param = self.binding.target(self.name)
        entry = default_entry(self.spec, self.current(), node, param) if on else None
        self._apply(entry)

    def _commit(self) -> None:
        entry = self.binding.dimension(self.name)
        if entry is None:
            return
        if "choices" in entry:
            entry["choices"] = [_parse(text.strip(), self.spec) for text in self.choices.text().split(",")
                                if text.strip()]
        else:
            entry["low"], entry["high"] = _parse(self.low.text(), self.spec), _parse(self.high.text(), self.spec)
            if self.spec.kind is ParamKind.FLOAT:
                entry["log"] = self.log.isChecked()
        if entry != self.binding.dimension(self.name):
            self._apply(entry)

    def _apply(self, entry: dict[str, Any] | None) -> None:
        reason = self.binding.set_dimension(self.name, entry)
        self.message.setText(f"Refused: {reason}" if reason else "")
        self.message.setVisible(bool(reason))
        self.refresh()


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _parse(text: str, spec: ParamSpec) -> Any:
    """The typed value of a range bound or choice; the text itself when it is not one (the parser then says)."""
    if spec.kind is ParamKind.BOOL:
        return {"true": True, "false": False}.get(text.lower(), text)
    if spec.kind is ParamKind.CHOICE:
        return next((choice for choice in spec.choices if _show(choice) == text), text)
    for convert in ((int,) if spec.kind is ParamKind.INT else (float,) if spec.kind is ParamKind.FLOAT else ()):
        try:
            return convert(text)
        except ValueError:
            return text
    return text
