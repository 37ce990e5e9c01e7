"""Unit thumbnails: each small hidden layer's units over the input plane, made with the boundary grid on the
training thread and drawn under their nodes on the canvas."""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.training.factories import decision_threshold
from nnstudio.training.job import prepare
from nnstudio.ui.editor.unit_thumbnails import PER_ROW, TILE, UnitThumbnails
from nnstudio.ui.training.boundary import BoundaryProbe
from nnstudio.ui.training.units import MAX_UNITS, THUMB, colour_units
from tests.helpers import mlp


def spirals_job(width: int = 8):
    project = mlp(width=width, classes=2).project
    project.dataset = {"name": "spirals", "params": {"samples": 200}}
    project.training = {"epochs": 1}
    return project, prepare(project)


def test_the_probe_keeps_each_small_layers_units_over_the_plane():
    _, job = spirals_job()
    probe = BoundaryProbe(job, torch.device("cpu"), decision_threshold(job.settings.loss, job.task))
    grid = probe.compute(step=1)
    widths = {job.names[node_id]: maps.shape[0] for node_id, maps in grid.units.items()}
    assert widths and all(1 <= width <= MAX_UNITS for width in widths.values())
    for maps in grid.units.values():
        assert maps.shape[1:] == (THUMB, THUMB, 4) and maps.dtype == np.uint8
    plain = BoundaryProbe(job, torch.device("cpu"), decision_threshold(job.settings.loss, job.task), units=False)
    again = plain.compute(step=1)
    assert again.units is None and np.array_equal(again.classes, grid.classes)  # the same answer either way


def test_colours_diverge_around_zero_on_one_scale_per_layer():
    grid = np.array([[[1.0, 0.0], [-1.0, 0.5]]])  # one unit, 2x2; rows follow y upwards
    rgba = colour_units(grid)
    top_left, top_right = rgba[0, 0, 0, :3], rgba[0, 0, 1, :3]  # the image's first row is the plane's top
    assert tuple(top_left) == (8, 119, 189)  # -1: blue
    assert tuple(rgba[0, 1, 0, :3]) == (245, 147, 34)  # +1: orange
    assert tuple(rgba[0, 1, 1, :3]) == (255, 255, 255)  # 0: white
    assert top_right[0] > top_right[2]  # +0.5: a paler orange


def test_strips_appear_under_their_nodes_and_follow_the_next_grid(make_canvas):
    project, job = spirals_job()
    canvas = make_canvas(project)
    probe = BoundaryProbe(job, torch.device("cpu"), decision_threshold(job.settings.loss, job.task))
    units = probe.compute(step=1).units
    thumbnails = UnitThumbnails.of(canvas.view)
    thumbnails.show(units)
    assert set(thumbnails.strips) == set(units)
    node_id, maps = next(iter(units.items()))
    strip = thumbnails.strips[node_id]
    assert strip.parentItem() is canvas.scene.nodes[node_id] and len(strip.tiles) == maps.shape[0]
    assert strip.boundingRect().width() >= min(PER_ROW, maps.shape[0]) * TILE
    assert "units over the input plane" in strip.toolTip()
    thumbnails.set_visible(False)
    assert not strip.isVisible()
    thumbnails.show({})
    assert not thumbnails.strips and strip.scene() is None


def test_a_pixmap_holds_the_units_own_colours():
    from nnstudio.ui.editor.unit_thumbnails import pixmaps

    units = colour_units(np.stack([np.full((4, 4), 1.0), np.full((4, 4), -1.0)]))
    first, second = (pixmap.toImage() for pixmap in pixmaps(units))
    assert first.pixelColor(1, 1).getRgb()[:3] == (245, 147, 34)
    assert second.pixelColor(2, 3).getRgb()[:3] == (8, 119, 189)


def test_wide_layers_get_no_thumbnails_and_a_plain_forward_pass():
    _, job = spirals_job(width=64)
    probe = BoundaryProbe(job, torch.device("cpu"), decision_threshold(job.settings.loss, job.task))
    assert not probe.units
    assert probe.compute(step=1).units is None
