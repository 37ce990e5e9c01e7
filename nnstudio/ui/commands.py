"""Undo commands: every change to the document is one of these.

Each command calls only the model's API (Graph and Project methods) in redo() and undo(); items
and docks follow through the graph's signals. Commands keep private copies of the nodes they add,
so a caller that later mutates its Node cannot change what an undo or redo puts back. Removals
remember the positions of what they removed, so undo restores the exact order (which decides the
order of the generated code) and not merely the same set.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from nnstudio.model import Edge, Endpoint, Graph, GraphError, Node, is_valid_name, new_id
from nnstudio.model.graph import NodeTraining
from nnstudio.model.project import SECTIONS

if TYPE_CHECKING:
    from nnstudio.ui.document import Document

Point = tuple[float, float]
SET_PARAM_ID = 4101  # QUndoCommand.id() of SetParamCommand, for merging
SET_TRAINING_ID = 4102  # QUndoCommand.id() of SetNodeTrainingCommand


def copy_node(node: Node) -> Node:
    """A deep copy, so params lists are never shared between the document and a command."""
    return Node(node.id, node.type, node.name, copy.deepcopy(node.params), tuple(node.position), node.init,
                node.training)  # NodeTraining is a frozen dataclass: sharing it is safe


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class DocumentCommand(QUndoCommand):
    """Base: holds the document; subclasses implement redo()/undo() with model calls only."""

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    @property
    def graph(self) -> Graph:
        return self.doc.graph


class CompositeCommand(DocumentCommand):
    """Several commands as one undo step (e.g. Delete = remove edges + remove nodes)."""

    def __init__(self, doc: Document, text: str, commands: Sequence[QUndoCommand]) -> None:
        super().__init__(doc, text)
        self.commands = list(commands)

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()


# --- nodes -----------------------------------------------------------------------------------
class AddNodeCommand(DocumentCommand):
    def __init__(self, doc: Document, node: Node) -> None:
        super().__init__(doc, f"Add {node.name}")
        self.node = copy_node(node)

    def redo(self) -> None:
        self.graph.add_node(copy_node(self.node))

    def undo(self) -> None:
        self.graph.remove_node(self.node.id)


class _Removal:
    """Nodes and edges taken out of the graph with their old indices, to put back exactly."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, Node]] = []
        self.edges: list[tuple[int, Edge]] = []

    def take(self, graph: Graph, node_ids: Iterable[str], edge_ids: Iterable[str]) -> None:
        node_set = set(node_ids)
        edge_set = set(edge_ids)
        self.nodes = [(i, copy_node(n)) for i, n in enumerate(graph.nodes.values()) if n.id in node_set]
        self.edges = [(i, e) for i, e in enumerate(graph.edges.values())
                      if e.id in edge_set or e.source.node in node_set or e.target.node in node_set]
        for _, edge in reversed(self.edges):
            graph.remove_edge(edge.id)
        for _, node in reversed(self.nodes):
            graph.remove_node(node.id)

    def restore(self, graph: Graph) -> None:
        for index, node in self.nodes:
            graph.add_node(copy_node(node), index)
        for index, edge in self.edges:
            graph.add_edge(edge, index)


class RemoveNodesCommand(DocumentCommand):
    """Remove nodes together with every edge touching them; undo restores both, in order."""

    def __init__(self, doc: Document, node_ids: Iterable[str]) -> None:
        self.node_ids = [n for n in dict.fromkeys(node_ids) if n in doc.graph.nodes]
        super().__init__(doc, f"Delete {_plural(len(self.node_ids), 'node')}")
        self._removal = _Removal()

    def redo(self) -> None:
        self._removal.take(self.graph, self.node_ids, ())

    def undo(self) -> None:
        self._removal.restore(self.graph)


class MoveNodesCommand(DocumentCommand):
    """One drag (or nudge) of any number of nodes; pushed once, when the mouse is released."""

    def __init__(self, doc: Document, moves: Mapping[str, tuple[Point, Point]]) -> None:
        super().__init__(doc, f"Move {_plural(len(moves), 'node')}")
        self.moves = {k: (tuple(old), tuple(new)) for k, (old, new) in moves.items()}

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.graph.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.graph.move_node(node_id, old)


