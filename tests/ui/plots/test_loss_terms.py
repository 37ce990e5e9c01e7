"""Live plots for graphs with loss nodes: a curve per term, several heads' metrics, plain projects unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.plots import LivePlots, RunSeries
from nnstudio.ui.plots.series import term_series
from tests.ui.plots.test_dashboard import make_history

TERMS = {"rec": 0.05, "kl": 30.0}  # very different scales, as in a VAE


def terms_history(steps: int = 200, scale: float = 1.0, terms: dict[str, float] = TERMS) -> MetricHistory:
    """What the engine logs for an objective graph: terms in the start record, the step records' "terms"
    object, and train_loss_<term> / val_loss_<term> in the epoch records."""
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {"a": "enc"}, "terms": list(terms),
                 "loss": "rec + 0.01·kl"})
    for step in range(1, steps + 1):
        epoch = (step - 1) // 50 + 1
        values = {name: scale * base / step for name, base in terms.items()}
        if step % 10 == 0:
            history.add({"kind": "step", "epoch": epoch, "step": step, "loss": sum(values.values()), "lr": 0.01,
                         "terms": values})
        if step % 50 == 0:
            record = {"kind": "epoch", "epoch": epoch, "step": step, "train_loss": sum(values.values()),
                      "val_loss": 1.1 * sum(values.values()), "val_rmse": 1 / step, "val_mae": 0.5 / step}
            record.update({f"train_loss_{name}": value for name, value in values.items()})
            record.update({f"val_loss_{name}": 1.1 * value for name, value in values.items()})
            history.add(record)
    return history


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    return widget


def test_each_term_gets_a_step_an_epoch_and_a_validation_curve(plots):
    history = terms_history()
    run = RunSeries()
    records = history.records()
    run.ingest(records[:5])  # the start record and four steps
    plots.show_run(run, "Run 1")
    view = plots.curves.loss
    terms = view.terms
    assert terms.isVisible() and terms.log_box.isVisible()
    assert run.terms() == ["rec", "kl"]
    step_kl = terms.curves["step/loss_kl|0"]
    first = len(step_kl.xData)
    assert first > 0 and "epoch/train_loss_kl|0" not in terms.curves, "no epoch has ended yet"
    run.ingest(records[5:])
    plots.refresh()
    assert terms.curves["step/loss_kl|0"] is step_kl, "made once, then fed with setData"
    assert len(step_kl.xData) == 20 > first
    for name in TERMS:
        for series in (f"step/loss_{name}", f"epoch/train_loss_{name}", f"epoch/val_loss_{name}"):
            curve = terms.curves[f"{series}|0"]
            np.testing.assert_allclose(curve.yData, run.get(series).y)
    np.testing.assert_allclose(terms.curves["epoch/val_loss_rec|0"].yData,
                               [1.1 * 0.05 / s for s in (50, 100, 150, 200)])
    pen = terms.curves["epoch/val_loss_rec|0"].opts["pen"]
    assert pen.style() == Qt.PenStyle.DashLine
    assert terms.curves["epoch/train_loss_rec|0"].opts["pen"].style() == Qt.PenStyle.SolidLine
    assert pen.color() != terms.curves["epoch/val_loss_kl|0"].opts["pen"].color(), "one colour per term"
    legend = [label.text for _sample, label in terms.legend.items]
    assert legend == ["rec", "kl"], "the legend names each loss node once"
    # the total keeps its own plot, as for any project
    assert view.plot.curves["epoch/val_loss|0"].yData is not None


def test_terms_on_very_different_scales_start_on_a_log_axis(plots, qtbot):
    plots.show_run(RunSeries.from_history(terms_history()), "Run 1")
    terms = plots.curves.loss.terms
    assert terms.log_box.isChecked() and terms.item.ctrl.logYCheck.isChecked()
    # KL (30/step) and reconstruction (0.05/step) both in view: the axis spans over two decades
    qtbot.waitUntil(lambda: np.diff(terms.item.viewRange()[1])[0] > 2, timeout=5000)
    ticks = terms.item.getAxis("left").tickValues(-2.5, -0.5, 200)  # two decades: pyqtgraph would tick 18 values
    labelled = [v for _spacing, values in ticks for v in values]
    assert len(labelled) == 6, "1, 2 and 5 times each power of ten, not all nine minor ticks"
    terms.log_box.setChecked(False)
    assert not terms.item.ctrl.logYCheck.isChecked()
    assert not plots.curves.loss.plot.item.ctrl.logYCheck.isChecked(), "the total's axis is its own"


def test_smoothing_also_smooths_the_terms_step_curves(plots):
    plots.show_run(RunSeries.from_history(terms_history()), "Run 1")
    view = plots.curves.loss
    raw = view.terms.curves["step/loss_kl|0"].yData.copy()
    view.smooth.setValue(4)
    smoothed = view.terms.curves["step/loss_kl|0"].yData
    assert smoothed[3] == pytest.approx(raw[:4].mean())
    np.testing.assert_allclose(view.terms.curves["epoch/train_loss_kl|0"].yData,
                               [30 / s for s in (50, 100, 150, 200)])


def test_a_compared_run_draws_its_terms_dotted_and_is_named(plots):
    first, second = RunSeries.from_history(terms_history()), RunSeries.from_history(terms_history(scale=2.0))
    plots.show_run(first, "Run 2", second, "Run 1")
    terms = plots.curves.loss.terms
    assert terms.curves["epoch/train_loss_kl|1"].opts["pen"].style() == Qt.PenStyle.DotLine
    assert terms.curves["epoch/val_loss_kl|1"].opts["pen"].style() == Qt.PenStyle.DashDotLine
    assert "step/loss_kl|1" not in terms.curves, "a compared run shows its epoch curves only"
    assert (terms.curves["epoch/train_loss_kl|1"].opts["pen"].color()
            == terms.curves["epoch/train_loss_kl|0"].opts["pen"].color()), "a term keeps its colour"
    legend = [label.text for _sample, label in terms.legend.items]
    assert legend == ["rec · Run 2", "kl · Run 2", "rec · Run 1", "kl · Run 1"]
    plots.show_run(first, "Run 2")
    assert "epoch/train_loss_kl|1" not in terms.curves
    assert [label.text for _sample, label in terms.legend.items] == ["rec", "kl"]


def test_a_plain_project_looks_as_before(plots):
    plots.show_run(RunSeries.from_history(make_history()), "Run 1")
    view = plots.curves.loss
    assert view.terms.isHidden() and view.terms.log_box.isHidden()
    assert view.terms.curves == {}
    assert view.log_box.text() == "Log scale"
    assert view.plot.item.getAxis("bottom").label.isVisible(), "the Loss plot labels its own step axis"
    assert [title for title, _ in plots.plots_in_current_tab()] == ["Loss", "Score", "Learning rate"]
    # a run with terms, then a plain one again: the terms plot goes away with its curves
    plots.show_run(RunSeries.from_history(terms_history()), "Run 2")
    assert view.terms.isVisible() and view.log_box.text() == "Log scale (total)"
    assert "Loss terms" in [title for title, _ in plots.plots_in_current_tab()]
    plots.show_run(RunSeries.from_history(make_history()), "Run 1")
    assert view.terms.isHidden() and view.terms.curves == {} and view.terms.legend.items == []


def test_step_terms_become_series_named_like_the_epoch_ones():
    run = RunSeries.from_history(terms_history(steps=50))
    assert term_series("kl") == "loss_kl"
    assert run.has("step/loss_kl") and run.has("epoch/train_loss_kl") and run.has("epoch/val_loss_rec")
    assert len(run.get("step/loss_rec")) == 5
    assert run.get("step/loss_rec").y[0] == pytest.approx(0.05 / 10)
    older = RunSeries()
    older.ingest([{"kind": "epoch", "epoch": 1, "step": 5, "train_loss": 1.0, "train_loss_kl": 0.5}])
    assert older.terms() == ["kl"], "without a start record the terms are read off the epoch records"


def heads_history() -> MetricHistory:
    """Two classification heads, and a loss node that happens to be called "accuracy"."""
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "terms": ["digit_ce", "accuracy"]})
    for epoch in range(1, 4):
        step = 10 * epoch
        history.add({"kind": "step", "epoch": epoch, "step": step, "loss": 1.0 / epoch, "accuracy": 0.5,
                     "terms": {"digit_ce": 1.0, "accuracy": 0.1}})
        history.add({"kind": "epoch", "epoch": epoch, "step": step, "train_loss": 1.0 / epoch,
                     "train_loss_digit_ce": 1.0, "train_loss_accuracy": 0.1, "val_loss": 1.0,
                     "val_loss_digit_ce": 1.0, "val_loss_accuracy": 0.1, "val_digit_accuracy": 0.5 + epoch / 10,
                     "val_parity_accuracy": 0.8, "best_val_loss": 1.0})
    return history


def test_several_heads_get_one_colour_each_and_their_names(plots):
    plots.show_run(RunSeries.from_history(heads_history()), "Run 1")
    score = plots.curves.metrics.score
    assert set(score.curves) == {"epoch/val_digit_accuracy|0", "epoch/val_parity_accuracy|0", "step/accuracy|0"}
    labels = {label.text for _sample, label in score.legend.items}
    assert labels == {"digit accuracy validation", "parity accuracy validation", "digit accuracy train (steps)"}
    digit = score.curves["epoch/val_digit_accuracy|0"].opts["pen"].color()
    parity = score.curves["epoch/val_parity_accuracy|0"].opts["pen"].color()
    assert digit != parity
    np.testing.assert_allclose(score.curves["epoch/val_digit_accuracy|0"].yData, [0.6, 0.7, 0.8])
    assert not plots.curves.metrics.error.isVisibleTo(plots)


def test_one_head_keeps_the_plain_names_and_colours(plots):
    plots.show_run(RunSeries.from_history(terms_history()), "Run 1")
    error = plots.curves.metrics.error
    labels = {label.text for _sample, label in error.legend.items}
    assert labels == {"RMSE validation", "MAE validation"}
    assert error.curves["epoch/val_rmse|0"].opts["pen"].color().name() == "#d62728"


def test_a_constant_learning_rate_is_drawn_on_its_own_scale(plots, qtbot):
    plots.show_run(RunSeries.from_history(terms_history()), "Run 1")  # lr 0.01 throughout
    lr = plots.curves.lr
    qtbot.waitUntil(lambda: lr.item.viewRange()[1][1] < 0.05, timeout=5000)
    low, high = lr.item.viewRange()[1]
    assert low <= 0.0 < 0.01 < high, "not pyqtgraph's [-0.5, 0.5] around a flat line"


def test_the_csv_export_has_a_column_per_term():
    import csv
    import io

    from nnstudio.ui.plots.export import history_csv

    rows = list(csv.DictReader(io.StringIO(history_csv(terms_history(steps=50).records()))))
    steps = [r for r in rows if r["kind"] == "step"]
    assert float(steps[0]["loss_kl"]) == pytest.approx(30 / 10) and float(steps[0]["loss_rec"]) == pytest.approx(0.005)
    epoch = next(r for r in rows if r["kind"] == "epoch")
    assert float(epoch["val_loss_kl"]) == pytest.approx(1.1 * 30 / 50)
