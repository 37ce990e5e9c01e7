"""The dataset preview: points, images, tables and the class balance."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.training.data import load_dataset
from nnstudio.ui.training.preview import DatasetPreview, image_mosaic


@pytest.fixture
def preview(qtbot):
    widget = DatasetPreview()
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize(("section", "shown"), [
    ({"name": "moons", "params": {"samples": 100}}, "points"),
    ({"name": "digits"}, "images"),
    ({"name": "iris"}, "table"),
    ({"name": "sequence_parity", "params": {"samples": 50}}, "sequences"),
])
def test_each_kind_of_data_has_a_view(preview, section, shown):
    data = load_dataset(section, 0)
    preview.show_data(data)
    assert preview.shown == shown
    assert preview.balance.isVisible() or not preview.isVisible()
    assert preview.description.text() == data.description


def test_image_mosaic_tiles_the_first_images():
    x = np.arange(3 * 1 * 4 * 4, dtype=np.float32).reshape(3, 1, 4, 4)
    mosaic = image_mosaic(x, 32)
    assert mosaic.shape == (8 * 5 - 1, 4 * 5 - 1)
    assert image_mosaic(np.zeros((5, 7)), 4) is None, "7 values are not a square image"


def test_a_loading_error_is_shown_in_the_preview(preview):
    preview.show_message("dataset.params.path: /nowhere.csv does not exist", is_error=True)
    assert "does not exist" in preview.error.text()
    assert preview.shown == "error"
