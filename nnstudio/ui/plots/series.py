"""Plot-side copies of a run's metric history, kept as growing numpy arrays.

MetricHistory hands out list copies of a series, which costs O(N) per read. Live plots redraw up to 30
times a second, so the GUI keeps its own arrays and appends only the records that are new since the last
refresh. The naming is MetricHistory's: "step/loss", "epoch/val_loss", "grads/<node id>",
"activations/<node id>/mean", and histograms per ("activations" | "weights", node id). A graph with loss nodes
adds one series per term: "epoch/train_loss_<term>", "epoch/val_loss_<term>" and, from the step records'
"terms" object, "step/loss_<term>". Recipes add record kinds whose payload is a picture, not a number: the
latest record of each kind in VIEW_KINDS ("samples" of a GAN, "som" maps, "fewshot" scores) is kept whole in
`latest`, and a GAN's first "samples" record, which carries the real points, in `reference`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnstudio.metrics.history import MetricHistory

LAYERED = ("grads", "activations", "weights")
LAYER_KEYS = ("mean", "std", "zero_fraction")
VIEW_KINDS = ("samples", "som", "fewshot")


def term_series(term: str) -> str:
    """The metric name of one loss term, as training/objective.py's term_metric: `loss_<loss node name>`."""
    return f"loss_{term}"


class GrowingSeries:
    """x (global step) and y arrays with amortised O(1) append; views are returned, never copies."""

    __slots__ = ("_x", "_y", "size")

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        for x, y in zip(xs, ys):
            self.append(float(x), float(y))

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.size]

    def last(self) -> float | None:
        return float(self._y[self.size - 1]) if self.size else None

    def __len__(self) -> int:
        return self.size


@dataclass
class Snapshot:
    """One histogram: counts over [lo, hi] at a step."""

    step: int
    epoch: int
    lo: float
    hi: float
    counts: np.ndarray


