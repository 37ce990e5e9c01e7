"""Where training batches come from: index slices of tensors held on the device, or a DataLoader that decodes.

The engine asks a batch source for an epoch's batches given the epoch's permutation, the batch size and the
first batch still to run. Both sources yield exactly the rows `perm[b * size:(b + 1) * size]` for each batch
b, so a streamed run takes the same steps as an in-memory run of the same data, and a resume (which restarts
at the checkpoint's batch with the same permutation) stays exact.

A streamed split (`StreamedSplit`) keeps only its targets in memory; its inputs are decoded by DataLoader
worker processes (pinned memory on CUDA, `prefetch_factor` batches ahead per worker).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from nnstudio.training.data.base import DatasetError, Split

HEAD_SAMPLES = 256  # the training samples a streamed run holds for data-dependent init and checks
EVAL_BATCH = 1024
Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def default_workers() -> int:
    """Decoding processes: one per core, at most 8. While decoding is the bound the training process mostly
    waits for batches, so leaving it a core of its own made a 2-core machine stream slower (bench_streaming.py:
    about 2,900 samples/s with one worker, 5,200 with two)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


@dataclass(frozen=True)
class StreamOptions:
    """How a streamed split is read: decoding processes, batches each prepares ahead, what a bad file does."""

    workers: int = field(default_factory=default_workers)
    prefetch: int = 4
    corrupt: str = "skip"  # "skip": drop and count the file; "fail": stop with its name


