"""Checkpoint folders: `<out>/checkpoints/last/` and `.../best/`.

Each folder holds
    model.safetensors   the weights (compile.weights.save_weights)
    trainer_state.pt    optimizer, scheduler, loop position and RNG states; only tensors, numbers, strings
                        and plain containers, so it loads with torch.load(weights_only=True)
    history.json        the metric history so far
    checkpoint.json     epoch, step, monitored metric, versions (human readable)
and whatever the caller's writer adds (the CLI and GUI add project.nnstudio). A folder is written
beside its final place and swapped in with renames, so a crash never leaves a half-written checkpoint, and a crash
between the renames is recovered from (training.checkpoint_swap). Loading checks what steers the loop: the
position's ranges (a crafted epoch or step is refused naming the field) and a readable history.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nnstudio.compile.weights import WEIGHTS_FILE, WeightsError, load_weights, save_weights
from nnstudio.metrics.history import MetricHistory, clean_json
from nnstudio.training import checkpoint_swap
from nnstudio.training.settings import TrainingSettings

STATE_FILE = "trainer_state.pt"
HISTORY_FILE = "history.json"
INFO_FILE = "checkpoint.json"
FORMAT = "nnstudio.checkpoint"
HISTORY_FORMAT = "nnstudio.history"
REQUIRED = (WEIGHTS_FILE, STATE_FILE, HISTORY_FILE, INFO_FILE)  # what a complete checkpoint folder holds

MAX_EPOCHS = int(next(f.metadata["spec"].maximum for f in fields(TrainingSettings) if f.name == "epochs"))
MAX_STEPS = 10**15  # far beyond any run; the bound only keeps a crafted count from steering the loop
# the loop position in trainer_state.pt: field -> (lowest, highest)
POSITION = {"epoch": (0, MAX_EPOCHS), "step": (0, MAX_STEPS), "batch": (0, MAX_STEPS)}

Writer = Callable[[Path], None]  # adds files to a checkpoint folder before it is swapped in


class CheckpointError(Exception):
    """A checkpoint folder that cannot be read; the message names the folder or file."""


@dataclass
class Checkpoint:
    path: Path
    info: dict[str, Any]
    state: dict[str, Any]
    history: MetricHistory
    notes: list[str] = field(default_factory=list)  # what loading did to the folder (a recovery), one line each

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])

    @property
    def step(self) -> int:
        return int(self.state["step"])


def nnstudio_version() -> str:
    """The installed version (read from package metadata, which works however the package was found)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nnstudio")
    except PackageNotFoundError:
        return "unknown"


def capture_rng() -> dict[str, Any]:
    """Every RNG a run may draw from, in weights_only-loadable form."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["pos"], numpy_state["has_gauss"], numpy_state["cached"]))
    python_state = state["python"]
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: Path, module: nn.Module, state: dict[str, Any], history: MetricHistory,
                    info: dict[str, Any], writer: Writer | None = None) -> Path:
    """Write a complete checkpoint folder at `directory`, replacing any previous one atomically.

    Leftovers of writers that died (kill -9) beside it are recovered or removed first (checkpoint_swap.tidy)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with checkpoint_swap.staging(directory, REQUIRED) as staging:
        save_weights(module, staging / WEIGHTS_FILE)
        torch.save(state, staging / STATE_FILE)
        history.save(staging / HISTORY_FILE)
        full_info = {"format": FORMAT, "version": 1, **info, "nnstudio": nnstudio_version(),
                     "torch": torch.__version__, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (staging / INFO_FILE).write_text(json.dumps(clean_json(full_info), indent=2), encoding="utf-8")
        if writer is not None:
            writer(staging)
        checkpoint_swap.swap_in(staging, directory)
    return directory


def read_info(directory: Path) -> dict[str, Any]:
    path = Path(directory) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{directory}: not a checkpoint folder (no {INFO_FILE})") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an nnstudio checkpoint description")
    return info


def load_checkpoint(directory: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint folder (not the weights: see load_checkpoint_weights).

    A folder that an interrupted save left missing is recovered first; Checkpoint.notes says so."""
    directory = Path(directory)
    notes = checkpoint_swap.recover_missing(directory.parent, REQUIRED)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such checkpoint folder")
    info = read_info(directory)
    state_path = directory / STATE_FILE
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{state_path}: missing") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(f"{state_path}: unreadable ({str(exc).splitlines()[0] if str(exc) else exc})") \
            from None
    if not isinstance(state, dict) or "epoch" not in state or "step" not in state:
        raise CheckpointError(f"{state_path}: not a trainer state")
    problem = position_problem(state)
    if problem:
        raise CheckpointError(f"{state_path}: {problem}")
    return Checkpoint(directory, info, state, _read_history(directory / HISTORY_FILE), notes)


def position_problem(state: dict[str, Any]) -> str | None:
    """Why a trainer state's loop position cannot be resumed from, naming the field; None when it can.

    Counts are integers in POSITION's ranges, the batch in progress and the completed epochs each took at least
    one step, and the sums and clocks are finite."""
    for name, (low, high) in POSITION.items():
        value = state.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return f"{name}: expected an integer from {low} to {high}, got {_show(value)}"
    if state["step"] < state["epoch"] + state.get("batch", 0):
        return (f"step: {state['step']} is fewer than the {state['epoch']} completed epoch(s) and "
                f"{state.get('batch', 0)} batch(es) of the epoch in progress took (one step each at least)")
    seconds = state.get("train_seconds", 0.0)
    if not _finite(seconds) or seconds < 0:
        return f"train_seconds: expected a finite number >= 0, got {_show(seconds)}"
    sums = state.get("loss_sum", 0.0)
    if not (_finite(sums) or (isinstance(sums, list) and sums and all(_finite(v) for v in sums))):
        return f"loss_sum: expected a finite number or a list of them, got {_show(sums)}"
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _read_history(path: Path) -> MetricHistory:
    """The metric history; a damaged one is refused rather than resumed as an empty history (which would
    silently drop the curves of every earlier epoch)."""
    hint = "; restore it from a copy, or delete the checkpoint folder and train anew"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing{hint}") from None
    except (OSError, ValueError, RecursionError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0] \
            if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: unreadable ({detail}){hint}") from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != HISTORY_FORMAT or not isinstance(records, list) \
            or not all(isinstance(r, dict) for r in records):
        raise CheckpointError(f"{path}: not an nnstudio metric history{hint}")
    try:
        return MetricHistory.from_json(data)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise CheckpointError(f"{path}: damaged record ({type(exc).__name__}: {exc}){hint}") from None


def load_checkpoint_weights(module: nn.Module, directory: str | os.PathLike[str]) -> None:
    try:
        load_weights(module, Path(directory), strict=True)
    except WeightsError as exc:
        raise CheckpointError(str(exc)) from None
