"""Events, handlers with every=N filters, and the thread-safe stop/pause control.

Handlers run on the training thread. A GUI attaches handlers that only post a queued signal, so the
engine never waits on the GUI. `Control` is what another thread touches: it sets flags that the loop
reads at the next step boundary, in the spirit of pytorch-ignite's `Engine.terminate()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Event(str, Enum):
    STARTED = "started"
    EPOCH_STARTED = "epoch_started"
    STEP = "step"  # after every optimizer step; `loss` is set only on steps that fetched it
    EPOCH_ENDED = "epoch_ended"
    VALIDATED = "validated"
    PAUSED = "paused"
    RESUMED = "resumed"
    CHECKPOINT_SAVED = "checkpoint_saved"
    STOPPED = "stopped"  # ended early on request (a checkpoint was saved when an output folder was given)
    FINISHED = "finished"  # ran all epochs, or early stopping ended the run
    FAILED = "failed"  # an error or a non-finite loss; `message` says why and where


class Status(str, Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"


@dataclass
class EventInfo:
    """What a handler receives. Only the fields that apply to the event are filled in."""

    event: Event
    epoch: int  # 1-based epoch in progress (or just ended)
    step: int  # global optimizer steps done so far
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    node_id: str | None = None  # graph node a failure is about
    path: str | None = None  # checkpoint folder, for CHECKPOINT_SAVED


Handler = Callable[[EventInfo], Any]


@dataclass
class _Registration:
    handler: Handler
    every: int | None


class EventBus:
    """Handlers per event. `every=N` on STEP fires on global steps N, 2N...; on EPOCH_* on epochs N, 2N..."""

    def __init__(self) -> None:
        self._handlers: dict[Event, list[_Registration]] = {event: [] for event in Event}
        self._lock = threading.Lock()

    def on(self, event: Event, handler: Handler, every: int | None = None) -> Callable[[], None]:
        """Attach a handler; returns a function that detaches it."""
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        registration = _Registration(handler, every)
        with self._lock:
            self._handlers[Event(event)] = [*self._handlers[Event(event)], registration]

        def detach() -> None:
            with self._lock:
                self._handlers[Event(event)] = [r for r in self._handlers[Event(event)] if r is not registration]

        return detach

    def has(self, event: Event) -> bool:
        return bool(self._handlers[event])

    def fire(self, info: EventInfo) -> None:
        counter = info.step if info.event is Event.STEP else info.epoch
        for registration in self._handlers[info.event]:  # the list is replaced, never mutated
            if registration.every is None or counter % registration.every == 0:
                registration.handler(info)


class Control:
    """Stop, pause, single-step and live-change requests from any thread, honoured at the next step boundary."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._stop = False
        self._pause = False
        self._notice = False  # a live change was posted (training/interventions.py)
        self._held = False  # changes are scheduled for later steps (a replay): look at every boundary
        self._steps = 0  # single steps granted while paused (step_once)
        self.stepping = False  # the batch now running was let through by step_once: the runner samples it
        self.pending = False  # one attribute the hot loop reads; set whenever a request is waiting

    def _refresh(self) -> None:
        """Recompute `pending` (call with the condition held)."""
        self.pending = self._stop or self._pause or self._notice or self._held

    def request_stop(self) -> None:
        with self._condition:
            self._stop = True
            self.pending = True
            self._condition.notify_all()

    def pause(self) -> None:
        with self._condition:
            self._pause = True
            self.pending = True

    def resume(self) -> None:
        with self._condition:
            self._pause = False
            self._steps = 0
            self._refresh()
            self._condition.notify_all()

    def step_once(self) -> bool:
        """While paused: let exactly one more batch run, then pause again. False when not paused."""
        with self._condition:
            if not self._pause or self._stop:
                return False
            self._steps += 1
            self._condition.notify_all()
            return True

    def notify(self) -> None:
        """A live change waits: the loop looks at the next step boundary, or at once while paused."""
        with self._condition:
            self._notice = True
            self.pending = True
            self._condition.notify_all()

    def take_notice(self) -> bool:
        """Whether a change was posted since the last call (and forget it)."""
        with self._condition:
            notice, self._notice = self._notice, False
            self._refresh()
            return notice

    def hold(self, held: bool) -> None:
        """Keep `pending` set while changes are due at later steps, so the loop meets each one's step."""
        with self._condition:
            self._held = held
            self._refresh()

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def pause_requested(self) -> bool:
        return self._pause

    def wait_while_paused(self, on_pause: Callable[[], None], on_resume: Callable[[], None],
                          on_notice: Callable[[], None] | None = None) -> bool:
        """Block the training thread while paused; a stop request ends the wait.

        A change posted meanwhile runs `on_notice` on this thread and the wait goes on, so a paused run takes
        a new learning rate at once. A step_once grant returns True without resuming: the caller runs one
        batch and comes back here; otherwise False once resumed (or stopped)."""
        with self._condition:
            if not self._pause or self._stop:
                return False
        on_pause()
        while True:
            with self._condition:
                while self._pause and not self._stop and not self._steps and not (self._notice and on_notice):
                    self._condition.wait()
                paused = self._pause and not self._stop
                action = "notice" if paused and self._notice and on_notice else "step" if paused and self._steps \
                    else "resume"
                if action == "step":
                    self._steps -= 1
            if action == "notice":
                on_notice()
                continue
            if action == "step":
                return True
            break
        on_resume()
        return False
