"""MetricHistory: every record a run logs, plus plottable series derived from them. Qt-free.

The engine thread appends records; a GUI reads series (under a lock) or subscribes to new records and
forwards them as queued signals. The CLI writes the same records as JSON lines.

Record kinds and their fields (all carry "kind", "epoch" and the global "step"):
    start        layers {node id: name}, epochs, steps_per_epoch, device, task, ...
    step         loss, lr, samples_per_s, eta_s (and accuracy for classification)
    epoch        train_loss, val_loss, val_accuracy / val_rmse ..., lr, time_s, samples_per_s
    grads        global_norm, layers {node id: norm}
    activations  layers {node id: {mean, std, zero_fraction, nonfinite_fraction, hist {lo, hi, counts}}}
    weights      layers {node id: {... same summary ...}}
    intervention a change made while the run trained (training/interventions.py): change (lr, freeze,
                 unfreeze), node_id, node, old, new, replayed, text
    end          status, message
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

Listener = Callable[[dict[str, Any]], None]
_LAYERED = ("grads", "activations", "weights")


@dataclass
class Series:
    """One line to plot: x is the global step at which each value was logged."""

    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def append(self, step: int, epoch: int, value: float) -> None:
        self.steps.append(step)
        self.epochs.append(epoch)
        self.values.append(value)

    def last(self) -> float | None:
        return self.values[-1] if self.values else None


def clean_json(value: Any) -> Any:
    """JSON has no NaN or infinity: non-finite numbers become null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if all(type(v) is int for v in value):  # histogram counts: the common, long case
            return list(value)
        return [clean_json(v) for v in value]
    return value


class MetricHistory:
    """Thread-safe store of records; series names look like "epoch/val_loss" or "grads/<node id>"."""

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._series: dict[str, Series] = {}
        self._histograms: dict[str, list[dict[str, Any]]] = {}
        self._listeners: list[Listener] = []
        for record in records:
            self._store(record)

    # --- writing -------------------------------------------------------------------------
    def add(self, record: dict[str, Any]) -> None:
        """Store a record and tell the listeners (on the calling thread)."""
        record = clean_json(record)
        with self._lock:
            self._store(record)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)

    def _store(self, record: dict[str, Any]) -> None:
        self._records.append(record)
        kind, step, epoch = record.get("kind", "?"), int(record.get("step", 0)), int(record.get("epoch", 0))
        for key, value in record.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("step", "epoch"):
                self._series_for(f"{kind}/{key}").append(step, epoch, float(value))
        if kind not in _LAYERED:
            return
        for node_id, entry in record.get("layers", {}).items():
            if isinstance(entry, (int, float)) or entry is None:
                self._series_for(f"{kind}/{node_id}").append(step, epoch, _number(entry))
                continue
            for key in ("mean", "std", "zero_fraction"):
                self._series_for(f"{kind}/{node_id}/{key}").append(step, epoch, _number(entry.get(key)))
            if "hist" in entry:
                self._histograms.setdefault(f"{kind}/{node_id}", []).append(
                    {"step": step, "epoch": epoch, **entry["hist"]})

    def _series_for(self, name: str) -> Series:
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = Series()
        return series

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(record)` for each new record; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # --- reading -------------------------------------------------------------------------
    def series(self, name: str) -> Series:
        """A copy of one series (empty when nothing was logged under that name)."""
        with self._lock:
            found = self._series.get(name, Series())
            return Series(list(found.steps), list(found.epochs), list(found.values))

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._series)

    def histograms(self, kind: str, node_id: str) -> list[dict[str, Any]]:
        """Snapshots {step, epoch, lo, hi, counts} of one layer's activation or weight histogram."""
        with self._lock:
            return list(self._histograms.get(f"{kind}/{node_id}", []))

    def records(self, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Records from index `since` on, optionally of one kind."""
        with self._lock:
            chosen = self._records[since:]
        return [r for r in chosen if kind is None or r.get("kind") == kind]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def latest(self, name: str) -> float | None:
        with self._lock:
            found = self._series.get(name)
            return found.last() if found else None

    # --- files ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": "nnstudio.history", "version": 1, "records": self.records()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricHistory:
        records = data.get("records", []) if isinstance(data, dict) else []
        return cls(r for r in records if isinstance(r, dict))

    def save(self, path: str | Path) -> None:
        """The same text as json.dumps(self.to_json()), encoded one record at a time: json's C encoder holds
        the GIL for a whole call, so one call over a long run's history stalled a live GUI for 100+ ms."""
        data = self.to_json()
        records = data.pop("records")
        head = json.dumps(data, allow_nan=False)[:-1]
        body = ", ".join(json.dumps(record, allow_nan=False) for record in records)
        Path(path).write_text(f'{head}, "records": [{body}]}}', encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> MetricHistory:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


class JsonLinesWriter:
    """A history listener that writes each record as one line of JSON and flushes it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, allow_nan=False) + "\n")
        self.stream.flush()
