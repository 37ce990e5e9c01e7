"""A look at the dataset before training: points, images or rows, plus the class balance.

Loading may take a moment (scikit-learn, a large CSV), so it runs on a worker thread, debounced after
each edit; a result for an outdated section is dropped. A loading error (a missing file, a bad column)
is shown right here, in the loader's own words.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.training.augment import KEY as AUGMENT_KEY
from nnstudio.training.augment import AugmentError, parse_augment, preview_samples
from nnstudio.training.augment.parse import fit_problems
from nnstudio.training.data import DatasetError, DataSplits, load_dataset
from nnstudio.training.data.streaming_source import first_samples
from nnstudio.ui.background import FuturePoller
from nnstudio.ui.plots.base import PALETTE, configure_plot
from nnstudio.ui.plots.boundary import class_colours
from nnstudio.ui.training.text_preview import TextPreview

DEBOUNCE_MS = 400
MAX_POINTS = 1500
GRID = (4, 8)  # rows, columns of the image mosaic
TABLE_ROWS = 40
AUGMENT_GRID = (4, 4)  # rows, columns of the original and augmented mosaics
AUGMENT_COUNT = AUGMENT_GRID[0] * AUGMENT_GRID[1]
Context = Callable[[], tuple[dict[str, Any], int, "Path | None"]]  # (dataset section, seed, project folder)


class DatasetLoader(QObject):
    """Loads a dataset section on a worker thread; emits `loaded(data)` or `failed(message)` on the GUI thread.

    The worker only runs `load_dataset`; a `FuturePoller` picks the result up on the GUI thread.
    """

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnstudio-dataset")
        self._generation = 0
        self._pending: tuple[dict[str, Any], int, Path | None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self._poller = FuturePoller(self)
        self.data: DataSplits | None = None
        self.key: Any = None  # the (section, seed, folder) the current data belongs to

    def request(self, section: dict[str, Any], seed: int, base_dir: Path | None, now: bool = False) -> None:
        self._pending = (copy.deepcopy(section), seed, base_dir)
        self._timer.start(0 if now else DEBOUNCE_MS)

    def _start(self) -> None:
        if self._pending is None:
            return
        section, seed, base_dir = self._pending
        self._pending = None
        self._generation += 1
        generation = self._generation
        future = self._executor.submit(load_dataset, section, seed, base_dir)
        self._poller.watch(future, partial(self._on_done, generation, (repr(section), seed, base_dir)))

    def _on_done(self, generation: int, key: Any, future: Future) -> None:
        if generation != self._generation:
            return
        try:
            data = future.result()
        except DatasetError as exc:
            self.data, self.key = None, None
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # an unexpected loader bug is shown, not raised into the event loop
            self.data, self.key = None, None
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.data, self.key = data, key
        self.loaded.emit(data)

    def shutdown(self) -> None:
        self._timer.stop()
        self._poller.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)


def image_mosaic(x: np.ndarray, count: int, grid: tuple[int, int] = GRID,
                 levels: tuple[float, float] | None = None) -> np.ndarray | None:
    """The first `count` samples tiled into one [width, height(, 3)] image (x-major), or None if not images.

    Each sample is scaled to its own range, or, with `levels`, all of them to that one range (so that an
    augmented grid keeps the brightness changes it shows)."""
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            return None
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        return None
    x = x[:count].astype(np.float64)
    if levels is None:
        lo = x.min(axis=(1, 2, 3), keepdims=True)
        hi = x.max(axis=(1, 2, 3), keepdims=True)
    else:
        lo, hi = np.float64(levels[0]), np.float64(levels[1])
    x = np.clip((x - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)
    rows, cols = grid
    _, channels, h, w = x.shape
    mosaic = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, channels))
    for i, image in enumerate(x):
        r, c = divmod(i, cols)
        mosaic[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = image.transpose(1, 2, 0)
    mosaic = mosaic[::-1].transpose(1, 0, 2)  # x-major, first row on top
    return mosaic[..., 0] if channels == 1 else mosaic


class DatasetPreview(QWidget):
    """Shows a loaded DataSplits: scatter, images, table or sequences, and the class balance below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.stack = QStackedWidget()
        self.scatter = self._plot("Training samples", "x₁", "x₂")
        self.scatter_item = pg.ScatterPlotItem(size=4, pen=None)
        self.scatter.getPlotItem().addItem(self.scatter_item)
        self.scatter.getPlotItem().setAspectLocked(True)
        self.images = self._plot("First training images", "", "")
        self.images.getPlotItem().hideAxis("left")
        self.images.getPlotItem().hideAxis("bottom")
        self.images.getPlotItem().setAspectLocked(True)
        self.image_item = pg.ImageItem(axisOrder="col-major")
        self.images.getPlotItem().addItem(self.image_item)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sequences = self._plot("First sequences (feature 1)", "time step", "value")
        self.text_rows = TextPreview()  # a text column's rows, tokenised
        for widget in (self.scatter, self.images, self.table, self.sequences, self.text_rows):
            self.stack.addWidget(widget)
        self.balance = self._plot("Class balance (training split)", "", "samples")
        self.balance.setMaximumHeight(170)
        self.stack.setMinimumHeight(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.description)
        layout.addWidget(self.error)
        layout.addWidget(self.stack)
        layout.addWidget(self.balance)
        self.shown: str = ""
        self.show_message("")

    def _plot(self, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
        widget = pg.PlotWidget()
        configure_plot(widget.getPlotItem(), title, x_label, y_label)
        return widget

    def show_message(self, text: str, is_error: bool = False) -> None:
        self.error.setText(text if is_error else "")
        self.error.setVisible(is_error and bool(text))
        if is_error:
            self.description.setText("")
            self.stack.setVisible(False)
            self.balance.setVisible(False)
            self.shown = "error"
        elif text:
            self.description.setText(text)

    def show_data(self, data: DataSplits) -> None:
        self.error.setVisible(False)
        self.description.setText(data.description)
        self.stack.setVisible(True)
        x, y = (part.numpy() for part in first_samples(data.train))  # streamed: the first samples only
        if data.kind == "points2d" and x.ndim == 2 and x.shape[1] == 2:
            self._show_points(x, y, data)
        elif data.kind == "image" and (mosaic := image_mosaic(x, GRID[0] * GRID[1])) is not None:
            self.image_item.setImage(mosaic, levels=(0, 1))
            self.image_item.setRect(QRectF(0, 0, mosaic.shape[0], mosaic.shape[1]))
            self.stack.setCurrentWidget(self.images)
            self.shown = "images"
        elif data.kind == "sequence" and x.ndim == 3:
            self._show_sequences(x, y, data)
        elif data.kind == "tokens" and data.vocabulary is not None:
            self.text_rows.show_rows(data)
            self.stack.setCurrentWidget(self.text_rows)
            self.shown = "text"
        else:
            self._show_table(x, y, data)
        self._show_balance(y, data)

    def _show_points(self, x: np.ndarray, y: np.ndarray, data: DataSplits) -> None:
        if len(x) > MAX_POINTS:
            x, y = x[:MAX_POINTS], y[:MAX_POINTS]
        colours = class_colours(data.num_classes or 2)
        labels = y.reshape(-1).round().astype(int) if data.task in ("classification", "binary") else None
        if labels is not None:  # one brush object per class: pyqtgraph then renders one symbol per class
            shared = [pg.mkBrush(*colour) for colour in colours]
            brushes = [shared[c % len(shared)] for c in labels]
        else:
            brushes = pg.mkBrush(PALETTE[0])
        self.scatter_item.setData(x=x[:, 0], y=x[:, 1], brush=brushes)
        self.stack.setCurrentWidget(self.scatter)
        self.shown = "points"

    def _show_sequences(self, x: np.ndarray, y: np.ndarray, data: DataSplits) -> None:
        item = self.sequences.getPlotItem()
        item.clear()
        labels = y.reshape(len(y), -1)[:, 0]
        for i in range(min(8, len(x))):
            colour = PALETTE[int(labels[i]) % len(PALETTE)] if data.num_classes else PALETTE[i % len(PALETTE)]
            item.plot(x[i, :, 0], pen=pg.mkPen(colour, width=1.2))
        self.stack.setCurrentWidget(self.sequences)
        self.shown = "sequences"

    def _show_table(self, x: np.ndarray, y: np.ndarray, data: DataSplits) -> None:
        flat = x.reshape(len(x), -1)[:TABLE_ROWS]
        names = list(data.feature_names or [])
        columns = min(flat.shape[1], 30)
        if len(names) != flat.shape[1]:
            names = [f"x{i + 1}" for i in range(flat.shape[1])]
        targets = y.reshape(len(y), -1)[:TABLE_ROWS]
        self.table.clear()
        self.table.setRowCount(len(flat))
        self.table.setColumnCount(columns + 1)
        self.table.setHorizontalHeaderLabels([*names[:columns], "target"])
        for row in range(len(flat)):
            for column in range(columns):
                self.table.setItem(row, column, QTableWidgetItem(f"{flat[row, column]:.4g}"))
            self.table.setItem(row, columns, QTableWidgetItem(_target_text(targets[row], data)))
        self.stack.setCurrentWidget(self.table)
        self.shown = "table"

    def _show_balance(self, y: np.ndarray, data: DataSplits) -> None:
        item = self.balance.getPlotItem()
        item.clear()
        self.balance.setVisible(True)
        if data.task in ("classification", "binary"):
            labels = y.reshape(-1).round().astype(int)
            count = data.num_classes or int(labels.max()) + 1
            counts = np.bincount(labels, minlength=count)
            colours = class_colours(count)
            brushes = [pg.mkBrush(*colours[i]) for i in range(count)]
            item.addItem(pg.BarGraphItem(x=np.arange(count), height=counts, width=0.7, brushes=brushes))
            names = data.class_names or [str(i) for i in range(count)]
            item.getAxis("bottom").setTicks([[(i, str(n)[:10]) for i, n in enumerate(names)]])
            item.setTitle("Class balance (training split)", size="9pt")
        else:
            counts, edges = np.histogram(y.reshape(-1), bins=30)
            item.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush=pg.mkBrush(PALETTE[0])))
            item.getAxis("bottom").setTicks(None)
            item.setTitle("Target distribution (training split)", size="9pt")


