"""Samples as pictures: arrays to [0, 1] images and to pixmaps, for the mistakes, reconstructions and samples."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

ICON = 72


def sample_image(x: np.ndarray, value_range: tuple[float, float] | None = None) -> np.ndarray | None:
    """A sample as a [H, W] or [H, W, 3] array in [0, 1], when it is an image (or a square vector).

    With `value_range` (the data's own range) every image is put on that one scale, so a faint reconstruction
    looks faint; without it each image is stretched to its own minimum and maximum.
    """
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
    lo, hi = value_range if value_range is not None else (float(x.min()), float(x.max()))
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(x)


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
