"""A folder of images as a classification dataset: root/<class name>/<image files>.

Images are resized to one size and scaled to [0, 1], channels first ([1, H, W] grey or
[3, H, W] colour). Pillow comes with the optional datasets extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, pair
from nnstudio.training.data.base import (
    EXTRA_HINT,
    DatasetError,
    DatasetSpec,
    LoadContext,
    RawData,
    require_classes,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_IMAGES = 200_000


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise DatasetError(f"dataset: Pillow is needed to read image folders; {EXTRA_HINT}") from None
    return Image


def _class_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder" if not root.exists() else f"{root}: not a folder")
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise DatasetError(f"{root}: cannot list the folder ({exc.strerror or exc})") from None
    if not folders:
        raise DatasetError(f"{root}: no class folders; put each class's images in {root}/<class name>/")
    return folders


def _images_in(folder: Path) -> list[Path]:
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    if not files:
        raise DatasetError(f"{folder}: the class folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _read_image(image_module: Any, path: Path, size: tuple[int, int], grayscale: bool) -> np.ndarray:
    """One image as float32 [C, H, W] in [0, 1]."""
    height, width = size
    try:
        with image_module.open(path) as image:
            image = image.convert("L" if grayscale else "RGB").resize((width, height), image_module.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except Exception as exc:  # Pillow raises many types for damaged files; all mean "unreadable"
        raise DatasetError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None
    return pixels[None] if grayscale else pixels.transpose(2, 0, 1)


def load_image_folder(values: dict[str, Any], context: LoadContext) -> RawData:
    image_module = _pillow()
    root = context.resolve(values["path"], "path")
    folders = _class_folders(root)
    require_classes([folder.name for folder in folders], f"{root}, class folders")
    files = [(label, path) for label, folder in enumerate(folders) for path in _images_in(folder)]
    if len(files) > MAX_IMAGES:
        raise DatasetError(f"{root}: {len(files)} images, over the limit of {MAX_IMAGES}")
    size = pair(values["size"])
    x = np.stack([_read_image(image_module, path, size, values["grayscale"]) for _, path in files])
    y = np.array([label for label, _ in files], np.int64)
    colour = "grey" if values["grayscale"] else "colour"
    return RawData(x=x, y=y, task="classification", kind="image", num_classes=len(folders),
                   class_names=[folder.name for folder in folders],
                   description=f"{root.name}: {len(files)} {colour} images in {len(folders)} classes, resized to "
                   f"{size[0]}x{size[1]} and scaled to [0, 1].")


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [] if values["path"].strip() else [("dataset.params.path", "choose a folder of class folders")]


IMAGE_FOLDER_SPEC = DatasetSpec(
    name="image_folder", title="Image folder", group="Your data",
    summary="One sub-folder per class, each holding .png or .jpg images; the folder name is the class name.",
    params=(
        ParamSpec("path", ParamKind.STRING, "", "The folder that holds one sub-folder per class."),
        ParamSpec("size", ParamKind.INT_TUPLE, [32, 32], "Height and width every image is resized to, in pixels; "
                  "one number means a square.", minimum=1, maximum=1024, length=2),
        bool_param("grayscale", False, "Read images as one grey channel instead of three colour channels."),
    ),
    load=load_image_folder, kind="image", task="classification", val_fraction=0.2, test_fraction=0.1,
    path_params=("path",), check=_check,
)
