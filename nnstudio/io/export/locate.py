"""Find the graph node behind a failed export or a parity gap by exporting each node on its own.

Every node's fx nodes are cut out into a small GraphModule whose inputs are the values that arrive
from other nodes (recorded by running the full model). Exporting and running those pieces one by
one, in order, finds the first node that cannot be exported or that the exported file gets wrong.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import fx

from nnstudio.io.export.disk import NoSpaceError
from nnstudio.io.export.graph_formats import quiet
from nnstudio.io.export.parity import as_tensors, compare


@dataclass
class Fault:
    node: str
    reason: str


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module, garbage_collect_values=False)


def record_values(module: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    """The value of every fx node on these inputs."""
    recorder = _Recorder(module)
    with torch.no_grad():
        recorder.run(*inputs)
    return {node.name: value for node, value in recorder.env.items()}


def node_pieces(module: fx.GraphModule, owners: dict[str, str]) -> list[tuple[str, fx.GraphModule, list[str]]]:
    """(graph node name, piece, names of the fx values it takes) for every graph node, in order."""
    groups: dict[str, list[fx.Node]] = {}
    for fx_node in module.graph.nodes:
        if fx_node.op in ("placeholder", "output"):
            continue
        groups.setdefault(owners.get(fx_node.name, fx_node.name), []).append(fx_node)
    return [(name, *_cut(module, nodes)) for name, nodes in groups.items()]


def _cut(module: fx.GraphModule, nodes: list[fx.Node]) -> tuple[fx.GraphModule, list[str]]:
    inside = set(nodes)
    graph = fx.Graph()
    mapping: dict[fx.Node, fx.Node] = {}
    arguments: list[str] = []

    def lookup(value: fx.Node) -> fx.Node:
        if value not in mapping:
            mapping[value] = graph.placeholder(f"arg_{len(arguments)}")
            arguments.append(value.name)
        return mapping[value]

    for node in nodes:
        for used in node.all_input_nodes:
            if used not in inside:
                lookup(used)
        mapping[node] = graph.node_copy(node, lambda n: mapping[n])
    results = [n for n in nodes if any(user not in inside for user in n.users)] or [nodes[-1]]
    graph.output(mapping[results[0]] if len(results) == 1 else tuple(mapping[n] for n in results))
    return fx.GraphModule(module, graph), arguments


def locate(module: fx.GraphModule, owners: dict[str, str], handler: Any, suffix: str,
           example: tuple[torch.Tensor, ...], held_out: tuple[torch.Tensor, ...]) -> Fault | None:
    """The first graph node whose own export fails, or disagrees with the app on the held-out batch."""
    traced, checked = record_values(module, example), record_values(module, held_out)
    for name, piece, arguments in node_pieces(module, owners):
        piece.eval()
        trace_args = tuple(traced[a] for a in arguments)
        check_args = tuple(checked[a] for a in arguments)
        with tempfile.TemporaryDirectory(prefix="nnstudio-probe-") as folder:
            path = Path(folder) / f"piece{suffix}"
            try:
                handler.write_module(piece, trace_args, path, [], [])
                got = as_tensors(handler.load(path)(*check_args))
            except NoSpaceError:  # the probe's own disk is full: that says nothing about the node
                raise
            except Exception as exc:  # any exporter failure is the answer we are looking for
                return Fault(name, summarize_error(exc))
            with torch.no_grad(), quiet():
                want = as_tensors(piece(*check_args))
            try:
                gap = compare(want, got, [name])
            except ValueError as exc:
                return Fault(name, str(exc))
            if not gap.within:
                return Fault(name, f"its exported form differs from the app's on its own ({gap.describe()})")
    return None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_BOILERPLATE = ("The following operation failed in the TorchScript interpreter",
                "Traceback of TorchScript", "Failed to export the model with torch.export")


def summarize_error(exc: BaseException, limit: int = 400) -> str:
    """The informative part of an exporter's error: they are often pages long.

    The innermost cause is the real reason (the ONNX exporter wraps torch.export's error), and
    TorchScript puts the Python error last, after its own traceback.
    """
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = [_ANSI.sub("", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line and not line.startswith(_BOILERPLATE) and not line.startswith("File ")]
    errors = [line for line in lines if re.match(r"^\w+(Error|Exception): ", line)]
    text = errors[-1] if errors else (lines[0] if lines else "")
    text = text if re.match(r"^\w+(Error|Exception): ", text) else f"{type(exc).__name__}: {text}".rstrip(": ")
    return text if len(text) <= limit else text[:limit - 1] + "…"