class Corruption:
    """The unreadable files met so far; each is named once (stderr), then counted."""

    def __init__(self, mode: str, report: Callable[[str], None] | None = None) -> None:
        self.mode = mode
        self.files: set[str] = set()  # the messages, each naming its file
        self.report = report or _stderr_line

    def note(self, messages: list[str]) -> None:
        for message in messages:
            if self.mode == "fail":
                raise DatasetError(f"{message} (dataset.corrupt is 'fail'; set it to 'skip' to leave such files "
                                   "out)")
            if message not in self.files:
                self.files.add(message)
                self.report(f"skipped: {message} ({len(self.files)} unreadable file(s) so far)")


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class StreamedSplit:
    """A split whose inputs stay on disk. `items[i]` is (input or None, i, problem or None); `y` the targets.

    `x` refuses with one line: code that needs the whole split in memory (a preview, a projector) learns
    that it is streamed instead of failing somewhere deeper. `head(n)` gives the first n samples.
    """

    name: str
    items: Dataset
    y: torch.Tensor
    sample_shape: tuple[int, ...]
    options: StreamOptions
    corruption: Corruption
    targets_are_inputs: bool = False  # the reconstruction task

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def x(self) -> torch.Tensor:
        raise DatasetError(f"dataset: the {self.name} split ({len(self)} samples) is streamed from disk, and this "
                           "needs it in memory; set dataset.streaming to \"memory\" (it must then fit)")

    def retargeted(self, make: Callable[[Split], torch.Tensor]) -> StreamedSplit:
        """The same inputs with targets `make` computes from a split; inputs as targets stay streamed."""
        marker = torch.empty(0)
        target = make(Split(marker, self.y))
        if target is marker:
            return replace(self, targets_are_inputs=True)
        return replace(self, y=target, targets_are_inputs=False)

    def head(self, count: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """The first `count` samples (unreadable ones left out), decoded in this process."""
        items = [self.items[i] for i in range(min(count, len(self)))]
        return self.batch(*collate_items(items), torch.device(device))

    def batch(self, x: torch.Tensor | None, kept: torch.Tensor, bad: list[str],
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """A collated batch on the device with its targets; unreadable files counted, or failed on."""
        self.corruption.note(bad)
        if x is None:
            raise DatasetError(f"dataset: every file of a batch of {len(bad)} is unreadable, the first: {bad[0]}")
        pinned = device.type == "cuda"  # the loader pins its batches on CUDA, so the copy can overlap
        xb = x.to(device, non_blocking=pinned)
        yb = xb if self.targets_are_inputs else self.y.index_select(0, kept).to(device, non_blocking=pinned)
        return xb, yb

    def loader(self, batch_sampler, device: torch.device) -> DataLoader:
        workers = self.options.workers
        extra = {"prefetch_factor": self.options.prefetch, "persistent_workers": True} if workers > 0 else {}
        return DataLoader(self.items, batch_sampler=batch_sampler, num_workers=workers, collate_fn=collate_items,
                          pin_memory=device.type == "cuda", **extra)


def collate_items(items: list) -> tuple[torch.Tensor | None, torch.Tensor, list[str]]:
    """(stacked inputs or None, their positions, messages of the unreadable ones); runs in the worker."""
    good = [(x, index) for x, index, problem in items if problem is None]
    bad = [problem for _, _, problem in items if problem is not None]
    x = default_collate([x for x, _ in good]) if good else None  # shared memory when in a worker
    return x, torch.tensor([index for _, index in good], dtype=torch.int64), bad


class PositionBatches:
    """A batch sampler over positions: `perm[b * size:(b + 1) * size]` for b in [start, stop). Set per epoch;
    the DataLoader iterates it in the main process, so persistent workers see each epoch's new order."""

    def __init__(self) -> None:
        self.perm = torch.empty(0, dtype=torch.int64)
        self.size, self.start, self.stop = 1, 0, 0

    def set(self, perm: torch.Tensor, size: int, start: int, stop: int) -> None:
        self.perm, self.size, self.start, self.stop = perm.cpu(), size, start, stop

    def __iter__(self) -> Iterator[list[int]]:
        for batch in range(self.start, self.stop):
            yield self.perm[batch * self.size:(batch + 1) * self.size].tolist()

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


class MemoryBatches:
    """Today's fast path: the split on the device once, each batch an index_select."""

    streamed = False

    def __init__(self, split: Split, device: torch.device) -> None:
        self.x, self.y = split.x.to(device), split.y.to(device)

    def epoch(self, perm: torch.Tensor, size: int, start: int, stop: int) -> Batches:
        x, y = self.x, self.y
        for batch in range(start, stop):
            index = perm[batch * size:(batch + 1) * size]
            yield x.index_select(0, index), y.index_select(0, index)

    def close(self) -> None:
        """Nothing to let go: the tensors go with the trainer."""


class StreamedBatches:
    """Batches a DataLoader decodes in worker processes; `x`, `y` hold the first training samples only."""

    streamed = True

    def __init__(self, split: StreamedSplit, device: torch.device) -> None:
        self.split, self.device = split, device
        self.sampler = PositionBatches()
        self._loader: DataLoader | None = None
        self.x, self.y = split.head(HEAD_SAMPLES, device)

    def epoch(self, perm: torch.Tensor, size: int, start: int, stop: int) -> Batches:
        if self._loader is None:  # built on first use: workers start only for a run that trains
            self._loader = self.split.loader(self.sampler, self.device)
        self.sampler.set(perm, size, start, stop)
        for x, kept, bad in self._loader:
            yield self.split.batch(x, kept, bad, self.device)

    def close(self) -> None:
        """Shut the persistent workers down now rather than whenever the loader is collected."""
        iterator = getattr(self._loader, "_iterator", None)
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self._loader = None


def batch_source(split: Split | StreamedSplit, device: torch.device,
                 objective: bool = False) -> MemoryBatches | StreamedBatches:
    """The source of training batches for a split: in memory when it is a Split, else streamed. A graph with
    loss nodes is refused before its first step: its scoring (training/objective.py) reads inputs by slices."""
    if not isinstance(split, StreamedSplit):
        return MemoryBatches(split, device)
    if objective:
        raise DatasetError("dataset: a graph with loss nodes cannot train on streamed data (its scoring reads the "
                           "split by slices); set dataset.streaming to \"memory\"")
    return StreamedBatches(split, device)


class StreamedInputs:
    """A streamed split standing where a scoring function takes inputs on the device (evaluation.py score)."""

    def __init__(self, split: StreamedSplit, device: torch.device) -> None:
        self.split, self.device = split, device
        self.sampler = PositionBatches()
        self._loader: DataLoader | None = None

    def __len__(self) -> int:
        return len(self.split)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.split), *self.split.sample_shape)

    def __getitem__(self, index: object) -> torch.Tensor:
        raise DatasetError(f"dataset: the {self.split.name} split is streamed from disk, and this scoring reads it "
                           "by slices (a graph with loss nodes); set dataset.streaming to \"memory\"")

    def batches(self, size: int) -> Batches:
        """The split in order, `size` samples a batch, decoded ahead by the workers."""
        if self._loader is None:
            self._loader = self.split.loader(self.sampler, self.device)
        steps = -(-len(self.split) // size)
        self.sampler.set(torch.arange(len(self.split)), size, 0, steps)
        for x, kept, bad in self._loader:
            yield self.split.batch(x, kept, bad, self.device)


def on_device(split: Split | StreamedSplit, device: torch.device) -> tuple[torch.Tensor | StreamedInputs,
                                                                           torch.Tensor]:
    """A split's (inputs, targets) for scoring: tensors on the device, or the streamed stand-in."""
    if isinstance(split, StreamedSplit):
        return StreamedInputs(split, device), split.y.to(device)
    return split.x.to(device), split.y.to(device)


def split_batches(x: torch.Tensor | StreamedInputs, y: torch.Tensor, size: int) -> Batches:
    """Scoring batches in order: slices of tensors, or a streamed split's decoded batches (its own targets)."""
    if isinstance(x, StreamedInputs):
        yield from x.batches(size)
        return
    for start in range(0, x.shape[0], size):
        yield x[start:start + size], y[start:start + size]


def first_samples(split: Split | StreamedSplit, count: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets for a preview: a held split's first `count` (all with None), a streamed split's first
    `count` (HEAD_SAMPLES with None) decoded now, so a preview never needs a streamed split in memory."""
    if isinstance(split, StreamedSplit):
        return split.head(HEAD_SAMPLES if count is None else count)
    return (split.x, split.y) if count is None else (split.x[:count], split.y[:count])
