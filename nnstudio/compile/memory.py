"""The memory a model needs, estimated before anything is allocated, against the memory the machine has.

Param bounds (params.MAX_LAYER_SIZE) stop absurd single values, but sizes multiply: a Linear from 2**20 to
2**20 features is within bounds and needs 4 TiB. `build_module` calls `memory_problem` first, so `summary`,
`train`, `export` and the app refuse such a model with one line naming the node and the size, instead of
failing (or swapping the machine to a halt) while allocating.

The estimate: each node's parameters and buffers, counted by building its modules on torch's `meta` device
(shapes only, no storage), plus the output of every node for one sample from shape inference (4 bytes per
float32 value, 8 per int64). Training needs more (gradients, optimizer state, a batch of activations), so
this is a floor: a model over it cannot even be built.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.analysis.validate import Analysis
from nnstudio.layers.spec import Construct, Inputs
from nnstudio.model.graph import Graph

CODE = "model-too-large"
DTYPE_BYTES = {"float32": 4, "int64": 8}
# What a layer's emit may raise when handed no real values or built on the meta device (an optional extra not
# installed, a module that computes in its constructor): the node then counts its outputs only.
PROBE_ERRORS = (
    ImportError,
    RuntimeError,
    TypeError,
    ValueError,
    NotImplementedError,
    AttributeError,
    IndexError,
    KeyError,
)


class _Probe:
    """An EmitContext that builds each module on the meta device and only counts its tensors' bytes."""

    def __init__(self) -> None:
        self.bytes = 0

    def module(self, construct: Construct, *args: Any, **kwargs: Any) -> None:
        self.bytes += construct_bytes(construct)

    def function(self, target: str, *args: Any, **kwargs: Any) -> None:
        return None

    def method(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


_CONSTRUCT_BYTES: dict[tuple[str, str], int] = {}
_CACHE_LIMIT = 4096


def construct_bytes(construct: Construct) -> int:
    """The bytes of a module's parameters and buffers, built once on the meta device per distinct constructor
    call: a module's size depends on its class and arguments only, and real graphs repeat a few of them many
    times (building each of a 1,000-node graph's modules on meta took as long as the real build)."""
    key = (construct.target, repr(sorted(construct.kwargs.items())))
    if key not in _CONSTRUCT_BYTES:
        with torch.device("meta"):
            module = construct.instantiate()
        tensors = [*module.parameters(), *module.buffers()]
        if len(_CONSTRUCT_BYTES) >= _CACHE_LIMIT:
            _CONSTRUCT_BYTES.clear()
        _CONSTRUCT_BYTES[key] = sum(t.numel() * t.element_size() for t in tensors)
    return _CONSTRUCT_BYTES[key]


def node_bytes(analysis: Analysis) -> dict[str, int]:
    """Bytes per node: its parameters and buffers, and its outputs for one sample. A layer whose module cannot
    be built on the meta device counts its outputs only; it is small in every catalogue layer."""
    structure, shapes = analysis.structure, analysis.shapes
    output_bytes: dict[str, int] = {}  # summed in one pass: a scan of every output per node was quadratic
    for (owner, _), t in shapes.outputs.items():
        output_bytes[owner] = output_bytes.get(owner, 0) + t.numel * DTYPE_BYTES.get(t.dtype, 8)
    sizes: dict[str, int] = {}
    for node_id in structure.order:
        spec = structure.specs[node_id]
        outputs = output_bytes.get(node_id, 0)
        probe = _Probe()
        if spec.emit is not None and spec.role in ("layer", "loss"):
            types = shapes.input_types(structure, node_id)
            values = Inputs({port: [None] * len(edges) for port, edges in structure.incoming.get(node_id, {}).items()})
            with contextlib.suppress(PROBE_ERRORS):
                spec.emit(probe, structure.params[node_id], values, types)
        sizes[node_id] = probe.bytes + outputs
    return sizes


def available_memory() -> int | None:
    """Bytes the machine can give now: psutil's figure when installed, else the free physical pages; None
    where neither is known (the check is then skipped)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_problem(graph: Graph, analysis: Analysis, available: int | None = None) -> Diagnostic | None:
    """A diagnostic naming the largest node when the model needs more memory than is available, else None."""
    available = available_memory() if available is None else available
    if available is None:
        return None
    sizes = node_bytes(analysis)
    total = sum(sizes.values())
    if total <= available or not sizes:
        return None
    largest = max(sizes, key=sizes.__getitem__)
    node = graph.nodes[largest]
    return error(
        CODE,
        f"{node.name}: needs {human_bytes(sizes[largest])} for its weights and one sample's "
        f"output; the model needs {human_bytes(total)} in all, more than the "
        f"{human_bytes(available)} of memory available",
        node_id=largest,
    )


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB'."""
    size, unit = float(count), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
