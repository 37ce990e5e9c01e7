"""The run history of a project: one folder per training run, beside the project file.

    <project folder>/<project stem>.runs/run-0003/
        run.json            number, status, message, final metrics, the settings and dataset it used
        project.nnstudio    the project exactly as it was when Train was pressed
        history.json        every metric record (the curves)
        checkpoints/last/   engine checkpoints (weights, optimizer, schedule, RNG, loop position)
        checkpoints/best/

Runs must survive a quit or a crash, so they never go to the temporary folder. Unsaved work (every example
starts unsaved, and so does a project whose file lies inside the installed package or in a folder this user
cannot write) keeps its runs in the per-user data folder, one sub-folder per document:

    <app data>/unsaved-runs/<session id>/session.json   whose they are: pid, project name, last change
    <app data>/unsaved-runs/<session id>/run-0001/ ...

The session id is the document's (Document.session_id), which is also its crash-recovery key, so a recovered
document finds its runs again. When the project is saved, its runs move beside the file. Sessions a dead
process left are offered in the Runs tab; only empty ones are deleted (see UnsavedRuns.clean), because runs
with content are the user's to delete. Nothing here needs Qt: the folder is passed in (ui/files.py asks
QStandardPaths), and the panel that lists runs is ui/training/runs_panel.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nnstudio

if TYPE_CHECKING:  # nnstudio.metrics loads torch: imported when first used, so the window paints first
    from nnstudio.metrics.history import MetricHistory
from nnstudio.util import leftovers

RUN_FILE = "run.json"
PROJECT_FILE = "project.nnstudio"
HISTORY_FILE = "history.json"
SESSION_FILE = "session.json"
UNSAVED_FOLDER = "unsaved-runs"  # inside the per-user data folder
LEGACY_PREFIX = "nnstudio-runs-"  # what older versions left in the temporary folder
LEGACY_IDLE_S = 3600  # a legacy folder untouched this long has no live owner
ACTIVE = ("preparing", "running")
PACKAGE_FOLDER = Path(nnstudio.__file__).resolve().parent


@dataclass
class RunRecord:
    number: int
    path: Path
    created: str = ""
    status: str = "preparing"  # preparing, running, finished, stopped, failed, interrupted
    message: str = ""
    node_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    best: dict[str, Any] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    project_name: str = ""
    epochs: int = 0
    step: int = 0
    resumes: int = 0

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    def checkpoint(self, which: str = "best") -> Path | None:
        """The `best` or `last` checkpoint folder, when it was written."""
        folder = self.path / "checkpoints" / which
        return folder if (folder / "checkpoint.json").is_file() else None

    @property
    def resumable(self) -> bool:
        return self.status in ("stopped", "interrupted") and self.checkpoint("last") is not None

    def headline(self) -> str:
        """The final metric a user looks at first: validation accuracy or R², else a loss."""
        for key in ("test_accuracy", "val_accuracy", "test_r2", "val_r2", "val_loss", "train_loss"):
            value = self.metrics.get(key)
            if isinstance(value, (int, float)):
                return f"{key.replace('_', ' ')} {value:.4g}"
        return ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        from nnstudio.metrics.history import clean_json

        return clean_json(data)


def runs_folder_for(project_path: Path) -> Path:
    return project_path.parent / f"{project_path.stem}.runs"


def keeps_runs_beside(project_path: Path | None) -> bool:
    """True when a project's runs can live beside its file: it has one, outside the installed package (the
    shipped examples must stay as shipped), in a folder this user may write."""
    if project_path is None:
        return False
    path = Path(project_path).resolve()
    if path.is_relative_to(PACKAGE_FOLDER):
        return False
    folder = runs_folder_for(path)
    return os.access(folder if folder.is_dir() else path.parent, os.W_OK)


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` still runs (nnstudio.util.leftovers); None, an unknown owner, counts as gone."""
    return pid is not None and leftovers.pid_alive(pid)


