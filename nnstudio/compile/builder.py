"""Compile a validated graph into a torch.fx.GraphModule with readable generated code.

Layers add fx nodes through an EmitContext, so nothing is generated as strings or exec'd: the fx
graph *is* the model, and `gm.code` is what the Code view and Python export show.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
from torch import fx, nn

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.analysis.validate import Analysis, analyze
from nnstudio.compile.init import apply_init
from nnstudio.compile.memory import memory_problem
from nnstudio.compile.objective import NODE_META_KEY, ObjectivePlan, emit_objective, inference_graph, plan_objective
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.layers.spec import Construct, Inputs
from nnstudio.model.graph import Graph
from nnstudio.model.project import InitSettings, Project


class CompileError(Exception):
    """The graph cannot be compiled. Carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        lines = "\n".join(f"  {d.message}" for d in diagnostics[:20])
        more = f"\n  … and {len(diagnostics) - 20} more" if len(diagnostics) > 20 else ""
        super().__init__(f"the graph has {len(diagnostics)} problem(s):\n{lines}{more}")


@dataclass
class CompiledModel:
    module: fx.GraphModule
    analysis: Analysis
    input_nodes: list[str]  # node ids of Inputs, in forward() argument order
    output_nodes: list[str]  # node ids of Outputs, in return order
    modules_of: dict[str, list[str]] = field(default_factory=dict)  # node id -> attribute names
    constructs: dict[str, Construct] = field(default_factory=dict)  # attribute name -> constructor
    # The training graph when the graph declares its own objective (loss nodes): it takes every Input and
    # Target and returns the weighted total, the loss terms, and each scored (prediction, target) pair. It
    # shares its submodules with `module`, which is the inference graph (Inputs to Outputs) alone.
    objective: fx.GraphModule | None = None
    plan: ObjectivePlan | None = None

    @property
    def code(self) -> str:
        return self.module.code

    @property
    def network(self) -> nn.Module:
        """Every trained submodule: what checkpoints save and weights load into. For a graph without loss
        nodes it is `module` itself; with an objective it also holds parts only the losses use (a teacher)."""
        return self.objective if self.objective is not None else self.module

    def node_of_module(self, attribute: str) -> str | None:
        for node_id, names in self.modules_of.items():
            if attribute in names:
                return node_id
        return None


def resolve_callable(target: str) -> Any:
    module_name, _, attr = target.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


@functools.cache
def _reserved_names() -> frozenset[str]:
    """Every attribute a GraphModule has, on the class or set per instance (training, meta ...)."""
    graph = fx.Graph()
    graph.output(None)
    return frozenset(dir(fx.GraphModule)) | frozenset(vars(fx.GraphModule(nn.Module(), graph)))


def attribute_name(node_name: str) -> str:
    """The submodule name for a node. Names that would shadow a GraphModule attribute (code, forward,
    graph, training ...) get a trailing underscore, as Python does for `class_`."""
    return f"{node_name}_" if node_name in _reserved_names() else node_name


class _Emitter:
    """The EmitContext handed to each layer while its node is compiled."""

    def __init__(self, graph: fx.Graph, modules: dict[str, nn.Module], constructs: dict[str, Construct]):
        self.graph = graph
        self.modules = modules
        self.constructs = constructs
        self.node_name = ""
        self.node_id = ""
        self.created: list[str] = []

    def module(self, construct: Construct, *args: Any, **kwargs: Any) -> fx.Node:
        stem = attribute_name(self.node_name)
        name = stem if stem not in self.modules else self._fresh(stem)
        self.modules[name] = construct.instantiate()
        self.constructs[name] = construct
        self.created.append(name)
        return self._tag(self.graph.call_module(name, args, kwargs))

    def function(self, target: str, *args: Any, **kwargs: Any) -> fx.Node:
        return self._tag(self.graph.call_function(resolve_callable(target), args, kwargs))

    def method(self, name: str, *args: Any, **kwargs: Any) -> fx.Node:
        return self._tag(self.graph.call_method(name, args, kwargs))

    def _tag(self, fx_node: fx.Node) -> fx.Node:
        """Remember which graph node an fx node came from, so errors in later passes can name it."""
        fx_node.meta[NODE_META_KEY] = self.node_id
        return fx_node

    def _fresh(self, stem: str) -> str:
        index = 1
        while f"{stem}_{index}" in self.modules:
            index += 1
        return f"{stem}_{index}"


