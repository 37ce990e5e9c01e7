"""Decision-boundary grids, computed on the training thread between optimizer steps.

Every few steps (and at most `max_rate` times a second) the model classifies a regular grid over the data's
range in eval mode under torch.no_grad(); only the small class and confidence arrays, and their colours
(90x90 RGBA, made here rather than on the GUI thread), travel to the GUI.
Eval mode draws no random numbers, so the run's results are unchanged by watching it.

With `units`, the pass runs node by node and also keeps each small hidden layer's units over the plane, as
thumbnails for the canvas (units.py); for an MLP of a few layers that costs well under a millisecond more.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from nnstudio.training.inference import NodeRecorder
from nnstudio.training.job import TrainingJob
from nnstudio.ui.plots.boundary import BoundaryGrid, with_image
from nnstudio.ui.training.units import hidden_nodes, unit_maps

RESOLUTION = 90  # cells per side: smooth enough to read, ~8k points per forward pass
MARGIN = 0.1  # share of the data's range added on each side


def supports_boundary(job: TrainingJob) -> bool:
    """Only a classifier of 2-D points has a boundary to draw: a recipe that trains its own way (a GAN on a
    ring of Gaussians, a map) is no classifier of its inputs, even on point data with class labels."""
    from nnstudio.training.recipes import RECIPES

    return (job.data.kind == "points2d" and tuple(job.data.input_shape) == (2,)
            and job.task in ("classification", "binary") and RECIPES[job.recipe].objective)


def grid_ranges(x: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * MARGIN + 1e-6
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


class BoundaryProbe:
    """Predicts a grid of points with the job's model; `compute(step)` returns a BoundaryGrid."""

    def __init__(self, job: TrainingJob, device: torch.device, threshold: float, resolution: int = RESOLUTION,
                 max_rate: float = 12.0, units: bool = True) -> None:
        self.module = job.compiled.module
        self.hidden = hidden_nodes(job) if units else set()
        self.units = bool(self.hidden)  # no small hidden layer: one plain forward pass, and no thumbnails
        self.task = job.task
        self.num_classes = job.data.num_classes or 2
        self.threshold = threshold
        self.x_range, self.y_range = grid_ranges(job.data.train.x.numpy())
        xs = np.linspace(*self.x_range, resolution, dtype=np.float32)
        ys = np.linspace(*self.y_range, resolution, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)  # rows follow y
        self.shape = gx.shape
        self.points = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).to(device)
        self.min_interval = 1.0 / max_rate
        self._last = -1e9

    def due(self) -> bool:
        return time.perf_counter() - self._last >= self.min_interval

    @torch.no_grad()
    def compute(self, step: int) -> BoundaryGrid:
        self._last = time.perf_counter()
        was_training = self.module.training
        self.module.eval()
        maps = None
        try:
            if self.units:
                recorder = NodeRecorder(self.module)
                output = recorder.run(self.points)
                output = (output[0] if isinstance(output, (tuple, list)) else output).float()
                maps = unit_maps(recorder.outputs, self.shape, self.hidden)
            else:
                output = self.module(self.points).float()
        finally:
            self.module.train(was_training)
        if self.task == "binary":
            value = output.reshape(-1)
            positive = torch.sigmoid(value) if self.threshold == 0.0 else value.clamp(0, 1)
            classes = (positive > 0.5).long()
            confidence = torch.where(classes == 1, positive, 1 - positive)
            count = 2
        else:
            probabilities = torch.softmax(output, dim=-1)
            confidence, classes = probabilities.max(dim=-1)
            count = self.num_classes
        return with_image(BoundaryGrid(classes.cpu().numpy().reshape(self.shape),
                                       confidence.cpu().numpy().reshape(self.shape), self.x_range, self.y_range,
                                       step, count, units=maps or None))
