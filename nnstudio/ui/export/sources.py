"""What the export dialog offers and runs, without Qt: weight sources, formats' extras, default paths, the job.

`run_request` is what the dialog's worker thread runs. It gets a snapshot of the project as text, never
the live document, so the user can go on editing while the export runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nnstudio
from nnstudio.io.export import formats
from nnstudio.io.export.errors import MissingExtraError
from nnstudio.io.export.formats import FORMATS, FormatInfo
from nnstudio.layers.registry import Registry
from nnstudio.model.project import Project
from nnstudio.ui.runs import ACTIVE, RunRecord, RunStore

FOLDER_SUFFIX = "-python"  # default name ending for a folder export (the python format)
PACKAGE_FOLDER = Path(nnstudio.__file__).resolve().parent  # the shipped examples live here: never export into it


@dataclass
class ExportContext:
    """What to export, read afresh whenever the dialog needs it, so it follows the window's document."""

    project: Project
    registry: Registry
    path: Path | None  # the project file, None while it was never saved
    store: RunStore
    active_run: Path | None  # the folder of the run training now


def extra_notes() -> dict[str, str]:
    """Runs on a helper thread (importing onnxruntime takes a second): why each format with an extra is off."""
    notes = {}
    for info in FORMATS.values():
        if info.extra:
            try:
                formats.require_extra(info)
            except MissingExtraError as exc:
                notes[info.name] = str(exc)
    return notes


@dataclass(frozen=True)
class WeightSource:
    """One entry of the weights chooser: a run's checkpoint, or the untrained initial weights."""

    label: str  # as the chooser lists it
    checkpoint: Path | None  # None: the freshly initialised weights
    what: str  # for messages: "Run 3's best checkpoint", "the untrained (initial) weights"
    blocked: str = ""  # why it cannot be exported now; empty when it can
    finished: bool = False  # a run that ended normally (the default prefers the newest of these)


def weight_sources(store: RunStore, active: Path | None) -> list[WeightSource]:
    """Untrained weights first, then every run with a checkpoint, newest first.

    `active` is the folder of the run training now. Its checkpoints change under an exporter, so it is
    listed but blocked, and while it trains so are the initial weights: only finished runs can be exported.
    """
    blocked = ("a model is training: while it trains, export a finished run's checkpoint, or wait until the "
               "run ends" if active is not None else "")
    sources = [WeightSource("Untrained (initial weights)", None, "the untrained (initial) weights", blocked)]
    for record in reversed(store.runs()):
        source = _run_source(record, active)
        if source is not None:
            sources.append(source)
    return sources


def _run_source(record: RunRecord, active: Path | None) -> WeightSource | None:
    if record.path == active or record.status in ACTIVE:
        reason = f"{record.name} is still training: its checkpoints change until it ends; pick a finished run"
        return WeightSource(f"{record.name} · training now", None, record.name, reason)
    which = "best" if record.checkpoint("best") is not None else "last"
    folder = record.checkpoint(which)
    if folder is None:
        return None
    details = [record.status, f"{which} checkpoint"]
    best = record.best if isinstance(record.best, dict) else {}
    if which == "best" and isinstance(best.get("value"), (int, float)):
        details.append(f"{str(best.get('metric', '')).replace('_', ' ')} {best['value']:.4g} at epoch "
                       f"{best.get('epoch', '?')}")
    elif record.headline():
        details.append(record.headline())
    return WeightSource(f"{record.name} · {' · '.join(details)}", folder, f"{record.name}'s {which} checkpoint",
                        finished=record.status == "finished")


def default_index(sources: list[WeightSource]) -> int:
    """The newest finished run; else the newest run that can be exported; else the untrained weights.

    While the only run is the one training, that run is picked: its note says why nothing can be exported yet.
    """
    for preferred in (lambda s: s.finished, lambda s: s.checkpoint is not None and not s.blocked,
                      lambda s: not s.blocked):
        for index, source in enumerate(sources):
            if preferred(source):
                return index
    return 1 if len(sources) > 1 else 0


def output_name(stem: str, info: FormatInfo) -> str:
    return stem + (info.extension or FOLDER_SUFFIX)


def default_output(info: FormatInfo, project_path: Path | None, project_name: str, fallback: Path) -> Path:
    """Next to the project file, named after it. For a project never saved (an example, say), or one inside
    the installed package, in `fallback`: the last export's folder or the user's documents folder."""
    if project_path is not None and not _inside(project_path, PACKAGE_FOLDER):
        return project_path.parent / output_name(project_path.stem, info)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", project_name.strip()).strip("-.").lower() or "model"
    return fallback / output_name(stem, info)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def resolve_output(text: str, info: FormatInfo) -> tuple[Path | None, str]:
    """(the path the export will write, why it cannot) for what the user typed into "Save to".

    A file format's name without a suffix gets the format's extension. A path that names no file (`/`,
    or an existing folder for a file format) is refused with the reason, never passed on to fail later.
    """
    text = text.strip()
    if not text:
        return None, "choose where to write the export"
    out = Path(os.path.abspath(Path(text).expanduser()))  # "a/.." names the folder a's parent, not a file
    if not out.name:
        return None, f"{out} is a folder: add a file name for the export, e.g. {out / output_name('model', info)}"
    if not info.is_folder:
        if out.is_dir():
            return None, (f"{out} is a folder: add a file name for the export, e.g. "
                          f"{out / output_name('model', info)}")
        if not out.suffix:
            out = out.with_name(out.name + info.extension)
    return out, ""


def retarget(path: Path, old: FormatInfo, new: FormatInfo) -> Path:
    """The same name with the new format's ending, when the user switches formats."""
    name = path.name
    if name in ("", ".", ".."):  # "/" or "a/..": no file name to rename
        return path
    ending = old.extension or FOLDER_SUFFIX
    if name.endswith(ending) and len(name) > len(ending):
        stem = name[: -len(ending)]
    else:
        stem = path.stem if path.suffix else name
    return path.with_name(output_name(stem, new))


@dataclass(frozen=True)
class ExportRequest:
    """Everything the worker thread needs; plain data, so it shares nothing with the GUI."""

    project_text: str
    registry: Registry
    format: str
    out: Path
    checkpoint: Path | None
    base_dir: Path | None


def run_request(request: ExportRequest):
    """Runs on the worker thread: rebuild the project from its snapshot and export it (ExportResult)."""
    from nnstudio.io import loads
    from nnstudio.io.export import export_model

    project = loads(request.project_text, request.registry)
    return export_model(project, request.format, request.out, checkpoint=request.checkpoint,
                        base_dir=request.base_dir)
