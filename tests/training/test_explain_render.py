"""Drawing attributions without Qt or Pillow: the PNG encoder, the heatmap and the JSON; no Captum needed."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

from nnstudio.training.explain.methods import METHODS
from nnstudio.training.explain.render import MIN_SIDE, heatmap_colours, png_bytes, write_result
from nnstudio.training.explain.run import Attribution


def decode_png(data: bytes) -> np.ndarray:
    """The pixels of an 8-bit RGB PNG with filter 0 rows: enough to check our own encoder."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width * 3 + 1)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, 3)


def test_png_round_trips():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert (decode_png(png_bytes(rgb)) == rgb).all()


def test_signed_maps_are_red_for_positive_and_blue_for_negative():
    colours = heatmap_colours(np.array([[1.0, -1.0, 0.0]]))
    red, blue, white = colours[0]
    assert red[0] > red[2] and blue[2] > blue[0] and (white == 255).all()


def image_attribution() -> Attribution:
    values = np.zeros((1, 8, 8), np.float32)
    values[0, 2, 5] = 3.0
    sample = np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 8, 8)
    return Attribution("saliency", values, 1, "1", "image", [f"x[{i}]" for i in range(64)], sample=sample)


def test_heatmap_png_shows_the_input_beside_the_map(tmp_path):
    path = write_result(image_attribution(), tmp_path / "map.png")
    pixels = decode_png(path.read_bytes())
    side = pixels.shape[0]
    assert side >= MIN_SIDE and pixels.shape[1] > 2 * side
    cell = side // 8
    right = pixels[:, -side:]
    hot = right[2 * cell + cell // 2, 5 * cell + cell // 2]
    assert tuple(hot) == (200, 0, 0) and (right[cell // 2, cell // 2] == 255).all()
    assert not list(tmp_path.glob(".*tmp"))  # written atomically: no temporary left


def test_json_and_refusals(tmp_path):
    attribution = Attribution(
        "integrated-gradients",
        np.array([0.1, -0.7], np.float32),
        0,
        "no",
        "tabular",
        ["a", "b"],
        sample=np.zeros(2, np.float32),
    )
    data = json.loads(write_result(attribution, tmp_path / "a.json").read_text())
    assert data["title"] == METHODS["integrated-gradients"].title
    assert [f["name"] for f in data["features"]] == ["a", "b"]
    assert data["features"][1]["attribution"] == pytest.approx(-0.7)
    with pytest.raises(ValueError, match="a heatmap is drawn for image or sequence inputs"):
        write_result(attribution, tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"--out takes a \.png"):
        write_result(attribution, tmp_path / "a.txt")
    with pytest.raises(ValueError, match="cannot write it"):
        write_result(attribution, tmp_path / "missing" / "a.json")
    assert not (tmp_path / "a.png").exists()


def test_every_method_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "inspecting.md").read_text(encoding="utf-8")
    for name in METHODS:
        assert f"`{name}`" in text, name
