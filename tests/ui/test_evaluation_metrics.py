"""The Evaluation view's Metrics page (per-class table, ROC/PR curves, reliability, top-k) and its Projector."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.io import dumps
from nnstudio.layers.registry import default_registry
from nnstudio.metrics.classification_report import classification_report
from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Trainer, prepare
from nnstudio.training.embedding import embedding_nodes
from nnstudio.ui.evaluation.compute import EvaluationResult, evaluate_run
from nnstudio.ui.evaluation.projector import ProjectorSource
from nnstudio.ui.evaluation.view import EvaluationView
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT


def digits_project(epochs: int = 1):
    b = GraphBuilder(name="digits")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        "Flatten",
        ("Linear", {"out_features": 16}),
        "ReLU",
        ("Linear", {"out_features": 10}),
        "Output",
    )
    b.project.dataset = {"name": "digits", "val_fraction": 0.1, "test_fraction": 0.2}
    b.project.training = {"epochs": epochs, "batch_size": 64, "optimizer": {"lr": 0.01}}
    return b.project


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    widget.resize(1024, 700)
    widget.show()
    return widget


def synthetic_result(classes: int, count: int = 200) -> EvaluationResult:
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, count)
    probs = 0.6 * np.eye(classes)[y] + 0.4 * rng.dirichlet(np.ones(classes), count)
    report = classification_report(probs, y)
    return EvaluationResult(
        "test", count, "classification", "tabular", {"accuracy": report.top_k[1]}, "c/last", classification=report
    )


def tab_titles(view) -> list[str]:
    return [view.tabs.tabText(i) for i in range(view.tabs.count())]


def test_the_metrics_page_shows_the_table_curves_reliability_and_top_k(view, qtbot):
    view.show_result(synthetic_result(4), "Run 1")
    assert "Metrics" in tab_titles(view)
    page = view.metrics_page
    view.tabs.setCurrentWidget(page)
    qtbot.wait(50)
    assert page.table.rowCount() == 4 + 2 and page.table.item(4, 0).text() == "macro avg"
    assert float(page.table.item(0, 5).text()) == pytest.approx(page.metrics.classes[0].roc_auc, abs=5e-4)
    for plot in (page.roc, page.pr):
        assert {"class|0", "class|3", "macro"} <= set(plot.curves) and plot.legend is not None
        assert len(plot.legend.items) == 5, "four classes and the macro average, named with their areas"
        assert plot.widget.height() >= MIN_PLOT_HEIGHT
    assert page.reliability.widget.height() >= MIN_PLOT_HEIGHT and page._bars is not None
    assert "ECE" in page.reliability.legend.items[0][1].text
    text = page.summary.text()
    assert "top-1" in text and "top-3" in text and "Expected calibration error" in text


def test_more_than_ten_classes_draw_only_the_macro_curves(view):
    view.show_result(synthetic_result(12, 300), "Run 1")
    page = view.metrics_page
    assert set(page.roc.curves) == {"macro", "chance"} and "12 classes" in page.summary.text()
    assert page.table.rowCount() == 14


def test_a_trained_classifier_gets_metrics_and_a_projector_with_hover(tmp_path, view, qtbot):
    registry = default_registry()
    project = digits_project()
    text = dumps(project, registry)
    run = Trainer(prepare(project), tmp_path / "run").run()
    result = evaluate_run(text, registry, None, run.checkpoint)
    assert result.classification is not None and result.classification.samples == result.count
    assert result.classification.top_k[1] == pytest.approx(result.metrics["accuracy"])
    view.show_result(result, "Run 1")
    titles = tab_titles(view)
    assert titles.index("Confusion matrix") < titles.index("Metrics") < titles.index("Projector")
    page = view.projector
    assert page.node.count() == len(result.projector.nodes) >= 3
    page.method.setCurrentIndex(page.method.findData("pca"))
    page.request()
    qtbot.waitUntil(lambda: page.embedding is not None, timeout=10_000)
    assert len(page.scatters) == 10 and "PCA of" in page.status.text()
    assert sum(len(s.data) for s in page.scatters) == result.count
    spot = page.scatters[0].points()[0]
    page._on_hovered(page.scatters[0], [spot], None)
    row = int(spot.data())
    assert page.hovered.text().startswith(f"sample {int(page.embedding.indices[row])}: true ")
    assert ", predicted " in page.hovered.text()
    assert "<img src='data:image/png;base64," in page._tip(0, 0, row), "an image sample shows as a thumbnail"


def test_a_projection_that_fails_says_why_in_the_page(view, qtbot):
    job = prepare(digits_project())
    split = job.data.splits()["test"]
    source = ProjectorSource(job, split.x, split.y, [*embedding_nodes(job), ("ghost", "ghost")])
    page = view.projector
    page.set_source(source)
    page.node.setCurrentIndex(page.node.count() - 1)
    page.request()
    qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
    assert "node 'ghost'" in page.status.text() and page.embedding is None
    assert page.project_button.isEnabled()
