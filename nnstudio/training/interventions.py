"""Changes made to a run while it trains: a new learning rate, a node frozen or unfrozen, and single steps.

Another thread (the GUI's) posts a change with `post_lr` or `post_frozen`. It is checked at once against the
run as it will be once the changes already queued are in, so a refusal comes back as one line to show; an
accepted change is queued and Control.notify makes the loop look at its next step boundary (a paused run
applies it at once). Each applied change is a ChangeEvent with its epoch and global step: `step` optimizer
steps were done when it took effect, so it acts from step `step + 1` on. The event goes into the run's history
(a record of kind "intervention", so the CLI's --metrics JSON lines carry it too), the checkpoint's trainer
state, and `<run folder>/interventions.json`.

Learning rate. Setting the rate to x multiplies every rate the optimizer and its schedule keep (each param
group's lr, initial_lr, max_lr and min_lr; the scheduler's base_lrs and last rates) by x / (the default
group's current rate); the default group gets x exactly. So the schedule's base learning rate is scaled and
the schedule keeps its shape from that step on: a cosine part-way down goes on down from x, a warm-up goes on
ramping, step and plateau schedules go on cutting from x, and a node's learning-rate scale stays what it was.
This is the same rule `nnstudio train --resume --lr` follows (loop_state.override_lr).

Freezing. The node's parameters get requires_grad False. They stay in the optimizer, which skips a parameter
whose grad is None (zero_grad sets None): no update, no weight decay, and the momentum or Adam moments are
kept; unfreezing lets them learn again from that state. Batch-norm running statistics freeze too unless the
node's update_stats asks otherwise, as for a node frozen in the project. A node frozen in the project when the
run started is not in the optimizer at all, so only a new run can train it.

Resume. A checkpoint holds the changes in effect when it was saved. `restore` puts back their frozen flags (the
optimizer's state already holds the rates) and schedules the later changes that the checkpoint's run folder
lists in interventions.json, so a run resumed from an earlier checkpoint applies them at the same steps and ends
with bitwise the same weights as the run that was not interrupted.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.nn.modules.batchnorm import _BatchNorm

from nnstudio.compile.summary import node_modules
from nnstudio.training.events import Status
from nnstudio.training.loop_state import LR_KEYS, SCHEDULER_LRS

if TYPE_CHECKING:
    from nnstudio.training.checkpoint import Checkpoint
    from nnstudio.training.engine import Trainer

INTERVENTIONS_FILE = "interventions.json"
FORMAT = "nnstudio.interventions"
RECORD_KIND = "intervention"  # the history record kind
KINDS = ("lr", "freeze", "unfreeze")
NOT_STARTED = "the run has not started training yet; try again in a moment"


@dataclass(frozen=True)
class Change:
    """A change as posted: not applied yet, so it has no step."""

    kind: str  # one of KINDS
    node_id: str | None = None
    value: float | None = None  # the new learning rate


@dataclass
class ChangeEvent:
    """A change as applied: where in the run, and what it changed from and to."""

    kind: str
    epoch: int
    step: int
    node_id: str | None = None
    node: str | None = None  # the node's name when it was applied
    old: float | bool | None = None  # the default group's learning rate, or whether the node was frozen
    new: float | bool | None = None
    replayed: bool = False  # applied again on resume, from the run folder's interventions.json

    def text(self) -> str:
        """One line, e.g. "step 25 (epoch 3): learning rate 0.1 → 0.01"."""
        if self.kind == "lr":
            what = f"learning rate {_rate(self.old)} → {_rate(self.new)}"
        else:
            what = f"{'froze' if self.kind == 'freeze' else 'unfroze'} {self.node or self.node_id}"
        return f"step {self.step} (epoch {self.epoch}): {what}" + (" (replayed on resume)" if self.replayed else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def record(self) -> dict[str, Any]:
        """The history record (kind "intervention"; the change's own kind is `change`)."""
        data = self.to_json()
        data["change"] = data.pop("kind")
        return {"kind": RECORD_KIND, **data, "text": self.text()}

    def same_change(self, other: ChangeEvent) -> bool:
        return (self.kind, self.step, self.node_id, self.new) == (other.kind, other.step, other.node_id, other.new)

    @classmethod
    def from_json(cls, data: Any, where: str) -> ChangeEvent:
        """Read one event; ValueError naming `where` and the field when it is malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        if data.get("kind") not in KINDS:
            raise ValueError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {data.get('kind')!r}")
        for name in ("epoch", "step"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{where}.{name}: expected an integer >= 0, got {value!r}")
        if data["kind"] == "lr" and not _positive(data.get("new")):
            raise ValueError(f"{where}.new: expected a positive learning rate, got {data.get('new')!r}")
        if data["kind"] != "lr" and not isinstance(data.get("node_id"), str):
            raise ValueError(f"{where}.node_id: expected a node id, got {data.get('node_id')!r}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ChangeEvent:
        """The event a history record describes (a plot's marker reads records)."""
        data = {k: v for k, v in record.items() if k not in ("kind", "text")}
        data["kind"] = data.pop("change", None)
        return cls.from_json(data, "intervention record")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _rate(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "?"


def set_learning_rate(optimizer: torch.optim.Optimizer, scheduler: Any, new: float) -> float:
    """Scale every rate the optimizer and scheduler keep by new / (the default group's rate); returns that rate.

    A schedule at a rate of 0 (a cosine's very end) has nothing to scale: each group then gets new · its node
    lr scale and the schedule goes on from there."""
    groups = optimizer.param_groups
    old = float(groups[0]["lr"])
    if old == 0:
        for group in groups:
            group["lr"] = new * float(group.get("lr_scale", 1.0))
        return old
    factor = new / old
    for group in groups:
        for key in LR_KEYS:
            value = group.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                group[key] = new if key == "lr" and value == old else value * factor
    for name in SCHEDULER_LRS:
        rates = getattr(scheduler, name, None)
        if isinstance(rates, list):
            setattr(scheduler, name, [rate * factor for rate in rates])
    return old


def read_events(path: Path) -> list[ChangeEvent]:
    """The events an interventions.json lists; ValueError or OSError when it cannot be read."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("events"), list):
        raise ValueError("not an nnstudio interventions file")
    return [ChangeEvent.from_json(item, f"events[{i}]") for i, item in enumerate(data["events"])]


def write_events(path: Path, events: list[ChangeEvent]) -> None:
    """Write beside and rename in, so a crash never leaves half a file."""
    text = json.dumps({"format": FORMAT, "version": 1, "events": [e.to_json() for e in events]}, indent=1)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _keep_eval(module: torch.nn.Module, args: Any) -> None:
    module.training = False


class Interventions:
    """One trainer's live changes: the queue the GUI posts to, what was applied, and what a resume replays."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self._lock = threading.Lock()
        self._queue: list[Change] = []
        self._will_freeze: set[str] = set()  # nodes frozen live once the queue is applied
        self.applied: list[ChangeEvent] = []
        self.planned: list[ChangeEvent] = []  # later changes of the run a resume continues, by step
        self.notes: list[str] = []  # what restore could not use, one line each
        self._frozen: dict[str, list[torch.nn.Parameter]] = {}  # node -> the parameters freezing turned off
        self._hooks: dict[str, list[Any]] = {}
        self._released_at: int | None = None  # the step at which step_once let one batch through

    # --- posting (any thread) --------------------------------------------------------------
    def post_lr(self, lr: float) -> str | None:
        """Queue a new learning rate; the reason it cannot be applied, or None."""
        problem = self.lr_problem(lr)
        if problem is None:
            self._post(Change("lr", value=float(lr)))
        return problem

    def post_frozen(self, node_id: str, frozen: bool) -> str | None:
        """Queue freezing (or unfreezing) a node; the reason it cannot be, or None."""
        with self._lock:
            problem = self.freeze_problem(node_id, frozen)
            if problem is None:
                self._queue.append(Change("freeze" if frozen else "unfreeze", node_id))
                (self._will_freeze.add if frozen else self._will_freeze.discard)(node_id)
        if problem is None:
            self.trainer.control.notify()
        return problem

    def _post(self, change: Change) -> None:
        with self._lock:
            self._queue.append(change)
        self.trainer.control.notify()

    def step_once(self) -> bool:
        """While paused: run exactly one more batch (sampled, so its statistics are logged), then pause again."""
        return self.trainer.control.step_once()

    def frozen_nodes(self) -> set[str]:
        """Nodes frozen by live changes, counting those still queued."""
        with self._lock:
            return set(self._will_freeze)

    # --- checks ----------------------------------------------------------------------------
    def _unsupported(self) -> str | None:
        t = self.trainer
        if not getattr(t, "_ready", False):
            return NOT_STARTED
        if not isinstance(t.optimizer, torch.optim.Optimizer) or getattr(t, "players", None):
            return f"the {t.job.recipe} recipe keeps its own learning rates and optimizers: it cannot be changed " \
                   "while it trains"
        if isinstance(t.forward_module, torch.nn.parallel.DistributedDataParallel):
            return "a distributed run cannot be changed while it trains: stop it and resume with --lr"
        return None

    def lr_problem(self, lr: Any) -> str | None:
        if not _positive(lr):
            return f"learning rate: expected a positive number, got {lr!r}"
        return self._unsupported()

    def freeze_problem(self, node_id: str, frozen: bool) -> str | None:
        """Why the node cannot be frozen (or unfrozen) now; call with the lock held."""
        problem = self._unsupported()
        if problem:
            return problem
        t = self.trainer
        name = t.job.names.get(node_id, node_id)
        trainable = {id(p) for p in t.params}
        mine = [p for module in node_modules(t.job.compiled).get(node_id, []) for p in module.parameters()]
        node = t.job.project.graph.nodes.get(node_id)
        if node_id not in t.job.names or not mine:
            return f"{name}: it has no weights to freeze" if node_id in t.job.names else \
                f"{node_id}: no such node in this run's graph"
        if node is not None and node.training.frozen:
            return f"{name} was frozen in the project when this run started, so its weights are not in the " \
                   "optimizer: unfreeze it in the project and train again"
        if frozen == (node_id in self._will_freeze):
            return f"{name} is {'frozen' if frozen else 'not frozen'} already"
        if frozen:
            off = {id(p) for n in self._will_freeze | {node_id}
                   for m in node_modules(t.job.compiled).get(n, []) for p in m.parameters()}
            if not trainable - off:
                return f"freezing {name} would leave no weights to train"
        return None

    # --- the training thread ---------------------------------------------------------------
    def at_boundary(self) -> bool:
        """The engine's step-boundary hook when a request is pending: apply the changes that are due, honour
        pause, single steps and stop. True means stop now."""
        t = self.trainer
        control = t.control
        self.apply_due()
        if control.stepping:
            if t.state.step == self._released_at and not control.stop_requested:
                return False  # the granted batch has not run yet (the grant came at an epoch's end)
            control.stepping = False
        if control.pause_requested and not control.stop_requested:
            t.status = Status.PAUSED
            if control.wait_while_paused(t._on_pause, t._on_resume, self.apply_due):
                t.state.clock_resume()  # one batch, then the next boundary pauses (and reports) again
                t.status = Status.RUNNING
                control.stepping, self._released_at = True, t.state.step
        return control.stop_requested

    def apply_due(self) -> None:
        """Apply the replayed changes whose step has come, then the posted ones, in that order."""
        t = self.trainer
        t.control.take_notice()
        changed = False
        while self.planned and self.planned[0].step <= t.state.step:
            planned = self.planned.pop(0)
            self._apply(Change(planned.kind, planned.node_id, planned.new if planned.kind == "lr" else None),
                        replayed=True)
            changed = True
        with self._lock:
            queued, self._queue = self._queue, []
        for change in queued:
            self._apply(change)
            changed = True
        t.control.hold(bool(self.planned))
        if changed:
            self._save_file()

    def _apply(self, change: Change, replayed: bool = False) -> ChangeEvent:
        t = self.trainer
        if change.kind == "lr":
            old, new = set_learning_rate(t.optimizer, t.schedule.scheduler, float(change.value)), change.value
        else:
            old, new = change.node_id in self._frozen, change.kind == "freeze"
            self._set_frozen(change.node_id, new)
            with self._lock:
                (self._will_freeze.add if new else self._will_freeze.discard)(change.node_id)
        event = ChangeEvent(change.kind, t.state.epoch_in_progress, t.state.step, change.node_id,
                            t.job.names.get(change.node_id) if change.node_id else None, old, new, replayed)
        self.applied.append(event)
        t.history.add(event.record())
        return event

    def _set_frozen(self, node_id: str, frozen: bool) -> None:
        t = self.trainer
        modules = node_modules(t.job.compiled).get(node_id)
        if not modules:
            raise ValueError(f"interventions: node {node_id} is not in this graph (or has no weights)")
        if not frozen:
            for p in self._frozen.pop(node_id, []):
                p.requires_grad_(True)
            for handle in self._hooks.pop(node_id, []):
                handle.remove()
            return
        if node_id in self._frozen:
            return
        trainable = {id(p) for p in t.params}
        params = [p for m in modules for p in m.parameters() if id(p) in trainable and p.requires_grad]
        for p in params:
            p.requires_grad_(False)
            p.grad = None
        self._frozen[node_id] = params
        node = t.job.project.graph.nodes.get(node_id)
        if node is None or not node.training.update_stats:
            self._hooks[node_id] = [m.register_forward_pre_hook(_keep_eval) for module in modules
                                    for m in module.modules() if isinstance(m, _BatchNorm)]

    def close(self) -> None:
        """The run ended: give the frozen parameters back their gradients and remove the statistics hooks."""
        for node_id in list(self._frozen):
            self._set_frozen(node_id, False)

    # --- files and checkpoints -------------------------------------------------------------
    def state(self) -> list[dict[str, Any]]:
        """The changes in effect, for the checkpoint's trainer state (plain values: loads with weights_only)."""
        return [event.to_json() for event in self.applied]

    def _save_file(self) -> None:
        out = self.trainer.out_dir
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_events(out / INTERVENTIONS_FILE, [*self.applied, *self.planned])

    def begin(self, resumed: bool) -> None:
        """The run starts: a fresh run leaves no earlier run's file behind in its folder (a resume of it would
        replay that run's changes); a resume writes the changes it carries and those it will replay."""
        out = self.trainer.out_dir
        if out is None:
            return
        if resumed and (self.applied or self.planned):
            self._save_file()
        elif not resumed:
            (out / INTERVENTIONS_FILE).unlink(missing_ok=True)

    def restore(self, checkpoint: Checkpoint) -> None:
        """Put back the changes in effect at the checkpoint, and plan the later ones its run folder lists.

        Raises ValueError (naming the field) when the checkpoint's list does not fit this run."""
        saved = checkpoint.state.get("interventions", [])
        if not isinstance(saved, list):
            raise ValueError(f"interventions: expected a list, got {type(saved).__name__}")
        events = [ChangeEvent.from_json(item, f"interventions[{i}]") for i, item in enumerate(saved)]
        for event in events:
            if event.kind != "lr":
                self._set_frozen(event.node_id, event.kind == "freeze")
        self.applied = events
        self._will_freeze = set(self._frozen)
        self.planned = self._later_changes(checkpoint.path.parent.parent / INTERVENTIONS_FILE, events)
        self.trainer.control.hold(bool(self.planned))

    def _later_changes(self, path: Path, in_effect: list[ChangeEvent]) -> list[ChangeEvent]:
        """The file's changes after those in effect, when the file continues this checkpoint's line of the run."""
        if not path.exists():
            return []
        try:
            listed = read_events(path)
        except (OSError, ValueError) as exc:
            self.notes.append(f"{path}: unreadable ({exc}); the run's later changes are not replayed")
            return []
        prefix = listed[:len(in_effect)]
        if len(prefix) < len(in_effect) or not all(a.same_change(b) for a, b in zip(prefix, in_effect, strict=True)):
            self.notes.append(f"{path}: its changes are not those of this checkpoint; nothing is replayed from it")
            return []
        if self._unsupported():
            return []
        later = listed[len(in_effect):]
        return sorted(later, key=lambda e: e.step)

    def resume_lines(self) -> list[str]:
        """What a resume carries over and will replay, one line each (the CLI prints them)."""
        return ([f"change in effect: {e.text()}" for e in self.applied]
                + [f"change to replay: {e.text()}" for e in self.planned] + [f"warning: {n}" for n in self.notes])
