"""Checkpoint folders: `<out>/checkpoints/last/` and `.../best/`.

Each folder holds
    model.safetensors   the weights (compile.weights.save_weights)
    trainer_state.pt    optimizer, scheduler, loop position and RNG states; only tensors, numbers, strings
                        and plain containers, so it loads with torch.load(weights_only=True)
    history.json        the metric history so far
    checkpoint.json     epoch, step, monitored metric, versions (human readable)
and whatever the caller's writer adds (the CLI and GUI add project.nnstudio). A folder is written
beside its final place and swapped in with renames, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nnstudio.compile.weights import WEIGHTS_FILE, WeightsError, load_weights, save_weights
from nnstudio.metrics.history import MetricHistory, clean_json

STATE_FILE = "trainer_state.pt"
HISTORY_FILE = "history.json"
INFO_FILE = "checkpoint.json"
FORMAT = "nnstudio.checkpoint"

Writer = Callable[[Path], None]  # adds files to a checkpoint folder before it is swapped in


class CheckpointError(Exception):
    """A checkpoint folder that cannot be read; the message names the folder or file."""


@dataclass
class Checkpoint:
    path: Path
    info: dict[str, Any]
    state: dict[str, Any]
    history: MetricHistory

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
    """Write a complete checkpoint folder at `directory`, replacing any previous one atomically."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.parent / f".{directory.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        save_weights(module, staging / WEIGHTS_FILE)
        torch.save(state, staging / STATE_FILE)
        history.save(staging / HISTORY_FILE)
        full_info = {"format": FORMAT, "version": 1, **info, "nnstudio": nnstudio_version(),
                     "torch": torch.__version__, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (staging / INFO_FILE).write_text(json.dumps(clean_json(full_info), indent=2), encoding="utf-8")
        if writer is not None:
            writer(staging)
        _swap_in(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def _swap_in(staging: Path, directory: Path) -> None:
    old = directory.parent / f".{directory.name}.old-{os.getpid()}"
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


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
    """Read a checkpoint folder (not the weights: see load_checkpoint_weights)."""
    directory = Path(directory)
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
    try:
        history = MetricHistory.load(directory / HISTORY_FILE)
    except (OSError, ValueError):
        history = MetricHistory()
    return Checkpoint(directory, info, state, history)


def load_checkpoint_weights(module: nn.Module, directory: str | os.PathLike[str]) -> None:
    try:
        load_weights(module, Path(directory), strict=True)
    except WeightsError as exc:
        raise CheckpointError(str(exc)) from None
