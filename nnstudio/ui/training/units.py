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


def unit_maps(outputs: dict[str, torch.Tensor], shape: tuple[int, int], types: dict[str, str],
              final: str | None) -> dict[str, np.ndarray]:
    """RGBA thumbnails [units, THUMB, THUMB, 4] per node, for the nodes with one value per unit and point."""
    rows, cols = shape
    step = max(1, rows // THUMB)
    found: dict[str, np.ndarray] = {}
    for node_id, value in outputs.items():
        if node_id == final or types.get(node_id, "") in SKIPPED_TYPES:
            continue
        if value.dim() != 2 or value.shape[0] != rows * cols or not 1 <= value.shape[1] <= MAX_UNITS:
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
