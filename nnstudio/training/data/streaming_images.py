"""An image folder read lazily: the file list is scanned once, each image is decoded when a batch needs it.

The scan lists class folders and their files with the very functions the in-memory loader uses
(images.py `_class_folders` / `_images_in`), so both paths see the same files in the same order, and
the seeded split picks the same train / val / test files. Decoding goes through images.py
`_read_image` as well, so a streamed batch is bitwise the batch the in-memory path would have made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.layers.params import pair
from nnstudio.training.data.base import DatasetError, require_classes
from nnstudio.training.data.images import MAX_IMAGES, _class_folders, _images_in, _pillow, _read_image

Progress = Callable[[int, int], None]  # (class folders listed, class folders in all)
StopFlag = Callable[[], bool]  # True: give up the scan now


class ScanStopped(DatasetError):
    """The user stopped a folder scan before it finished."""


@dataclass(frozen=True)
class FolderScan:
    """Every image of a folder of class folders, in the in-memory loader's order, with its label."""

    root: Path
    paths: list[str]
    labels: np.ndarray  # int64, one per path
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.paths)


def scan_folder(root: Path, progress: Progress | None = None, stop: StopFlag | None = None) -> FolderScan:
    """List the images of root/<class>/<files>; `progress` after each class folder, `stop` checked as often.

    Raises ScanStopped when `stop` says so, DatasetError for a folder the in-memory loader would refuse.
    """
    _pillow()  # the in-memory loader's first check too: a missing extra is named before anything else
    folders = _class_folders(root)
    require_classes([folder.name for folder in folders], f"{root}, class folders")
    paths: list[str] = []
    labels: list[np.ndarray] = []
    for label, folder in enumerate(folders):
        if stop is not None and stop():
            raise ScanStopped(f"{root}: the scan was stopped after {label} of {len(folders)} class folders")
        files = _images_in(folder)
        paths += [str(path) for path in files]
        labels.append(np.full(len(files), label, np.int64))
        if progress is not None:
            progress(label + 1, len(folders))
    if len(paths) > MAX_IMAGES * 50:  # streaming lifts the in-memory limit, not every limit
        raise DatasetError(f"{root}: {len(paths)} images, over the streaming limit of {MAX_IMAGES * 50}")
    return FolderScan(root, paths, np.concatenate(labels), [folder.name for folder in folders])


def sample_bytes(values: dict[str, Any]) -> int:
    """The bytes one decoded image takes in memory (float32, channels first)."""
    height, width = pair(values["size"])
    return height * width * (1 if values["grayscale"] else 3) * 4


class ImageFiles(torch.utils.data.Dataset):
    """A map-style dataset of (image [C, H, W] float32, index, None) read from files in whatever process asks.

    Targets stay in the main process (StreamedSplit.y), so a task change never touches the workers. A file
    that does not decode gives (None, index, message) instead of raising, so the collate function in the
    worker can drop it and the main process can count it or fail with one line (streaming_source.py).
    """

    def __init__(self, paths: list[str], size: tuple[int, int], grayscale: bool) -> None:
        self.paths = paths
        self.size = size
        self.grayscale = grayscale
        self._image: Any = None

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor | None, int, str | None]:
        if self._image is None:  # imported in the process that decodes (a worker after fork or spawn)
            self._image = _pillow()
        try:
            pixels = _read_image(self._image, Path(self.paths[index]), self.size, self.grayscale)
        except DatasetError as exc:
            return None, index, str(exc)
        return torch.from_numpy(pixels), index, None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_image": None}  # a module does not pickle (spawned workers)
