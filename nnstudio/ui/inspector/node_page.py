"""The inspector page for one node: name, params, weight init, training, output shape, problems and the docs.

Every edit is pushed as an undo command; the page then follows the graph's signals like any other
view, so undo, redo and edits made elsewhere show up here without special cases. While a run trains the
page is locked like the canvas: it still shows everything, and edits wait until the run ends.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from nnstudio.analysis import Analysis
from nnstudio.layers.spec import LayerSpec
from nnstudio.model import GraphError, Node, is_valid_name
from nnstudio.model.graph import NodeTraining
from nnstudio.model.project import INIT_SCHEMES
from nnstudio.ui.commands import RenameNodeCommand, SetNodeInitCommand, SetParamCommand
from nnstudio.ui.document import Document
from nnstudio.ui.inspector.form import ERROR_STYLE, ParamForm
from nnstudio.ui.inspector.search_toggle import SearchBinding
from nnstudio.ui.inspector.training_box import TrainingBox, shows_training
from nnstudio.ui.inspector.wheel import guard_wheel

LOCKED_NOTE = "Locked while the model trains: the run uses the network as it was when it started."


class NodePage(QWidget):
    """Edits one node. Build a new page when the selection changes; call refresh_* on graph signals."""

    def __init__(self, document: Document, node: Node, spec: LayerSpec | None,
                 parent: QWidget | None = None, locked: bool = False) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id = node.id
        self.spec = spec
        self.locked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self._header(node, spec))
        self.locked_label = QLabel(LOCKED_NOTE)
        self.locked_label.setWordWrap(True)
        self.locked_label.setStyleSheet("color: #555;")
        self.locked_label.setVisible(False)
        layout.addWidget(self.locked_label)
        self.identity_box = self._identity_box(node, spec)
        layout.addWidget(self.identity_box)
        self.form: ParamForm | None = None
        if spec is not None and spec.params:
            search = SearchBinding(document, lambda name: (document.graph.nodes[self.node_id].name, name))
            self.form = ParamForm(spec.params, node.params, self._set_param, search=search)
            layout.addWidget(_boxed("Parameters", self.form))
        self.training: TrainingBox | None = None
        if shows_training(spec):
            self.training = TrainingBox(document, node.id, spec)
            layout.addWidget(_boxed("Training", self.training))
        self.output_label = QLabel()
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet(ERROR_STYLE)
        result = QWidget()
        result_layout = QVBoxLayout(result)
        result_layout.setContentsMargins(0, 0, 0, 0)
        result_layout.addWidget(self.output_label)
        result_layout.addWidget(self.problems_label)
        layout.addWidget(_boxed("Result", result))
        if spec is not None:
            layout.addWidget(_boxed("About this layer", self._about(spec)))
        layout.addStretch(1)
        self.refresh_analysis(document.analysis)
        guard_wheel(self)
        self.set_locked(locked)

    # --- sections ----------------------------------------------------------------------------
    def _header(self, node: Node, spec: LayerSpec | None) -> QLabel:
        title = spec.title if spec is not None else f"Unknown layer {node.type}"
        category = spec.category if spec is not None else "not installed"
        glyph = html.escape(spec.glyph) if spec is not None else "?"
        kind = f"{html.escape(node.type)} · {html.escape(category)}"
        label = QLabel(f"<span style='font-size:15pt'>{glyph}</span>&nbsp;&nbsp;<b>{html.escape(title)}</b>"
                       f"<br><span style='color:gray'>{kind}</span>")
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    def _identity_box(self, node: Node, spec: LayerSpec | None) -> QGroupBox:
        form = QWidget()
        rows = QFormLayout(form)
        rows.setContentsMargins(0, 0, 0, 0)
        self.name_edit = QLineEdit(node.name)
        self.name_edit.setObjectName("node_name")
        self.name_edit.setToolTip("The attribute name of this layer in the generated module: letters, digits "
                                  "and underscores, unique in the graph.")
        self.name_edit.editingFinished.connect(self._rename)
        self.name_edit.textEdited.connect(self._check_name)
        self.name_error = QLabel()
        self.name_error.setWordWrap(True)
        self.name_error.setStyleSheet(ERROR_STYLE)
        self.name_error.setVisible(False)
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.name_edit)
        column.addWidget(self.name_error)
        rows.addRow("Name", cell)
        self.init_combo: QComboBox | None = None
        if spec is not None and spec.has_weights:
            self.init_combo = QComboBox()
            self.init_combo.setObjectName("node_init")
            self.init_combo.setToolTip("How this layer's weights start out. 'Project setting' follows the "
                                       "scheme chosen for the whole project.")
            self.init_combo.addItem("Project setting", None)
            for scheme in INIT_SCHEMES:
                self.init_combo.addItem(scheme.replace("_", " "), scheme)
            self.refresh_init(node.init)
            self.init_combo.currentIndexChanged.connect(self._set_init)
            rows.addRow("Weight init", self.init_combo)
        return _boxed("Layer", form)

    def _about(self, spec: LayerSpec) -> QLabel:
        text = f"<p>{html.escape(spec.summary)}</p><p>{html.escape(spec.explanation)}</p>"
        if spec.formula:
            text += f"<p><code>{html.escape(spec.formula)}</code></p>"
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # --- edits -------------------------------------------------------------------------------
    def _set_param(self, name: str, value: Any) -> None:
        self.document.push(SetParamCommand(self.document, self.node_id, name, value))

    def name_problem(self, name: str) -> str | None:
        """Why a name cannot be used, or None when it can."""
        if not is_valid_name(name):
            return (f"{name!r} is not a valid name: use letters, digits and underscores, not starting with a "
                    "digit, and not a Python keyword")
        owner = self.document.graph.node_by_name(name)
        if owner is not None and owner.id != self.node_id:
            return f"the name {name!r} is already used by another node"
        return None

    def _check_name(self, text: str) -> None:
        problem = self.name_problem(text)
        self.name_error.setText(f"Not accepted: {problem}" if problem else "")
        self.name_error.setVisible(bool(problem))

    def _rename(self) -> None:
        node = self.document.graph.nodes.get(self.node_id)
        name = self.name_edit.text().strip()
        if node is None or name == node.name:
            return
        problem = self.name_problem(name)
        if problem is None:
            try:
                self.document.push(RenameNodeCommand(self.document, self.node_id, name))
            except GraphError as exc:
                problem = str(exc)
        if problem is not None:
            self.name_error.setText(f"Refused: {problem}")
            self.name_error.setVisible(True)
            self.name_edit.setText(node.name)

    def _set_init(self, index: int) -> None:
        scheme = self.init_combo.itemData(index) if self.init_combo is not None else None
        self.document.push(SetNodeInitCommand(self.document, self.node_id, scheme))

    # --- following the document --------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        """While training runs: everything stays readable, nothing can be edited."""
        self.locked = locked
        self.locked_label.setVisible(locked)
        self.identity_box.setEnabled(not locked)
        if self.form is not None:
            self.form.setEnabled(not locked)
        if self.training is not None:
            self.training.set_locked(locked)

    def refresh_training(self, training: NodeTraining) -> None:
        if self.training is not None:
            self.training.refresh(training)

    def refresh_param(self, name: str) -> None:
        """Show a param's current value; an unset param (undo of a first edit) shows its default."""
        node = self.document.graph.nodes.get(self.node_id)
        if self.form is not None and node is not None and name in self.form.specs:
            self.form.set_value(name, node.params.get(name, self.form.specs[name].default))

    def refresh_name(self, name: str) -> None:
        if self.name_edit.text() != name:
            self.name_edit.setText(name)
        self.name_error.setVisible(False)

    def refresh_init(self, scheme: str | None) -> None:
        if self.init_combo is None:
            return
        index = self.init_combo.findData(scheme) if scheme is not None else 0
        self.init_combo.blockSignals(True)
        self.init_combo.setCurrentIndex(max(index, 0))
        self.init_combo.blockSignals(False)

    def refresh_analysis(self, analysis: Analysis) -> None:
        shape = analysis.shapes.of(self.node_id) or analysis.shapes.outputs.get((self.node_id, ""))
        role = self.spec.role if self.spec is not None else "layer"
        caption = "Returns" if role == "output" else "Output"
        self.output_label.setText(f"{caption}: <b>{html.escape(str(shape))}</b>" if shape
                                  else f"{caption}: <span style='color:gray'>unknown until the inputs "
                                       "are valid</span>")
        problems = analysis.for_node(self.node_id)
        param_problems: dict[str, str] = {}
        for diagnostic in problems:
            if diagnostic.param and diagnostic.node_id == self.node_id:
                param_problems[diagnostic.param] = diagnostic.message
        if self.form is not None:
            self.form.clear_problems()
            for param, message in param_problems.items():
                self.form.set_problem(param, message)
        text = "<br>".join(f"• {html.escape(d.message)}" for d in problems)
        self.problems_label.setText(text)
        self.problems_label.setVisible(bool(text))


def _boxed(title: str, content: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 8)
    layout.addWidget(content)
    return box
