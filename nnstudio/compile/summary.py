"""Model summary: per node output shape, parameter count and FLOPs for one sample, plus totals.

The counts cover the whole trained network (`CompiledModel.network`): with loss nodes that includes parts only
the losses use, such as a distillation teacher, which the inference model leaves out. Parameters are split
into trainable and frozen as the trainer will treat them (a frozen node's parameters get no updates), so
the numbers here and the trainer's own agree; `count_parameters` is that one rule, shared with training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from nnstudio.compile.builder import CompiledModel
from nnstudio.compile.objective import NODE_META_KEY
from nnstudio.model.graph import Graph

_TORCH_DTYPES = {"float32": torch.float32, "int64": torch.int64}
FLOP_RUN_ERRORS = (RuntimeError, ValueError, IndexError, TypeError)  # a loss refusing random example data


@dataclass
class SummaryRow:
    node_id: str
    name: str
    type: str
    output: str
    params: int
    flops: int
    frozen: bool = False
    lr_scale: float = 1.0
    inference: bool = True  # part of the inference model (exported); False for losses, Targets, a teacher

    @property
    def note(self) -> str:
        """How the trainer treats the node, and whether it only serves training: 'frozen', 'lr ×0.1'..."""
        parts = ["frozen"] if self.frozen else [f"lr ×{self.lr_scale:g}"] if self.lr_scale != 1.0 else []
        if not self.inference:
            parts.append("training only")
        return ", ".join(parts)


@dataclass
class Summary:
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0  # every parameter of the trained network
    trainable_params: int = 0
    frozen_params: int = 0
    inference_params: int = 0  # those the inference (exported) model keeps
    total_flops: int = 0  # one sample through the inference model
    training_flops: int = 0  # one sample through every node, losses and what only they use included
    size_bytes: int = 0

    def table(self) -> str:
        """A fixed-width text table, as the CLI prints it; a Training column only when some row has a note."""
        header = ["Node", "Type", "Output shape", "Params", "FLOPs"]
        lines = [[r.name, r.type, r.output, f"{r.params:,}", _human(r.flops)] for r in self.rows]
        if any(r.note for r in self.rows):
            header.append("Training")
            for line, row in zip(lines, self.rows):
                line.append(row.note)
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        rule = "  ".join("-" * w for w in widths)
        out = [_line(header, widths), rule, *(_line(line, widths) for line in lines), rule]
        out.extend(self.totals())
        return "\n".join(out)

    def totals(self) -> list[str]:
        """The lines under the table: parameters (trainable and frozen), size, FLOPs."""
        split = f"trainable {self.trainable_params:,}"
        if self.frozen_params:
            split += f", frozen {self.frozen_params:,}"
        lines = [f"Total params: {self.total_params:,} ({split}), {self.size_bytes / 1024:.1f} KiB"]
        if self.inference_params != self.total_params:
            lines.append(f"Inference model: {self.inference_params:,} params; the other "
                         f"{self.total_params - self.inference_params:,} serve only the losses")
        flops = f"FLOPs per sample: {_human(self.total_flops)}"
        if self.training_flops != self.total_flops:
            flops += f" (training forward, losses included: {_human(self.training_flops)})"
        return [*lines, flops]

    def to_json(self) -> dict:
        return {
            "rows": [{**r.__dict__, "note": r.note} for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "frozen_params": self.frozen_params,
            "inference_params": self.inference_params,
            "total_flops": self.total_flops,
            "training_flops": self.training_flops,
            "size_bytes": self.size_bytes,
        }


def _line(values: list[str], widths: list[int]) -> str:
    """Names left-aligned, numbers right-aligned, the note left-aligned; no trailing blanks."""
    cells = [v.rjust(w) if i in (3, 4) else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))]
    return "  ".join(cells).rstrip()


def _human(count: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f}{unit}"
    return str(count)


# --- parameters ----------------------------------------------------------------------------------------------

def node_modules(compiled: CompiledModel) -> dict[str, list[nn.Module]]:
    """Each node's submodules in the trained network (teacher and loss nodes included)."""
    network = compiled.network
    return {node_id: [network.get_submodule(name) for name in names]
            for node_id, names in compiled.modules_of.items() if names}


def count_parameters(compiled: CompiledModel, graph: Graph) -> tuple[int, int]:
    """(trainable, frozen) parameter counts as the trainer will see them.

    Frozen: every parameter of a frozen node, and any a layer itself keeps out of training (requires_grad
    off). Shared parameters count once, as the optimizer gets them once."""
    owned = node_modules(compiled)
    frozen_ids = {id(p) for node_id, node in graph.nodes.items() if node.training.frozen
                  for module in owned.get(node_id, []) for p in module.parameters()}
    trainable = frozen = 0
    for p in compiled.network.parameters():
        if id(p) in frozen_ids or not p.requires_grad:
            frozen += p.numel()
        else:
            trainable += p.numel()
    return trainable, frozen


def inference_nodes(compiled: CompiledModel) -> set[str]:
    """The nodes the inference model keeps: those with an fx node left in it, and the Outputs."""
    kept = {fx_node.meta.get(NODE_META_KEY) for fx_node in compiled.module.graph.nodes}
    return {node_id for node_id in kept if node_id} | set(compiled.output_nodes)


