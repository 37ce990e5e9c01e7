"""Turn a user's nn.Module into an editable nnstudio project, with its weights, checked for equality.

The model is traced with torch.fx (catalogue module classes stay leaves), shapes are recorded on a
sample batch, and each fx node becomes a catalogue layer: module calls through the catalogue's
own builders (see modules.py and patterns.py), functions and tensor methods through converters
(functions.py). Anything without a layer is refused, naming the fx node and its source line. The
result is compiled, given the model's weights and compared with the original on a fresh batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from nnstudio.analysis.layout import auto_layout
from nnstudio.analysis.validate import analyze
from nnstudio.io.importing.forms import convert_call
from nnstudio.io.importing.functions import Converted, Refused, is_batch_size, is_helper, learned_shape
from nnstudio.io.importing.modules import fit, free_choices, is_layer_class, specs_for
from nnstudio.io.importing.patterns import emit_pattern, match_module
from nnstudio.io.importing.source import ImportModelError
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.layers.spec import Inputs, TensorType
from nnstudio.model.graph import Endpoint, Node, new_id
from nnstudio.model.project import Project

DTYPES = {torch.float32: "float32", torch.int64: "int64"}
_TORCH_DIR = str(Path(torch.__file__).parent)  # frames inside torch are fx's own, not the user's
InputSpec = tuple[tuple[int, ...], str]  # shape without the batch dim, dtype


class _Tracer(fx.Tracer):
    """Keeps every module the catalogue knows as one call (torch.nn modules are leaves anyway)."""

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self.registry = registry
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return is_layer_class(type(m), self.registry) or super().is_leaf_module(m, module_qualified_name)


@dataclass
class Imported:
    """One nnstudio node made from user code."""

    node_id: str
    output: fx.Node  # the user fx node whose value this node produces
    module: str | None = None  # the user submodule whose weights it takes
    # or, for a function given its weights (F.linear(x, self.w)) and for a parameter read from self (a
    # LearnedTensor): the node's state-dict key -> (the user's attribute, the shape the node stores it in)
    tensors: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)


@dataclass
class Conversion:
    gm: fx.GraphModule
    registry: Registry
    project: Project = field(default_factory=Project)
    values: dict[fx.Node, str] = field(default_factory=dict)  # user fx node -> nnstudio node id
    covered: set[fx.Node] = field(default_factory=set)
    helpers_used: set[fx.Node] = field(default_factory=set)
    layers: list[Imported] = field(default_factory=list)
    attribute_uses: dict[fx.Node, list[str]] = field(default_factory=dict)  # get_attr -> the nodes taking it


def where(node: fx.Node) -> str:
    """'fx node conv1 (model.py:23: x = self.conv1(x))', from the stack trace fx recorded."""
    trace = node.meta.get("stack_trace") or ""
    frames = [f for f in re.findall(r'File "([^"]+)", line (\d+), in \w+\n\s*(.+)', trace)
              if not f[0].startswith(_TORCH_DIR)]
    if frames:
        path, line, code = frames[-1]
        return f"fx node {node.name!r} ({Path(path).name}:{line}: {code.strip()})"
    return f"fx node {node.name!r} ({node.op} {getattr(node.target, '__name__', node.target)})"


def trace(model: nn.Module, registry: Registry) -> fx.GraphModule:
    tracer = _Tracer(registry)
    try:
        graph = tracer.trace(model)
    except Exception as exc:  # control flow on tensor values, unsupported Python: fx says which
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportModelError(f"torch.fx cannot trace {type(model).__name__}: {first}") from None
    gm = fx.GraphModule(tracer.root, graph, class_name=type(model).__name__)
    gm.graph.eliminate_dead_code()
    gm.recompile()
    return gm


def tensor_type(node: fx.Node) -> TensorType:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        raise ImportModelError(f"{where(node)}: its value is not a single tensor")
    if meta.dtype not in DTYPES:
        raise ImportModelError(f"{where(node)}: dtype {meta.dtype} is not supported (float32 or int64 only)")
    return TensorType(tuple(int(d) for d in meta.shape[1:]), DTYPES[meta.dtype])


def propagate(gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> None:
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(*inputs)
    except Exception as exc:  # the model fails on inputs of the given shape
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportModelError(f"the model fails on inputs of the given shape: {type(exc).__name__}: {first}; "
                               "check --input-shape") from None


def convert(gm: fx.GraphModule, registry: Registry | None = None) -> Conversion:
    """Build the project from a traced graph whose nodes carry shapes (see propagate)."""
    conv = Conversion(gm, registry or default_registry())
    outputs: list[fx.Node] = []
    for node in gm.graph.nodes:
        if node in conv.covered:
            continue
        if node.op == "placeholder":
            t = tensor_type(node)
            _add(conv, "Input", {"shape": list(t.shape), "dtype": t.dtype}, {}, node, [node], str(node.target))
        elif node.op == "output":
            outputs = _flatten_outputs(node.args[0], node)
        elif node.op == "get_attr":
            continue  # a layer's weights (F.linear(x, self.w)) or, once a layer uses it, a LearnedTensor
        elif is_helper(node):
            continue
        elif node.op == "call_module":
            _convert_module(conv, node)
        elif _expands_over_the_batch(conv, node):
            continue
        else:
            try:
                converted = convert_call(node)
            except Refused as exc:
                raise ImportModelError(f"cannot import {where(node)}: {exc}") from None
            _add_converted(conv, converted, node)
    _check_helpers(conv)
    _check_attributes(conv)
    for index, value in enumerate(outputs):
        name = "output" if index == 0 else f"output_{index}"
        _add(conv, "Output", {}, {"in": [value]}, None, [], name)
    _layout(conv.project)
    problems = analyze(conv.project.graph, conv.registry).errors
    if problems:
        raise ImportModelError("the imported graph is not valid: " + "; ".join(d.message for d in problems[:5]))
    return conv


def _flatten_outputs(value: Any, node: fx.Node) -> list[fx.Node]:
    if isinstance(value, fx.Node):
        return [value]
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _flatten_outputs(part, node)]
    raise ImportModelError(f"the model returns {type(value).__name__}; nnstudio models return tensors "
                           "(one, or a tuple of them)")


def _add(conv: Conversion, layer: str, params: dict[str, Any], inputs: dict[str, list[fx.Node]],
         output: fx.Node | None, covered: list[fx.Node], name: str, module: str | None = None,
         at: fx.Node | None = None) -> str:
    spec = conv.registry.get(layer)
    place = where(at) if at is not None else name
    if spec is None:
        raise ImportModelError(f"cannot import {place}: this nnstudio has no {layer} layer")
    resolved, problems = spec.resolve_params(params)
    if problems:
        details = "; ".join(f"{p}: {m}" for p, m in problems)
        raise ImportModelError(f"cannot import {place} as {layer}: {details}")
    graph = conv.project.graph
    for source in (s for sources in inputs.values() for s in sources):
        if source not in conv.values and source.op == "get_attr":
            _learned_tensor(conv, source)  # first, so that it comes before its user in the graph
    node = Node(new_id(), spec.type, graph.unique_name(name), resolved)
    graph.add_node(node)
    for port, sources in inputs.items():
        for source in sources:
            if source not in conv.values:
                raise ImportModelError(f"cannot import {place}: it uses {where(source)}, whose value no "
                                       "nnstudio node produces")
            graph.connect(Endpoint(conv.values[source], "out"), Endpoint(node.id, port))
    if output is not None:
        conv.values[output] = node.id
        conv.layers.append(Imported(node.id, output, module))
    conv.covered.update(covered)
    return node.id


def _add_converted(conv: Conversion, converted: Converted, node: fx.Node) -> None:
    conv.helpers_used.update(converted.helpers)
    node_id = _add(conv, converted.type, converted.params, converted.inputs, node, [node], node.name, at=node)
    if converted.weights:
        layer = conv.layers[-1]
        for key, attribute in converted.weights.items():
            _tensor_attribute(conv, attribute, node, parameter_only=False)
            conv.attribute_uses.setdefault(attribute, []).append(node_id)
            layer.tensors[key] = (str(attribute.target), tuple(attribute.meta["tensor_meta"].shape))
        conv.covered.update(converted.weights.values())


def _tensor_attribute(conv: Conversion, attribute: fx.Node, user: fx.Node, parameter_only: bool) -> None:
    """Refuse what is not a parameter (or, as a layer's weights, a buffer) of the model, naming the user."""
    value: Any = conv.gm
    for part in str(attribute.target).split("."):
        value = getattr(value, part, None)
    if isinstance(value, nn.Parameter):
        return
    if not parameter_only and isinstance(value, torch.Tensor):
        return
    kind = "a constant tensor (a buffer), not a parameter" if isinstance(value, torch.Tensor) else "not a tensor"
    raise ImportModelError(f"cannot import {where(user)}: self.{attribute.target} is {kind}; only an "
                           "nn.Parameter read from self becomes a LearnedTensor node")


def _learned_tensor(conv: Conversion, attribute: fx.Node) -> None:
    """A parameter used as a tensor (x + self.pos) becomes a LearnedTensor node holding a copy of it,
    repeated along the batch of the model's first input."""
    user = next(iter(attribute.users), attribute)
    _tensor_attribute(conv, attribute, user, parameter_only=True)
    full = tuple(int(d) for d in attribute.meta["tensor_meta"].shape)
    shape = learned_shape(full)
    if not shape:
        raise ImportModelError(f"cannot import {where(user)}: self.{attribute.target} is a single number; a "
                               "LearnedTensor holds a tensor of at least one dim (make it shape (1,))")
    first = next(n for n in conv.gm.graph.nodes if n.op == "placeholder")
    name = str(attribute.target).replace(".", "_")
    node_id = _add(conv, "LearnedTensor", {"shape": list(shape), "init": "zeros"}, {"in": [first]}, attribute,
                   [attribute], name, at=user)
    conv.attribute_uses.setdefault(attribute, []).append(node_id)
    conv.layers[-1].tensors["weight"] = (str(attribute.target), shape)


def _expands_over_the_batch(conv: Conversion, node: fx.Node) -> bool:
    """`self.cls.expand(x.size(0), -1, -1)`, the class-token idiom, is what a LearnedTensor computes already:
    the parameter repeated along the batch. The expanded value is then the LearnedTensor's."""
    if node.op != "call_method" or node.target != "expand" or not isinstance(node.args[0], fx.Node):
        return False
    attribute, sizes = node.args[0], list(node.args[1:])
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = list(sizes[0])
    meta = attribute.meta.get("tensor_meta") if attribute.op == "get_attr" else None
    full = tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()
    helpers: list[fx.Node] = []
    if len(full) < 2 or full[0] != 1 or len(sizes) != len(full) or not is_batch_size(sizes[0], helpers):
        return False
    if any(size not in (-1, dim) for size, dim in zip(sizes[1:], full[1:])):
        return False
    if attribute not in conv.values:
        _learned_tensor(conv, attribute)
    conv.values[node] = conv.values[attribute]
    conv.helpers_used.update(helpers)
    conv.covered.add(node)
    return True


def _check_attributes(conv: Conversion) -> None:
    """A module attribute taken by two nodes would be two copies that train apart: refuse it."""
    for attribute, users in conv.attribute_uses.items():
        if len(users) > 1:
            names = ", ".join(repr(conv.project.graph.nodes[u].name) for u in users)
            raise ImportModelError(f"cannot import {where(next(iter(attribute.users)))}: self.{attribute.target} "
                                   f"is used by {len(users)} nodes ({names}), sharing its weights; each nnstudio "
                                   "node owns its weights")


def _types_for(spec: Any, node: fx.Node) -> Inputs:
    tensors = [a for a in node.args if isinstance(a, fx.Node)]
    if not tensors:
        raise ImportModelError(f"cannot import {where(node)}: the module is called without a tensor")
    ports = {}
    for index, port in enumerate(p for p in spec.inputs if not p.optional):  # a module call shows no mask input
        ports[port.name] = [tensor_type(tensors[min(index, len(tensors) - 1)])]
    return Inputs(ports)


def _check_not_shared(conv: Conversion, node: fx.Node, module: nn.Module) -> None:
    """A module with weights called twice shares them; nnstudio nodes each own theirs."""
    if not any(True for _ in module.parameters()) and not any(True for _ in module.buffers()):
        return
    calls = [n for n in conv.gm.graph.nodes if n.op == "call_module" and n.target == node.target]
    if len(calls) > 1:
        raise ImportModelError(f"cannot import {where(calls[1])}: self.{node.target} is called {len(calls)} "
                               "times, sharing its weights; each nnstudio node owns its weights, so use one "
                               "module per call")


def _convert_module(conv: Conversion, node: fx.Node) -> None:
    module = conv.gm.get_submodule(str(node.target))
    _check_not_shared(conv, node, module)
    specs = specs_for(module, conv.registry)
    if not specs:
        raise ImportModelError(f"cannot import {where(node)}: {type(module).__module__}.{type(module).__qualname__} "
                               "has no nnstudio layer")
    reasons = []
    for spec in specs:
        types = _types_for(spec, node)
        fitted, differing = fit(module, spec, types)
        if fitted is None:
            shown = ", ".join(key.strip(".:") for key in differing[:4] if not key.startswith("<"))
            reasons.append(f"{spec.type} cannot rebuild it exactly (differs in {shown or 'its arguments'})")
            continue
        for params in free_choices(fitted, types, module):
            resolved = spec.resolve_params(params)[0]
            pattern = emit_pattern(spec, resolved, types)
            if pattern is None or pattern.modules != 1:
                continue
            found = match_module(pattern, node)
            if found is not None:
                _add(conv, spec.type, resolved, found.inputs, found.output, found.covered, node.name,
                     module=str(node.target), at=node)
                return
        reasons.append(f"{spec.type} is used differently (nnstudio computes "
                       f"{_pattern_text(spec, fitted.params, types)})")
    raise ImportModelError(f"cannot import {where(node)}: " + "; ".join(reasons))


def _pattern_text(spec: Any, params: dict[str, Any], types: Inputs) -> str:
    pattern = emit_pattern(spec, spec.resolve_params(params)[0], types)
    if pattern is None:
        return "something else"
    graph = pattern.result.graph
    graph.output(pattern.result)
    lines = [line.strip() for line in graph.python_code("self").src.splitlines()[2:] if line.strip()]
    return "; ".join(lines)


def _check_helpers(conv: Conversion) -> None:
    for node in conv.gm.graph.nodes:
        if is_helper(node) and node.users and node not in conv.helpers_used:
            user = next(iter(node.users))
            raise ImportModelError(f"cannot import {where(user)}: it uses the size {where(node)} in a way "
                                   "no nnstudio layer expresses (only reshaping by the batch size is)")


def _layout(project: Project) -> None:
    for node_id, position in auto_layout(project.graph).items():
        project.graph.move_node(node_id, position)
