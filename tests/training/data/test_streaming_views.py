"""Views of a streamed dataset: the app's preview shows its first samples, the preview helper decodes a bounded
sample, and a graph whose scoring needs whole splits is refused before its first step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nnstudio.training.data import DatasetError, load_dataset
from nnstudio.training.data.streaming_source import HEAD_SAMPLES, batch_source, first_samples


@pytest.fixture
def streamed(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("left", "right"):
        (tmp_path / name).mkdir()
        for k in range(6):
            Image.fromarray(rng.integers(0, 255, (5, 5, 3), dtype=np.uint8)).save(tmp_path / name / f"{k}.png")
    section = {"name": "image_folder", "params": {"path": str(tmp_path), "size": [5, 5]}, "streaming": "stream",
               "workers": 0}
    return load_dataset(section, seed=0), load_dataset({**section, "streaming": "memory"}, seed=0)


def test_the_preview_shows_the_first_streamed_images(qtbot, streamed):
    from nnstudio.ui.training.preview import DatasetPreview

    data, memory = streamed
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.show_data(data)
    assert preview.shown == "images" and "Streamed from disk" in preview.description.text()
    x, y = first_samples(data.train)
    assert torch.equal(x, memory.train.x) and torch.equal(y, memory.train.y) and len(x) <= HEAD_SAMPLES
    assert torch.equal(first_samples(memory.train, 3)[0], memory.train.x[:3])


def test_a_graph_with_loss_nodes_is_refused_before_training(streamed):
    data, _ = streamed
    with pytest.raises(DatasetError, match="loss nodes cannot train on streamed data"):
        batch_source(data.train, torch.device("cpu"), objective=True)


def test_task_changes_keep_a_split_streamed(streamed):
    data, memory = streamed
    device = torch.device("cpu")
    reconstruction = data.with_task("reconstruction")
    xb, yb = next(batch_source(reconstruction.train, device).epoch(torch.arange(len(data.train)), 4, 0, 1))
    assert yb is xb and torch.equal(xb, memory.train.x[:4])
    binary = data.with_task("binary")
    assert torch.equal(binary.train.y, memory.with_task("binary").train.y) and binary.train.y.shape[1:] == (1,)
