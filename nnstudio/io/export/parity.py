"""The parity check every export passes: the artefact and the in-app model must agree on one batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nnstudio.compile import CompiledModel
from nnstudio.io.export.formats import ATOL, RTOL

TOLERANCE = ATOL  # the absolute part; what a difference may reach whatever the output's magnitude
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


@dataclass(frozen=True)
class Gap:
    """How far an export's outputs are from the app's: the absolute and the relative figure, and the verdict."""

    max_abs: float  # largest |exported - app|
    max_rel: float  # largest |exported - app| / the output's magnitude (its largest |value|)
    where: str  # the output furthest beyond its limit (else the one with the largest abs difference)
    within: bool  # every element within ATOL + RTOL * magnitude

    def describe(self) -> str:
        return f"max abs difference {self.max_abs:.3g}, relative {self.max_rel:.3g}"


def compare(expected: list[torch.Tensor], actual: list[torch.Tensor], names: list[str]) -> Gap:
    """Compare each output against ATOL + RTOL * its magnitude. NaN must sit where the app has NaN, and an
    infinity where it has the same infinity.

    Raises ValueError when the outputs do not even have the same count, shapes or dtypes."""
    max_abs, where = max_abs_diff(expected, actual, names)
    max_rel, worst = 0.0, 0.0
    for index, (want, got) in enumerate(zip(expected, actual)):
        if want.numel() == 0:
            continue
        want, got = want.detach().double(), torch.as_tensor(got).detach().double()
        same = (want == got) | (torch.isnan(want) & torch.isnan(got))
        gap = float(torch.where(same, 0.0, (want - got).abs().nan_to_num(nan=float("inf"))).max())
        finite = want[torch.isfinite(want)].abs()
        magnitude = float(finite.max()) if finite.numel() else 0.0
        rel = gap / magnitude if magnitude > 0 else (0.0 if gap == 0 else float("inf"))
        excess = gap / (ATOL + RTOL * magnitude)
        max_rel = max(max_rel, rel)
        if excess > max(worst, 1.0):
            where = names[index] if index < len(names) else f"output {index}"
        worst = max(worst, excess)
    return Gap(max_abs, max_rel, where, worst <= 1)