# --- FLOPs ---------------------------------------------------------------------------------------------------

def _example(compiled: CompiledModel, node_id: str, batch: int, target: bool) -> torch.Tensor:
    """Zeros for integer tensors (any vocabulary or class count fits); a Target's floats in [0, 1), which
    every loss accepts (BCE wants probabilities); an Input's floats from a normal distribution."""
    t = compiled.analysis.shapes.of(node_id)
    dtype = _TORCH_DTYPES[t.dtype]
    shape = (batch, *t.shape)
    if dtype == torch.int64:
        return torch.zeros(shape, dtype=dtype)
    return torch.rand(shape) if target else torch.randn(shape)


def example_inputs(compiled: CompiledModel, batch: int = 1) -> tuple[torch.Tensor, ...]:
    """Random inputs of the right shapes for the inference model."""
    return tuple(_example(compiled, node_id, batch, False) for node_id in compiled.input_nodes)


def _objective_inputs(compiled: CompiledModel) -> tuple[torch.Tensor, ...]:
    inputs = set(compiled.input_nodes)
    return tuple(_example(compiled, n, 1, n not in inputs) for n in compiled.plan.placeholders)


def _sdpa_flops(query: tuple[int, ...], key: tuple[int, ...], value: tuple[int, ...], *_: object,
                out_shape: object = None, **__: object) -> int:
    """The two matmuls of attention, QKᵀ and A·V, for shapes (N, H, L, d) and (N, H, S, d): 2·N·H·L·S·d
    each, so 2·N·L²·D each for self-attention over L steps of width D = H·d (the softmax and scaling are
    not counted, as for every other layer). torch's counter knows this formula for its CUDA attention
    kernels but not for the CPU one, which a Transformer layer's self-attention runs here; without this
    the summary left both matmuls out of its FLOPs."""
    return sdpa_flop_count(query, key, value)


_CPU_ATTENTION = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
EXTRA_FLOP_FORMULAS = {_CPU_ATTENTION: _sdpa_flops} if _CPU_ATTENTION is not None else {}


def _count_flops(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> dict[str, int]:
    was_training = module.training
    module.eval()
    # The fused inference path of attention layers hides its matmuls from the counter.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=EXTRA_FLOP_FORMULAS) as counter:
            module(*inputs)
    finally:
        module.train(was_training)
        torch.backends.mha.set_fastpath_enabled(fastpath)
    flops: dict[str, int] = {}
    for key, per_op in counter.get_flop_counts().items():
        _, _, attribute = key.partition(".")
        if attribute and "." not in attribute:
            flops[attribute] = int(sum(per_op.values()))
    return flops


def _flops_by_module(compiled: CompiledModel) -> dict[str, int]:
    """FLOPs per submodule for one sample, through every node when the graph has an objective. Should a
    loss refuse the random example data, the inference model alone is measured (losses then show 0)."""
    if compiled.objective is not None and compiled.plan is not None:
        try:
            return _count_flops(compiled.objective, _objective_inputs(compiled))
        except FLOP_RUN_ERRORS:
            pass
    return _count_flops(compiled.module, example_inputs(compiled))


# --- the summary ---------------------------------------------------------------------------------------------

def _row(compiled: CompiledModel, graph: Graph, node_id: str, flops: dict[str, int],
         owned: dict[str, list[nn.Module]], kept: set[str]) -> SummaryRow:
    node = graph.nodes[node_id]
    structure, shapes = compiled.analysis.structure, compiled.analysis.shapes
    attributes = compiled.modules_of.get(node_id, [])
    params = sum(p.numel() for module in owned.get(node_id, []) for p in module.parameters())
    shape = shapes.of(node_id) or shapes.outputs.get((node_id, ""))
    node_flops = sum(flops.get(a, 0) for a in attributes)
    spec = structure.specs.get(node_id)
    if spec is not None and spec.flops is not None:
        node_flops = spec.flops(structure.params[node_id], shapes.input_types(structure, node_id))
    output = "scalar" if spec is not None and spec.role == "loss" else str(shape) if shape else "?"
    training = node.training
    return SummaryRow(node_id, node.name, node.type, output, params, node_flops,
                      training.frozen, training.lr_scale, node_id in kept)


def summarize(compiled: CompiledModel, graph: Graph) -> Summary:
    flops = _flops_by_module(compiled)
    owned = node_modules(compiled)
    kept = inference_nodes(compiled)
    summary = Summary()
    for node_id in compiled.analysis.structure.order:
        summary.rows.append(_row(compiled, graph, node_id, flops, owned, kept))
    summary.trainable_params, summary.frozen_params = count_parameters(compiled, graph)
    summary.total_params = summary.trainable_params + summary.frozen_params
    summary.inference_params = sum(p.numel() for p in compiled.module.parameters())
    summary.total_flops = sum(r.flops for r in summary.rows if r.inference)
    summary.training_flops = sum(r.flops for r in summary.rows)
    summary.size_bytes = sum(t.numel() * t.element_size() for t in compiled.network.state_dict().values())
    return summary
