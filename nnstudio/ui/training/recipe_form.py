"""The Recipe section of the training settings: which recipe trains the graph, its params and what it is.

The combo lists the registered recipes (nnstudio.training.recipes.RECIPES) by title, with each summary as the
tooltip. Below it the chosen recipe's params get editors generated from its ParamSpecs by the same ParamForm
the other sections use, and its explanation says what the system is and what its views show. Every change
writes the whole `training.recipe` object ({"name": ..., "params": {...}}) through one undoable
SetSettingCommand; choosing another recipe and editing a param are separate undo steps (different places).
Choosing `supervised` with no params removes the section, so plain projects keep their files unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from nnstudio.layers.params import ParamValueError
from nnstudio.training.recipes import DEFAULT_RECIPE, RECIPES, RecipeSpec, parse_recipe
from nnstudio.ui.document import Document
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.wheel import guard_wheel
from nnstudio.ui.training.commands import SetSettingCommand
from nnstudio.ui.training.form_values import editable, from_form, to_form

PROBLEM_STYLE = "color: #b45309;"
EXPLANATION_STYLE = "color: #444; background: #f4f6f8; border-radius: 3px; padding: 4px;"


def recipe_section(training: Any) -> tuple[str, dict[str, Any]]:
    """(recipe name, the params the file sets) as written, falling back to the default for anything unusable."""
    section = training.get("recipe") if isinstance(training, dict) else None
    if isinstance(section, str):
        section = {"name": section}
    if not isinstance(section, dict):
        return DEFAULT_RECIPE, {}
    name = section.get("name", DEFAULT_RECIPE)
    params = section.get("params")
    return (name if name in RECIPES else DEFAULT_RECIPE), (dict(params) if isinstance(params, dict) else {})


def with_recipe(training: Any, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """A copy of the training section with `recipe` set (removed for a plain supervised run)."""
    result = copy.deepcopy(training) if isinstance(training, dict) else {}
    if name == DEFAULT_RECIPE and not params:
        result.pop("recipe", None)
    else:
        result["recipe"] = {"name": name, "params": dict(params)} if params else {"name": name}
    return result


class RecipeEditor(QWidget):
    """The recipe combo, the chosen recipe's param form (`form`, rebuilt when the recipe changes) and its
    explanation."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.locked = False
        self.combo = QComboBox()
        self.combo.setObjectName("training_recipe")
        for index, spec in enumerate(RECIPES.values()):
            self.combo.addItem(spec.title, spec.name)
            self.combo.setItemData(index, spec.summary, Qt.ItemDataRole.ToolTipRole)
        self.combo.activated.connect(self._on_chosen)
        guard_wheel(self.combo)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.setVisible(False)
        self.explanation = QLabel()
        self.explanation.setObjectName("training_recipe_explanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setStyleSheet(EXPLANATION_STYLE)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.combo)
        self._layout.addWidget(self.problem)
        self.form: ParamForm | None = None
        self.spec: RecipeSpec | None = None
        self._layout.addWidget(self.explanation)
        self.refresh()

    # --- showing -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None else DEFAULT_RECIPE

    def set_document(self, document: Document) -> None:
        self.document = document
        self.refresh()

    def refresh(self) -> None:
        """Show the document's recipe and params (after undo, redo or opening another file)."""
        name, _ = recipe_section(self.document.project.training)
        spec, values, _ = parse_recipe(self.document.project.training.get("recipe")
                                       if isinstance(self.document.project.training, dict) else None)
        if spec.name != name:  # a section the parser refuses: show what is written, its defaults
            spec, values = RECIPES[name], RECIPES[name].defaults()
        self.combo.setCurrentIndex(self.combo.findData(spec.name))
        self.combo.setToolTip(spec.summary)
        if self.spec is not spec:
            self._build_form(spec)
        shown = {p.name: to_form(p, values.get(p.name, p.default)) for p in spec.params}
        if self.form is not None:
            self.form.set_values(shown)
        self.explanation.setText(spec.explanation)

    def _build_form(self, spec: RecipeSpec) -> None:
        if self.form is not None:
            self._layout.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        self.spec = spec
        if spec.params:
            self.form = ParamForm([editable(p) for p in spec.params], spec.defaults(), self._param_changed)
            self.form.setObjectName(f"recipe_params_{spec.name}")
            self.form.setEnabled(not self.locked)
            self._layout.insertWidget(2, self.form)

    # --- editing -------------------------------------------------------------------------------
    def _on_chosen(self, index: int) -> None:
        name = self.combo.itemData(index)
        if self.locked:
            self.refresh()
            return
        if name == self.name:
            return
        current, params = recipe_section(self.document.project.training)
        kept = params if name == current else {}
        self._push(with_recipe(self.document.project.training, name, kept), "training.recipe.name",
                   RECIPES[name].title)

    def _param_changed(self, name: str, value: Any) -> str | None:
        if self.locked:
            return "training is running; stop it to change settings"
        spec = self.spec.param(name)
        try:
            value = from_form(spec, value)
        except ParamValueError as exc:
            return str(exc)
        _, params = recipe_section(self.document.project.training)
        params[name] = value
        self._push(with_recipe(self.document.project.training, self.name, params),
                   f"training.recipe.params.{name}", value)
        return None

    def _push(self, training: dict[str, Any], place: str, shown: Any) -> None:
        self.document.push(SetSettingCommand(self.document, "training", training, place, shown))

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.combo.setEnabled(not locked)
        if self.form is not None:
            self.form.setEnabled(not locked)

    def show_problems(self, places: dict[str, str]) -> bool:
        """Show problems keyed by place ("training.recipe.name", "training.recipe.params.x"): a param's under its
        editor, the rest under the combo. True when there was any."""
        if self.form is not None:
            self.form.clear_problems()
        general = []
        for place, message in places.items():
            param = place.removeprefix("training.recipe.params.")
            if param != place and self.form is not None and param in self.form.specs:
                self.form.set_problem(param, message)
            else:
                general.append(message)
        self.problem.setText("\n".join(general))
        self.problem.setVisible(bool(general))
        return bool(places)
