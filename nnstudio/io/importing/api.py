"""import_model: a user's nn.Module -> an nnstudio project plus its weights, checked to compute the same."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import fx, nn

from nnstudio.compile import CompiledModel, CompileError, build_module
from nnstudio.compile.weights import check_weights
from nnstudio.io.export.locate import record_values
from nnstudio.io.export.nodes import fx_owners
from nnstudio.io.export.parity import TOLERANCE, as_tensors, max_abs_diff
from nnstudio.io.importing.convert import Conversion, InputSpec, convert, propagate, trace, where
from nnstudio.io.importing.source import ImportModelError, instantiate
from nnstudio.io.project_file import save
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model.project import Project
from nnstudio.util.atomic import atomic_write

SAMPLE_BATCH = 2
CHECK_BATCH = 3


@dataclass
class ImportResult:
    project: Project
    state: dict[str, torch.Tensor]  # keys as in build_module(project).module.state_dict()
    max_abs_diff: float  # largest |imported - original| on a fresh batch
    messages: list[str] = field(default_factory=list)


def import_model(reference: str, input_shapes: list[InputSpec] | None = None, name: str | None = None,
                 registry: Registry | None = None) -> ImportResult:
    """Import `file.py:Class` or `package.module:Class`. Runs the user's code (see RUNS_CODE_WARNING)."""
    model = instantiate(reference)
    return import_module(model, input_shapes, name or reference.rpartition(":")[2], registry)


def import_module(model: nn.Module, input_shapes: list[InputSpec] | None = None, name: str = "Imported model",
                  registry: Registry | None = None) -> ImportResult:
    registry = registry or default_registry()
    _check_dtypes(model)
    model.eval()
    gm = trace(model, registry)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    shapes = input_shapes or _guess_shapes(gm, placeholders)
    if len(shapes) != len(placeholders):
        raise ImportModelError(f"forward() takes {len(placeholders)} input(s) "
                               f"({', '.join(str(p.target) for p in placeholders)}), but {len(shapes)} "
                               "--input-shape value(s) were given")
    propagate(gm, _inputs(shapes, SAMPLE_BATCH, 0, model))
    conversion = convert(gm, registry)
    conversion.project.metadata.name = name
    conversion.project.metadata.description = f"Imported from the PyTorch class {type(model).__name__}."
    compiled, state = _weights(conversion, model)
    gap = _verify(conversion, compiled, gm, _inputs(shapes, CHECK_BATCH, 1, model))
    messages = [_summary(conversion, compiled, state),
                f"parity: largest difference {gap:.3g} from the original model on a fresh batch"]
    return ImportResult(conversion.project, state, gap, messages)


def _summary(conversion: Conversion, compiled: CompiledModel, state: dict[str, torch.Tensor]) -> str:
    """'imported 7 nodes (4 from modules) with 1,234 weight values (and 34 buffer values)'. Buffers such as a
    batch norm's running mean and variance are state, not weights: training does not learn them."""
    count = sum(1 for layer in conversion.layers if layer.module)
    buffers = {name for name, _ in compiled.module.named_buffers()}
    weights = sum(t.numel() for key, t in state.items() if key not in buffers)
    kept = sum(t.numel() for key, t in state.items() if key in buffers)
    extra = f" (and {kept:,} buffer values, such as batch-norm running statistics)" if kept else ""
    return (f"imported {len(conversion.project.graph.nodes)} nodes ({count} from modules) with {weights:,} "
            f"weight values{extra}")


def _check_dtypes(model: nn.Module) -> None:
    for key, tensor in model.state_dict().items():
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            raise ImportModelError(f"weight {key} is {tensor.dtype}; nnstudio layers are float32 "
                                   "(call model.float() first)")


def _guess_shapes(gm: fx.GraphModule, placeholders: list[fx.Node]) -> list[InputSpec]:
    """Without --input-shape, a single input read by a Linear layer gives its own size."""
    if len(placeholders) == 1:
        for user in placeholders[0].users:
            if user.op == "call_module":
                module = gm.get_submodule(str(user.target))
                if isinstance(module, nn.Linear):
                    return [((module.in_features,), "float32")]
    names = ", ".join(str(p.target) for p in placeholders)
    raise ImportModelError(f"the shape of the input(s) {names} cannot be guessed; give --input-shape "
                           "(one per input, batch excluded, e.g. --input-shape 1,28,28 or 16:int64)")