@dataclass
class RunSeries:
    """Everything the plots draw for one run, built incrementally from history records."""

    series: dict[str, GrowingSeries] = field(default_factory=dict)
    histograms: dict[str, list[Snapshot]] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)  # node id -> node name, from the start record
    start: dict[str, Any] = field(default_factory=dict)
    end: dict[str, Any] = field(default_factory=dict)
    revision: int = 0  # bumped on every ingest, so views can skip redraws
    changed: set[str] = field(default_factory=set)  # series names touched since the last take_changed()
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind in VIEW_KINDS -> its newest record
    counts: dict[str, int] = field(default_factory=dict)  # kind in VIEW_KINDS -> records seen, to skip redraws
    reference: dict[str, Any] = field(default_factory=dict)  # the samples record that holds the real points

    @classmethod
    def from_history(cls, history: MetricHistory) -> RunSeries:
        store = cls()
        store.ingest(history.records())
        return store

    def ingest(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self._ingest_one(record)
        self.revision += 1

    def take_changed(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def get(self, name: str) -> GrowingSeries:
        """The series of that name, empty when nothing was logged under it."""
        return self.series.get(name) or GrowingSeries(1)

    def has(self, name: str) -> bool:
        return name in self.series and len(self.series[name]) > 0

    def names(self, prefix: str = "") -> list[str]:
        return sorted(name for name in self.series if name.startswith(prefix))

    def terms(self) -> list[str]:
        """The loss terms of a graph with loss nodes, in the objective's order; empty for a plain project."""
        named = self.start.get("terms")
        if isinstance(named, list):
            return [str(name) for name in named]
        prefix = "epoch/train_loss_"  # a history from before the start record listed them
        return [name[len(prefix):] for name in self.series if name.startswith(prefix)]

    def layer_ids(self, kind: str) -> list[str]:
        """Node ids with data of a layered kind, in the graph order given by the start record."""
        found = {name.split("/")[1] for name in self.series if name.startswith(f"{kind}/")
                 and name.count("/") >= 1 and name.split("/")[1] != "global_norm"}
        found |= {key.split("/", 1)[1] for key in self.histograms if key.startswith(f"{kind}/")}
        ordered = [node for node in self.layers if node in found]
        return ordered + sorted(found - set(ordered))

    def layer_name(self, node_id: str) -> str:
        return self.layers.get(node_id, node_id)

    def snapshots(self, kind: str, node_id: str) -> list[Snapshot]:
        return self.histograms.get(f"{kind}/{node_id}", [])

    def _add(self, name: str, step: float, value: Any) -> None:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = GrowingSeries()
        series.append(step, number)
        self.changed.add(name)

    def _ingest_one(self, record: dict[str, Any]) -> None:
        kind = record.get("kind", "?")
        step = float(record.get("step", 0) or 0)
        if kind == "start":
            self.start = dict(record)
            layers = record.get("layers")
            if isinstance(layers, dict):
                self.layers = {str(k): str(v) for k, v in layers.items()}
        elif kind == "end":
            self.end = dict(record)
        elif kind in VIEW_KINDS:
            self.latest[kind] = record
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "samples" and "real" in record:
                self.reference = record
        for key, value in record.items():
            if key in ("step", "epoch") or isinstance(value, (bool, dict, list, str)):
                continue
            if isinstance(value, (int, float)) or value is None:
                self._add(f"{kind}/{key}", step, value)
        terms = record.get("terms")
        if kind == "step" and isinstance(terms, dict):  # named as the epoch records name them: loss_<term>
            for name, value in terms.items():
                self._add(f"step/{term_series(name)}", step, value)
        if kind in LAYERED:
            self._ingest_layers(kind, step, int(record.get("epoch", 0) or 0), record.get("layers") or {})

    def _ingest_layers(self, kind: str, step: float, epoch: int, layers: dict[str, Any]) -> None:
        for node_id, entry in layers.items():
            if not isinstance(entry, dict):
                self._add(f"{kind}/{node_id}", step, entry)
                continue
            for key in LAYER_KEYS:
                self._add(f"{kind}/{node_id}/{key}", step, entry.get(key))
            hist = entry.get("hist")
            if isinstance(hist, dict) and isinstance(hist.get("counts"), list):
                lo, hi = hist.get("lo"), hist.get("hi")
                if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi > lo:
                    counts = np.asarray([c if isinstance(c, (int, float)) else 0 for c in hist["counts"]],
                                        dtype=np.float64)
                    self.histograms.setdefault(f"{kind}/{node_id}", []).append(
                        Snapshot(int(step), epoch, float(lo), float(hi), counts))
                    self.changed.add(f"hist:{kind}/{node_id}")


def resample_histograms(snapshots: list[Snapshot], bins: int = 64) -> tuple[np.ndarray, float, float]:
    """Histograms over different ranges put on one common value grid: an array [time, bins] plus (lo, hi).

    Each snapshot's counts are spread over the common bins in proportion to overlap, so the mass of every
    snapshot is preserved and snapshots with narrow ranges stay sharp.
    """
    if not snapshots:
        return np.zeros((0, bins)), 0.0, 1.0
    lo = min(s.lo for s in snapshots)
    hi = max(s.hi for s in snapshots)
    edges = np.linspace(lo, hi, bins + 1)
    image = np.zeros((len(snapshots), bins))
    for row, snap in enumerate(snapshots):
        src = np.linspace(snap.lo, snap.hi, len(snap.counts) + 1)
        cumulative = np.concatenate([[0.0], np.cumsum(snap.counts)])
        # cumulative mass at each common edge, linear inside source bins
        at_edges = np.interp(edges, src, cumulative, left=0.0, right=cumulative[-1])
        image[row] = np.diff(at_edges)
    return image, lo, hi


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` points (shorter at the start); NaNs are skipped, not spread."""
    if window <= 1 or len(values) == 0:
        return values
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    sums = np.cumsum(np.concatenate([[0.0], clean]))
    counts = np.cumsum(np.concatenate([[0], finite.astype(np.int64)]))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(index - window, 0)
    n = counts[index] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[index] - sums[start]) / np.maximum(n, 1), np.nan)