def _target_text(target: np.ndarray, data: DataSplits) -> str:
    if data.task == "classification" and data.class_names:
        index = int(target[0])
        return data.class_names[index] if 0 <= index < len(data.class_names) else str(index)
    return ", ".join(f"{v:.4g}" for v in target[:4]) + ("…" if len(target) > 4 else "")


def _mosaic_plot(title: str) -> tuple[pg.PlotWidget, pg.ImageItem]:
    widget = pg.PlotWidget()
    configure_plot(widget.getPlotItem(), title, "", "")
    item = widget.getPlotItem()
    item.hideAxis("left")
    item.hideAxis("bottom")
    item.setAspectLocked(True)
    image = pg.ImageItem(axisOrder="col-major")
    item.addItem(image)
    widget.setMinimumHeight(150)
    return widget, image


class AugmentPreview(QWidget):
    """The first training samples beside the same samples augmented as a training step does it, drawn on
    demand: "Show augmented samples", then "Refresh" for another draw. While shown, an edit of the list
    redraws the same draw, so a changed param shows at once. `context` gives (dataset section, seed, folder).

    The data is loaded here without the list (edits of the list do not reload it); the augmentation runs on
    the GUI thread, a few milliseconds for 16 samples, seeded by the draw number."""

    def __init__(self, context: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.button = QPushButton("Show augmented samples")
        self.button.setObjectName("augment_show")
        self.button.clicked.connect(self.show_augmented)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555;")
        self.originals, self.original_item = _mosaic_plot("Training samples")
        self.augmented, self.augmented_item = _mosaic_plot("Augmented")
        self.grids = QWidget()
        row = QHBoxLayout(self.grids)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.originals)
        row.addWidget(self.augmented)
        self.grids.setVisible(False)
        self.grids.setFixedHeight(250)  # two square mosaics side by side: more height would only add margins
        self.loader = DatasetLoader(self)
        self.loader.loaded.connect(self._draw)
        self.loader.failed.connect(self._show_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        layout.addWidget(self.grids)
        self.draw = 0
        self.shown = False

    def show_augmented(self) -> None:
        """Draw again (the button): another draw of the same samples."""
        self.draw += 1
        self.shown = True
        self.button.setText("Refresh")
        self._request()

    def refresh(self) -> None:
        """The dataset section changed: redraw if the grids are shown."""
        if self.shown:
            self._request()

    def set_locked(self, locked: bool) -> None:
        self.button.setEnabled(not locked)  # a draw seeds torch's global generators, which a run is using

    def _request(self) -> None:
        section, seed, base_dir = self.context()
        plain = {key: value for key, value in section.items() if key != AUGMENT_KEY}
        if self.loader.data is not None and self.loader.key == (repr(plain), seed, base_dir):
            self._draw(self.loader.data)
            return
        self._show_status("Loading the training samples…", keep_grids=True)
        self.loader.request(plain, seed, base_dir, now=True)

    def _show_status(self, text: str, keep_grids: bool = False) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        if not keep_grids:
            self.grids.setVisible(False)

    def _draw(self, data: DataSplits) -> None:
        section, seed, _ = self.context()
        problem = _draw_problem(section, data)
        if problem:
            self._show_status(problem)
            return
        x, y = first_samples(data.train, AUGMENT_COUNT)  # decoded now when the split is streamed
        try:
            augmented, _ = preview_samples(section, x, y, data.num_classes, seed, self.draw)
        except (AugmentError, ValueError, RuntimeError) as exc:
            self._show_status(f"Cannot augment these samples: {exc}")
            return
        levels = (float(x.min()), float(x.max()))
        for item, samples in ((self.original_item, x), (self.augmented_item, augmented)):
            mosaic = image_mosaic(samples.float().numpy(), AUGMENT_COUNT, AUGMENT_GRID, levels)
            if mosaic is None:
                self._show_status(f"Augmented samples are drawn for images; these samples are {data.kind}.")
                return
            item.setImage(mosaic, levels=(0, 1))
            item.setRect(QRectF(0, 0, mosaic.shape[0], mosaic.shape[1]))
        self.augmented.getPlotItem().setTitle(f"Augmented (draw {self.draw})", size="9pt")
        self._show_status(f"The first {len(x)} training samples, and the same samples as a training step "
                          f"augments them (seed {seed}). Validation and test data are never augmented.",
                          keep_grids=True)
        self.grids.setVisible(True)


def _draw_problem(section: dict[str, Any], data: DataSplits) -> str | None:
    """Why the list cannot be drawn on these samples (the checks' own words), or None."""
    if not section.get(AUGMENT_KEY):
        return "No transforms yet: add one above to see what it does to the training samples."
    transforms, problems = parse_augment(section.get(AUGMENT_KEY))
    problems = problems or fit_problems(transforms, data.kind, tuple(data.input_shape), data.input_dtype)
    if problems:
        place, message = problems[0]
        return f"{place}: {message}"
    return None
