"""The map's geometry, its two errors, the U-matrix and the hit map, against hand computations on tiny grids."""

from __future__ import annotations

import math

import pytest
import torch

from nnstudio.layers.som_module import SOM, grid_positions
from nnstudio.metrics.som import Grid, majority_agreement, map_quality, map_view, umatrix

# A 2×2 rectangular grid, units numbered row by row: 0 (0,0), 1 (0,1), 2 (1,0), 3 (1,1); 0-3 and 1-2 are diagonal,
# so not neighbours. Prototypes chosen so every distance is a round number: |w0 w1| = |w0 w2| = 1,
# |w1 w3| = |(3, 4)| = 5, |w2 w3| = |(4, 3)| = 5.
PROTOTYPES = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [4.0, 4.0]])
SAMPLES = torch.tensor([
    [0.2, 0.1],  # best 0 (√0.05), second 1 (√0.65): neighbours
    [0.9, 0.2],  # best 1 (√0.05), second 0 (√0.85): neighbours
    [0.6, 0.7],  # best 2 (√0.45), second 1 (√0.65): diagonal, a topographic error
    [3.9, 4.2],  # best 3 (√0.05), second 2 (√25.45 < √26.05 to unit 1): neighbours
    [0.1, 0.0],  # best 0 (0.1), second 1 (0.9): neighbours
])
LABELS = torch.tensor([0, 1, 1, 2, 1])


def test_grid_positions_and_neighbours_by_hand() -> None:
    assert grid_positions(2, 3).tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    rect = Grid.of(2, 2)
    pairs = {tuple(p) for p in torch.nonzero(torch.triu(rect.adjacent, 1)).tolist()}
    assert pairs == {(0, 1), (0, 2), (1, 3), (2, 3)}
    assert rect.squared[0].tolist() == [0.0, 1.0, 1.0, 2.0]
    hexagonal = grid_positions(2, 2, "hexagonal")  # the odd row shifts right by half a unit, rows √3/2 apart
    assert torch.allclose(hexagonal, torch.tensor([[0, 0], [0, 1], [math.sqrt(3) / 2, 0.5],
                                                   [math.sqrt(3) / 2, 1.5]], dtype=torch.float64))
    pairs = {tuple(p) for p in torch.nonzero(torch.triu(Grid.of(2, 2, "hexagonal").adjacent, 1)).tolist()}
    assert pairs == {(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)}  # six neighbours inside a hexagonal map
    interior = Grid.of(3, 3, "hexagonal").adjacent[4].sum()
    assert int(interior) == 6 and int(Grid.of(3, 3).adjacent[4].sum()) == 4
    with pytest.raises(ValueError, match="unknown topology 'round'"):
        grid_positions(2, 2, "round")


def test_quantisation_and_topographic_errors_by_hand() -> None:
    quality = map_quality(SAMPLES, PROTOTYPES, Grid.of(2, 2))
    # distances to the best units: √0.05 three times, √0.45 = 3·√0.05, and 0.1
    # (float32 and the ‖x‖² − 2x·w + ‖w‖² expansion lose about 1e-6 near the prototype at (4, 4))
    assert quality.quantisation_error == pytest.approx((6 * math.sqrt(0.05) + 0.1) / 5, abs=1e-5)
    assert quality.topographic_error == pytest.approx(1 / 5)


def test_umatrix_and_hit_map_by_hand() -> None:
    grid = Grid.of(2, 2)
    assert torch.allclose(umatrix(PROTOTYPES, grid), torch.tensor([[1.0, 3.0], [3.0, 5.0]]), atol=1e-5)
    view = map_view(PROTOTYPES, grid, SAMPLES, LABELS, num_classes=3)
    assert view.hits == [[2, 1], [1, 1]]
    assert view.majority == [[0, 1], [1, 2]]  # unit 0 won one sample of class 0 and one of class 1: the lower
    assert view.purity == [[0.5, 1.0], [1.0, 1.0]]
    empty = map_view(PROTOTYPES, grid, SAMPLES[:2], LABELS[:2], num_classes=3)
    assert empty.hits == [[1, 1], [0, 0]] and empty.majority == [[0, 1], [None, None]]
    assert empty.purity == [[1.0, 1.0], [None, None]]
    unlabelled = map_view(PROTOTYPES, grid, SAMPLES).to_json()
    assert unlabelled["majority"] is None and unlabelled["purity"] is None and unlabelled["hits"] == view.hits


def test_majority_agreement_counts_neighbouring_pairs_with_hits() -> None:
    grid = Grid.of(2, 2)
    assert majority_agreement([[0, 1], [1, 2]], grid) == 0.0
    assert majority_agreement([[0, 0], [0, 1]], grid) == 0.5  # pairs 0-1 and 0-2 agree, 1-3 and 2-3 do not
    assert majority_agreement([[0, None], [0, None]], grid) == 1.0  # only the pair 0-2 has hits on both ends
    assert math.isnan(majority_agreement([[None, None], [None, None]], grid))


def test_module_distances_and_best_matching_units() -> None:
    som = SOM(in_features=2, height=2, width=2)
    som.prototypes.data.copy_(PROTOTYPES)
    assert not som.prototypes.requires_grad and "prototypes" in som.state_dict()
    assert "grid" not in som.state_dict()  # recomputed from height and width, not a weight
    assert torch.allclose(som(SAMPLES), torch.cdist(SAMPLES, PROTOTYPES), atol=1e-5)
    som.output = "bmu"
    assert som(SAMPLES).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0]]  # (row, column) of units 0 1 2 3 0
    assert som(SAMPLES.reshape(5, 1, 2)).shape == (5, 1, 2)  # leading dims are kept