class RunStore:
    """The runs of one project, in `root` (created on first use).

    An `unsaved` store holds the runs of unsaved work in the per-user folder; it records its owner in
    session.json on each new run, so a later session can tell whether a live process still uses it.
    """

    def __init__(self, root: Path, unsaved: bool = False) -> None:
        self.root = Path(root)
        self.unsaved = unsaved

    # --- reading ---------------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        """Every readable run, oldest first. Unreadable folders are skipped, not fatal."""
        found = []
        if not self.root.is_dir():
            return found
        for folder in sorted(self.root.glob("run-*")):
            record = self.read(folder)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: r.number)

    def read(self, folder: Path) -> RunRecord | None:
        try:
            data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
            number = int(data.get("number", folder.name.removeprefix("run-")))
        except (OSError, ValueError, AttributeError):
            return None
        known = {f for f in RunRecord.__dataclass_fields__ if f not in ("number", "path")}
        record = RunRecord(number, folder, **{k: v for k, v in data.items() if k in known})
        return record

    def get(self, number: int) -> RunRecord | None:
        return self.read(self.root / f"run-{number:04d}")

    def history(self, record: RunRecord) -> MetricHistory:
        """The run's curves: its history file, else the last checkpoint's copy, else nothing."""
        from nnstudio.metrics.history import MetricHistory

        for path in (record.path / HISTORY_FILE, record.path / "checkpoints" / "last" / HISTORY_FILE):
            if path.is_file():
                try:
                    return MetricHistory.load(path)
                except (OSError, ValueError):
                    continue
        return MetricHistory()

    def project_text(self, record: RunRecord) -> str:
        return (record.path / PROJECT_FILE).read_text(encoding="utf-8")

    # --- writing ---------------------------------------------------------------------------
    def create(self, project_text: str, training: dict[str, Any], dataset: dict[str, Any],
               project_name: str) -> RunRecord:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.unsaved:
            write_owner(self.root, project_name)
        number = max((r.number for r in self.runs()), default=0) + 1
        while (self.root / f"run-{number:04d}").exists():
            number += 1
        folder = self.root / f"run-{number:04d}"
        folder.mkdir()
        (folder / PROJECT_FILE).write_text(project_text, encoding="utf-8")
        record = RunRecord(number, folder, created=time.strftime("%Y-%m-%d %H:%M:%S"), training=training,
                           dataset=dataset, project_name=project_name)
        self.save(record)
        return record

    def save(self, record: RunRecord) -> None:
        text = json.dumps(record.to_json(), indent=2, allow_nan=False)
        target = record.path / RUN_FILE
        staging = target.with_suffix(".tmp")
        staging.write_text(text, encoding="utf-8")
        staging.replace(target)

    def save_history(self, record: RunRecord, history: MetricHistory) -> None:
        history.save(record.path / HISTORY_FILE)

    def delete(self, record: RunRecord) -> None:
        shutil.rmtree(record.path, ignore_errors=True)

    def mark_interrupted(self, active: int | None) -> None:
        """Runs recorded as running that are not the active one were cut off (e.g. the app quit)."""
        for record in self.runs():
            if record.status in ACTIVE and record.number != active:
                record.status = "interrupted"
                record.message = "the app closed while this run was training"
                self.save(record)

    def move_to(self, root: Path) -> RunStore:
        """Move every run that is not training into `root` (when unsaved work is saved); returns the store there.

        An unsaved store's folder goes once it holds no run; a run still training stays, to follow later.
        """
        target = RunStore(root)
        taken = {r.number for r in target.runs()}
        for record in self.runs():
            if record.status in ACTIVE:
                continue
            number = record.number
            while number in taken:
                number += 1
            taken.add(number)
            target.root.mkdir(parents=True, exist_ok=True)
            destination = target.root / f"run-{number:04d}"
            shutil.move(str(record.path), str(destination))
            moved = target.read(destination)
            if moved is not None and moved.number != number:
                moved.number = number
                target.save(moved)
        if self.unsaved:
            remove_if_empty(self.root)
        return target


def write_owner(folder: Path, name: str) -> None:
    """Record that this process owns the unsaved runs in `folder`, for the project called `name`."""
    info = {"pid": os.getpid(), "name": name, "updated": time.time()}
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f"{SESSION_FILE}.tmp"
    staging.write_text(json.dumps(info), encoding="utf-8")
    staging.replace(folder / SESSION_FILE)


def remove_if_empty(folder: Path) -> bool:
    """Remove an unsaved-runs folder that holds nothing but its owner file."""
    try:
        if any(child.name != SESSION_FILE for child in folder.iterdir()):
            return False
    except OSError:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


