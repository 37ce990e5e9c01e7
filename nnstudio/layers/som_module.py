"""The self-organising map's torch module and its grid geometry.

The map is an h×w grid of prototype vectors. Nothing here trains it: the `som` recipe moves the prototypes
by competition (nnstudio.training.recipes.som_trainer), and the metrics and views built on the grid live in
nnstudio.metrics.som. This file is copied by source into exported code, so it uses torch and math only.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def grid_positions(height: int, width: int, topology: str = "rectangular") -> torch.Tensor:
    """Where each unit sits on the map, [h·w, 2] as (y, x), units numbered row by row.

    Rectangular: unit (r, c) at (r, c), so its 4 grid neighbours are at distance 1. Hexagonal: odd rows are
    shifted right by half a unit and rows are √3/2 apart, so each unit's 6 neighbours are at distance 1.
    """
    rows = torch.arange(height, dtype=torch.float64).repeat_interleave(width)
    cols = torch.arange(width, dtype=torch.float64).repeat(height)
    if topology == "hexagonal":
        cols = cols + 0.5 * (rows % 2)
        rows = rows * (math.sqrt(3.0) / 2.0)
    elif topology != "rectangular":
        raise ValueError(f"unknown topology {topology!r}; choose rectangular or hexagonal")
    return torch.stack([rows, cols], dim=1)


class SOM(nn.Module):
    """An h×w grid of prototypes over the last dim: x [..., D] → distances [..., h·w] or BMU [..., 2].

    `output="distances"` gives the Euclidean distance from each input vector to every prototype (units row
    by row); `output="bmu"` gives the (row, column) of the best-matching unit, the nearest prototype, as
    floats. The prototypes are a parameter that gradients never move (requires_grad off): they are saved,
    loaded and exported with the weights, and only the som recipe updates them. `prototype_init` is read by
    that recipe: "pca" and "sample" ask it to place the prototypes from the training data before the first step;
    "random" keeps the N(0, 1) draws made here.
    """

    def __init__(self, in_features: int, height: int, width: int, topology: str = "rectangular",
                 prototype_init: str = "random", output: str = "distances") -> None:
        super().__init__()
        self.in_features, self.height, self.width = in_features, height, width
        self.topology, self.prototype_init, self.output = topology, prototype_init, output
        self.prototypes = nn.Parameter(torch.randn(height * width, in_features), requires_grad=False)
        rows = torch.arange(height, dtype=torch.float32).repeat_interleave(width)
        cols = torch.arange(width, dtype=torch.float32).repeat(height)
        self.register_buffer("grid", torch.stack([rows, cols], dim=1), persistent=False)  # (row, col) per unit

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """‖x − wₖ‖ for every prototype; ‖x‖² − 2·x·w + ‖w‖² is one matrix product, not an [N, K, D] tensor."""
        squared = (x.square().sum(-1, keepdim=True) - 2 * x @ self.prototypes.t()
                   + self.prototypes.square().sum(-1))
        return squared.clamp_min(0.0).sqrt()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distances = self.distances(x)
        if self.output == "bmu":
            return self.grid[distances.argmin(-1)]
        return distances

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, height={self.height}, width={self.width}, "
                f"topology={self.topology!r}, prototype_init={self.prototype_init!r}, output={self.output!r}")
