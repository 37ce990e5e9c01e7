"""What a self-organising map is judged and drawn by: its two errors, the U-matrix and the hit map.

Pure functions of the prototypes, the grid and the data, so the som recipe's epoch records, the app's views
and the tests compute them alike. Grid neighbours are the units at distance 1 on the grid (4 on a
rectangular grid, 6 on a hexagonal one, fewer at the edges), the convention of Kohonen's SOM_PAK and the
SOM Toolbox; both the topographic error and the U-matrix use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nnstudio.layers.som_module import grid_positions

BATCH = 4096  # samples per distance computation, so a large split never builds one huge [N, K] matrix


@dataclass(frozen=True)
class Grid:
    """A map's shape and which units touch."""

    height: int
    width: int
    topology: str
    squared: torch.Tensor  # [K, K] squared grid distances between units (float32), for the neighbourhood
    adjacent: torch.Tensor  # [K, K] bool: grid distance 1

    @classmethod
    def of(cls, height: int, width: int, topology: str = "rectangular",
           device: torch.device | str = "cpu") -> Grid:
        positions = grid_positions(height, width, topology)
        squared = (positions[:, None, :] - positions[None, :, :]).square().sum(-1)
        adjacent = (squared - 1.0).abs() < 1e-6
        return cls(height, width, topology, squared.float().to(device), adjacent.to(device))

    @property
    def units(self) -> int:
        return self.height * self.width


@dataclass(frozen=True)
class MapQuality:
    quantisation_error: float  # mean distance of a sample to its best-matching unit's prototype
    topographic_error: float  # share of samples whose best and second-best units are not grid neighbours


@dataclass(frozen=True)
class MapView:
    """What the app draws, as plain lists of h rows of w values."""

    umatrix: list[list[float]]  # mean distance of each unit's prototype to its grid neighbours' prototypes
    hits: list[list[int]]  # how many samples each unit is the best match of
    majority: list[list[int | None]] | None  # the most frequent class among them (None: no hits); no labels: None
    purity: list[list[float | None]] | None  # the share of the unit's samples in that class

    def to_json(self) -> dict:
        return {"umatrix": self.umatrix, "hits": self.hits, "majority": self.majority, "purity": self.purity}


def squared_distances(x: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """[N, K] squared Euclidean distances, by the same expansion the SOM module uses."""
    squared = x.square().sum(-1, keepdim=True) - 2 * x @ prototypes.t() + prototypes.square().sum(-1)
    return squared.clamp_min(0.0)


def best_two(x: torch.Tensor, prototypes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance to the best-matching unit [N], indices of the best and second-best units [N, 2])."""
    dist, idx = [], []
    for start in range(0, x.shape[0], BATCH):
        values, indices = squared_distances(x[start:start + BATCH], prototypes).topk(2, dim=1, largest=False)
        dist.append(values[:, 0].sqrt())
        idx.append(indices)
    if not dist:
        return x.new_zeros(0), torch.zeros(0, 2, dtype=torch.long, device=x.device)
    return torch.cat(dist), torch.cat(idx)


def map_quality(x: torch.Tensor, prototypes: torch.Tensor, grid: Grid) -> MapQuality:
    """The quantisation and topographic errors of the map on samples x [N, D]."""
    if x.shape[0] == 0:
        return MapQuality(float("nan"), float("nan"))
    dist, idx = best_two(x, prototypes)
    apart = ~grid.adjacent[idx[:, 0], idx[:, 1]]
    values = torch.stack([dist.mean(), apart.float().mean()]).tolist()
    return MapQuality(values[0], values[1])


def umatrix(prototypes: torch.Tensor, grid: Grid) -> torch.Tensor:
    """[h, w]: each unit's mean distance to the prototypes of its grid neighbours (large: a cluster border)."""
    between = squared_distances(prototypes, prototypes).sqrt()
    mask = grid.adjacent.to(between.dtype)
    return ((between * mask).sum(1) / mask.sum(1).clamp_min(1.0)).reshape(grid.height, grid.width)


def map_view(prototypes: torch.Tensor, grid: Grid, x: torch.Tensor, labels: torch.Tensor | None = None,
             num_classes: int | None = None) -> MapView:
    """The U-matrix and the hit map of samples x [N, D]; with class labels [N] also each unit's majority class.

    Ties between classes go to the lower class index, so the view is a pure function of its inputs."""
    _, idx = best_two(x, prototypes)
    bmu = idx[:, 0]
    k = grid.units
    hits = torch.bincount(bmu, minlength=k)
    majority = purity = None
    if labels is not None and num_classes:
        table = torch.bincount(bmu * num_classes + labels.reshape(-1).long(),
                               minlength=k * num_classes).reshape(k, num_classes)
        top, winner = table.max(dim=1)
        share = top.double() / hits.clamp_min(1).double()
        hit = hits.tolist()
        majority = _rows([w if n else None for w, n in zip(winner.tolist(), hit)], grid.width)
        purity = _rows([s if n else None for s, n in zip(share.tolist(), hit)], grid.width)
    return MapView(umatrix(prototypes, grid).tolist(), _rows(hits.tolist(), grid.width), majority, purity)


def _rows(values: list, width: int) -> list[list]:
    return [values[start:start + width] for start in range(0, len(values), width)]


def majority_agreement(majority: list[list[int | None]], grid: Grid) -> float:
    """Among pairs of neighbouring units that both have hits, the share whose majority classes agree.

    A map that kept the data's topology puts each class in one region, so most neighbours agree; a map with
    scrambled prototypes scores about Σ pᵢ² (≈ 1/classes for balanced classes)."""
    flat = [c for row in majority for c in row]
    agree = total = 0
    for a, b in torch.nonzero(torch.triu(grid.adjacent.cpu(), diagonal=1)).tolist():
        if flat[a] is not None and flat[b] is not None:
            total += 1
            agree += flat[a] == flat[b]
    return agree / total if total else float("nan")
