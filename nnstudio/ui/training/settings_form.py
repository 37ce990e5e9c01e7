"""Editors for every training setting, generated from the settings' ParamSpecs with the inspector's ParamForm.

The recipe (how the graph is trained, with its own params and explanation; recipe_form.py) comes first,
then the general settings, then one collapsible group per section (optimizer, loss, schedule,
regularisation, early stopping, instrumentation). Rows that do not apply to the chosen optimizer, loss
or schedule are hidden. Every change is an undoable command; undo and redo come back through
`refresh()`, which the controller calls when the project's training section changes.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QToolButton, QVBoxLayout, QWidget

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.layers.params import ParamSpec, ParamValueError
from nnstudio.training.settings import TrainingSettings, applies, parse_settings, specs_of
from nnstudio.ui.document import Document
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.search_toggle import SearchBinding
from nnstudio.ui.training.commands import push_setting
from nnstudio.ui.training.form_values import SPIN_LIMIT, editable, from_form, to_form
from nnstudio.ui.training.recipe_form import RecipeEditor

__all__ = ["SPIN_LIMIT", "Collapsible", "TrainingSettingsEditor", "editable", "from_form", "to_form"]

SECTION_TITLES = {
    "optimizer": "Optimizer",
    "loss": "Loss",
    "schedule": "Learning-rate schedule",
    "regularization": "Regularisation and clipping",
    "early_stopping": "Early stopping",
    "instrumentation": "Instrumentation",
    "health": "Health: divergence and stalls",
}
NAME_LABELS = {"optimizer": "Optimizer", "loss": "Loss", "schedule": "Schedule"}
OPEN_AT_START = ("optimizer",)


class Collapsible(QWidget):
    """A header button that shows or hides its body."""

    def __init__(self, title: str, body: QWidget, expanded: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QToolButton()
        self.button.setText(title)
        self.button.setCheckable(True)
        self.button.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.toggled.connect(self.set_expanded)
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.button)
        layout.addWidget(body)
        self.button.setChecked(expanded)
        self.set_expanded(expanded)

    def set_expanded(self, expanded: bool) -> None:
        self.button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
        if self.button.isChecked() != expanded:
            self.button.setChecked(expanded)


class TrainingSettingsEditor(QWidget):
    """All training settings of a document. `forms[section]` is the ParamForm of a section ("" = general)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.locked = False
        self.forms: dict[str, ParamForm] = {}
        self.groups: dict[str, Collapsible] = {}
        self._classes: dict[str, type] = {}
        self._originals: dict[str, dict[str, ParamSpec]] = {"": {s.name: s for s in specs_of(TrainingSettings)}}
        values = self._values()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.recipe = RecipeEditor(document)
        self.groups["recipe"] = Collapsible("Recipe", self.recipe, expanded=True)
        layout.addWidget(self.groups["recipe"])
        self.bindings = [SearchBinding(document, lambda name: (None, f"training.{name}"))]
        general = ParamForm([editable(s) for s in specs_of(TrainingSettings)], self._shown("", values),
                            lambda n, v: self._changed("", n, v), search=self.bindings[0])
        self.forms[""] = general
        layout.addWidget(general)
        for f in fields(TrainingSettings):
            if "section" not in f.metadata:
                continue
            cls = f.metadata["section"]
            self._originals[f.name] = {s.name: s for s in specs_of(cls)}
            specs = [editable(s, NAME_LABELS.get(f.name, "") if s.name == "name" else "") for s in specs_of(cls)]
            binding = SearchBinding(document, lambda name, section=f.name: (None, f"training.{section}.{name}"))
            self.bindings.append(binding)
            form = ParamForm(specs, self._shown(f.name, values[f.name]),
                             lambda n, v, section=f.name: self._changed(section, n, v), search=binding)
            self.forms[f.name] = form
            self._classes[f.name] = cls
            group = Collapsible(SECTION_TITLES.get(f.name, f.name), form, f.name in OPEN_AT_START)
            self.groups[f.name] = group
            layout.addWidget(group)
        self._show_applicable(values)

    def set_document(self, document: Document) -> None:
        self.document = document
        for binding in self.bindings:
            binding.document = document
        self.refresh()

    def _values(self) -> dict[str, Any]:
        """The document's settings with defaults filled in (values the parser refuses show as defaults)."""
        settings, _ = parse_settings(self.document.project.training)
        return settings.to_dict()

    def _shown(self, section: str, values: dict[str, Any]) -> dict[str, Any]:
        specs = self._originals[section]
        return {k: to_form(specs[k], v) if k in specs else v for k, v in values.items()}

    def _changed(self, section: str, name: str, value: Any) -> str | None:
        if self.locked:
            return "training is running; stop it to change settings"
        try:
            value = from_form(self._originals[section][name], value)
        except ParamValueError as exc:
            return str(exc)
        path = (section, name) if section else (name,)
        push_setting(self.document, "training", path, value)
        self._show_applicable(self._values())
        return None

    def refresh(self) -> None:
        """Show the document's current values (after undo, redo or opening another file)."""
        self.recipe.set_document(self.document)
        values = self._values()
        for section, form in self.forms.items():
            form.set_values(self._shown(section, values[section] if section else values))
            form.refresh_search()
        self._show_applicable(values)

    def _show_applicable(self, values: dict[str, Any]) -> None:
        """Hide the rows that do not matter for the chosen optimizer, loss or schedule."""
        for section, cls in self._classes.items():
            form = self.forms[section]
            choice = values[section].get("name")
            layout: QFormLayout = form.layout()
            for row, name in enumerate(form.specs):
                visible = choice is None or applies(cls, name, choice)
                layout.setRowVisible(row, visible)
        regularization = self.forms["regularization"]
        clip = values["regularization"]["clip"]
        layout = regularization.layout()
        for row, name in enumerate(regularization.specs):
            if name in ("max_norm", "clip_value"):
                layout.setRowVisible(row, (name == "max_norm") == (clip == "norm") and clip != "none")

    def set_locked(self, locked: bool) -> None:
        """While a run trains, settings are read-only: the run uses the snapshot taken at Train time."""
        self.locked = locked
        for form in self.forms.values():
            form.setEnabled(not locked)
        self.recipe.set_locked(locked)

    def show_problems(self, diagnostics: list[Diagnostic]) -> None:
        """Put each setting's problem under its field (diagnostics carry param="training.x.y")."""
        for form in self.forms.values():
            form.clear_problems()
        recipe = {d.param: d.message.split(": ", 1)[-1] for d in diagnostics
                  if (d.param or "").startswith("training.recipe")}
        if self.recipe.show_problems(recipe):
            self.groups["recipe"].set_expanded(True)
        for diagnostic in diagnostics:
            place = diagnostic.param or ""
            if not place.startswith("training.") or place.startswith("training.recipe"):
                continue
            parts = place.split(".")[1:]
            section, name = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
            form = self.forms.get(section)
            if form is not None and name in form.specs:
                message = diagnostic.message.split(": ", 1)[-1]
                form.set_problem(name, message)
                if section in self.groups:
                    self.groups[section].set_expanded(True)
