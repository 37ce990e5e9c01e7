"""The entry points: analyze() runs structure checks and shape inference in one pass."""

from __future__ import annotations

from dataclasses import dataclass

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.analysis.shapes import ShapeTable, infer_types
from nnstudio.analysis.structure import Structure, check_structure
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model.graph import Graph


@dataclass
class Analysis:
    structure: Structure
    shapes: ShapeTable
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node_id == node_id or node_id in d.related]


def analyze(graph: Graph, registry: Registry | None = None) -> Analysis:
    registry = registry or default_registry()
    structure = check_structure(graph, registry)
    shapes, shape_problems = infer_types(graph, structure)
    return Analysis(structure, shapes, structure.diagnostics + shape_problems)


def validate(graph: Graph, registry: Registry | None = None) -> list[Diagnostic]:
    return analyze(graph, registry).diagnostics


def infer_shapes(graph: Graph, registry: Registry | None = None) -> ShapeTable:
    return analyze(graph, registry).shapes