def _inputs(shapes: list[InputSpec], batch: int, seed: int, model: nn.Module) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    vocab = [m.num_embeddings for m in model.modules() if isinstance(getattr(m, "num_embeddings", None), int)]
    tensors = []
    for shape, dtype in shapes:
        if dtype == "int64":
            tensors.append(torch.randint(0, max(1, min(vocab)) if vocab else 1, (batch, *shape), generator=generator))
        else:
            tensors.append(torch.randn((batch, *shape), generator=generator))
    return tuple(tensors)


def _weights(conversion: Conversion, model: nn.Module) -> tuple[CompiledModel, dict[str, torch.Tensor]]:
    try:
        compiled = build_module(conversion.project)
    except CompileError as exc:
        raise ImportModelError(f"the imported graph does not compile: {exc}") from None
    state: dict[str, torch.Tensor] = {}
    for layer in conversion.layers:
        attributes = compiled.modules_of.get(layer.node_id, [])
        if layer.module is not None:
            source = model.get_submodule(layer.module).state_dict()
        else:  # a function given its weights, or a parameter read from self (see convert._learned_tensor)
            source = {key: _attribute(model, target).reshape(shape) for key, (target, shape) in layer.tensors.items()}
        for key, tensor in source.items():
            state[f"{attributes[0]}.{key}"] = tensor.detach().cpu().clone().contiguous()
    report = check_weights(compiled.module, state)
    if not report.ok:
        raise ImportModelError(f"the imported weights do not fit the graph: {report.describe()}")
    compiled.module.load_state_dict(state)
    compiled.module.eval()
    return compiled, state


def _attribute(model: nn.Module, target: str) -> torch.Tensor:
    value = model
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _verify(conversion: Conversion, compiled: CompiledModel, gm: fx.GraphModule,
            inputs: tuple[torch.Tensor, ...]) -> float:
    with torch.no_grad():
        want = as_tensors(gm(*inputs))
        got = as_tensors(compiled.module(*inputs))
    names = [conversion.project.graph.nodes[n].name for n in compiled.output_nodes]
    try:
        gap, output = max_abs_diff(want, got, names)
    except ValueError as exc:
        raise ImportModelError(f"the imported graph does not compute what the model does: {exc}") from None
    if gap <= TOLERANCE:
        return gap
    culprit = _first_difference(conversion, compiled, gm, inputs)
    raise ImportModelError(f"the imported graph differs from the model by {gap:.3g} at {output!r}"
                           + (f"; it starts at {culprit}" if culprit else ""))


def _first_difference(conversion: Conversion, compiled: CompiledModel, gm: fx.GraphModule,
                      inputs: tuple[torch.Tensor, ...]) -> str | None:
    graph = conversion.project.graph
    theirs, ours = record_values(gm, inputs), record_values(compiled.module, inputs)
    last: dict[str, str] = {}
    for fx_name, owner in fx_owners(compiled, graph).items():
        last[owner] = fx_name
    for layer in conversion.layers:
        name = graph.nodes[layer.node_id].name
        if name not in last or layer.output.name not in theirs or layer.output.op == "get_attr":
            continue  # a LearnedTensor repeats its parameter along the batch, so it cannot equal it
        try:
            gap, _ = max_abs_diff(as_tensors(theirs[layer.output.name]), as_tensors(ours[last[name]]), [name])
        except (ValueError, TypeError):
            return f"node {name!r} from {where(layer.output)}"
        if gap > TOLERANCE:
            return f"node {name!r} from {where(layer.output)} (off by {gap:.3g})"
    return None


def save_import(result: ImportResult, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the project and, beside it, its weights as <name>.safetensors. Returns both paths."""
    project_path = Path(out)
    weights_path = project_path.with_suffix(".safetensors")
    atomic_write(weights_path, lambda temp: save_file(result.state, temp))
    save(result.project, project_path)
    return project_path, weights_path
