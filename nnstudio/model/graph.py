"""The layer graph: the document users edit. Plain Python with change signals; no Qt, no torch.

Views (the canvas, the inspector) listen to the signals and never own document state. Every
mutation goes through a method here so that undo commands and file loading share one path.
"""

from __future__ import annotations

import keyword
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from psygnal import Signal

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GraphError(ValueError):
    """A mutation that would break the document's invariants (unknown id, duplicate name...)."""


def new_id(prefix: str = "n") -> str:
    """An opaque, stable id. Never derived from memory addresses, so saved files stay portable."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def is_valid_name(name: str) -> bool:
    """Node names become attribute names in the compiled module, so they must be identifiers."""
    return bool(IDENTIFIER.match(name)) and not keyword.iskeyword(name)


@dataclass(frozen=True)
class NodeTraining:
    """How the trainer treats one node's parameters. The defaults mean "train it like every other".

    `frozen` parameters get no updates (requires_grad off, left out of the optimizer); a frozen node's
    batch-norm running statistics stay fixed too unless `update_stats` says otherwise. `lr_scale`
    multiplies the optimizer's learning rate for this node's parameters (its own param group).
    """

    frozen: bool = False
    update_stats: bool = False
    lr_scale: float = 1.0

    @property
    def is_default(self) -> bool:
        return self == NodeTraining()


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    init: str | None = None  # per-layer weight-init override; None means the project's scheme
    training: NodeTraining = field(default_factory=NodeTraining)


@dataclass(frozen=True)
class Endpoint:
    node: str
    port: str


@dataclass(frozen=True)
class Edge:
    id: str
    source: Endpoint  # an output port
    target: Endpoint  # an input port


class Graph:
    """Nodes and edges with change signals. Ordering is insertion order, which files preserve."""

    node_added = Signal(object)  # Node
    node_removed = Signal(object)  # Node
    edge_added = Signal(object)  # Edge
    edge_removed = Signal(object)  # Edge
    param_changed = Signal(str, str, object)  # node id, param name, new value
    node_renamed = Signal(str, str)  # node id, new name
    node_moved = Signal(str, object)  # node id, (x, y)
    node_init_changed = Signal(str, object)  # node id, scheme or None
    node_training_changed = Signal(str, object)  # node id, NodeTraining
    changed = Signal()  # any structural or param change; moves excluded (they never affect analysis)

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: dict[str, Edge] = {}
        self._names: dict[str, str] = {}  # name -> id
        self.revision = 0  # bumps on every analysis-relevant change, for caches

    # --- queries -------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        return self._nodes

    @property
    def edges(self) -> dict[str, Edge]:
        return self._edges

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {node_id!r}") from None

    def node_by_name(self, name: str) -> Node | None:
        node_id = self._names.get(name)
        return self._nodes[node_id] if node_id else None

    def edges_of(self, node_id: str) -> Iterator[Edge]:
        for edge in self._edges.values():
            if edge.source.node == node_id or edge.target.node == node_id:
                yield edge

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges.values() if e.target.node == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges.values() if e.source.node == node_id]

    def unique_name(self, base: str) -> str:
        """A free identifier derived from base: 'linear', 'linear_1', 'linear_2'..."""
        stem = re.sub(r"\W", "_", base).strip("_").lower() or "node"
        if stem[0].isdigit() or keyword.iskeyword(stem):
            stem = f"n_{stem}"
        stem = re.sub(r"_\d+$", "", stem) if stem in self._names else stem
        if stem not in self._names:
            return stem
        index = 1
        while f"{stem}_{index}" in self._names:
            index += 1
        return f"{stem}_{index}"

    # --- mutations -----------------------------------------------------------------------
    def add_node(self, node: Node, index: int | None = None) -> Node:
        """Add a node; `index` puts it back at its old place in the order (undo of a removal)."""
        if node.id in self._nodes:
            raise GraphError(f"duplicate node id {node.id!r}")
        self._check_name(node.name, node.id)
        _insert(self._nodes, node.id, node, index)
        self._names[node.name] = node.id
        self._touch()
        self.node_added.emit(node)
        self.changed.emit()
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so an undo can put them back."""
        node = self.node(node_id)
        removed = [self.remove_edge(edge.id) for edge in list(self.edges_of(node_id))]
        del self._nodes[node_id]
        del self._names[node.name]
        self._touch()
        self.node_removed.emit(node)
        self.changed.emit()
        return node, removed

    def add_edge(self, edge: Edge, index: int | None = None) -> Edge:
        if edge.id in self._edges:
            raise GraphError(f"duplicate edge id {edge.id!r}")
        for end in (edge.source, edge.target):
            if end.node not in self._nodes:
                raise GraphError(f"edge {edge.id!r} refers to a missing node {end.node!r}")
        _insert(self._edges, edge.id, edge, index)
        self._touch()
        self.edge_added.emit(edge)
        self.changed.emit()
        return edge

    def connect(self, source: Endpoint, target: Endpoint, edge_id: str | None = None) -> Edge:
        return self.add_edge(Edge(edge_id or new_id("e"), source, target))

    def remove_edge(self, edge_id: str) -> Edge:
        try:
            edge = self._edges.pop(edge_id)
        except KeyError:
            raise GraphError(f"no edge with id {edge_id!r}") from None
        self._touch()
        self.edge_removed.emit(edge)
        self.changed.emit()
        return edge

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set one param; returns the old value (or None when it was unset)."""
        node = self.node(node_id)
        old = node.params.get(name)
        node.params[name] = value
        self._touch()
        self.param_changed.emit(node_id, name, value)
        self.changed.emit()
        return old

    def unset_param(self, node_id: str, name: str) -> Any:
        """Drop an explicit value so the param falls back to its default; returns the old value.

        param_changed then carries None: listeners showing values read node.params with the default.
        """
        node = self.node(node_id)
        if name not in node.params:
            return None
        old = node.params.pop(name)
        self._touch()
        self.param_changed.emit(node_id, name, None)
        self.changed.emit()
        return old

    def rename_node(self, node_id: str, name: str) -> str:
        node = self.node(node_id)
        if name == node.name:
            return name
        self._check_name(name, node_id)
        old = node.name
        del self._names[old]
        node.name = name
        self._names[name] = node_id
        self._touch()
        self.node_renamed.emit(node_id, name)
        self.changed.emit()
        return old

    def move_node(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old = node.position
        node.position = (float(position[0]), float(position[1]))
        self.node_moved.emit(node_id, node.position)
        return old

    def set_node_init(self, node_id: str, scheme: str | None) -> str | None:
        node = self.node(node_id)
        old = node.init
        node.init = scheme
        self._touch()
        self.node_init_changed.emit(node_id, scheme)
        self.changed.emit()
        return old

    def set_node_training(self, node_id: str, training: NodeTraining) -> NodeTraining:
        """Freeze or unfreeze a node, or change its learning-rate scale; returns the old settings."""
        node = self.node(node_id)
        old = node.training
        node.training = training
        self._touch()
        self.node_training_changed.emit(node_id, training)
        self.changed.emit()
        return old

    def clear(self) -> None:
        for node_id in list(self._nodes):
            self.remove_node(node_id)

    def extend(self, nodes: Iterable[Node], edges: Iterable[Edge]) -> None:
        for node in nodes:
            self.add_node(node)
        for edge in edges:
            self.add_edge(edge)

    # --- internals -----------------------------------------------------------------------
    def _check_name(self, name: str, node_id: str) -> None:
        if not is_valid_name(name):
            raise GraphError(f"name {name!r} is not a valid identifier (letters, digits, underscores)")
        owner = self._names.get(name)
        if owner is not None and owner != node_id:
            raise GraphError(f"name {name!r} is already used by another node")

    def _touch(self) -> None:
        self.revision += 1


def _insert(mapping: dict[str, Any], key: str, value: Any, index: int | None) -> None:
    """Insert at a position while keeping the same dict object (holders of .nodes stay valid)."""
    if index is None or index >= len(mapping):
        mapping[key] = value
        return
    items = list(mapping.items())
    items.insert(max(index, 0), (key, value))
    mapping.clear()
    mapping.update(items)
