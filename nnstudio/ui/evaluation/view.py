"""The evaluation view: test metrics, confusion matrix, predicted vs true, mistakes and reconstructions.

It draws an EvaluationResult; which pages appear depends on the task. Images are shown as images (the
misclassified browser and the reconstructions), other samples as table rows.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.evaluation.compute import EvaluationResult
from nnstudio.ui.plots.base import configure_plot
from nnstudio.ui.plots.heatmap import Heatmap

ICON = 72
PRETTY = {"loss": "loss", "accuracy": "accuracy", "rmse": "RMSE", "mae": "MAE", "r2": "R²"}


def sample_image(x: np.ndarray) -> np.ndarray | None:
    """A sample as a [H, W] or [H, W, 3] array in [0, 1], when it is an image (or a square vector)."""
    if x.ndim == 1:
        side = math.isqrt(x.shape[0])
        if side < 4 or side * side != x.shape[0]:
            return None
        x = x.reshape(side, side)
    elif x.ndim == 3 and x.shape[0] in (1, 3):
        x = x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)
    elif x.ndim != 2:
        return None
    x = x.astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def to_pixmap(image: np.ndarray, size: int = ICON) -> QPixmap:
    data = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    h, w = data.shape[:2]
    if data.ndim == 2:
        qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    else:
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    gap = np.ones((left.shape[0], 1, *left.shape[2:]))
    return np.concatenate([left, gap, right], axis=1)


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("Train a model, or pick a run in Runs and press Evaluate, to see how it does on "
                             "data it never trained on.")
        self.header.setWordWrap(True)
        self.metrics = QLabel()
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.confusion = Heatmap("Confusion matrix (rows: true class, columns: predicted)", "predicted", "true",
                                 colour_map="CET-L12", bar_label="samples")
        self.scatter = pg.PlotWidget()
        configure_plot(self.scatter.getPlotItem(), "Predicted vs true", "true value", "predicted value")
        self.mistakes = QListWidget()
        self.mistakes_table = QTableWidget()
        self.reconstructions = QListWidget()
        for widget in (self.mistakes, self.reconstructions):
            widget.setViewMode(QListView.ViewMode.IconMode)
            widget.setIconSize(QSize(ICON, ICON))
            widget.setResizeMode(QListView.ResizeMode.Adjust)
            widget.setMovement(QListView.Movement.Static)
            widget.setSpacing(6)
        self.mistakes_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.metrics)
        layout.addWidget(self.tabs, 1)
        self._count_labels: list[pg.TextItem] = []
        self.result: EvaluationResult | None = None

    def show_busy(self, text: str) -> None:
        self.header.setText(text)

    def show_error(self, text: str) -> None:
        self.header.setText(f"<span style='color:#c62828'>Evaluation failed: {text}</span>")

    def show_result(self, result: EvaluationResult, title: str) -> None:
        self.result = result
        self.header.setText(f"{title}: {result.split} split, {result.count} samples "
                            f"(weights: {result.checkpoint.rsplit('/', 1)[-1]} checkpoint)")
        cells = " &nbsp;&nbsp; ".join(f"{PRETTY.get(k, k)} <b>{v:.4g}</b>" for k, v in result.metrics.items()
                                      if isinstance(v, (int, float)))
        self.metrics.setText(f"<span style='font-size:13pt'>{cells}</span>")
        while self.tabs.count():
            self.tabs.removeTab(0)
        if result.confusion is not None:
            self._show_confusion(result)
            self.tabs.addTab(self.confusion, "Confusion matrix")
        if result.is_classification:
            self._show_mistakes(result)
        if result.truth is not None:
            self._show_scatter(result)
            self.tabs.addTab(self.scatter, "Predicted vs true")
        if result.reconstructions is not None:
            self._show_reconstructions(result)
            self.tabs.addTab(self.reconstructions, "Reconstructions")

    # --- pages -------------------------------------------------------------------------------
    def _show_confusion(self, result: EvaluationResult) -> None:
        matrix = np.asarray(result.confusion, dtype=np.float64)
        k = len(matrix)
        self.confusion.set_image(matrix.T, (0.0, float(k)), (0.0, float(k)))  # x: predicted, y: true
        names = [result.class_name(i)[:12] for i in range(k)]
        self.confusion.set_row_labels(names)
        self.confusion.item.getAxis("bottom").setTicks([[(i + 0.5, n) for i, n in enumerate(names)], []])
        self.confusion.item.invertY(True)
        for label in self._count_labels:
            self.confusion.item.removeItem(label)
        self._count_labels = []
        peak = matrix.max() if matrix.size else 1.0
        for t in range(k):
            for p in range(k):
                count = int(matrix[t, p])
                if count == 0:
                    continue  # empty cells stay blank, so the mistakes stand out
                colour = "w" if count > peak * 0.6 else "k"  # light text on dark cells only
                label = pg.TextItem(str(count), color=colour, anchor=(0.5, 0.5))
                label.setPos(p + 0.5, t + 0.5)
                self.confusion.item.addItem(label)
                self._count_labels.append(label)

    def _show_mistakes(self, result: EvaluationResult) -> None:
        images = [sample_image(m.x) for m in result.misclassified]
        title = f"Misclassified ({result.wrong_count})"
        if result.misclassified and all(image is not None for image in images):
            self.mistakes.clear()
            for mistake, image in zip(result.misclassified, images):
                item = QListWidgetItem(QIcon(to_pixmap(image)), f"{result.class_name(mistake.truth)} → "
                                       f"{result.class_name(mistake.predicted)}\n{mistake.confidence:.0%}")
                item.setToolTip(f"sample {mistake.index}: true {result.class_name(mistake.truth)}, predicted "
                                f"{result.class_name(mistake.predicted)} with probability {mistake.confidence:.2f}")
                self.mistakes.addItem(item)
            self.tabs.addTab(self.mistakes, title)
            return
        self._fill_mistakes_table(result)
        self.tabs.addTab(self.mistakes_table, title)

    def _fill_mistakes_table(self, result: EvaluationResult) -> None:
        rows = result.misclassified
        width = min(12, rows[0].x.size) if rows else 0
        names = list(result.feature_names or [])
        if rows and len(names) != rows[0].x.size:
            names = [f"x{i + 1}" for i in range(rows[0].x.size)]
        table = self.mistakes_table
        table.clear()
        table.setRowCount(len(rows))
        table.setColumnCount(3 + width)
        table.setHorizontalHeaderLabels(["true", "predicted", "probability", *names[:width]])
        for row, mistake in enumerate(rows):
            values = [result.class_name(mistake.truth), result.class_name(mistake.predicted),
                      f"{mistake.confidence:.2f}", *(f"{v:.4g}" for v in mistake.x.reshape(-1)[:width])]
            for column, text in enumerate(values):
                table.setItem(row, column, QTableWidgetItem(text))

    def _show_scatter(self, result: EvaluationResult) -> None:
        item = self.scatter.getPlotItem()
        item.clear()
        truth, predicted = result.truth, result.predicted
        item.addItem(pg.ScatterPlotItem(truth, predicted, size=4, pen=None, brush=pg.mkBrush(31, 119, 180, 140)))
        lo = float(min(truth.min(), predicted.min()))
        hi = float(max(truth.max(), predicted.max()))
        item.plot([lo, hi], [lo, hi], pen=pg.mkPen("#d62728", width=1.5, style=Qt.PenStyle.DashLine))

    def _show_reconstructions(self, result: EvaluationResult) -> None:
        inputs, outputs = result.reconstructions
        self.reconstructions.clear()
        for index, (x, out) in enumerate(zip(inputs, outputs)):
            left, right = sample_image(x), sample_image(out)
            if left is None or right is None:
                text = f"sample {index}: error {float(np.sqrt(np.mean((x - out) ** 2))):.3g} RMS"
                self.reconstructions.addItem(QListWidgetItem(text))
                continue
            pixmap = to_pixmap(side_by_side(left, right), ICON * 2)
            item = QListWidgetItem(QIcon(pixmap), f"sample {index}: input | output")
            self.reconstructions.addItem(item)
        self.reconstructions.setIconSize(QSize(ICON * 2, ICON))
