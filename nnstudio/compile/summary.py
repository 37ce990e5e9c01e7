"""Model summary: per node output shape, parameter count and FLOPs for one sample, plus totals."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.utils.flop_counter import FlopCounterMode

from nnstudio.compile.builder import CompiledModel
from nnstudio.model.graph import Graph

_TORCH_DTYPES = {"float32": torch.float32, "int64": torch.int64}


@dataclass
class SummaryRow:
    node_id: str
    name: str
    type: str
    output: str
    params: int
    flops: int


@dataclass
class Summary:
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    total_flops: int = 0
    size_bytes: int = 0

    def table(self) -> str:
        """A fixed-width text table, as the CLI prints it."""
        header = ("Node", "Type", "Output shape", "Params", "FLOPs")
        lines = [(r.name, r.type, r.output, f"{r.params:,}", _human(r.flops)) for r in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        rule = "  ".join("-" * w for w in widths)
        fmt = [f"{h:<{w}}" if i < 3 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(header, widths))]
        out = ["  ".join(fmt), rule]
        for line in lines:
            out.append("  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                                 for i, (v, w) in enumerate(zip(line, widths))))
        out.append(rule)
        out.append(f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}), "
                   f"{self.size_bytes / 1024:.1f} KiB")
        out.append(f"FLOPs per sample: {_human(self.total_flops)}")
        return "\n".join(out)

    def to_json(self) -> dict:
        return {
            "rows": [r.__dict__ for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_flops": self.total_flops,
            "size_bytes": self.size_bytes,
        }


def _human(count: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f}{unit}"
    return str(count)


def example_inputs(compiled: CompiledModel, batch: int = 1) -> tuple[torch.Tensor, ...]:
    """Random inputs of the right shapes; zeros for integer (token) inputs so that any vocab fits."""
    tensors = []
    for node_id in compiled.input_nodes:
        t = compiled.analysis.shapes.of(node_id)
        dtype = _TORCH_DTYPES[t.dtype]
        shape = (batch, *t.shape)
        tensors.append(torch.zeros(shape, dtype=dtype) if dtype == torch.int64 else torch.randn(shape))
    return tuple(tensors)


def _flops_by_module(compiled: CompiledModel) -> dict[str, int]:
    module = compiled.module
    was_training = module.training
    module.eval()
    # The fused inference path of attention layers hides its matmuls from the counter.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(*example_inputs(compiled))
    finally:
        module.train(was_training)
        torch.backends.mha.set_fastpath_enabled(fastpath)
    flops: dict[str, int] = {}
    for key, per_op in counter.get_flop_counts().items():
        _, _, attribute = key.partition(".")
        if attribute and "." not in attribute:
            flops[attribute] = int(sum(per_op.values()))
    return flops


def summarize(compiled: CompiledModel, graph: Graph) -> Summary:
    flops = _flops_by_module(compiled)
    summary = Summary()
    shapes = compiled.analysis.shapes
    for node_id in compiled.analysis.structure.order:
        node = graph.nodes[node_id]
        attributes = compiled.modules_of.get(node_id, [])
        params = sum(p.numel() for a in attributes for p in compiled.module.get_submodule(a).parameters())
        shape = shapes.of(node_id) or shapes.outputs.get((node_id, ""))
        node_flops = sum(flops.get(a, 0) for a in attributes)
        spec = compiled.analysis.structure.specs.get(node_id)
        if spec is not None and spec.flops is not None:
            types = shapes.input_types(compiled.analysis.structure, node_id)
            node_flops = spec.flops(compiled.analysis.structure.params[node_id], types)
        summary.rows.append(SummaryRow(node_id, node.name, node.type, str(shape) if shape else "?", params,
                                       node_flops))
    parameters = list(compiled.module.parameters())
    summary.total_params = sum(p.numel() for p in parameters)
    summary.trainable_params = sum(p.numel() for p in parameters if p.requires_grad)
    summary.total_flops = sum(r.flops for r in summary.rows)
    summary.size_bytes = sum(t.numel() * t.element_size() for t in compiled.module.state_dict().values())
    return summary
