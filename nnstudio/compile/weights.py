"""Weights in and out: safetensors by default, torch files only through the weights_only unpickler.

Opening a weights file must never run code, so pickles are loaded with `weights_only=True` and
anything that unpickler refuses is reported, not retried unsafely.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from nnstudio.util.atomic import atomic_write

TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
WEIGHTS_FILE = "model.safetensors"  # the file name inside a checkpoint directory


class WeightsError(Exception):
    """A weights file that cannot be read or does not fit the model. The message names the file."""


@dataclass
class WeightReport:
    missing: list[str] = field(default_factory=list)  # in the model, not in the file
    unexpected: list[str] = field(default_factory=list)  # in the file, not in the model
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit: int = 8) -> str:
        if self.ok:
            return "all weights match"
        parts = []
        if self.missing:
            parts.append("missing " + _listing(self.missing, limit))
        if self.unexpected:
            parts.append("unexpected " + _listing(self.unexpected, limit))
        if self.mismatched:
            shown = [f"{k} (model {list(m)}, file {list(f)})" for k, m, f in self.mismatched]
            parts.append("mismatched " + _listing(shown, limit))
        return "; ".join(parts)


def _listing(items: list[str], limit: int) -> str:
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


def save_weights(module: nn.Module, path: str | os.PathLike[str], metadata: dict[str, str] | None = None) -> None:
    """Write the module's state dict as safetensors, atomically."""
    path = Path(path)
    state = {key: value.detach().to("cpu").contiguous() for key, value in module.state_dict().items()}
    atomic_write(path, lambda temp: save_file(state, temp, metadata=metadata))


def resolve_weights_path(path: str | os.PathLike[str]) -> Path:
    """A checkpoint directory means its model.safetensors."""
    path = Path(path)
    if path.is_dir():
        candidate = path / WEIGHTS_FILE
        if not candidate.exists():
            raise WeightsError(f"{path}: checkpoint directory has no {WEIGHTS_FILE}")
        return candidate
    return path


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    path = resolve_weights_path(path)
    if not path.exists():
        raise WeightsError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    if path.suffix in TORCH_SUFFIXES:
        return _read_torch_file(path)
    raise WeightsError(f"{path}: unknown weights format {path.suffix!r}; use .safetensors or .pt")


def _read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise WeightsError(
            f"{path}: refused to load: the file contains Python objects or code that a weights file must not "
            f"have ({first}). Only tensors and plain containers are accepted."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable torch file ({exc})") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors")
    return {str(k): v for k, v in obj.items()}


def check_weights(module: nn.Module, state: dict[str, torch.Tensor]) -> WeightReport:
    expected = module.state_dict()
    report = WeightReport()
    report.missing = [k for k in expected if k not in state]
    report.unexpected = [k for k in state if k not in expected]
    report.mismatched = [(k, tuple(expected[k].shape), tuple(state[k].shape))
                         for k in expected if k in state and expected[k].shape != state[k].shape]
    return report


def load_weights(module: nn.Module, path: str | os.PathLike[str], strict: bool = True) -> WeightReport:
    """Load weights into the module. Strict refuses any difference; lenient loads what matches."""
    state = read_state_dict(path)
    report = check_weights(module, state)
    if strict and not report.ok:
        raise WeightsError(f"{resolve_weights_path(path)}: weights do not match the graph: {report.describe()}")
    bad = {k for k, _, _ in report.mismatched}
    usable = {k: v for k, v in state.items() if k not in bad and k not in report.unexpected}
    with torch.no_grad():
        module.load_state_dict(usable, strict=False)
    return report