class AutoLayoutCommand(MoveNodesCommand):
    def __init__(self, doc: Document, positions: Mapping[str, Point]) -> None:
        graph = doc.graph
        moves = {k: (graph.nodes[k].position, tuple(v)) for k, v in positions.items() if k in graph.nodes}
        super().__init__(doc, moves)
        self.setText("Auto layout")


class SetParamCommand(DocumentCommand):
    """Set one param. Consecutive changes of the same param of the same node merge into one step."""

    def __init__(self, doc: Document, node_id: str, name: str, value: Any) -> None:
        node = doc.graph.node(node_id)
        super().__init__(doc, f"Set {node.name}.{name}")
        self.node_id, self.name = node_id, name
        self.value = copy.deepcopy(value)
        self._had_value = name in node.params
        self._old = copy.deepcopy(node.params.get(name))

    def id(self) -> int:
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.value = other.value
        if self._had_value and self.value == self._old:
            self.setObsolete(True)  # dragged back to where it started: nothing to undo
        return True

    def redo(self) -> None:
        self.graph.set_param(self.node_id, self.name, copy.deepcopy(self.value))

    def undo(self) -> None:
        if self._had_value:
            self.graph.set_param(self.node_id, self.name, copy.deepcopy(self._old))
        else:
            self.graph.unset_param(self.node_id, self.name)


class RenameNodeCommand(DocumentCommand):
    """Rename a node. Refuses (GraphError, before anything changes) invalid or taken names."""

    def __init__(self, doc: Document, node_id: str, new_name: str) -> None:
        node = doc.graph.node(node_id)
        if not is_valid_name(new_name):
            raise GraphError(f"{new_name!r} is not a valid name: use letters, digits and underscores, "
                             "not starting with a digit")
        owner = doc.graph.node_by_name(new_name)
        if owner is not None and owner.id != node_id:
            raise GraphError(f"the name {new_name!r} is already used by another node")
        super().__init__(doc, f"Rename {node.name} to {new_name}")
        self.node_id, self.old_name, self.new_name = node_id, node.name, new_name

    def redo(self) -> None:
        self.graph.rename_node(self.node_id, self.new_name)

    def undo(self) -> None:
        self.graph.rename_node(self.node_id, self.old_name)


