""""Apply best trial": the best trial's graph and settings replace the document's, as one undoable edit.

A trial can change the structure (a bypassed block, a repeated one) as well as values, so the whole graph is
swapped, with the dataset, training and init sections. The search section and the canvas comments stay: the
result is the same project, tuned.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from nnstudio.model import Edge, Node
from nnstudio.model.project import Project
from nnstudio.ui.commands import DocumentCommand, copy_node

if TYPE_CHECKING:
    from nnstudio.ui.document import Document

SECTIONS = ("dataset", "training", "init")


class ApplyTrialCommand(DocumentCommand):
    def __init__(self, doc: Document, project: Project, trial_number: int) -> None:
        super().__init__(doc, f"Apply search trial {trial_number}")
        self.old = _parts(doc.project)
        self.new = _parts(project)

    def _put(self, parts: tuple[list[Node], list[Edge], dict]) -> None:
        nodes, edges, sections = parts
        graph = self.graph
        graph.clear()
        graph.extend([copy_node(node) for node in nodes], list(edges))
        for section, value in sections.items():
            self.doc.project.set_section(section, copy.deepcopy(value))

    def redo(self) -> None:
        self._put(self.new)

    def undo(self) -> None:
        self._put(self.old)


def _parts(project: Project) -> tuple[list[Node], list[Edge], dict]:
    graph = project.graph
    sections = {section: copy.deepcopy(getattr(project, section)) for section in SECTIONS}
    return [copy_node(node) for node in graph.nodes.values()], list(graph.edges.values()), sections
