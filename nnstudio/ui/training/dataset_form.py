"""The dataset chooser and its params, generated from the catalogue's ParamSpecs.

Choosing another dataset replaces the section with that dataset's defaults (its params differ); every
other change sets one key. Path params get a Browse button. Classification data also shows the subset
keys (`classes`, `train_per_class`); clearing one removes it from the section. Below them, the augmentation
list (`augment`, kept when another dataset is chosen) and its preview of augmented samples. All changes are
undoable commands.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.layers.params import ParamSpec, ParamValueError, float_param
from nnstudio.training.augment import KEY as AUGMENT_KEY
from nnstudio.training.data import DATASETS, DEFAULT_DATASET, DatasetSpec
from nnstudio.training.data.base import GROUPS
from nnstudio.training.data.catalogue import fractions
from nnstudio.training.data.splits import MAX_HELD_OUT
from nnstudio.training.data.subsets import LABELLED_TASKS, SUBSET_KEYS, SUBSET_PARAMS, classes_problem
from nnstudio.training.settings import parse_settings
from nnstudio.ui.commands import SetSectionCommand
from nnstudio.ui.document import Document
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.editors import NONE_TEXT, IntEditor, TextEditor
from nnstudio.ui.inspector.wheel import guard_wheel
from nnstudio.ui.training.augment_form import AugmentEditor
from nnstudio.ui.training.commands import SetSettingCommand, push_setting
from nnstudio.ui.training.preview import AugmentPreview

FOLDER_PARAMS = {("image_folder", "path")}
ALL_TEXT = "all"  # what an absent subset key means: every class, every training sample
NONE_CHOSEN = "No dataset chosen"


def fraction_specs(spec: DatasetSpec) -> list[ParamSpec]:
    return [
        float_param("val_fraction", spec.val_fraction, "Share of the samples held out to validate on after every "
                    "epoch (never trained on).", 0.0, MAX_HELD_OUT),
        float_param("test_fraction", spec.test_fraction, "Share held out for the final test, scored once the run "
                    "ends.", 0.0, MAX_HELD_OUT),
    ]


def param_values(spec: DatasetSpec, params: Any) -> dict[str, Any]:
    """The dataset's defaults overlaid with the section's legal values (illegal ones show the default)."""
    values = spec.defaults()
    for param in spec.params:
        if isinstance(params, dict) and param.name in params:
            with contextlib.suppress(ParamValueError):
                values[param.name] = param.coerce(params[param.name])
    return values


def subset_values(section: dict[str, Any]) -> dict[str, Any]:
    """The section's legal subset values; absent or illegal ones show as 'all' (None)."""
    values: dict[str, Any] = {}
    for param in SUBSET_PARAMS:
        try:
            values[param.name] = param.coerce(section.get(param.name))
        except ParamValueError:
            values[param.name] = None
    return values


def subset_applies(spec: DatasetSpec, section: dict[str, Any]) -> bool:
    """Show the subset keys for data with classes, data whose task is only known once loaded, and
    any section that already sets one (so it can be cleared after switching to regression)."""
    task = spec.task_for(param_values(spec, section.get("params")))
    return task is None or task in LABELLED_TASKS or any(section.get(key) is not None for key in SUBSET_KEYS)


def _label_editors(form: ParamForm) -> None:
    """Both subset fields read 'all' when empty, rather than the generic 'none'."""
    classes = form.editor("classes")
    if isinstance(classes, TextEditor):
        classes.line.setPlaceholderText(f"{ALL_TEXT}; or class indices, e.g. 5, 6, 7, 8, 9")
    per_class = form.editor("train_per_class")
    if isinstance(per_class, IntEditor):
        per_class.box.setSpecialValueText(ALL_TEXT)
        report = per_class.report_text  # the box re-reads 'all' on Return: the empty value, not a refusal
        per_class.report_text = lambda text: report(NONE_TEXT if text.strip() == ALL_TEXT else text)


