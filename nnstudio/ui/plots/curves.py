"""Run-level curves: loss (train and validation), task metrics, and the learning rate.

Each view draws a primary run and, optionally, an overlay run (dashed, same colours) for comparison.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import OVERLAY_STYLE, CurvePlot
from nnstudio.ui.plots.series import RunSeries, moving_average

LOSS_CURVES = (  # series, label, colour, width
    ("step/loss", "train (steps)", "#9ecae1", 1.0),
    ("epoch/train_loss", "train (epoch)", "#1f77b4", 2.0),
    ("epoch/val_loss", "validation", "#ff7f0e", 2.0),
)
SCORE_METRICS = ("accuracy", "r2")
ERROR_METRICS = ("rmse", "mae")
METRIC_COLOURS = {"train_accuracy": "#1f77b4", "val_accuracy": "#ff7f0e", "accuracy": "#9ecae1",
                  "val_r2": "#2ca02c", "train_r2": "#98df8a", "val_rmse": "#d62728", "train_rmse": "#ff9896",
                  "val_mae": "#9467bd", "train_mae": "#c5b0d5"}
PRETTY = {"accuracy": "accuracy", "r2": "R²", "rmse": "RMSE", "mae": "MAE"}


def _label(metric: str) -> str:
    for prefix, words in (("val_", "validation"), ("train_", "train")):
        if metric.startswith(prefix):
            name = metric[len(prefix):]
            return f"{PRETTY.get(name, name)} {words}"
    return f"{PRETTY.get(metric, metric)} train (steps)"


def draw_runs(plot: CurvePlot, runs: list[tuple[RunSeries, str]], curves: list[tuple[str, str, str, float]],
              transform=None, force: bool = False) -> None:
    """Draw `curves` (series name, label, colour, width) for each (run, suffix); the 2nd run is dashed.

    A curve whose run and length are unchanged since the last draw is skipped unless `force` is set.
    """
    keep = []
    for index, (run, suffix) in enumerate(runs):
        for name, label, pen_colour, width in curves:
            if not run.has(name):
                continue
            key = f"{name}|{index}"
            keep.append(key)
            style = OVERLAY_STYLE if index else Qt.PenStyle.SolidLine
            plot.curve(key, f"{label}{suffix}", pen_colour, style, width)
            series = run.get(name)
            y = transform(name, series.y) if transform is not None else series.y
            plot.set_data(key, series.x, y, token=None if force else (id(run), len(series)))
    plot.remove_missing(keep)


class LossView(QWidget):
    """Train and validation loss with a log-scale toggle and a smoothing slider for the step loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = CurvePlot("Loss", "loss")
        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self._on_log)
        self.smooth = QSlider(Qt.Orientation.Horizontal)
        self.smooth.setRange(0, 50)
        self.smooth.setValue(0)
        self.smooth.setToolTip("Average the step loss over this many logged points, to see the trend "
                               "through the noise of single batches.")
        self.smooth.valueChanged.connect(self._on_smooth)
        self.smooth_label = QLabel("Smoothing: off")
        controls = QHBoxLayout()
        controls.addWidget(self.log_box)
        controls.addSpacing(12)
        controls.addWidget(self.smooth_label)
        controls.addWidget(self.smooth, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 1)
        self._runs: list[tuple[RunSeries, str]] = []

    def _on_log(self, on: bool) -> None:
        self.plot.item.setLogMode(y=on)

    def _on_smooth(self, value: int) -> None:
        self.smooth_label.setText(f"Smoothing: {value} points" if value > 1 else "Smoothing: off")
        self._redraw_smoothing()

    def _transform(self, name: str, values):
        if name == "step/loss":
            return moving_average(values, self.smooth.value())
        return values

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        self._runs = runs
        self.redraw()

    def redraw(self) -> None:
        draw_runs(self.plot, self._runs, list(LOSS_CURVES), self._transform)

    def _redraw_smoothing(self) -> None:
        draw_runs(self.plot, self._runs, list(LOSS_CURVES), self._transform, force=True)


class MetricView(QWidget):
    """Accuracy for classification; RMSE, MAE and R² for regression (errors and scores on two plots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score = CurvePlot("Score", "accuracy / R²", legend_corner="bottom-right")
        self.error = CurvePlot("Error", "RMSE / MAE")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.score, 1)
        layout.addWidget(self.error, 1)
        self.error.setVisible(False)

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        scores, errors = self._curves(runs)
        draw_runs(self.score, runs, scores)
        draw_runs(self.error, runs, errors)
        self.error.setVisible(bool(errors))
        self.score.setVisible(bool(scores) or not errors)

    def _curves(self, runs: list[tuple[RunSeries, str]]) -> tuple[list, list]:
        names: set[str] = set()
        for run, _ in runs:
            names |= {n for n in run.names("epoch/") if n.rsplit("_", 1)[-1] in SCORE_METRICS + ERROR_METRICS}
            names |= {n for n in run.names("step/") if n == "step/accuracy"}
        scores, errors = [], []
        for name in sorted(names):
            metric = name.split("/", 1)[1]
            kind = metric.rsplit("_", 1)[-1]
            entry = (name, _label(metric), METRIC_COLOURS.get(metric, "#7f7f7f"),
                     1.0 if name.startswith("step/") else 2.0)
            (scores if kind in SCORE_METRICS else errors).append(entry)
        return scores, errors


class LearningRateView(CurvePlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Learning rate", "lr", legend=False, parent=parent)

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        name = "step/lr" if any(run.has("step/lr") for run, _ in runs) else "epoch/lr"
        draw_runs(self, runs, [(name, "learning rate", "#2ca02c", 1.8)])
