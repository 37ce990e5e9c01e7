"""Load weights from a file or a training checkpoint into a graph, reporting any mismatch by key.

Weights are read only through `read_state_dict`: safetensors, or torch files through the
weights_only unpickler. Opening a weights file never runs code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnstudio.compile import CompiledModel, build_module
from nnstudio.compile.weights import WeightReport, WeightsError, check_weights, read_state_dict
from nnstudio.model.project import Project

WEIGHTS_FILE = "model.safetensors"
PROJECT_FILE = "project.nnstudio"
HISTORY_FILE = "history.json"
CHECKPOINT_FILE = "checkpoint.json"


@dataclass(frozen=True)
class Checkpoint:
    """A training checkpoint directory, or a bare weights file."""

    path: Path
    weights: Path
    directory: Path | None = None

    def member(self, name: str) -> Path | None:
        """A file inside the checkpoint directory, when there is one and it exists."""
        if self.directory is None:
            return None
        candidate = self.directory / name
        return candidate if candidate.is_file() else None

    def read_json(self, name: str) -> Any | None:
        """A JSON member (history, checkpoint info), or None when absent or unreadable."""
        member = self.member(name)
        if member is None:
            return None
        try:
            return json.loads(member.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None


def open_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    path = Path(path)
    if path.is_dir():
        weights = path / WEIGHTS_FILE
        if not weights.is_file():
            raise WeightsError(f"{path}: checkpoint folder has no {WEIGHTS_FILE}")
        return Checkpoint(path, weights, path)
    if not path.exists():
        raise WeightsError(f"{path}: no such file or folder")
    return Checkpoint(path, path)


def apply_weights(compiled: CompiledModel, path: str | os.PathLike[str], strict: bool = True) -> WeightReport:
    """Load a weights file or checkpoint into a compiled graph; returns what did not match.

    Strict refuses any missing, unexpected or mismatched key (naming them) and changes nothing.
    Lenient loads every key that fits and leaves the rest as initialised.
    """
    checkpoint = open_checkpoint(path)
    state = read_state_dict(checkpoint.weights)
    report = check_weights(compiled.module, state)
    if strict and not report.ok:
        raise WeightsError(f"{checkpoint.path}: the weights do not match the graph: {report.describe()}")
    skip = {key for key, _, _ in report.mismatched} | set(report.unexpected)
    compiled.module.load_state_dict({k: v for k, v in state.items() if k not in skip}, strict=False)
    return report


def load_graph_weights(project: Project, path: str | os.PathLike[str],
                       strict: bool = True) -> tuple[CompiledModel, WeightReport]:
    """Compile the project and load the weights into it. Keys are '<node name>.<tensor>'."""
    compiled = build_module(project)
    return compiled, apply_weights(compiled, path, strict)
