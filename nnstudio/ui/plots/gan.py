"""The GAN recipe's live views: the two players' losses, D(real) against D(fake), and the generated samples.

The gan trainer logs a "gan" record per sampled step (d_loss, g_loss, d_real, d_fake), epoch means under the
same names, and "samples" records: generated samples from one fixed noise batch, flattened, with their
"shape". The first of them also carries real samples ("real") and, for a toy mixture, the mode centres.
Two-dimensional samples are drawn as a scatter over the real points, so mode collapse shows as fake points
piling onto a few modes; image-shaped samples ([C, H, W] or [H, W]) as a grid of tiles.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import CurvePlot, configure_plot, export_png, lighter, set_title
from nnstudio.ui.plots.curves import draw_runs
from nnstudio.ui.plots.layout import make_readable
from nnstudio.ui.plots.series import RunSeries

D_COLOUR, G_COLOUR = "#d62728", "#1f77b4"
REAL_COLOUR, FAKE_COLOUR = "#2ca02c", "#ff7f0e"
HELD_OUT_COLOUR = "#9467bd"
LOSS_CURVES = [("gan/d_loss", "D (steps)", lighter(D_COLOUR), 1.0), ("gan/g_loss", "G (steps)", lighter(G_COLOUR), 1.0),
               ("epoch/d_loss", "D loss", D_COLOUR, 2.0), ("epoch/g_loss", "G loss", G_COLOUR, 2.0)]
SCORE_CURVES = [("gan/d_real", "D(real) (steps)", lighter(REAL_COLOUR), 1.0),
                ("gan/d_fake", "D(fake) (steps)", lighter(FAKE_COLOUR), 1.0),
                ("epoch/d_real", "D(real)", REAL_COLOUR, 2.0), ("epoch/d_fake", "D(fake)", FAKE_COLOUR, 2.0),
                ("epoch/val_d_real", "D(held-out)", HELD_OUT_COLOUR, 2.0)]
# The keys go in the titles: at 1400×900 these plots are ~200 px tall, and a legend inside covered the curves.
HINT = "<span style='color:#777777; font-size:8pt'>&nbsp;thin: steps</span>"


def keyed_title(title: str, entries: list[tuple[str, str]], hint: str = HINT) -> str:
    """A plot title followed by a coloured key, '━ D loss  ━ G loss'."""
    keys = "&nbsp;&nbsp;".join(f"<span style='color:{pen}'>{'' if label.startswith('✕') else '━ '}{label}</span>"
                               for label, pen in entries)
    return f"{title}&nbsp;&nbsp;<span style='font-size:9pt'>{keys}</span>{hint}"
GRID_GAP = 1  # pixels between tiles of the image grid


def tile_grid(samples: np.ndarray, shape: list[int]) -> np.ndarray | None:
    """Flat samples [N, prod(shape)] as one greyscale or RGB image of tiles [rows·H, cols·W(, 3)], None when the
    shape is not an image (C in 1 or 3 channels first, or H×W)."""
    if len(shape) == 2:
        shape = [1, *shape]
    if len(shape) != 3 or shape[0] not in (1, 3) or min(shape[1:]) < 2 or samples.shape[1] != math.prod(shape):
        return None
    channels, height, width = shape
    count = len(samples)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    tiles = samples.reshape(count, channels, height, width).transpose(0, 2, 3, 1)
    lo, hi = float(np.nanmin(tiles)), float(np.nanmax(tiles))
    tiles = (tiles - lo) / (hi - lo) if hi > lo else np.zeros_like(tiles)
    canvas = np.ones((rows * (height + GRID_GAP), cols * (width + GRID_GAP), channels), dtype=np.float32)
    for index in range(count):
        r, c = divmod(index, cols)
        y, x = r * (height + GRID_GAP), c * (width + GRID_GAP)
        canvas[y:y + height, x:x + width] = tiles[index]
    return canvas[..., 0] if channels == 1 else canvas


class SamplesView(QWidget):
    """Generated samples from the latest "samples" record: a scatter against the real points, or a tile grid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = pg.PlotWidget()
        self.item: pg.PlotItem = self.widget.getPlotItem()
        configure_plot(self.item, "Generated samples", "x₁", "x₂")
        fake = pg.mkColor(FAKE_COLOUR)
        fake.setAlpha(150)
        self.real = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(REAL_COLOUR))
        self.fake = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(fake))
        self.centres = pg.ScatterPlotItem(size=12, symbol="x", pen=pg.mkPen("#222222", width=1.5), brush=None)
        self.image = pg.ImageItem(axisOrder="row-major")
        for item in (self.real, self.centres, self.fake, self.image):
            self.item.addItem(item)
        self.fake.setZValue(0)
        self.real.setZValue(5)  # the real points stay visible under a cloud of fakes
        self.centres.setZValue(10)
        self.message = QLabel("Generated samples appear here after the first epoch.")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #777;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget, 1)
        layout.addWidget(self.message)
        make_readable(self)
        self.mode = "empty"
        self._shown: tuple | None = None

    def show_samples(self, record: dict | None, reference: dict | None = None) -> None:
        """Draw a "samples" record (None: clear); `reference` is the record that carries the real points."""
        key = (id(record), id(reference))
        if key == self._shown:
            return
        self._shown = key
        if not record or not record.get("samples"):
            self._clear("Generated samples appear here after the first epoch.")
            return
        samples = np.asarray(record["samples"], dtype=np.float64)
        shape = [int(s) for s in record.get("shape") or [samples.shape[1]]]
        epoch = record.get("epoch")
        if shape == [2]:
            self._scatter(samples, reference or {}, epoch)
        elif (grid := tile_grid(samples, shape)) is not None:
            self._grid(grid, len(samples), epoch)
        else:
            self._clear(f"Samples of shape {shape} are neither 2-D points nor images; nothing to draw.")

    def _clear(self, text: str) -> None:
        for item in (self.real, self.fake, self.centres):
            item.setData([], [])
        self.image.clear()
        self.message.setText(text)
        self.message.setVisible(True)
        self.mode = "empty"

    def _scatter(self, samples: np.ndarray, reference: dict, epoch) -> None:
        self.image.clear()
        self.item.showAxis("left")
        self.item.showAxis("bottom")
        self.item.setAspectLocked(True)
        self.item.invertY(False)
        real = np.asarray(reference.get("real") or np.zeros((0, 2)), dtype=np.float64).reshape(-1, 2)
        centres = np.asarray(reference.get("centres") or np.zeros((0, 2)), dtype=np.float64).reshape(-1, 2)
        self.real.setData(real[:, 0], real[:, 1])
        self.centres.setData(centres[:, 0], centres[:, 1])
        self.fake.setData(samples[:, 0], samples[:, 1])
        keys = [("fake", FAKE_COLOUR), ("real", REAL_COLOUR)] + ([("✕ mode", "#222222")] if len(centres) else [])
        set_title(self.item, keyed_title(f"Samples · epoch {epoch}", keys, ""))
        self.message.setVisible(False)
        self.mode = "scatter"

    def _grid(self, grid: np.ndarray, count: int, epoch) -> None:
        for item in (self.real, self.fake, self.centres):
            item.setData([], [])
        self.item.hideAxis("left")
        self.item.hideAxis("bottom")
        self.item.setAspectLocked(True)
        self.item.invertY(True)
        self.image.setImage(grid, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, grid.shape[1], grid.shape[0]))
        self.item.autoRange(padding=0.01)
        set_title(self.item, f"{count} generated samples · epoch {epoch}")
        self.message.setVisible(False)
        self.mode = "grid"

    def has_data(self) -> bool:
        return self.mode != "empty"

    def export_png(self, path: Path, width: int = 1200) -> Path:
        return export_png(self.item, path, width)


class GanTab(QSplitter):
    """Losses and D scores stacked on the left, the samples on the right."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.losses = CurvePlot("Losses", "loss", legend=False)
        self.scores = CurvePlot("D scores", "D output", legend=False)
        set_title(self.losses.item, keyed_title("Losses", [("D", D_COLOUR), ("G", G_COLOUR)]))
        set_title(self.scores.item, keyed_title("D(x)", [("real", REAL_COLOUR), ("fake", FAKE_COLOUR),
                                                        ("held-out real", HELD_OUT_COLOUR)]))
        self.samples = SamplesView()
        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(self.losses)
        left.addWidget(self.scores)
        self.addWidget(left)
        self.addWidget(self.samples)
        self.setChildrenCollapsible(False)
        self.setSizes([560, 440])

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        draw_runs(self.losses, runs, LOSS_CURVES)
        draw_runs(self.scores, runs, SCORE_CURVES)
        primary = runs[0][0] if runs else None
        self.samples.show_samples(primary.latest.get("samples") if primary else None,
                                  primary.reference if primary else None)

    def plots(self) -> list[tuple[str, object]]:
        return [("GAN losses", self.losses), ("D scores", self.scores), ("Generated samples", self.samples)]
