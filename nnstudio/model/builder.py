"""A concise way to build graphs in code: for tests, examples and importers."""

from __future__ import annotations

import itertools
from typing import Any

from nnstudio.model.graph import Endpoint, Node, new_id
from nnstudio.model.project import Project

COLUMN = 200.0  # canvas units between consecutive layers


class GraphBuilder:
    def __init__(self, project: Project | None = None, name: str = "Untitled") -> None:
        self.project = project or Project()
        if project is None:
            self.project.metadata.name = name
        self.graph = self.project.graph
        self._column = 0

    def add(self, layer_type: str, name: str | None = None, *, at: tuple[float, float] | None = None,
            init: str | None = None, **params: Any) -> str:
        """Add a node and return its id. Without `at`, nodes line up left to right."""
        if at is None:
            at = (self._column * COLUMN, 0.0)
            self._column += 1
        node = Node(new_id(), layer_type, name or self.graph.unique_name(layer_type), params, at, init)
        return self.graph.add_node(node).id

    def link(self, source: str, target: str, port: str = "in", source_port: str = "out") -> str:
        return self.graph.connect(Endpoint(source, source_port), Endpoint(target, port)).id

    def chain(self, *node_ids: str) -> str:
        """Link each node's output to the next node's 'in' (or 'inputs' for merge layers)."""
        for source, target in itertools.pairwise(node_ids):
            self.link(source, target, self._input_port_of(target))
        return node_ids[-1]

    def _input_port_of(self, node_id: str) -> str:
        return "inputs" if self.graph.node(node_id).type in {"Add", "Multiply", "Concat"} else "in"

    def sequential(self, *layers: tuple[str, dict[str, Any]] | str) -> list[str]:
        """Add and chain layers given as 'Type' or ('Type', {params})."""
        ids = []
        for layer in layers:
            layer_type, params = (layer, {}) if isinstance(layer, str) else layer
            ids.append(self.add(layer_type, **params))
        self.chain(*ids)
        return ids