@dataclass(frozen=True)
class UnsavedSession:
    """The runs one unsaved document left in the per-user folder."""

    id: str
    root: Path
    pid: int | None
    name: str
    updated: float
    count: int

    def store(self) -> RunStore:
        return RunStore(self.root, unsaved=True)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.updated))
        runs = "1 run" if self.count == 1 else f"{self.count} runs"
        return f"“{self.name}”, unsaved work of {when} ({runs})"


class UnsavedRuns:
    """The per-user folder of the runs of unsaved work: one sub-folder per document (its session id)."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)

    def folder(self, session_id: str) -> Path:
        return self.base / session_id

    def store(self, session_id: str) -> RunStore:
        return RunStore(self.folder(session_id), unsaved=True)

    def count(self, session_id: str) -> int:
        return len(self.store(session_id).runs())

    def claim(self, session_id: str, name: str) -> None:
        """Take over a session's runs (crash recovery, reopening), so no other instance offers them too."""
        if self.folder(session_id).is_dir():
            write_owner(self.folder(session_id), name)

    def discard(self, session_id: str) -> None:
        """Delete a session's runs (the user chose Discard); a run still training is left to finish."""
        store = self.store(session_id)
        for record in store.runs():
            if record.status not in ACTIVE:
                store.delete(record)
        remove_if_empty(store.root)

    def session(self, session_id: str) -> UnsavedSession | None:
        folder = self.folder(session_id)
        if not folder.is_dir():
            return None
        pid, name, updated = None, "Untitled", folder.stat().st_mtime
        try:
            info = json.loads((folder / SESSION_FILE).read_text(encoding="utf-8"))
            pid = int(info["pid"]) if info.get("pid") is not None else None
            name, updated = str(info.get("name") or name), float(info.get("updated", updated))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no or a damaged owner file: the owner is unknown, so no live process claims it
        return UnsavedSession(session_id, folder, pid, name, updated, len(RunStore(folder).runs()))

    def sessions(self, exclude: tuple[str, ...] = ()) -> list[UnsavedSession]:
        """Sessions with runs that no live process owns, newest first: what the Runs tab offers to reopen."""
        if not self.base.is_dir():
            return []
        found = [self.session(folder.name) for folder in sorted(self.base.iterdir())
                 if folder.is_dir() and folder.name not in exclude]
        return sorted((s for s in found if s is not None and s.count and not pid_alive(s.pid)),
                      key=lambda s: -s.updated)

    def clean(self, temp_folder: Path | None = None, now: float | None = None) -> list[Path]:
        """Tidy up what no live process owns; returns the folders removed.

        Empty sessions of dead processes are removed. Folders older versions left in `temp_folder` are
        removed when empty and moved here when they hold runs, so they are offered instead of lost when the
        temporary folder is wiped; both only once idle for an hour, since their owner is not recorded.
        """
        removed = []
        if self.base.is_dir():
            for folder in sorted(self.base.iterdir()):
                session = self.session(folder.name) if folder.is_dir() else None
                if session is not None and not pid_alive(session.pid) and remove_if_empty(folder):
                    removed.append(folder)
        if temp_folder is not None and Path(temp_folder).is_dir():
            now = time.time() if now is None else now
            for folder in sorted(Path(temp_folder).glob(f"{LEGACY_PREFIX}*")):
                idle = folder.is_dir() and now - _last_change(folder) > LEGACY_IDLE_S
                if idle and self._adopt_legacy(folder):
                    removed.append(folder)
        return removed

    def _adopt_legacy(self, folder: Path) -> bool:
        runs = RunStore(folder).runs()
        if not runs:
            shutil.rmtree(folder, ignore_errors=True)
            return not folder.exists()
        target = self.folder(uuid.uuid4().hex)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder), str(target))
            info = {"pid": None, "name": runs[-1].project_name or "Untitled", "updated": _last_change(target)}
            (target / SESSION_FILE).write_text(json.dumps(info), encoding="utf-8")
        except OSError:
            return False
        return True


def _last_change(folder: Path) -> float:
    """The newest modification time of a folder and its direct children (a run writes into its own folder)."""
    times = [folder.stat().st_mtime]
    for child in folder.iterdir():
        with contextlib.suppress(OSError):
            times.append(child.stat().st_mtime)
            if child.is_dir():
                times.extend(grandchild.stat().st_mtime for grandchild in child.iterdir())
    return max(times)
