"""Each hidden unit's response over the input plane, for small networks on 2-D points (TF Playground's neurons).

Computed on the training thread with the decision-boundary grid (boundary.py): the same forward pass over the
grid, run node by node (inference.NodeRecorder), keeps every node whose output has one value per unit ([points,
units], at most MAX_UNITS units: a layer small enough for a person to read unit by unit). Each unit becomes a
small RGBA picture, coloured as TF Playground does: orange where it is positive, blue where negative, white at
zero, scaled by the layer's largest magnitude so units of one layer compare. Only the pictures travel to the GUI.
"""

from __future__ import annotations

import numpy as np
import torch

MAX_UNITS = 16  # a wider layer gets no thumbnails: a row of 64 tiles says nothing unit by unit
THUMB = 30  # pixels per side of one unit's picture (the 90-cell grid, every third cell)
POSITIVE = np.array([245, 147, 34], dtype=np.float32)  # TF Playground's orange
NEGATIVE = np.array([8, 119, 189], dtype=np.float32)  # and blue
WHITE = np.array([255, 255, 255], dtype=np.float32)
SKIPPED_TYPES = ("Input", "Output", "Target")


def hidden_nodes(job) -> set[str]:
    """The nodes that get thumbnails: one value per unit, at most MAX_UNITS units (from shape inference), and
    hidden, so neither an Input nor what feeds an Output (the logits are the boundary plot's business)."""
    graph = job.compiled.analysis.structure
    outputs = set(job.compiled.output_nodes)
    feeding = {edge.source.node for node in outputs for edges in graph.incoming.get(node, {}).values()
               for edge in edges}
    return {node for (node, _), t in job.compiled.analysis.shapes.outputs.items()
            if len(t.shape) == 1 and 1 <= t.shape[0] <= MAX_UNITS and job.types.get(node, "") not in SKIPPED_TYPES
            and node not in outputs and node not in feeding}


def unit_maps(outputs: dict[str, torch.Tensor], shape: tuple[int, int], nodes: set[str]) -> dict[str, np.ndarray]:
    """RGBA thumbnails [units, THUMB, THUMB, 4] per node of `nodes` (hidden_nodes), from their grid outputs."""
    rows, cols = shape
    step = max(1, rows // THUMB)
    found: dict[str, np.ndarray] = {}
    for node_id, value in outputs.items():
        if node_id not in nodes or value.dim() != 2 or value.shape[0] != rows * cols:
            continue
        grid = value.detach().float().T.reshape(value.shape[1], rows, cols)[:, ::step, ::step].cpu().numpy()
        found[node_id] = colour_units(grid)
    return found


def colour_units(grid: np.ndarray) -> np.ndarray:
    """[units, h, w] values to RGBA uint8, diverging around zero, one scale for the whole layer."""
    scale = float(np.abs(grid).max()) or 1.0
    v = np.clip(grid / scale, -1.0, 1.0)[..., None]
    rgb = np.where(v >= 0, WHITE + (POSITIVE - WHITE) * v, WHITE + (NEGATIVE - WHITE) * -v)
    alpha = np.full(v.shape, 255.0, dtype=np.float32)
    # rows follow y upwards in the plane; images run downwards
    return np.ascontiguousarray(np.concatenate([rgb, alpha], axis=-1)[:, ::-1].astype(np.uint8))
