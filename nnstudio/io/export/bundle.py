"""The bundle: one .zip with everything needed to reproduce or reuse a result elsewhere.

    manifest.json       what is inside, with each export's parity gap
    project.nnstudio    the project
    model.safetensors   the weights, with model.json (the safetensors export's sidecar)
    history.json        the metric history, when the checkpoint has one (checkpoint.json likewise)
    environment.json    torch and Python versions, platform, device, seeds
    exports/            model.pt (TorchScript), model.pt2 (torch.export), model.onnx, python/

Every export inside passes its own parity check before the archive is written, and the finished
archive is opened again (as `nnstudio import` would) and checked once more.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.io.export.disk import write_bytes, write_text
from nnstudio.io.export.formats import FORMATS, missing_modules, nnstudio_version
from nnstudio.io.export.job import Job
from nnstudio.io.export.parity import Gap, Runner
from nnstudio.io.importing.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    ENVIRONMENT,
    HISTORY,
    MANIFEST,
    PROJECT,
    WEIGHTS,
    open_bundle,
)
from nnstudio.io.importing.weights import CHECKPOINT_FILE
from nnstudio.io.project_file import dumps

EXPORTS = {"torchscript": "exports/model.pt", "exported-program": "exports/model.pt2",
           "onnx": "exports/model.onnx", "python": "exports/python"}


def write(job: Job, target: Path) -> list[str]:
    from nnstudio.io.export.api import run_export

    root = target.parent / (target.stem + ".contents")
    (root / "exports").mkdir(parents=True)
    outer = job.messages
    job.messages = []  # the inner exports' notes would repeat for every format
    try:
        contents = [{"file": PROJECT, "what": "project"}]
        write_text(root / PROJECT, dumps(job.project))
        gap = run_export(job, FORMATS["safetensors"], root / WEIGHTS)
        contents.append({"file": WEIGHTS, "what": "weights (+ model.json sidecar)", **gap_entry(gap)})
        notes = _copy_records(job, root, contents)
        for name, member in EXPORTS.items():
            missing = missing_modules(FORMATS[name])
            if missing:
                notes.append(f"bundle: no {FORMATS[name].title} export inside, because {', '.join(missing)} "
                             f"is not installed (pip install \"nnstudio[{FORMATS[name].extra}]\")")
                continue
            gap = run_export(job, FORMATS[name], root / member)
            contents.append({"file": member, "what": FORMATS[name].title, **gap_entry(gap)})
    finally:
        job.messages = outer
    write_text(root / ENVIRONMENT, json.dumps(environment(job), indent=2) + "\n")
    manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "nnstudio_version": nnstudio_version(),
                "created": _now(), "project": job.project.metadata.name, "trained": job.checkpoint is not None,
                "contents": contents}
    write_text(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    _zip(root, target)
    shutil.rmtree(root)
    formats = ", ".join(c["what"] for c in contents[2:] if "max_abs_diff" in c)
    return [*notes, f"bundle holds the project, weights and {formats or 'no other exports'}"]


def gap_entry(gap: Gap) -> dict[str, float | None]:
    """A manifest entry's parity figures (the relative one may be infinite, which JSON cannot hold)."""
    return {"max_abs_diff": gap.max_abs, "max_rel_diff": gap.max_rel if math.isfinite(gap.max_rel) else None}


def _copy_records(job: Job, root: Path, contents: list[dict[str, Any]]) -> list[str]:
    if job.checkpoint is None or job.checkpoint.directory is None:
        return ["bundle: no metrics history inside (give a training checkpoint folder to include one)"]
    notes = []
    for name in (HISTORY, CHECKPOINT_FILE):
        source = job.checkpoint.member(name)
        if source is not None:
            write_bytes(root / name, source.read_bytes())
            contents.append({"file": name, "what": "metrics history" if name == HISTORY else "checkpoint info"})
        elif name == HISTORY:
            notes.append(f"bundle: the checkpoint has no {HISTORY}, so no metrics history is inside")
    return notes


def environment(job: Job) -> dict[str, Any]:
    training = job.project.training if isinstance(job.project.training, dict) else {}
    info = job.checkpoint.read_json(CHECKPOINT_FILE) if job.checkpoint is not None else None
    env: dict[str, Any] = {
        "nnstudio_version": nnstudio_version(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "export_device": "cpu",
        "training_device": _training_device(job, training),
        "seeds": {"init": job.project.init.seed, "training": training.get("seed", 0)},
        "init_scheme": job.project.init.scheme,
        "checkpoint": info,
        "created": _now(),
    }
    for module in ("onnx", "onnxruntime", "onnxscript", "safetensors"):
        try:
            env[f"{module}_version"] = __import__(module).__version__
        except (ImportError, AttributeError):
            env[f"{module}_version"] = None
    return env


def _training_device(job: Job, training: dict[str, Any]) -> str | None:
    """The device the run used, from the history's start record; else the setting."""
    history = job.checkpoint.read_json(HISTORY) if job.checkpoint is not None else None
    records = history.get("records", history) if isinstance(history, dict) else history
    if isinstance(records, list):
        for record in records:
            if isinstance(record, dict) and record.get("kind") == "start" and record.get("device"):
                return str(record["device"])
    return training.get("device", "auto") if job.checkpoint is not None else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _zip(root: Path, target: Path) -> None:
    """zipfile writes through Python, so a full disk here is an OSError (ENOSPC), which run_export reports. No
    size is checked first: compression makes the archive's size unknown until it is written."""
    files = [path for path in sorted(root.rglob("*")) if path.is_file()]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())


def load(job: Job, target: Path) -> Runner:
    """Open the archive the way `nnstudio import` does and rebuild the model from it."""
    return open_bundle(target).compiled().module.eval()
