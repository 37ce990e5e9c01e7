"""The run history of a project: one folder per training run, beside the project file.

    <project folder>/<project stem>.runs/run-0003/
        run.json            number, status, message, final metrics, the settings and dataset it used
        project.nnstudio    the project exactly as it was when Train was pressed
        history.json        every metric record (the curves)
        checkpoints/last/   engine checkpoints (weights, optimizer, schedule, RNG, loop position)
        checkpoints/best/

A project that has never been saved keeps its runs in a temporary folder until it is saved; then they
move beside the file. Nothing here needs Qt; the panel that lists runs is ui/training/runs_panel.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nnstudio.metrics.history import MetricHistory, clean_json

RUN_FILE = "run.json"
PROJECT_FILE = "project.nnstudio"
HISTORY_FILE = "history.json"
ACTIVE = ("preparing", "running")


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
        return clean_json(data)


def runs_folder_for(project_path: Path) -> Path:
    return project_path.parent / f"{project_path.stem}.runs"


class RunStore:
    """The runs of one project, in `root` (created on first use)."""

    def __init__(self, root: Path | None = None) -> None:
        self.temporary = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="nnstudio-runs-"))

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
        """Move every run into `root` (when an unsaved project is saved); returns the store there."""
        target = RunStore(root)
        taken = {r.number for r in target.runs()}
        for record in self.runs():
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
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)
        return target
