"""The Inspector dock's content: the selected node's page, or the project's settings when none is.

It listens to the graph (psygnal) and the document (Qt) and rebuilds nothing on edits: pages update
their widgets in place, so a spin-box drag keeps its focus while undo commands stream in.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from nnstudio.layers.params import ParamKind, ParamSpec, choice_param, int_param
from nnstudio.model import Metadata
from nnstudio.model.project import INIT_SCHEMES
from nnstudio.ui.commands import SetInitWeightsCommand, SetSectionCommand
from nnstudio.ui.document import Document
from nnstudio.ui.inspector.form import ParamForm
from nnstudio.ui.inspector.node_page import NodePage

PROJECT_SPECS = (
    ParamSpec("name", ParamKind.STRING, "Untitled", "The project's name, shown in the title and in exports."),
    ParamSpec("description", ParamKind.STRING, "", "A line about what this network is for."),
    choice_param("scheme", "default", INIT_SCHEMES,
                 "How every layer's weights start out, unless a layer overrides it."),
    int_param("seed", 0, "Seed for weight initialisation: the same seed gives the same starting weights.",
              minimum=0, maximum=2**31 - 1),
)


class ProjectPage(QWidget):
    """Shown when nothing is selected: project name, description, weight-init settings and loaded weights."""

    def __init__(self, document: Document, parent: QWidget | None = None, locked: bool = False) -> None:
        super().__init__(parent)
        self.document = document
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        heading = QLabel("<b>Project</b><br><span style='color:gray'>Select a node on the canvas to edit "
                         "its parameters.</span>")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.form = ParamForm(PROJECT_SPECS, self._values(), self._change)
        layout.addWidget(self.form)
        layout.addWidget(self._weights_box())
        layout.addStretch(1)
        self.refresh()
        self.set_locked(locked)

    def _weights_box(self) -> QGroupBox:
        box = QGroupBox("Start from weights")
        column = QVBoxLayout(box)
        column.setContentsMargins(8, 6, 8, 8)
        self.weights_label = QLabel()
        self.weights_label.setObjectName("project_weights")
        self.weights_label.setWordWrap(True)
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.weights_label)
        row = QHBoxLayout()
        hint = QLabel("<span style='color:gray'>File ▸ Load Weights… picks a file, a checkpoint or run folder, "
                      "or a bundle.</span>")
        hint.setWordWrap(True)
        row.addWidget(hint, 1)
        self.clear_weights = QPushButton("Clear")
        self.clear_weights.setObjectName("project_clear_weights")
        self.clear_weights.setToolTip("Train from a fresh initialisation again (undoable)")
        self.clear_weights.clicked.connect(self._clear_weights)
        row.addWidget(self.clear_weights)
        column.addLayout(row)
        return box

    def _values(self) -> dict[str, Any]:
        project = self.document.project
        return {"name": project.metadata.name, "description": project.metadata.description,
                "scheme": project.init.scheme, "seed": project.init.seed}

    def _change(self, name: str, value: Any) -> str | None:
        project = self.document.project
        if name in ("name", "description"):
            if name == "name" and not value.strip():
                return "the project needs a name"
            meta = project.metadata
            fields = {"name": meta.name, "description": meta.description, name: value}
            metadata = Metadata(fields["name"], fields["description"], dict(meta.extra))
            self.document.push(SetSectionCommand(self.document, "metadata", metadata))
        else:  # scheme or seed; the loaded weights stay as they are
            self.document.push(SetSectionCommand(self.document, "init", replace(project.init, **{name: value})))
        return None

    def _clear_weights(self) -> None:
        if self.document.project.init.weights:
            self.document.push(SetInitWeightsCommand(self.document, None))

    def refresh(self) -> None:
        self.form.set_values(self._values())
        weights = self.document.project.init.weights
        self.weights_label.setText(html.escape(weights) if weights else
                                   "<span style='color:gray'>none: training starts from a fresh "
                                   "initialisation</span>")
        self.weights_label.setToolTip(weights or "")
        self.clear_weights.setEnabled(bool(weights) and self.form.isEnabled())

    def set_locked(self, locked: bool) -> None:
        self.form.setEnabled(not locked)
        self.refresh()


class Inspector(QScrollArea):
    """Shows one page at a time; `show_nodes` follows the canvas selection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document: Document | None = None
        self.page: QWidget | None = None
        self._node_ids: list[str] = []
        self._links: list[tuple[Any, Callable[..., Any]]] = []
        self.read_only = False

    # --- wiring ------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self._unlink()
        self.document = document
        if document is not None:
            graph = document.graph
            self._link(graph.param_changed, self._on_param_changed)
            self._link(graph.node_renamed, self._on_renamed)
            self._link(graph.node_init_changed, self._on_init_changed)
            self._link(graph.node_training_changed, self._on_training_changed)
            self._link(graph.node_removed, self._on_node_removed)
            self._link(document.project.settings_changed, self._on_settings_changed)
            document.analysis_changed.connect(self._on_analysis)
        self.show_nodes([])

    def _link(self, signal: Any, slot: Callable[..., Any]) -> None:
        signal.connect(slot)
        self._links.append((signal, slot))

    def _unlink(self) -> None:
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._links.clear()
        if self.document is not None:
            self.document.analysis_changed.disconnect(self._on_analysis)

    def dispose(self) -> None:
        """Stop listening before the widget goes away (psygnal would otherwise call a dead widget)."""
        self._unlink()
        self.document = None

    # --- pages -------------------------------------------------------------------------------
    def show_nodes(self, node_ids: list[str]) -> None:
        self._node_ids = [n for n in node_ids if self.document and n in self.document.graph.nodes]
        if self.document is None:
            page: QWidget = QLabel("No document")
        elif not self._node_ids:
            page = ProjectPage(self.document, locked=self.read_only)
        elif len(self._node_ids) == 1:
            node = self.document.graph.nodes[self._node_ids[0]]
            page = NodePage(self.document, node, self.document.registry.get(node.type), locked=self.read_only)
        else:
            page = self._multi_page()
        self.page = page
        self.setWidget(page)  # deletes the previous page

    def set_read_only(self, locked: bool) -> None:
        """Follow the canvas: while a run trains, pages show the document but refuse edits."""
        self.read_only = locked
        if isinstance(self.page, (NodePage, ProjectPage)):
            self.page.set_locked(locked)

    def _multi_page(self) -> QWidget:
        graph = self.document.graph
        names = ", ".join(html.escape(graph.nodes[n].name) for n in self._node_ids[:12])
        more = f" and {len(self._node_ids) - 12} more" if len(self._node_ids) > 12 else ""
        label = QLabel(f"<b>{len(self._node_ids)} nodes selected</b><br><br>{names}{more}<br><br>"
                       "<span style='color:gray'>Select a single node to edit its parameters.</span>")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(8, 8, 8, 8)
        return label

    # --- following the document --------------------------------------------------------------
    def _node_page(self, node_id: str) -> NodePage | None:
        page = self.page
        return page if isinstance(page, NodePage) and page.node_id == node_id else None

    def _on_param_changed(self, node_id: str, name: str, value: Any) -> None:
        page = self._node_page(node_id)
        if page is not None:
            page.refresh_param(name)

    def _on_renamed(self, node_id: str, name: str) -> None:
        page = self._node_page(node_id)
        if page is not None:
            page.refresh_name(name)

    def _on_init_changed(self, node_id: str, scheme: str | None) -> None:
        page = self._node_page(node_id)
        if page is not None:
            page.refresh_init(scheme)

    def _on_training_changed(self, node_id: str, training: Any) -> None:
        page = self._node_page(node_id)
        if page is not None:
            page.refresh_training(training)

    def _on_node_removed(self, node: Any) -> None:
        if node.id in self._node_ids:
            self.show_nodes([n for n in self._node_ids if n != node.id])

    def _on_settings_changed(self, section: str) -> None:
        if isinstance(self.page, ProjectPage):
            self.page.refresh()
        elif isinstance(self.page, NodePage) and section == "search" and self.page.form is not None:
            self.page.form.refresh_search()

    def _on_analysis(self, analysis: Any) -> None:
        if isinstance(self.page, NodePage):
            self.page.refresh_analysis(analysis)