class DatasetEditor(QWidget):
    """Dataset choice, its params, the validation/test fractions and the class subset of the dataset section."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.locked = False
        self.choice = QComboBox()
        self.choice.setObjectName("dataset_choice")
        for group in GROUPS:
            specs = [s for s in DATASETS.values() if s.group == group]
            if not specs:
                continue
            if self.choice.count():
                self.choice.insertSeparator(self.choice.count())
            for spec in specs:
                self.choice.addItem(f"{spec.title}  ({group.lower()})", spec.name)
                self.choice.setItemData(self.choice.count() - 1, spec.summary, 3)  # ToolTipRole
        self.choice.setPlaceholderText(NONE_CHOSEN)  # shown while the project names no dataset (index -1)
        self.choice.activated.connect(self._on_choice)
        guard_wheel(self.choice)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #555;")
        self.params_host = QVBoxLayout()
        self.params_host.setContentsMargins(0, 0, 0, 0)
        self.params: ParamForm | None = None
        self.fractions: ParamForm | None = None
        self.subset: ParamForm | None = None
        self.browse: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        layout.addWidget(self.summary)
        layout.addLayout(self.params_host)
        heading = QLabel("Augmentation (training batches only)")
        heading.setStyleSheet("font-weight: bold; margin-top: 4px;")
        self.augment = AugmentEditor(document)
        self.augment_preview = AugmentPreview(self._augment_context)
        layout.addWidget(heading)
        layout.addWidget(self.augment)
        layout.addWidget(self.augment_preview)
        self._shown: str | None = None
        self.refresh()

    def set_document(self, document: Document) -> None:
        self.document = document
        self.augment.set_document(document)
        self.refresh()

    def _augment_context(self) -> tuple[dict[str, Any], int, Path | None]:
        """What the augmentation preview draws from: this section (named, as the main preview loads it)."""
        section = dict(self.section)
        section.setdefault("name", self.current_spec().name)
        seed = parse_settings(self.document.project.training)[0].seed
        return section, seed, self.document.path.parent if self.document.path is not None else None

    @property
    def section(self) -> dict[str, Any]:
        dataset = self.document.project.dataset
        return dataset if isinstance(dataset, dict) else {}

    def current_spec(self) -> DatasetSpec:
        name = self.section.get("name")
        return DATASETS.get(name) if isinstance(name, str) and name in DATASETS else DATASETS[DEFAULT_DATASET]

    def refresh(self) -> None:
        """Show the document's dataset section (after undo, redo, or another document)."""
        spec = self.current_spec()
        chosen = bool(self.section.get("name"))
        self.choice.setCurrentIndex(self.choice.findData(spec.name) if chosen else -1)
        self.summary.setText(spec.summary if chosen else
                             f"No dataset chosen yet: pick one above. Below are the settings of {spec.title}, "
                             "the suggestion; editing one of them chooses it.")
        if self._shown != spec.name:
            self._rebuild(spec)
        self.params.set_values(param_values(spec, self.section.get("params")))
        val, test = fractions(self.section, spec) if self._fractions_ok() else (spec.val_fraction,
                                                                                  spec.test_fraction)
        self.fractions.set_values({"val_fraction": val, "test_fraction": test})
        self.subset.set_values(subset_values(self.section))
        self.subset.setVisible(subset_applies(spec, self.section))
        self.augment.refresh()
        self.augment_preview.refresh()

    def _fractions_ok(self) -> bool:
        return all(isinstance(self.section.get(k, 0.0), (int, float)) for k in ("val_fraction", "test_fraction"))

    def _rebuild(self, spec: DatasetSpec) -> None:
        for widget in [self.params, self.fractions, self.subset, *self.browse]:
            if widget is not None:
                self.params_host.removeWidget(widget)
                widget.deleteLater()
        self.browse = []
        self.params = ParamForm(spec.params, spec.defaults(), self._param_changed)
        self.fractions = ParamForm(fraction_specs(spec), {}, self._fraction_changed)
        self.params_host.addWidget(self.params)
        for name in spec.path_params:
            button = QPushButton(f"Browse for {spec.param(name).title.lower()}…")
            button.clicked.connect(lambda _=False, n=name: self._browse(n))
            self.browse.append(button)
            self.params_host.addWidget(button)
        self.params_host.addWidget(self.fractions)
        self.subset = ParamForm(SUBSET_PARAMS, {}, self._subset_changed)
        self.subset.setObjectName("dataset_subset")
        _label_editors(self.subset)
        self.params_host.addWidget(self.subset)
        self._shown = spec.name
        self.set_locked(self.locked)

    # --- edits -------------------------------------------------------------------------------
    def _refusal(self) -> str | None:
        return "training is running; stop it to change the dataset" if self.locked else None

    def _ensure_named(self) -> None:
        """Editing a param of the suggested dataset first makes that choice explicit."""
        if not self.section.get("name"):
            self.document.push(SetSectionCommand(self.document, "dataset", {"name": self.current_spec().name}))

    def _on_choice(self, index: int) -> None:
        name = self.choice.itemData(index)
        if self.locked or name is None:
            self.refresh()
            return
        if name != self.section.get("name"):
            kept = {AUGMENT_KEY: self.section[AUGMENT_KEY]} if AUGMENT_KEY in self.section else {}
            self.document.push(SetSectionCommand(self.document, "dataset", {"name": name, **kept}))

    def _param_changed(self, name: str, value: Any) -> str | None:
        refused = self._refusal()
        if refused:
            return refused
        self._ensure_named()
        push_setting(self.document, "dataset", ("params", name), value)
        return None

    def _fraction_changed(self, name: str, value: Any) -> str | None:
        refused = self._refusal()
        if refused:
            return refused
        self._ensure_named()
        push_setting(self.document, "dataset", (name,), value)
        return None

    def _subset_changed(self, name: str, value: Any) -> str | None:
        """Set a subset key, or remove it when the field is emptied back to 'all'."""
        refused = self._refusal() or (classes_problem(value) if name == "classes" and value is not None else None)
        if refused:
            return refused
        self._ensure_named()
        if value is not None:
            push_setting(self.document, "dataset", (name,), value)
        elif name in self.section:
            section = {key: item for key, item in self.section.items() if key != name}
            self.document.push(SetSettingCommand(self.document, "dataset", section, f"dataset.{name}", ALL_TEXT))
        return None

    def _browse(self, name: str) -> None:
        spec = self.current_spec()
        base = self.document.path.parent if self.document.path else Path.home()
        if (spec.name, name) in FOLDER_PARAMS:
            chosen = QFileDialog.getExistingDirectory(self, spec.param(name).title, str(base))
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, spec.param(name).title, str(base))
        if chosen:
            path = Path(chosen)
            if self.document.path is not None and path.is_relative_to(self.document.path.parent):
                path = path.relative_to(self.document.path.parent)  # projects stay movable with their data
            self._param_changed(name, str(path))

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.choice.setEnabled(not locked)
        self.augment.set_locked(locked)
        self.augment_preview.set_locked(locked)
        for widget in [self.params, self.fractions, self.subset, *self.browse]:
            if widget is not None:
                widget.setEnabled(not locked)

    def show_problems(self, diagnostics: list[Diagnostic]) -> None:
        """Put dataset problems (param="dataset.params.x" or "dataset.x") under their fields."""
        for form in (self.params, self.fractions, self.subset):
            form.clear_problems()
        self.augment.show_problems([(d.param or "", d.message.split(": ", 1)[-1]) for d in diagnostics
                                    if (d.param or "").startswith(f"dataset.{AUGMENT_KEY}")])
        for diagnostic in diagnostics:
            place = diagnostic.param or ""
            message = diagnostic.message.split(": ", 1)[-1]
            if place.startswith("dataset.params."):
                self.params.set_problem(place.removeprefix("dataset.params."), message)
            elif place in ("dataset.val_fraction", "dataset.test_fraction"):
                self.fractions.set_problem(place.removeprefix("dataset."), message)
            elif place.removeprefix("dataset.") in SUBSET_KEYS:
                self.subset.set_problem(place.removeprefix("dataset."), message)
