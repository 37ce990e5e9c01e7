"""A VAE's evaluation page: its reconstructions as two aligned image grids, beside images decoded from
z ~ N(0, I), redrawn on demand from a seed.

The seed is shown and editable, so a draw the user liked can be brought back; "New samples" moves to the next
seed and asks for it with `seed_requested`; the view decodes (in the app, on the evaluation thread) and hands
the result back through `show_values`. Seeing both at once answers the question a VAE raises: are the samples
as good as the reconstructions, or has the code drifted away from the prior?
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.evaluation.images import sample_image
from nnstudio.ui.evaluation.objective import PriorSampler

MAX_SEED = 2**31 - 1
GAP = 1  # pixels of paper between tiles, in the image's own pixels


def grid_image(images: list[np.ndarray], columns: int, background: float = 1.0) -> np.ndarray:
    """Tiles ([H, W] or [H, W, 3] in [0, 1], all the same size) in rows of `columns`, GAP pixels apart."""
    h, w = images[0].shape[:2]
    rows = math.ceil(len(images) / columns)
    grid = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP, *images[0].shape[2:]), background)
    for index, tile in enumerate(images):
        top, left = (index // columns) * (h + GAP), (index % columns) * (w + GAP)
        grid[top:top + h, left:left + w] = tile
    return grid


class ImageGrid(QWidget):
    """One image scaled to fit, pixels kept square and sharp (nearest neighbour), centred across and at the
    top, so the caption above it stays next to it however tall the page is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(120, 120)

    def set_image(self, values: np.ndarray | None) -> None:
        if values is None:
            self.image = None
        else:
            data = np.ascontiguousarray((np.clip(values, 0, 1) * 255).astype(np.uint8))
            h, w = data.shape[:2]
            fmt = QImage.Format.Format_Grayscale8 if data.ndim == 2 else QImage.Format.Format_RGB888
            self.image = QImage(data.data, w, h, data.strides[0], fmt).copy()
        self.update()

    def target_rect(self) -> QRect:
        """Where the image is drawn: the largest whole-number zoom that fits (or a fractional one if none)."""
        if self.image is None:
            return QRect()
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        scale = math.floor(scale) if scale >= 1 else scale
        w, h = int(iw * scale), int(ih * scale)
        return QRect((self.width() - w) // 2, 0, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.image is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.target_rect(), self.image)
        painter.end()


def as_images(values: np.ndarray, value_range: tuple[float, float] | None) -> list[np.ndarray] | None:
    """Every sample as an image on one scale, or None when they are not images."""
    images = [sample_image(v, value_range) for v in values]
    return images if images and all(image is not None for image in images) else None


class ReconstructionGrids(QWidget):
    """Inputs and the model's outputs as two grids, tile for tile: the same place holds the same sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #555")
        self.inputs, self.outputs = ImageGrid(), ImageGrid()
        grids = QHBoxLayout()
        for title, grid in (("input", self.inputs), ("reconstruction", self.outputs)):
            column = QVBoxLayout()
            label = QLabel(title)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setStyleSheet("color: #555")
            column.addWidget(label)
            column.addWidget(grid, 1)
            grids.addLayout(column, 1)
        title = QLabel("Reconstructions")
        title.setMinimumHeight(QSpinBox().sizeHint().height())  # level with the samples' seed row beside it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(title)
        layout.addWidget(self.caption)
        layout.addLayout(grids, 1)

    def show_pairs(self, inputs: list[np.ndarray], outputs: list[np.ndarray]) -> None:
        columns = math.ceil(math.sqrt(len(inputs)))
        self.caption.setText(f"The first {len(inputs)} test samples, each beside what the model makes of it "
                             "(z is the code's mean).")
        self.inputs.set_image(grid_image(inputs, columns))
        self.outputs.set_image(grid_image(outputs, columns))


class SamplesPage(QWidget):
    """Controls (what is drawn, the seed, New samples) above the decoded samples."""

    seed_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setObjectName("evaluation_sample_seed")
        self.seed.setToolTip("The random seed z is drawn with: the same seed gives the same samples.")
        self.seed.editingFinished.connect(self._on_seed_edited)
        self.new_button = QPushButton("New samples")
        self.new_button.setObjectName("evaluation_new_samples")
        self.new_button.setToolTip("Draw another batch of z from the prior (the next seed).")
        self.new_button.clicked.connect(self.next_seed)
        self.caption.setStyleSheet("color: #555")
        title = QLabel("Samples from the prior")
        controls = QHBoxLayout()
        controls.addWidget(title, 1)
        controls.addWidget(QLabel("Seed"))
        controls.addWidget(self.seed)
        controls.addWidget(self.new_button)
        self.grid = ImageGrid()
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.table, 1)
        self.value_range: tuple[float, float] | None = None
        self.shown_seed: int | None = None
        self.values: np.ndarray | None = None

    def show_sampler(self, sampler: PriorSampler, seed: int, values: np.ndarray,
                     value_range: tuple[float, float] | None) -> None:
        shape = "×".join(str(d) for d in sampler.latent_shape)
        self.caption.setText(f"{sampler.count} draws of z ~ N(0, I) of shape [{shape}], fed through the layers after "
                             f"'{sampler.node_name}'.")
        self.value_range = value_range
        self.show_values(seed, values)

    def show_values(self, seed: int, values: np.ndarray) -> None:
        self.shown_seed, self.values = seed, values
        self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(False)
        self.new_button.setEnabled(True)
        images = as_images(values, self.value_range)
        self.grid.setVisible(images is not None)
        self.table.setVisible(images is None)
        if images is not None:
            self.grid.set_image(grid_image(images, columns=min(8, len(images))))
        else:
            self._fill_table(values)

    def next_seed(self) -> None:
        self.request(min(MAX_SEED, self.seed.value() + 1) if self.shown_seed is not None else self.seed.value())

    def request(self, seed: int) -> None:
        self.new_button.setEnabled(False)  # until the samples arrive
        self.seed_requested.emit(seed)

    def _on_seed_edited(self) -> None:
        if self.seed.value() != self.shown_seed:
            self.request(self.seed.value())

    def _fill_table(self, values: np.ndarray) -> None:
        flat = values.reshape(len(values), -1)
        width = min(12, flat.shape[1])
        self.table.clear()
        self.table.setRowCount(len(flat))
        self.table.setColumnCount(width)
        self.table.setHorizontalHeaderLabels([f"out{i + 1}" for i in range(width)])
        for row, sample in enumerate(flat):
            for column in range(width):
                self.table.setItem(row, column, QTableWidgetItem(f"{sample[column]:.4g}"))

