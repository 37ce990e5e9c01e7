"""Attributions as pictures and files, without Qt: a heatmap PNG for images, JSON for anything.

The PNG is written by a small zlib-based encoder, so a heatmap needs neither Pillow nor matplotlib, and the
file is written to a temporary name and renamed, so a failure never leaves half a picture.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from nnstudio.util.atomic import atomic_write

MIN_SIDE = 160  # pixels: small inputs (8 × 8 digits) are enlarged so that the map can be seen
GAP = 4


def png_bytes(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB image [H, W, 3] encoded as PNG (filter 0 on every row, one IDAT chunk)."""
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def heatmap_colours(values: np.ndarray) -> np.ndarray:
    """[H, W] attributions as RGB: white to red for positive, white to blue for negative, scaled to the largest
    magnitude, so the sign of a signed method stays visible and an all-positive map reads as heat."""
    scale = float(np.abs(values).max()) or 1.0
    v = np.clip(values / scale, -1.0, 1.0)[..., None]
    white, red, blue = np.array([255.0, 255.0, 255.0]), np.array([200.0, 0.0, 0.0]), np.array([0.0, 60.0, 200.0])
    colours = np.where(v >= 0, white + (red - white) * v, white + (blue - white) * (-v))
    return colours.astype(np.uint8)


def image_planes(attribution) -> tuple[np.ndarray, np.ndarray]:
    """The input as greys (or its colours) and the attribution summed over channels, both [H, W, ...]."""
    values, sample = attribution.values, attribution.sample
    if values.ndim == 3:
        heat = values.sum(axis=0)
        picture = sample.transpose(1, 2, 0) if sample.shape[0] == 3 else sample[0]
    elif values.ndim == 2:
        heat, picture = values, sample
    else:
        heat, picture = values.reshape(1, -1), sample.reshape(1, -1)
    return picture, heat


def heatmap_png(attribution) -> bytes:
    """The input beside its attribution map, enlarged with whole-pixel blocks to at least MIN_SIDE."""
    picture, heat = image_planes(attribution)
    low, high = float(picture.min()), float(picture.max())
    greys = ((picture - low) / ((high - low) or 1.0) * 255).astype(np.uint8)
    left = np.repeat(greys[..., None], 3, axis=2) if greys.ndim == 2 else greys
    right = heatmap_colours(heat)
    factor = max(1, -(-MIN_SIDE // max(heat.shape)))
    left, right = (np.kron(img, np.ones((factor, factor, 1), np.uint8)) for img in (left, right))
    gap = np.full((left.shape[0], GAP, 3), 255, np.uint8)
    return png_bytes(np.concatenate([left, gap, right], axis=1))


def write_result(attribution, path: str | Path) -> Path:
    """Write a heatmap (.png, image inputs only) or the attributions as JSON (.json), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        if attribution.values.ndim < 2:
            raise ValueError(
                f"{path}: a heatmap is drawn for image or sequence inputs; this input is a vector of "
                f"{attribution.values.size} features, write .json (or read the bars printed)"
            )
        data = heatmap_png(attribution)
    elif suffix == ".json":
        data = (json.dumps(attribution.to_json(), indent=2) + "\n").encode("utf-8")
    else:
        raise ValueError(f"{path}: --out takes a .png (heatmap) or a .json file")
    try:
        atomic_write(path, lambda temp: Path(temp).write_bytes(data))
    except OSError as exc:
        raise ValueError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    return path