class SetNodeInitCommand(DocumentCommand):
    def __init__(self, doc: Document, node_id: str, scheme: str | None) -> None:
        node = doc.graph.node(node_id)
        super().__init__(doc, f"Set initialisation of {node.name}")
        self.node_id, self.old, self.new = node_id, node.init, scheme

    def redo(self) -> None:
        self.graph.set_node_init(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_node_init(self.node_id, self.old)


class SetNodeTrainingCommand(DocumentCommand):
    """Freeze or unfreeze a node, or change its learning-rate scale.

    Like a param, consecutive changes of one node's learning-rate scale (a spin-box drag) merge into one
    step; a change of `frozen` or `update_stats` is always a step of its own, as a checkbox click is."""

    def __init__(self, doc: Document, node_id: str, training: NodeTraining) -> None:
        node = doc.graph.node(node_id)
        self.node_id, self.old, self.new = node_id, node.training, training
        super().__init__(doc, _training_text(node.name, node.training, training))

    def id(self) -> int:
        return SET_TRAINING_ID

    def _scale_only(self) -> bool:
        return (self.old.frozen, self.old.update_stats) == (self.new.frozen, self.new.update_stats)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (not isinstance(other, SetNodeTrainingCommand) or other.node_id != self.node_id
                or not (self._scale_only() and other._scale_only())):
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)  # dragged back to where it started: nothing to undo
        return True

    def redo(self) -> None:
        self.graph.set_node_training(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_node_training(self.node_id, self.old)


def _training_text(name: str, old: NodeTraining, new: NodeTraining) -> str:
    if new.frozen != old.frozen:
        return f"{'Freeze' if new.frozen else 'Unfreeze'} {name}"
    if new.update_stats != old.update_stats:
        return f"{'Update' if new.update_stats else 'Fix'} {name}'s batch-norm statistics"
    return f"Set {name}'s learning-rate scale"


class SetSectionCommand(DocumentCommand):
    """Replace a project settings section (metadata, init, dataset, training) wholesale."""

    def __init__(self, doc: Document, section: str, value: Any) -> None:
        if section not in SECTIONS:
            raise ValueError(f"unknown project section {section!r}")
        super().__init__(doc, f"Change {section} settings")
        self.section = section
        self.old = copy.deepcopy(getattr(doc.project, section))
        self.new = copy.deepcopy(value)

    def redo(self) -> None:
        self.doc.project.set_section(self.section, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.doc.project.set_section(self.section, copy.deepcopy(self.old))


class SetInitWeightsCommand(SetSectionCommand):
    """Start training from a weights source (`project.init.weights`), or from a fresh initialisation (None)."""

    def __init__(self, doc: Document, weights: str | None) -> None:
        super().__init__(doc, "init", dataclasses.replace(doc.project.init, weights=weights))
        self.setText(f"Load weights from {PurePath(weights).name or weights}" if weights else "Clear loaded weights")


# --- edges -----------------------------------------------------------------------------------
class AddEdgeCommand(DocumentCommand):
    def __init__(self, doc: Document, source: Endpoint, target: Endpoint) -> None:
        graph = doc.graph
        src, dst = graph.node(source.node).name, graph.node(target.node).name
        super().__init__(doc, f"Connect {src} → {dst}.{target.port}")
        self.edge = Edge(new_id("e"), source, target)

    def redo(self) -> None:
        self.graph.add_edge(self.edge)

    def undo(self) -> None:
        self.graph.remove_edge(self.edge.id)


class RemoveEdgesCommand(DocumentCommand):
    def __init__(self, doc: Document, edge_ids: Iterable[str]) -> None:
        self.edge_ids = [e for e in dict.fromkeys(edge_ids) if e in doc.graph.edges]
        super().__init__(doc, f"Delete {_plural(len(self.edge_ids), 'link')}")
        self._removal = _Removal()

    def redo(self) -> None:
        self._removal.take(self.graph, (), self.edge_ids)

    def undo(self) -> None:
        self._removal.restore(self.graph)


class PasteCommand(DocumentCommand):
    """Add a fragment whose nodes and edges were already given fresh ids and free names."""

    def __init__(self, doc: Document, nodes: Sequence[Node], edges: Sequence[Edge], text: str = "Paste") -> None:
        super().__init__(doc, f"{text} {_plural(len(nodes), 'node')}")
        self.nodes = [copy_node(n) for n in nodes]
        self.edges = list(edges)

    def redo(self) -> None:
        for node in self.nodes:
            self.graph.add_node(copy_node(node))
        for edge in self.edges:
            self.graph.add_edge(edge)

    def undo(self) -> None:
        for edge in reversed(self.edges):
            self.graph.remove_edge(edge.id)
        for node in reversed(self.nodes):
            self.graph.remove_node(node.id)


class InsertOnEdgeCommand(DocumentCommand):
    """Split an edge with a new node: source → node's first input, node's first output → target."""

    def __init__(self, doc: Document, edge_id: str, node: Node) -> None:
        graph = doc.graph
        if edge_id not in graph.edges:
            raise GraphError(f"no edge with id {edge_id!r}")
        spec = doc.registry.get(node.type)
        if spec is None or not spec.inputs or not spec.outputs:
            raise GraphError(f"{node.type} needs an input and an output port to be inserted into a link")
        super().__init__(doc, f"Insert {node.name}")
        self.old_edge = graph.edges[edge_id]
        self.node = copy_node(node)
        self.incoming = Edge(new_id("e"), self.old_edge.source, Endpoint(node.id, spec.inputs[0].name))
        self.outgoing = Edge(new_id("e"), Endpoint(node.id, spec.outputs[0].name), self.old_edge.target)
        self._removal = _Removal()

    def redo(self) -> None:
        self._removal.take(self.graph, (), (self.old_edge.id,))
        self.graph.add_node(copy_node(self.node))
        self.graph.add_edge(self.incoming)
        self.graph.add_edge(self.outgoing)

    def undo(self) -> None:
        self.graph.remove_edge(self.outgoing.id)
        self.graph.remove_edge(self.incoming.id)
        self.graph.remove_node(self.node.id)
        self._removal.restore(self.graph)