def build_module(
    source: Project | Graph,
    registry: Registry | None = None,
    init: InitSettings | None = None,
    analysis: Analysis | None = None,
) -> CompiledModel:
    """Compile a project (or bare graph). Same graph and init seed give bitwise-equal weights."""
    registry = registry or default_registry()
    graph = source.graph if isinstance(source, Project) else source
    init = init or (source.init if isinstance(source, Project) else InitSettings())
    analysis = analysis or analyze(graph, registry)
    if not analysis.ok:
        raise CompileError(analysis.errors)
    too_large = memory_problem(graph, analysis)  # before any weight is allocated
    if too_large is not None:
        raise CompileError([too_large])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init.seed)
        return _build(graph, analysis, init)


def _readable_order(graph: Graph, analysis: Analysis) -> list[str]:
    """A topological order with ties broken by insertion, so code reads in the order it was built."""
    position = {node_id: index for index, node_id in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(analysis.structure.digraph, key=position.__getitem__))


def _build(graph: Graph, analysis: Analysis, init: InitSettings) -> CompiledModel:
    structure, shapes = analysis.structure, analysis.shapes
    fx_graph = fx.Graph()
    modules: dict[str, nn.Module] = {}
    constructs: dict[str, Construct] = {}
    emitter = _Emitter(fx_graph, modules, constructs)
    values: dict[tuple[str, str], fx.Node] = {}
    compiled = CompiledModel(None, analysis, [], [])  # type: ignore[arg-type]  # module set below
    returned: list[fx.Node] = []
    placeholders: dict[str, fx.Node] = {}  # Input and Target node id -> its placeholder
    losses: dict[str, fx.Node] = {}  # loss node id -> its (unweighted) scalar
    for node_id in _readable_order(graph, analysis):
        node, spec = graph.nodes[node_id], structure.specs[node_id]
        if spec.role in ("input", "target"):
            placeholder = fx_graph.placeholder(node.name)
            placeholder.meta[NODE_META_KEY] = node_id
            values[(node_id, "out")] = placeholders[node_id] = placeholder
            if spec.role == "input":
                compiled.input_nodes.append(node_id)
            continue
        arriving = Inputs({port: [values[(e.source.node, e.source.port)] for e in edges]
                           for port, edges in structure.incoming.get(node_id, {}).items()})
        if spec.role == "output":
            returned.append(arriving.one())
            compiled.output_nodes.append(node_id)
            continue
        emitter.node_name, emitter.node_id, emitter.created = node.name, node_id, []
        types = shapes.input_types(structure, node_id)
        result = spec.emit(emitter, structure.params[node_id], arriving, types)
        if spec.role == "loss":
            losses[node_id] = result
        elif len(spec.outputs) > 1:
            values.update({(node_id, port.name): value for port, value in zip(spec.outputs, result)})
        else:
            values[(node_id, spec.outputs[0].name)] = result
        compiled.modules_of[node_id] = list(emitter.created)
        for attribute in emitter.created:
            if spec.has_weights:
                apply_init(modules[attribute], node.init or init.scheme)
    compiled.constructs = constructs
    outputs = returned[0] if len(returned) == 1 else tuple(returned)
    if not losses and not any(structure.specs[n].role == "target" for n in placeholders):
        fx_graph.output(outputs)
        fx_graph.lint()
        compiled.module = fx.GraphModule(modules, fx_graph, class_name="NNStudioModel")
        return compiled
    plan = plan_objective(graph, structure, list(placeholders), losses)
    if losses:
        emit_objective(fx_graph, plan, losses, values)
        fx_graph.lint()
        compiled.objective = fx.GraphModule(modules, fx_graph, class_name="NNStudioObjective")
        compiled.plan = plan
        root: nn.Module | dict[str, nn.Module] = compiled.objective
    else:
        root = modules
    compiled.module = fx.GraphModule(root, inference_graph(fx_graph, placeholders, compiled.input_nodes, outputs),
                                     class_name="NNStudioModel")
    return compiled
