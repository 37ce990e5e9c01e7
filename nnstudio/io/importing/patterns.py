"""Match the code a layer would compile to against the user's traced graph.

A layer's emitter is run against a small fx graph with one placeholder per input value. The
result is a pattern (say an LSTM call followed by `[0]`) that must appear in the user's graph
around the module call; matching it tells which user nodes the layer covers and which value is
its output, and settles choices that the module itself cannot show.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from torch import fx

from nnstudio.layers.spec import Construct, Inputs, LayerSpec


class _PatternContext:
    def __init__(self) -> None:
        self.graph = fx.Graph()
        self.modules: list[Construct] = []

    def module(self, construct: Construct, *args: Any, **kwargs: Any) -> fx.Node:
        self.modules.append(construct)
        return self.graph.call_module(f"m{len(self.modules)}", args, kwargs)

    def function(self, target: str, *args: Any, **kwargs: Any) -> fx.Node:
        from nnstudio.compile.builder import resolve_callable

        return self.graph.call_function(resolve_callable(target), args, kwargs)

    def method(self, name: str, *args: Any, **kwargs: Any) -> fx.Node:
        return self.graph.call_method(name, args, kwargs)


@dataclass
class Pattern:
    result: fx.Node
    ports: dict[fx.Node, str]  # placeholder -> input port
    modules: int


def emit_pattern(spec: LayerSpec, params: dict[str, Any], types: Inputs) -> Pattern | None:
    ctx = _PatternContext()
    ports: dict[fx.Node, str] = {}
    values: dict[str, list[fx.Node]] = {}
    for port in spec.inputs:
        if port.optional and not types.has(port.name):
            continue
        count = len(types.many(port.name)) if port.multi else 1
        values[port.name] = []
        for index in range(count):
            placeholder = ctx.graph.placeholder(f"{port.name}_{index}")
            ports[placeholder] = port.name
            values[port.name].append(placeholder)
    try:
        result = spec.emit(ctx, params, Inputs(values), types)
    except Exception:  # an emitter that refuses these params is simply not a match
        return None
    if not isinstance(result, fx.Node):
        return None
    return Pattern(result, ports, len(ctx.modules))


@dataclass
class Match:
    covered: list[fx.Node]  # user nodes the layer stands for, the module call first
    output: fx.Node  # the user node whose value the layer produces
    inputs: dict[str, list[fx.Node]] = field(default_factory=dict)  # port -> user nodes feeding it


def match_module(pattern: Pattern, anchor: fx.Node, limit: int = 8) -> Match | None:
    """Find the user node that the pattern's result matches, with `anchor` as the module call."""
    seen, queue = {anchor}, deque([(anchor, 0)])
    while queue:
        node, depth = queue.popleft()
        found = _try(pattern, anchor, node)
        if found is not None:
            return found
        if depth < limit:
            for user in node.users:
                if user not in seen:
                    seen.add(user)
                    queue.append((user, depth + 1))
    return None


def _try(pattern: Pattern, anchor: fx.Node, candidate: fx.Node) -> Match | None:
    binding: dict[fx.Node, fx.Node] = {}
    if not _match(pattern.result, candidate, binding, anchor):
        return None
    covered = [u for p, u in binding.items() if p.op != "placeholder"]
    if anchor not in covered:
        return None
    inside = set(covered)
    for node in covered:
        if node is not candidate and any(user not in inside for user in node.users):
            return None  # an intermediate value is used elsewhere: the layer cannot stand for it
    inputs: dict[str, list[fx.Node]] = {}
    for placeholder, port in pattern.ports.items():
        if placeholder in binding:
            inputs.setdefault(port, []).append(binding[placeholder])
    ordered = [anchor, *(n for n in covered if n is not anchor)]
    return Match(ordered, candidate, inputs)


def _match(p: fx.Node, u: Any, binding: dict[fx.Node, fx.Node], anchor: fx.Node) -> bool:
    if p.op == "placeholder":
        if not isinstance(u, fx.Node):
            return False
        if p in binding:
            return binding[p] is u
        binding[p] = u
        return True
    if not isinstance(u, fx.Node) or p.op != u.op:
        return False
    if p in binding:
        return binding[p] is u
    if p.op == "call_module":
        if u is not anchor:
            return False
        binding[p] = u
        return _args(p.args, u.args, binding, anchor, strict=True) and _kwargs(p.kwargs, u.kwargs, binding, anchor)
    if p.target != u.target:
        return False
    binding[p] = u
    return _args(p.args, u.args, binding, anchor, strict=True) and _args(
        p.kwargs, u.kwargs, binding, anchor, strict=True)


def _args(p: Any, u: Any, binding: dict[fx.Node, fx.Node], anchor: fx.Node, strict: bool) -> bool:
    if isinstance(p, fx.Node):
        return _match(p, u, binding, anchor)
    if isinstance(p, (list, tuple)):
        return isinstance(u, (list, tuple)) and len(p) == len(u) and all(
            _args(a, b, binding, anchor, strict) for a, b in zip(p, u))
    if isinstance(p, dict):
        return isinstance(u, dict) and set(p) == set(u) and all(
            _args(p[k], u[k], binding, anchor, strict) for k in p)
    return not strict or (not isinstance(u, fx.Node) and p == u)


def _kwargs(p: dict[str, Any], u: dict[str, Any], binding: dict[fx.Node, fx.Node], anchor: fx.Node) -> bool:
    """Module keyword arguments: tensors must match; constants may differ (the parity check decides)."""
    for key in set(p) | set(u):
        a, b = p.get(key), u.get(key)
        if (isinstance(a, fx.Node) or isinstance(b, fx.Node)) and not _args(a, b, binding, anchor, strict=True):
            return False
    return True
