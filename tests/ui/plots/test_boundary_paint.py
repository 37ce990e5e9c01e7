"""The decision boundary's per-update cost on the GUI thread: coloured elsewhere, drawn in a fast format, and
its data points drawn from a cache while only the regions under them change."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

from nnstudio.ui.plots.boundary import BoundaryGrid, BoundaryView, region_image, with_image


def grid(step: int = 3) -> BoundaryGrid:
    rng = np.random.default_rng(step)
    return BoundaryGrid(rng.integers(0, 3, (12, 10)), rng.random((12, 10)), (-1.0, 1.0), (-2.0, 2.0), step, 3)


def test_with_image_attaches_the_regions_picture():
    plain = grid()
    coloured = with_image(grid())
    assert coloured.image is not None and np.array_equal(coloured.image, region_image(plain))


def test_a_coloured_grid_is_shown_as_given_and_kept_as_rgb32(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    shown = with_image(grid(7))
    shown.image[0, 0] = (1, 2, 3, 255)  # a picture that differs from what the view would colour itself
    view.set_grid(shown)
    view.image.render()
    assert view.image.qimage.format() == QImage.Format.Format_RGB32
    assert view.image.qimage.pixelColor(0, 0).getRgb()[:3] == (1, 2, 3)
    assert "step 7" in view.caption.text()


def test_an_uncoloured_grid_is_still_coloured_here(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.set_grid(grid())
    assert np.array_equal(view.image.image, region_image(grid()))


def test_the_data_points_are_cached(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]])
    view.set_points(x, np.array([0, 1, 1]), 2)
    assert view.points and all(
        item.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache for item in view.points
    )
