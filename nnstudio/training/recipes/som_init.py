"""Where a map's prototypes start when its `prototype_init` asks for the data: PCA or random samples.

Both are pure functions of the training features and the seed, computed without torch's global generator,
so a run's shuffling is what it would be with random prototypes, and two runs with one seed start alike.
"""

from __future__ import annotations

import math

import torch

from nnstudio.layers.som_module import grid_positions


def sample_prototypes(x: torch.Tensor, units: int, seed: int) -> torch.Tensor:
    """`units` training samples drawn at random, without replacement while there are enough of them."""
    generator = torch.Generator().manual_seed(seed)
    if x.shape[0] >= units:
        rows = torch.randperm(x.shape[0], generator=generator)[:units]
    else:
        rows = torch.randint(x.shape[0], (units,), generator=generator)
    return x[rows.to(x.device)].clone()


def pca_prototypes(x: torch.Tensor, height: int, width: int, topology: str) -> torch.Tensor:
    """The grid laid flat on the plane of the data's two main principal axes, centred on the mean.

    The longer side of the grid follows the first axis. Along each axis the grid spans ±√3 standard
    deviations: a uniform spread with the data's variance there, so the map starts already unfolded and the
    training only has to bend it. Axis signs are fixed (largest component positive) so the result does not
    depend on the SVD routine's sign choice.
    """
    data = x.detach().double().cpu()
    mean = data.mean(0)
    centred = data - mean
    _, singular, axes = torch.linalg.svd(centred, full_matrices=False)
    spread = singular / math.sqrt(max(1, data.shape[0] - 1))
    flip = torch.where(axes.gather(1, axes.abs().argmax(1, keepdim=True)) < 0, -1.0, 1.0)
    axes = axes * flip
    positions = grid_positions(height, width, topology)
    low, high = positions.min(0).values, positions.max(0).values
    half = ((high - low) / 2).clamp_min(1e-12)
    unit = torch.where(high > low, (positions - (low + high) / 2) / half, torch.zeros_like(positions))
    order = [1, 0] if high[1] - low[1] >= high[0] - low[0] else [0, 1]  # x along axis 1 when the grid is wide
    prototypes = mean.expand(height * width, -1).clone()
    for rank, column in enumerate(order[:axes.shape[0]]):
        prototypes += unit[:, column:column + 1] * (math.sqrt(3.0) * spread[rank]) * axes[rank]
    return prototypes.to(x.dtype).to(x.device)
