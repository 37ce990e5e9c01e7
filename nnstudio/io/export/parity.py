"""The parity check every export passes: the artefact and the in-app model must agree on one batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from nnstudio.compile import CompiledModel

TOLERANCE = 1e-5  # largest absolute difference allowed for float32 outputs
TRACE_BATCH = 2  # batch size of the example used to trace; the held-out batch differs from it
HELD_OUT_BATCH = 5
HELD_OUT_SEED = 20240917

Runner = Callable[..., Any]


def make_inputs(compiled: CompiledModel, batch: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Seeded random inputs of the model's shapes. Token ids stay below every embedding's vocabulary."""
    generator = torch.Generator().manual_seed(seed)
    vocab = _smallest_vocabulary(compiled.module)
    tensors = []
    for node_id in compiled.input_nodes:
        t = compiled.analysis.shapes.of(node_id)
        shape = (batch, *t.shape)
        if t.dtype == "int64":
            tensors.append(torch.randint(0, vocab, shape, generator=generator))
        else:
            tensors.append(torch.randn(shape, generator=generator))
    return tuple(tensors)


def _smallest_vocabulary(module: nn.Module) -> int:
    sizes = [m.num_embeddings for m in module.modules() if isinstance(getattr(m, "num_embeddings", None), int)]
    return max(1, min(sizes)) if sizes else 1


def as_tensors(result: Any) -> list[torch.Tensor]:
    """A model's return value as a flat list of tensors (one output or a tuple of them)."""
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in as_tensors(item)]
    if hasattr(result, "__array__"):
        return [torch.as_tensor(result)]
    raise TypeError(f"expected tensors from the model, got {type(result).__name__}")


def reference_outputs(module: nn.Module, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    with torch.no_grad():
        return [t.detach().clone() for t in as_tensors(module(*inputs))]


def max_abs_diff(expected: list[torch.Tensor], actual: list[torch.Tensor], names: list[str]) -> tuple[float, str]:
    """The largest absolute difference over all outputs, and the output where it occurs.

    Raises ValueError when the outputs do not even have the same count, shapes or dtypes.
    """
    if len(expected) != len(actual):
        raise ValueError(f"the model returns {len(expected)} output(s), the export {len(actual)}")
    worst, where = 0.0, names[0] if names else "output"
    for index, (want, got) in enumerate(zip(expected, actual)):
        name = names[index] if index < len(names) else f"output {index}"
        want, got = want.detach(), torch.as_tensor(got).detach()
        if tuple(want.shape) != tuple(got.shape):
            raise ValueError(f"output {name!r} has shape {list(got.shape)}, the model gives {list(want.shape)}")
        if want.is_floating_point() != got.is_floating_point():
            raise ValueError(f"output {name!r} has dtype {got.dtype}, the model gives {want.dtype}")
        if want.numel() == 0:
            continue
        gap = (want.double() - got.double()).abs()
        if torch.isnan(gap).any():
            if not torch.equal(torch.isnan(want), torch.isnan(got)):
                return float("inf"), name
            gap = torch.nan_to_num(gap, nan=0.0)
        value = float(gap.max())
        if value > worst:
            worst, where = value, name
    return worst, where
