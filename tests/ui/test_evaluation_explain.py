"""The Evaluation view's Explain page: a sample's answer and its attribution, as bars or as a heatmap."""

from __future__ import annotations

import pytest
import torch

from nnstudio.model.builder import GraphBuilder
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.embedding import embedding_nodes
from nnstudio.training.explain.methods import CAPTUM_HINT
from nnstudio.training.job import prepare
from nnstudio.ui.evaluation.explain_page import ExplainPage
from nnstudio.ui.evaluation.projector import ProjectorSource
from tests.training.helpers import blobs, make_job


@pytest.fixture
def page(qtbot):
    widget = ExplainPage()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def source_of(job) -> ProjectorSource:
    split = job.data.test or job.data.val
    return ProjectorSource(job, split.x, split.y, embedding_nodes(job), job.data.class_names)


def explain_now(page, qtbot) -> None:
    page.button.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)


def test_tabular_inputs_get_bars_over_the_features(page, qtbot):
    pytest.importorskip("captum")
    page.set_source(source_of(make_job(data=blobs(test=True))))
    assert page.sample.maximum() == 23 and page.target.count() == 1 + 3
    assert not page.layer.isEnabled()  # no convolution: nothing to pick
    page.method.setCurrentIndex(page.method.findData("integrated-gradients"))
    explain_now(page, qtbot)
    assert page.attribution is not None and page.attribution.method == "integrated-gradients"
    assert page.bars.isVisible() and page.answer.text().startswith("The model says: c")
    page.method.setCurrentIndex(page.method.findData("grad-cam"))
    explain_now(page, qtbot)
    assert "needs a convolution node" in page.status.text() and page.button.isEnabled()


def test_images_get_a_heatmap_and_grad_cam_offers_the_convolutions(page, qtbot):
    pytest.importorskip("captum")
    b = GraphBuilder(name="cnn")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 2}),
        "Output",
    )
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(6) % 2
    data = DataSplits(
        Split(x, y),
        None,
        Split(x, y),
        (1, 8, 8),
        "float32",
        "classification",
        2,
        (),
        ["a", "b"],
        None,
        "image",
        "noise",
    )
    page.set_source(source_of(prepare(b.project, data=data)))
    page.method.setCurrentIndex(page.method.findData("grad-cam"))
    assert page.layer.isEnabled() and page.layer.count() == 1
    page.sample.setValue(3)
    explain_now(page, qtbot)
    assert page.attribution.layer == page.layer.currentText()
    assert not page.picture.pixmap().isNull() and not page.bars.isVisible()
    assert "sample 3" in page.status.text()


def test_without_captum_the_page_says_how_to_install_it(page, monkeypatch):
    monkeypatch.setattr("nnstudio.ui.evaluation.explain_page.captum_available", lambda: False)
    page.set_source(source_of(make_job(data=blobs(test=True))))
    assert page.status.text() == CAPTUM_HINT and not page.button.isEnabled()
