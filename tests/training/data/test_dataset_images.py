"""Image folders: one sub-folder per class, resized and scaled; broken folders and files are named."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from nnstudio.training.data import DatasetError, load_dataset


def _make_folder(root: Path, classes: dict[str, int]) -> Path:
    for index, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for k in range(count):
            colour = (40 * index + k, 200 - 30 * index, 90)
            suffix = ".png" if k % 2 == 0 else ".jpg"
            Image.new("RGB", (10 + k, 12), colour).save(folder / f"img{k}{suffix}")
    return root


def _load(root: Path, **params):
    section = {"name": "image_folder", "params": {"path": root.name, **params}, "val_fraction": 0.25}
    return load_dataset(section, seed=0, base_dir=root.parent)


def test_colour_images_are_resized_channels_first(tmp_path) -> None:
    root = _make_folder(tmp_path / "shapes", {"cats": 4, "dogs": 4})
    data = _load(root, size=[6, 5])
    assert data.input_shape == (3, 6, 5) and data.kind == "image" and data.class_names == ["cats", "dogs"]
    assert len(data.train) + len(data.val) + len(data.test) == 8
    everything = torch.cat([s.x for s in data.splits().values()])
    assert float(everything.min()) >= 0.0 and float(everything.max()) <= 1.0


def test_grayscale_and_square_size(tmp_path) -> None:
    root = _make_folder(tmp_path / "shapes", {"a": 3, "b": 3, "c": 2})
    data = _load(root, size=8, grayscale=True)
    assert data.input_shape == (1, 8, 8) and data.num_classes == 3


def test_a_class_folder_without_images_is_named(tmp_path) -> None:
    root = _make_folder(tmp_path / "shapes", {"cats": 2})
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match=r"empty: the class folder holds no images"):
        _load(root)


def test_an_unreadable_image_is_named(tmp_path) -> None:
    root = _make_folder(tmp_path / "shapes", {"cats": 2, "dogs": 2})
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG but then nothing useful")
    with pytest.raises(DatasetError, match=r"broken\.png: not a readable image"):
        _load(root)


def test_missing_or_flat_folders(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"nothing: no such folder"):
        _load(tmp_path / "nothing")
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "lonely.png")
    with pytest.raises(DatasetError, match=r"flat: no class folders"):
        _load(tmp_path / "flat")


def test_missing_pillow_names_the_extra(tmp_path, monkeypatch) -> None:
    root = _make_folder(tmp_path / "shapes", {"cats": 2})
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(DatasetError, match=r'pip install "nnstudio\[datasets\]"'):
        _load(root)
