"""The Evaluation view's Inference page ("Try one sample"): a sample picked, drawn, typed or given as token ids,
its answer, and every layer's output for it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from nnstudio.training.embedding import embedding_nodes
from nnstudio.ui.evaluation.compute import EvaluationResult
from nnstudio.ui.evaluation.inference_page import InferencePage
from nnstudio.ui.evaluation.projector import ProjectorSource
from nnstudio.ui.evaluation.view import EvaluationView
from tests.training.helpers import blobs, line, make_job
from tests.training.test_layer_outputs import digits_like_job, transformer_job


@pytest.fixture
def page(qtbot):
    widget = InferencePage()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    return widget


@pytest.fixture(scope="module")
def cnn():
    """A tiny CNN (20 feature maps) trained on vertical against horizontal bars."""
    return digits_like_job(channels=20)


def source_of(job) -> ProjectorSource:
    split = job.data.test or job.data.val
    return ProjectorSource(job, split.x, split.y, embedding_nodes(job), job.data.class_names)


def settle(page, qtbot) -> None:
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)


def stroke(qtbot, widget, points: list[tuple[int, int]]) -> None:
    """A left-button stroke through `points` with qtbot's mouse events: press, moves with the button held, release."""
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for point in points[1:]:
        qtbot.mouseMove(widget, QPoint(*point))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def test_a_trained_cnn_shows_bars_and_feature_maps_and_answers_a_drawing(cnn, qtbot):
    job = cnn
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    test = job.data.test
    view.show_result(EvaluationResult("test", len(test), "classification", "image", {"accuracy": 1.0}, "c/last",
                                      projector=source_of(job)), "Run 1")
    page = view.inference_page
    view.tabs.setCurrentWidget(page)
    assert "Try one sample" in [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert page.split.currentData() == "test" and page.split.count() == 3
    settle(page, qtbot)
    assert page.answer.plot.isVisible() and len(page.answer.shown) == 2  # both classes, most probable first
    assert page.answer.text.text().startswith("Predicted: ") and "Sample 0 of the test split" in page.status.text()
    conv = next(layer for layer in page.outputs.layers if layer.type == "Conv2d")
    assert conv.shape == (20, 8, 8) and not page.layers.grids[conv.name].pixmap().isNull()
    assert any("+4 more" in label.text() for label in page.findChildren(type(page.status)))  # 20 maps, 16 shown
    assert set(page.layers.bar_plots) == {layer.name for layer in page.outputs.layers if layer.view == "bars"}
    page.split.setCurrentIndex(page.split.findData("train"))
    page.index.setValue(7)
    settle(page, qtbot)
    assert "Sample 7 of the train split" in page.status.text()
    page.mode.setCurrentIndex(page.mode.findData("draw"))
    assert "Draw a sample" in page.status.text() and page.outputs is None
    canvas = page.drawing.canvas
    stroke(qtbot, canvas, [(84, y) for y in range(20, 151, 10)])  # a '1'
    settle(page, qtbot)
    assert "resampled to the Input's 8×8" in page.status.text() and page.outputs is not None
    assert page.outputs.sample.shape == (1, 8, 8) and page.outputs.sample.max() > 0.5
    assert page.answer.text.text().startswith("Predicted: ") and not page.preview.pixmap().isNull()
    page.drawing.clear_button.click()
    assert "blank" in page.status.text()


def test_strokes_drawn_with_the_mouse_are_told_apart(cnn, page, qtbot):
    page.set_source(source_of(cnn))
    settle(page, qtbot)
    page.mode.setCurrentIndex(page.mode.findData("draw"))
    canvas = page.drawing.canvas
    stroke(qtbot, canvas, [(70, y) for y in range(25, 146, 10)])
    settle(page, qtbot)
    assert page.answer.shown[0][0] == "vertical"
    page.drawing.clear_button.click()
    stroke(qtbot, canvas, [(x, 90) for x in range(25, 146, 10)])
    settle(page, qtbot)
    assert page.answer.shown[0][0] == "horizontal"
    page.drawing.clear_button.click()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(80, 30))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(80, 30))  # a dot is a stroke too
    settle(page, qtbot)
    assert not canvas.is_blank() and page.outputs is not None and page.outputs.sample.max() > 0


def test_tabular_values_are_typed_by_column_and_a_bad_one_is_named(page, qtbot):
    data = blobs(features=3, test=True)
    data.feature_names = ["height", "weight", "age"]
    page.set_source(source_of(make_job(data=data, inputs=3)))
    settle(page, qtbot)
    page.mode.setCurrentIndex(page.mode.findData("values"))
    settle(page, qtbot)
    labels = [page.values.form.itemAt(i, page.values.form.ItemRole.LabelRole).widget().text() for i in range(3)]
    assert labels == ["height", "weight", "age"]
    assert all(edit.text() for edit in page.values.fields)  # filled from the split's sample, to edit
    page.values.fields[1].setText("heavy")
    page.run_button.click()
    assert "column 'weight': 'heavy' is not a number" in page.status.text() and page.outputs is None
    page.values.fields[1].setText("0.5")
    page.run_button.click()
    settle(page, qtbot)
    assert page.outputs.sample.tolist()[1] == 0.5 and page.answer.shown[0][0].startswith("c")
    page.values.paste.setText("1, 2")
    page.values.paste.editingFinished.emit()
    page.run_button.click()
    assert "pasted row: 2 value(s), but the Input takes 3 (height, weight, age)" in page.status.text()
    page.values.paste.setText("1; 2; 3")
    page.values.paste.editingFinished.emit()
    page.run_button.click()
    settle(page, qtbot)
    assert page.outputs.sample.tolist() == [1.0, 2.0, 3.0]


def test_token_ids_give_an_attention_heatmap_of_heads_by_positions(page, qtbot):
    page.set_source(source_of(transformer_job()))
    settle(page, qtbot)
    assert page.layers.heatmaps["encoder"].values.shape == (16, 4)  # positions along x, heads along y
    page.mode.setCurrentIndex(page.mode.findData("tokens"))
    settle(page, qtbot)
    assert len(page.tokens.text().split()) == 16 and "the embedding 'embed' has 16 ids" in page.tokens_hint.text()
    page.tokens.setText(" ".join(["15"] * 16))
    page.run_button.click()
    settle(page, qtbot)
    assert "encoder" in page.layers.heatmaps, page.status.text()
    heatmap = page.layers.heatmaps["encoder"]
    assert np.allclose(heatmap.values.sum(axis=0), 1.0, atol=1e-5)  # each head's attention sums to one
    assert page.answer.shown[0][0] == "mostly high tokens" or page.answer.shown[1][0] == "mostly high tokens"
    page.tokens.setText("1 2 3 99")
    page.run_button.click()
    assert "position 3 is 99, out of range (0 to 15: the embedding 'embed' has 16 ids)" in page.status.text()


def test_a_regression_model_gets_the_value_view(page, qtbot):
    page.set_source(source_of(make_job(data=line(), inputs=1, outputs=1)))
    settle(page, qtbot)
    assert "does not classify (task: regression)" in page.status.text()
    assert page.answer.text.text().startswith("Output: ") and not page.answer.plot.isVisible()
