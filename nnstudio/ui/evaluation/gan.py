"""A GAN run's evaluation page: samples from the final generator, as a grid of images or, for 2-D data, as a
scatter over the real points (where the modes it covers and misses are plain to see). Computed off the GUI thread.

The generator is the part of the run's inference graph from the noise Input to the generator's Output
(compile/parts.py), with the checkpoint's weights; the noise is fixed by the run's seed, so evaluating a run
twice shows the same samples, drawn apart from the noise the trainer logged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from nnstudio.ui.evaluation.samples import ImageGrid, as_images, grid_image
from nnstudio.ui.plots.base import add_legend_row, configure_plot

POINTS = 512  # generated points on the scatter (and as many real ones)
IMAGES = 64  # generated images in the grid


@dataclass
class GanSamples:
    fake: np.ndarray  # [N, ...] generated samples
    real: np.ndarray  # [M, ...] real samples of the split, for comparison
    value_range: tuple[float, float] | None  # the data's range: images drawn on its scale

    @property
    def points(self) -> bool:
        return self.fake.ndim == 2 and self.fake.shape[1] == 2


def gan_samples(job, x: torch.Tensor) -> GanSamples:
    """The final generator's samples from fixed noise (weights already loaded into the job's network)."""
    from nnstudio.compile.parts import part
    from nnstudio.training.recipes.gan import gan_ends
    from nnstudio.training.recipes.gan_steps import evaluating, generate
    from nnstudio.training.recipes.gan_trainer import fixed_noise

    compiled = job.compiled
    ends = gan_ends(job.project)
    network = compiled.network.cpu()
    generator = part(compiled, [ends.noise], [ends.fake])
    points = tuple(x.shape[1:]) == (2,)
    shape = tuple(compiled.analysis.shapes.of(ends.noise).shape)
    noise = fixed_noise(POINTS if points else IMAGES, shape, job.settings.seed + 4)
    with evaluating(network):
        fake = generate(generator, noise).float().numpy()
    value_range = (float(x.min()), float(x.max())) if len(x) else None
    return GanSamples(fake.reshape(len(fake), *x.shape[1:]), x[:POINTS].numpy(), value_range)


class GanPage(QWidget):
    """A caption over the grid (images) or the scatter (2-D points); other samples get the caption alone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.grid = ImageGrid()
        self.scatter = pg.PlotWidget()
        configure_plot(self.scatter.getPlotItem(), "Generated and real samples", "x₁", "x₂")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.scatter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)

    def show_samples(self, samples: GanSamples) -> None:
        if samples.points:
            self._show_points(samples)
            return
        images = as_images(samples.fake, samples.value_range)
        self.grid.set_image(grid_image(images, math.ceil(math.sqrt(len(images)))) if images else None)
        self.stack.setCurrentWidget(self.grid)
        self.caption.setText(f"{len(samples.fake)} samples from the final generator (fixed noise)."
                             if images else "The generator's samples are neither images nor 2-D points.")

    def _show_points(self, samples: GanSamples) -> None:
        item = self.scatter.getPlotItem()
        item.clear()
        if getattr(item, "legend", None) is None:
            add_legend_row(item)
        item.legend.clear()
        real, fake = samples.real, samples.fake
        item.addItem(pg.ScatterPlotItem(real[:, 0], real[:, 1], size=4, pen=None,
                                        brush=pg.mkBrush(120, 120, 120, 110), name="real"))
        item.addItem(pg.ScatterPlotItem(fake[:, 0], fake[:, 1], size=4, pen=None,
                                        brush=pg.mkBrush(214, 39, 40, 160), name="generated"))
        self.stack.setCurrentWidget(self.scatter)
        self.caption.setText(f"{len(fake)} points from the final generator (red) over {len(real)} real points "
                             "(grey).")
