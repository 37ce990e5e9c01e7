"""One sample through a trained model, with every layer's whole output and every attention layer's weights.

The Inference panel draws what this returns: a convolution's feature maps as a grid of tiles, a dense layer's
units as bars, a sequence as an image of steps × features, and each attention layer's weights as heads ×
positions. The answer (class probabilities or values) is `inference.predict`'s, so the panel, `nnstudio
predict` and `nnstudio explain` agree; the layers come from the same fx Interpreter (`inference.NodeRecorder`),
which also sees outputs no module produces (a Flatten, a Reduce). Qt-free: the app runs this off the GUI thread.

Attention weights: both MultiheadAttention and TransformerEncoderLayer call their attention with
need_weights=False. A forward pre-hook asks for the per-head weights instead and a forward hook keeps them;
hooks also turn off the encoder layer's fused fast path, which would skip the attention module altogether.
The hooks act only on this thread's run, and are removed before returning.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from nnstudio.metrics.layers import node_modules
from nnstudio.training.inference import NodeRecorder, Prediction, predict

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

MAX_TILES = 16  # feature maps shown per layer; the rest are counted ("+N more")
MAX_BARS = 128  # units shown as bars per layer
COLUMNS = 8  # tiles per row: wide rather than square, as the panel is wider than it is tall
VIEWS = ("maps", "bars", "value")  # how a layer's output is drawn, by the rank of its per-sample shape


@dataclass
class LayerOutput:
    """One graph node's output for the sample (batch axis dropped), and how it is best drawn."""

    node_id: str
    name: str
    type: str
    values: np.ndarray  # the per-sample output, float32

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def view(self) -> str:
        """'maps' for [C, H, W] (and [H, W] or [steps, features], one map), 'bars' for [F], 'value' for one."""
        if self.values.size == 1:
            return "value"
        return "bars" if self.values.ndim == 1 else "maps"

    def maps(self) -> np.ndarray:
        """The output as [maps, H, W]: channels of an image, or one map for a rank-2 output."""
        if self.values.ndim < 2:
            raise ValueError(f"node '{self.name}': a {list(self.shape)} output has no maps")
        return self.values.reshape(-1, *self.values.shape[-2:])

    def describe(self) -> str:
        return f"{self.name} ({self.type}) {list(self.shape)}"


@dataclass
class AttentionOutput:
    """The attention weights one attention module gave the sample: [heads, queries, keys], rows summing to 1."""

    node_id: str
    name: str
    weights: np.ndarray

    @property
    def heads(self) -> int:
        return int(self.weights.shape[0])

    @property
    def positions(self) -> int:
        return int(self.weights.shape[-1])

    def by_position(self) -> np.ndarray:
        """[heads, positions]: how much attention each position receives from each head, averaged over the
        queries; a row sums to 1."""
        return self.weights.mean(axis=1)


@dataclass
class SampleOutputs:
    """Everything the Inference panel shows for one sample."""

    sample: np.ndarray  # the input as fed, without the batch axis
    prediction: Prediction
    layers: list[LayerOutput] = field(default_factory=list)  # in execution order, Inputs left out
    attention: list[AttentionOutput] = field(default_factory=list)


def attention_modules(job: TrainingJob) -> list[tuple[str, str, nn.MultiheadAttention]]:
    """(node id, label, module) of every attention module inside the graph's nodes, in the graph's order.

    A TransformerEncoderLayer holds one (its self_attn); a node with several labels each by its position."""
    found = []
    for node_id, modules in node_modules(job.compiled).items():
        inside = [m for module in modules for m in module.modules() if isinstance(m, nn.MultiheadAttention)]
        name = job.names.get(node_id, node_id)
        for index, module in enumerate(inside):
            found.append((node_id, name if len(inside) == 1 else f"{name} ({index + 1})", module))
    return found


def sample_outputs(job: TrainingJob, sample: torch.Tensor) -> SampleOutputs:
    """Run `sample` (a batch of one, as inference.check_sample makes it) and keep what every layer gave it."""
    if sample.dim() == 0 or sample.shape[0] != 1:
        raise ValueError(f"expected a batch of one sample, got shape {list(sample.shape)}")
    prediction = predict(job, sample)
    module = job.compiled.module
    inputs = set(job.compiled.input_nodes)
    was_training = module.training
    module.eval()
    with _AttentionProbe(attention_modules(job)) as probe, torch.no_grad():
        try:
            recorder = NodeRecorder(module)
            recorder.run(sample)
        finally:
            module.train(was_training)
    layers = [
        LayerOutput(node_id, job.names.get(node_id, node_id), job.types.get(node_id, "?"), _per_sample(value))
        for node_id, value in recorder.outputs.items()
        if node_id not in inputs
    ]
    return SampleOutputs(sample[0].detach().cpu().numpy(), prediction, layers, probe.outputs)


def _per_sample(value: torch.Tensor) -> np.ndarray:
    data = value[0] if value.dim() > 0 and value.shape[0] == 1 else value
    return data.detach().float().cpu().numpy()


class _AttentionProbe:
    """Hooks that make attention modules hand back their per-head weights, for this thread's forward only."""

    def __init__(self, modules: list[tuple[str, str, nn.MultiheadAttention]]) -> None:
        self.modules = modules
        self.outputs: list[AttentionOutput] = []
        self._thread = threading.get_ident()
        self._handles: list[Any] = []

    def __enter__(self) -> _AttentionProbe:
        for node_id, label, module in self.modules:
            self._handles.append(module.register_forward_pre_hook(self._ask, with_kwargs=True))
            self._handles.append(module.register_forward_hook(self._keeper(node_id, label)))
        return self

    def __exit__(self, *_: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _ask(self, _module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
        if threading.get_ident() != self._thread:
            return None  # another page's forward on the same model: left as it is
        return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

    def _keeper(self, node_id: str, label: str):
        def keep(_module: nn.Module, _args: tuple, output: Any) -> None:
            if threading.get_ident() != self._thread or not isinstance(output, tuple) or output[1] is None:
                return
            weights = output[1].detach().float().cpu().numpy()
            self.outputs.append(AttentionOutput(node_id, label, weights[0] if weights.ndim == 4 else weights[None]))

        return keep


def tile_grid(
    maps: np.ndarray, limit: int = MAX_TILES, scale: int = 1, columns: int = COLUMNS
) -> tuple[np.ndarray, int]:
    """At most `limit` maps [n, H, W] in rows of at most `columns`, each `scale`× enlarged, on one value
    scale (so channels compare), with NaN in the 1-cell gaps; and how many maps were left out.

    The values are put in [0, 1] with the shown maps' own minimum and maximum (all zero when constant)."""
    if maps.ndim != 3:
        raise ValueError(f"expected maps as [n, H, W], got shape {list(maps.shape)}")
    shown = maps[:limit].astype(np.float64)
    count = len(shown)
    if count == 0:
        return np.zeros((0, 0)), 0
    lo, hi = float(shown.min()), float(shown.max())
    shown = (shown - lo) / (hi - lo) if hi > lo else np.zeros_like(shown)
    if scale > 1:
        shown = shown.repeat(scale, axis=1).repeat(scale, axis=2)
    columns = min(count, columns)
    rows = math.ceil(count / columns)
    h, w = shown.shape[1:]
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for index, tile in enumerate(shown):
        r, c = divmod(index, columns)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return grid, max(0, len(maps) - count)
