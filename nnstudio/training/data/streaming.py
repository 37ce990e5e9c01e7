"""Datasets larger than memory: the choice between holding a dataset in memory and streaming it from disk.

Three optional keys of the dataset section, declared here once (file checks, docs and tests read them):

    {"name": "image_folder", "params": {...}, "streaming": "auto", "corrupt": "skip", "workers": null}

`streaming: "auto"` measures the dataset against the memory available now: an image folder's samples x the
bytes of one decoded image, a CSV file's size x what its parsed cells take, each times SAFETY (the loader's
arrays, the split copies, the tensors). Over the budget it streams; `"memory"` and `"stream"` force a path.
Either way `DataSplits.storage` says which path was taken and why, and the run shows that line.

A streamed dataset keeps its file list (or a CSV's row offsets) and its targets in memory; inputs are decoded
by DataLoader workers (streaming_source.py). The split is computed exactly as splits.assemble does, from the
same seeded generator and the same class subset, so the same seed picks the same train / val / test samples.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from nnstudio.compile import memory
from nnstudio.layers.params import ParamValueError, choice_param, int_param, pair
from nnstudio.training.data.base import DatasetError, DatasetSpec, DataSplits, LoadContext, RawData
from nnstudio.training.data.csv_table import MAX_CSV_BYTES
from nnstudio.training.data.images import MAX_IMAGES
from nnstudio.training.data.splits import split_indices
from nnstudio.training.data.streaming_images import ImageFiles, StopFlag, sample_bytes, scan_folder
from nnstudio.training.data.streaming_source import Corruption, StreamedSplit, StreamOptions, default_workers
from nnstudio.training.data.subsets import Subset, apply_classes, cap_per_class

STREAMING = choice_param("streaming", "auto", ("auto", "memory", "stream"),
                         "Image folders and CSV files: 'auto' streams them from disk when they would not fit the "
                         "memory available, 'memory' always loads them whole, 'stream' always streams.")
CORRUPT = choice_param("corrupt", "skip", ("skip", "fail"),
                       "A streamed image that does not decode: leave it out and count it, or stop the run naming it.")
WORKERS = int_param("workers", None, "Processes that decode streamed data beside training; empty: one per core "
                    "(at most 8); 0 decodes in the training process.", 0, 64, optional=True)
STREAM_PARAMS = (STREAMING, CORRUPT, WORKERS)
STREAM_KEYS = tuple(param.name for param in STREAM_PARAMS)
STREAMABLE = ("image_folder", "csv")
SAFETY = 3.0  # in-memory bytes per decoded byte: the loader's arrays, the split copies and the tensors
CSV_CELL_FACTOR = 12.0  # in-memory bytes per CSV byte: a short cell becomes a Python str in a list

Problem = tuple[str, str]


def streaming_problems(dataset: dict[str, Any]) -> list[Problem]:
    """Problems with the streaming keys of a section, without loading anything."""
    problems = []
    for param in STREAM_PARAMS:
        if param.name not in dataset:
            continue
        try:
            param.coerce(dataset[param.name])
        except ParamValueError as exc:
            problems.append((f"dataset.{param.name}", str(exc)))
    name = dataset.get("name")
    if dataset.get("streaming") == "stream" and isinstance(name, str) and name not in STREAMABLE:
        problems.append(("dataset.streaming", f"{name} cannot be streamed; only {', '.join(STREAMABLE)} can "
                         "(use 'auto' or 'memory')"))
    return problems


def stream_options(dataset: dict[str, Any]) -> StreamOptions:
    workers = WORKERS.coerce(dataset.get("workers"))
    return StreamOptions(workers=default_workers() if workers is None else workers,
                         corrupt=CORRUPT.coerce(dataset.get("corrupt", "skip")))


@dataclass(frozen=True)
class Plan:
    """Which path a dataset takes, and the line that says why."""

    stream: bool
    reason: str
    scan: Any = None  # the image folder's FolderScan when it was scanned to decide


def _mib(count: float) -> str:
    return f"{count / 2**20:,.0f} MiB"


def storage_plan(dataset: dict[str, Any], spec: DatasetSpec, values: dict[str, Any], context: LoadContext,
                 stop: StopFlag | None = None) -> Plan | None:
    """The path for a streamable dataset; None for the others (they are always held in memory)."""
    if spec.name not in STREAMABLE:
        return None
    mode = STREAMING.coerce(dataset.get("streaming", "auto"))
    path = context.resolve(values["path"], "path")
    scan = None
    if spec.name == "image_folder":
        scan = scan_folder(path, context.progress, stop) if mode != "memory" else None
        estimate = len(scan) * sample_bytes(values) * SAFETY if scan is not None else 0.0
        what, needs = (f"{len(scan):,} images" if scan is not None else ""), "need"
        if mode == "auto" and len(scan) > MAX_IMAGES:
            return Plan(True, f"data: streamed from disk ({what} are over the in-memory limit of {MAX_IMAGES:,}; "
                        "dataset.streaming is 'auto')", scan)
    else:
        if values["text_column"].strip() and mode != "stream":
            return Plan(False, "data: held in memory (a CSV's text column is never streamed)")
        size = path.stat().st_size if path.is_file() else 0
        estimate, what, needs = size * CSV_CELL_FACTOR, f"a {_mib(size)} file", "needs"
        if mode == "auto" and size > MAX_CSV_BYTES:
            return Plan(True, f"data: streamed from disk ({what} is over the {_mib(MAX_CSV_BYTES)} in-memory "
                        "limit for CSV files; dataset.streaming is 'auto')")
    if mode != "auto":
        verb = "streamed from disk" if mode == "stream" else "held in memory"
        return Plan(mode == "stream", f"data: {verb} (dataset.streaming is {mode!r})", scan)
    available = memory.available_memory()
    if available is None:
        return Plan(False, "data: held in memory (the available memory is unknown; dataset.streaming is 'auto')")
    stream = estimate > available
    verb = "streamed from disk" if stream else "held in memory"
    relation = "over" if stream else "within"
    return Plan(stream, f"data: {verb} ({what} {needs} about {_mib(estimate)}, {relation} the {_mib(available)} "
                "available; dataset.streaming is 'auto')", scan)


def load_streamed(dataset: dict[str, Any], spec: DatasetSpec, values: dict[str, Any], context: LoadContext,
                  plan: Plan, split_rng: np.random.Generator, val_fraction: float, test_fraction: float) -> DataSplits:
    """A streamed dataset split exactly as the in-memory path splits it (splits.assemble)."""
    subset = Subset.from_section(dataset)
    options = stream_options(dataset)
    corruption = Corruption(options.corrupt)
    if spec.name == "image_folder":
        scan = plan.scan or scan_folder(context.resolve(values["path"], "path"), context.progress)
        raw = RawData(x=_positions(len(scan)), y=scan.labels, task="classification", kind="image",
                      num_classes=len(scan.class_names), class_names=scan.class_names,
                      description=_image_description(scan, values))
        size, grey = pair(values["size"]), values["grayscale"]

        def items(rows: np.ndarray) -> ImageFiles:
            return ImageFiles([scan.paths[int(i)] for i in rows], size, grey)

        shape = (1 if grey else 3, *size)
    else:
        from nnstudio.training.data.streaming_csv import stream_csv

        raw, items, shape = stream_csv(values, context)
    raw = apply_classes(raw, subset, spec.name)
    return _assemble(raw, items, shape, options, corruption, plan.reason, split_rng, val_fraction, test_fraction,
                     subset.train_per_class)


def _positions(count: int) -> np.ndarray:
    """A one-column stand-in for the inputs: each sample's position in the file list, which the class filter
    (subsets.keep_classes) selects like any input row."""
    return np.arange(count, dtype=np.float64).reshape(-1, 1)


def _image_description(scan: Any, values: dict[str, Any]) -> str:
    size = pair(values["size"])
    colour = "grey" if values["grayscale"] else "colour"
    return (f"{scan.root.name}: {len(scan)} {colour} images in {len(scan.class_names)} classes, resized to "
            f"{size[0]}x{size[1]} and scaled to [0, 1].")


def _assemble(raw: RawData, items: Any, shape: tuple[int, ...], options: StreamOptions, corruption: Corruption,
              storage: str, rng: np.random.Generator, val_fraction: float, test_fraction: float,
              train_per_class: int | None) -> DataSplits:
    """splits.assemble for streamed data: the same split and cap, targets in memory, inputs left on disk."""
    positions = raw.x[:, 0].astype(np.int64)
    count = len(positions)
    if count == 0:
        raise DatasetError("dataset: it holds no samples")
    train, val, test = split_indices(count, val_fraction, test_fraction, rng)
    if train_per_class is not None:
        train = cap_per_class(train, raw.y, train_per_class)
    y = raw.finish(train)[1] if raw.finish is not None else raw.y
    y = _targets(y, raw.task)

    def split(name: str, rows: np.ndarray) -> StreamedSplit | None:
        if not len(rows):
            return None
        return StreamedSplit(name, items(positions[rows]), torch.from_numpy(np.ascontiguousarray(y[rows])), shape,
                             options, corruption)

    sizes = f"{len(train)} train, {len(val)} validation" + (f", {len(test)} test" if len(test) else "")
    cap = f" At most {train_per_class} training samples per class." if train_per_class is not None else ""
    data = DataSplits(train=split("train", train), val=split("val", val), test=split("test", test),
                      input_shape=shape, input_dtype="float32", task=raw.task, num_classes=raw.num_classes,
                      target_shape=tuple(int(d) for d in y.shape[1:]), class_names=raw.class_names,
                      feature_names=raw.feature_names, kind=raw.kind,
                      description=f"{raw.description} Split: {sizes} samples.{cap}".strip())
    return with_storage(data, storage)


def _targets(y: np.ndarray, task: str) -> np.ndarray:
    """The target dtypes and layout of splits._as_model_arrays."""
    if task == "classification":
        return y.reshape(-1).astype(np.int64, copy=False)
    if task == "binary":
        return y.reshape(-1, 1).astype(np.float32, copy=False)
    return (y.reshape(-1, 1) if y.ndim == 1 else y).astype(np.float32, copy=False)


def with_storage(data: DataSplits, storage: str) -> DataSplits:
    """The splits with the line that says which path they took: `storage` for the CLI and the run's start record,
    and the same words at the end of the description the app's dataset preview shows."""
    sentence = storage.removeprefix("data: ")
    return replace(data, storage=storage, description=f"{data.description} {sentence[:1].upper()}{sentence[1:]}.")


def is_streamed(data: DataSplits) -> bool:
    return isinstance(data.train, StreamedSplit)
