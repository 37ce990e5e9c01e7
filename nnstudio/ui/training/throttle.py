"""Coalescing what the training thread reports, so the GUI gets at most ~30 updates a second.

The training thread may log hundreds of records a second. Sending each as its own queued signal would
flood the GUI's event queue; instead the worker collects them here and sends one `Update` (the latest
progress, every new record, the latest decision-boundary grid) when the interval has passed, or at once
when something the user waits on happens (pause, epoch end, the end of the run). Qt-free and thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UPDATES_PER_SECOND = 30
RATE_WINDOW_S = 3.0  # throughput is measured over the last few seconds of running (pauses excluded)


@dataclass
class Progress:
    """Where the run is, for the progress bar."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    samples_per_s: float | None = None
    eta_s: float | None = None
    loss: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


@dataclass
class Update:
    progress: Progress | None
    records: list[dict[str, Any]] = field(default_factory=list)
    boundary: Any = None  # the latest BoundaryGrid, if a new one was computed


class Coalescer:
    """Pending records, latest progress and latest grid; `take_if_due` empties them at most `rate`/s."""

    def __init__(self, rate: float = UPDATES_PER_SECOND, clock: Callable[[], float] = time.perf_counter) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._progress: Progress | None = None
        self._boundary: Any = None
        self._last = -1e9
        self.sent = 0

    def add_record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)

    def set_progress(self, progress: Progress) -> None:
        with self._lock:
            self._progress = progress

    def set_boundary(self, grid: Any) -> None:
        with self._lock:
            self._boundary = grid

    def due(self) -> bool:
        return self.clock() - self._last >= self.interval

    def take_if_due(self) -> Update | None:
        """An Update when the interval has passed and something is pending, else None."""
        if not self.due():
            return None
        return self.take()

    def take(self) -> Update | None:
        """Everything pending now, regardless of the interval (None when nothing is pending)."""
        with self._lock:
            if self._progress is None and not self._records and self._boundary is None:
                return None
            update = Update(self._progress, self._records, self._boundary)
            self._progress, self._records, self._boundary = None, [], None
            self._last = self.clock()
        self.sent += 1
        return update


class RateMeter:
    """Optimizer steps per second over a sliding window of running time; reset after a pause."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter, window: float = RATE_WINDOW_S) -> None:
        self.clock = clock
        self.window = window
        self._marks: deque[tuple[float, int]] = deque()

    def mark(self, step: int) -> None:
        now = self.clock()
        self._marks.append((now, step))
        while len(self._marks) > 2 and now - self._marks[1][0] >= self.window:
            self._marks.popleft()

    def reset(self) -> None:
        self._marks.clear()

    def steps_per_second(self) -> float | None:
        if len(self._marks) < 2:
            return None
        (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None
