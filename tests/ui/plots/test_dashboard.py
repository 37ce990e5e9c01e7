"""LivePlots over recorded histories: curves made once, highlight, overlays, exports."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.plots import LivePlots, RunSeries
from nnstudio.ui.plots.boundary import BoundaryGrid, region_image
from nnstudio.ui.plots.export import history_csv


def make_history(scale: float = 1.0, steps: int = 200) -> MetricHistory:
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {"a": "fc1", "b": "act", "c": "fc2"}})
    for step in range(1, steps + 1):
        epoch = (step - 1) // 50 + 1
        if step % 10 == 0:
            history.add({"kind": "step", "epoch": epoch, "step": step, "loss": scale / step, "lr": 0.01})
        if step % 50 == 0:
            history.add({"kind": "grads", "epoch": epoch, "step": step, "global_norm": 1.0,
                         "layers": {"a": 0.1 * step, "c": 0.2}})
            hist = {"lo": -1.0, "hi": 1.0 + step / 100, "counts": [step % 7, 3, 4, 5]}
            history.add({"kind": "activations", "epoch": epoch, "step": step, "layers": {
                node: {"mean": 0.0, "std": 1.0, "zero_fraction": 0.25, "hist": hist} for node in "abc"}})
            history.add({"kind": "epoch", "epoch": epoch, "step": step, "train_loss": scale / step,
                         "val_loss": 1.2 * scale / step, "val_accuracy": 1 - 1 / step, "lr": 0.01})
            history.add({"kind": "weights", "epoch": epoch, "step": step,
                         "layers": {"a": {"mean": 0.0, "std": 1.0, "zero_fraction": 0.0, "hist": hist}}})
    return history


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def test_curves_are_created_once_and_fed_with_set_data(plots):
    history = make_history()
    run = RunSeries()
    records = history.records()
    run.ingest(records[:30])
    plots.show_run(run, "Run 1")
    loss = plots.curves.loss.plot
    item = loss.curves["step/loss|0"]
    first = len(item.xData)
    run.ingest(records[30:])
    plots.refresh()
    assert loss.curves["step/loss|0"] is item
    assert len(item.xData) > first
    assert loss.item.clipToViewMode() and loss.item.downsampleMode()[1], "clip to view, automatic downsampling"
    assert loss.item.downsampleMode()[2] == "peak"


def test_every_tab_draws_the_run(plots):
    run = RunSeries.from_history(make_history())
    plots.show_run(run, "Run 1")
    for index in range(4):
        plots.tabs.setCurrentIndex(index)
    assert plots.gradients.lines.has_data() and plots.gradients.heatmap.has_data()
    assert plots.gradients.heatmap.values.shape == (4, 2)
    assert plots.activations.stats["zero_fraction"].has_data()
    assert plots.activations.heatmap.has_data()
    assert plots.weights.heatmap.values.shape[0] == 4
    assert plots.curves.metrics.score.has_data()


def test_selecting_a_node_highlights_its_series(plots):
    plots.show_run(RunSeries.from_history(make_history()), "Run 1")
    plots.tabs.setCurrentWidget(plots.gradients)
    plots.set_selected_nodes(["c"])
    lines = plots.gradients.lines
    assert lines.curves["c|0"].opts["pen"].widthF() > lines.curves["a|0"].opts["pen"].widthF()
    assert lines.curves["a|0"].opts["pen"].color().alpha() < 255
    plots.set_selected_nodes([])
    assert lines.curves["c|0"].opts["pen"].widthF() == lines.curves["a|0"].opts["pen"].widthF()


def test_clicking_a_layer_reports_its_node(plots, qtbot):
    plots.show_run(RunSeries.from_history(make_history()), "Run 1")
    plots.tabs.setCurrentWidget(plots.gradients)
    with qtbot.waitSignal(plots.node_clicked) as blocker:
        plots.gradients.lines.curves["a|0"].sigClicked.emit(plots.gradients.lines.curves["a|0"], None)
    assert blocker.args == ["a"]


def test_overlay_draws_a_second_run_dashed(plots):
    first = RunSeries.from_history(make_history())
    second = RunSeries.from_history(make_history(scale=2.0))
    plots.show_run(first, "Run 2", second, "Run 1")
    loss = plots.curves.loss.plot
    assert loss.curves["epoch/val_loss|1"].opts["pen"].style() == Qt.PenStyle.DashLine
    np.testing.assert_allclose(loss.curves["epoch/val_loss|1"].yData, 2 * loss.curves["epoch/val_loss|0"].yData)
    plots.show_run(first, "Run 2")
    assert "epoch/val_loss|1" not in loss.curves


def test_log_scale_and_smoothing(plots):
    plots.show_run(RunSeries.from_history(make_history()), "Run 1")
    view = plots.curves.loss
    raw = view.plot.curves["step/loss|0"].yData.copy()
    view.smooth.setValue(5)
    smoothed = view.plot.curves["step/loss|0"].yData
    assert smoothed[0] == raw[0] and smoothed[4] == pytest.approx(raw[:5].mean())
    view.log_box.setChecked(True)
    assert view.plot.item.ctrl.logYCheck.isChecked()


def test_png_export_and_csv(plots, tmp_path):
    history = make_history()
    plots.show_run(RunSeries.from_history(history), "Run 1")
    path = plots.curves.loss.plot.export_png(tmp_path / "loss")
    assert path.suffix == ".png" and path.stat().st_size > 1000
    rows = list(csv.DictReader(io.StringIO(history_csv(history.records()))))
    assert rows[0]["kind"] == "start"
    grads = [r for r in rows if r["kind"] == "grads"]
    assert float(grads[0]["grad_norm[fc1]"]) == pytest.approx(5.0)
    assert "act_dead_fraction[act]" in rows[0]


def test_boundary_regions_follow_the_predicted_class():
    classes = np.array([[0, 1], [1, 1]])
    confidence = np.array([[1.0, 1.0], [0.5, 1.0]])
    image = region_image(BoundaryGrid(classes, confidence, (0, 1), (0, 1), num_classes=2))
    assert image.shape == (2, 2, 4) and image.dtype == np.uint8
    assert tuple(image[0, 0, :3]) != tuple(image[1, 0, :3]), "cells of different classes differ"
    unsure = image[0, 1, :3].astype(int)  # x=0, y=1: class 1 at chance level: pale
    sure = image[1, 1, :3].astype(int)
    assert unsure.sum() > sure.sum()
