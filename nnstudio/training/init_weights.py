"""Weights from anywhere: start a model from another run's, a checkpoint's, an export's or a bundle's weights.

A source is matched to the model by tensor name and shape, so a model that grew a layer, or lost one,
still takes every weight that fits and keeps the rest as initialised; the MatchReport says which is which.
Names are node names (`conv1.weight`), because that is how the compiler names submodules.

Nothing here runs code from a source: safetensors are read as data, torch files only through the
weights_only unpickler (compile.weights), and a bundle .zip is read in memory, member by member, with a
size bound, never extracted. This module is in the training layer and must not import nnstudio.io, so it
reads the bundle layout (model.safetensors at the top of the archive) directly.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file
from torch import nn

from nnstudio.compile.weights import TORCH_SUFFIXES, WEIGHTS_FILE, WeightsError, read_state_dict
from nnstudio.training.checkpoint import INFO_FILE, CheckpointError, read_info
from nnstudio.util.zip_members import MAX_TOTAL_BYTES, MemberError, read_member

if TYPE_CHECKING:
    from nnstudio.compile.builder import CompiledModel
    from nnstudio.model.project import Project

__all__ = ["MatchReport", "WeightsError", "apply_init_weights", "load_matching", "read_weight_source",
           "resolve_source"]

RUN_CHECKPOINTS = ("best", "last")  # a run folder's checkpoints, in order of preference
PYTHON_WEIGHTS = "model.pt"  # what the Python export writes beside model.py
BUNDLE_MANIFEST = "manifest.json"
MAX_BUNDLE_WEIGHTS = MAX_TOTAL_BYTES  # the same bound `nnstudio import` applies to a bundle's weights
MAX_BUNDLE_JSON = 16 * 2**20
STRIPPABLE_DEPTH = 2  # wrapper prefixes tried on a file whose names all start alike (model.module.fc.weight)
SHOWN = 6  # names listed per line in report texts before "and N more"

Tensors = dict[str, torch.Tensor]


# ---- reading a source ---------------------------------------------------------------------------------------

def read_weight_source(path: str | os.PathLike[str]) -> tuple[Tensors, str]:
    """The tensors of any weights source, and a description naming what was read (for reports and errors).

    Raises WeightsError with a one-line message naming the path."""
    path = Path(path)
    if path.is_dir():
        tensors, description = _read_folder(path)
    elif not path.exists():
        raise WeightsError(f"{path}: no such file or folder")
    elif path.suffix.lower() == ".zip":
        tensors, description = _read_bundle(path)
    else:
        tensors, description = _read_file(path), f"{path}"
    if not tensors:
        raise WeightsError(f"{path}: holds no tensors, so there are no weights to load")
    return tensors, description


def _read_file(path: Path) -> Tensors:
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _safetensors_file(path)
    if suffix in TORCH_SUFFIXES:
        if not _looks_like_torch_file(path):
            raise WeightsError(f"{path}: not a readable torch file (neither a zip archive nor a pickle)")
        return read_state_dict(path)  # weights_only=True, and it unwraps {"state_dict": ...} and the like
    raise WeightsError(f"{path}: not a weights source; give a .safetensors or torch file "
                       f"({', '.join(TORCH_SUFFIXES)}), a checkpoint or run folder, an export, or a bundle .zip")


def _looks_like_torch_file(path: Path) -> bool:
    """torch.save writes a zip archive (or, in the legacy format, a pickle). Anything else would reach the
    unpickler as garbage and be reported as "unsafe content", which misleads; say "corrupt" instead."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError as exc:
        raise WeightsError(f"{path}: {exc.strerror or exc}") from None
    return head.startswith(b"PK") or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def _safetensors_file(path: Path) -> Tensors:
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({_first_line(exc)})") from None


def _read_folder(path: Path) -> tuple[Tensors, str]:
    """A checkpoint folder or any folder with model.safetensors; a run folder; an exported Python folder."""
    if (path / WEIGHTS_FILE).is_file():
        kind = "checkpoint folder" if (path / INFO_FILE).is_file() else "folder"
        return _safetensors_file(path / WEIGHTS_FILE), f"{kind} {path}{_checkpoint_note(path)}"
    if (path / "checkpoints").is_dir():
        return _read_run(path)
    if (path / PYTHON_WEIGHTS).is_file():
        return read_state_dict(path / PYTHON_WEIGHTS), f"exported Python folder {path} ({PYTHON_WEIGHTS})"
    if not any(path.iterdir()):
        raise WeightsError(f"{path}: empty folder, no weights in it")
    raise WeightsError(f"{path}: no weights in this folder (looked for {WEIGHTS_FILE}, checkpoints/best, "
                       f"checkpoints/last and {PYTHON_WEIGHTS})")


def _read_run(path: Path) -> tuple[Tensors, str]:
    """A run folder: its best checkpoint (the one early stopping would restore), else its last."""
    for kind in RUN_CHECKPOINTS:
        folder = path / "checkpoints" / kind
        if (folder / WEIGHTS_FILE).is_file():
            fallback = "" if kind == RUN_CHECKPOINTS[0] else ", as it has no best checkpoint"
            return (_safetensors_file(folder / WEIGHTS_FILE),
                    f"run folder {path}: checkpoints/{kind}{_checkpoint_note(folder)}{fallback}")
    raise WeightsError(f"{path}: run folder without a checkpoint (no checkpoints/best or checkpoints/last "
                       f"with {WEIGHTS_FILE})")


def _checkpoint_note(folder: Path) -> str:
    """' (epoch 3)' from checkpoint.json, when there is a readable one; the weights are usable without it."""
    try:
        info = read_info(folder)
    except CheckpointError:
        return ""
    return f" (epoch {info['epoch']})" if isinstance(info.get("epoch"), int) else ""


def _read_bundle(path: Path) -> tuple[Tensors, str]:
    """The weights of an exported bundle, read from the archive in memory (never extracted)."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = _member(archive, path, WEIGHTS_FILE, MAX_BUNDLE_WEIGHTS)
            manifest = _manifest(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise WeightsError(f"{path}: not a readable zip archive, so not a bundle ({_first_line(exc)})") from None
    except OSError as exc:
        raise WeightsError(f"{path}: {exc.strerror or exc}") from None
    try:
        tensors = load_safetensors_bytes(data)
    except (SafetensorError, ValueError) as exc:
        raise WeightsError(f"{path}: its {WEIGHTS_FILE} is not a readable safetensors file "
                           f"({_first_line(exc)})") from None
    if manifest.get("format") != "nnstudio.bundle":
        return tensors, f"zip archive {path} ({WEIGHTS_FILE})"
    trained = "trained" if manifest.get("trained") else "untrained"
    return tensors, f"bundle {path} ({manifest.get('project') or 'unnamed project'}, {trained})"


def _member(archive: zipfile.ZipFile, path: Path, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise WeightsError(f"{path}: not an nnstudio bundle (no {name} at the top of the archive)") from None
    try:
        return read_member(archive, info, limit)  # bounded in size, ratio and memory: no zip bomb
    except MemberError as exc:
        raise WeightsError(f"{path}: {exc}") from None


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The bundle's manifest, only to describe it; an absent or odd one leaves the weights usable."""
    try:
        info = archive.getinfo(BUNDLE_MANIFEST)
    except KeyError:
        return {}
    if info.file_size > MAX_BUNDLE_JSON:
        return {}
    try:
        manifest = json.loads(archive.read(info).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---- matching -----------------------------------------------------------------------------------------------

@dataclass
class MatchReport:
    """What a weights source gave the model: matched tensors by node, and every miss with its reason."""

    source: str
    matched: dict[str, list[str]] = field(default_factory=dict)  # node label -> state-dict keys loaded
    nodes: dict[str, str | None] = field(default_factory=dict)  # node label -> node id (None: not a node's)
    not_in_file: list[str] = field(default_factory=list)  # model keys the file lacks: kept as initialised
    not_in_model: list[str] = field(default_factory=list)  # file keys the model lacks: ignored
    shape_differs: list[tuple[str, list[int], list[int]]] = field(default_factory=list)  # key, model, file
    dtype_differs: list[tuple[str, str, str]] = field(default_factory=list)  # key, model dtype, file dtype
    stripped_prefix: str = ""  # a wrapper prefix removed from every file name ("model.", "module.")

    @property
    def matched_count(self) -> int:
        return sum(len(keys) for keys in self.matched.values())

    @property
    def model_count(self) -> int:
        return self.matched_count + len(self.not_in_file) + len(self.shape_differs) + len(self.dtype_differs)

    def reasons(self) -> list[tuple[str, str]]:
        """(key, why it was not loaded) for every tensor that did not match, model's and file's alike."""
        out = [(key, "not in the file") for key in self.not_in_file]
        out += [(key, f"shape differs (model {model}, file {file})") for key, model, file in self.shape_differs]
        out += [(key, f"dtype not convertible (model {model}, file {file})")
                for key, model, file in self.dtype_differs]
        return out + [(key, "in the file, not in the model") for key in self.not_in_model]

    def summary(self) -> str:
        """One line: counts only, for a log or the train command's stderr."""
        kept = len(self.not_in_file) + len(self.shape_differs) + len(self.dtype_differs)
        parts = [f"loaded {self.matched_count} of {self.model_count} tensors ({len(self.matched)} node(s)) "
                 f"from {self.source}"]
        if kept:
            parts.append(f"{kept} kept as initialised")
        if self.not_in_model:
            parts.append(f"{len(self.not_in_model)} in the file not used")
        return "; ".join(parts)

    def text(self) -> str:
        """A few lines for the command line: the summary, matched nodes, then each kind of miss."""
        lines = [self.summary()]
        if self.stripped_prefix:
            lines.append(f"  the file's names start with {self.stripped_prefix!r}, which was removed")
        lines.append("  matched: " + _listing([f"{label} ({', '.join(_short(label, k) for k in keys)})"
                                               for label, keys in self.matched.items()]))
        if self.not_in_file:
            lines.append("  not in the file (kept as initialised): " + _listing(self.not_in_file))
        if self.shape_differs:
            lines.append("  shape differs: " + _listing([f"{k} (model {m}, file {f})"
                                                         for k, m, f in self.shape_differs]))
        if self.dtype_differs:
            lines.append("  dtype not convertible: " + _listing([f"{k} (model {m}, file {f})"
                                                                 for k, m, f in self.dtype_differs]))
        if self.not_in_model:
            lines.append("  in the file, not in the model: " + _listing(self.not_in_model))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "matched_count": self.matched_count, "model_count": self.model_count,
            "stripped_prefix": self.stripped_prefix or None,
            "matched": [{"node": label, "node_id": self.nodes.get(label), "keys": keys}
                        for label, keys in self.matched.items()],
            "unmatched": [{"key": key, "reason": reason} for key, reason in self.reasons()],
        }


def _short(label: str, key: str) -> str:
    return key.removeprefix(label + ".") if key.startswith(label + ".") else key


def _listing(items: list[str], limit: int = SHOWN) -> str:
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


def load_matching(network: nn.Module, tensors: Tensors, compiled: CompiledModel | None = None,
                  source: str = "the weights") -> MatchReport:
    """Copy every tensor whose name and shape match into `network`, in place; report the rest.

    Copies keep each model tensor's device and dtype (a float64 file loads into float32 weights). `compiled`,
    when given, groups the report by graph node. Raises WeightsError when nothing matches, since a
    start from "the initialisation plus nothing" is never what was asked for."""
    own = {key: value for key, value in network.state_dict(keep_vars=True).items()
           if isinstance(value, torch.Tensor)}
    tensors, prefix = _strip_wrapper(tensors, own)
    report = MatchReport(source, stripped_prefix=prefix)
    loadable: list[str] = []
    for key, target in own.items():
        given = tensors.get(key)
        if given is None:
            report.not_in_file.append(key)
        elif tuple(given.shape) != tuple(target.shape):
            report.shape_differs.append((key, list(target.shape), list(given.shape)))
        elif not _convertible(target.dtype, given.dtype):
            report.dtype_differs.append((key, _dtype(target.dtype), _dtype(given.dtype)))
        else:
            loadable.append(key)
    report.not_in_model = [key for key in tensors if key not in own]
    if not loadable:
        raise WeightsError(_nothing_matches(report, own, tensors))
    with torch.no_grad():
        for key in loadable:
            own[key].copy_(tensors[key])  # copy_ casts to the target's dtype and device
    _group(report, loadable, compiled)
    return report


def _strip_wrapper(tensors: Tensors, own: dict[str, torch.Tensor]) -> tuple[Tensors, str]:
    """Names saved from a wrapper (Lightning's `model.`, DDP's `module.`) lose their shared prefix, but only
    when no name matches as it is, every name starts with the same component, and stripping makes some match."""
    if any(key in own for key in tensors):
        return tensors, ""
    candidate, prefix = tensors, ""
    for _ in range(STRIPPABLE_DEPTH):
        heads = {key.partition(".")[0] for key in candidate}
        if len(heads) != 1 or not all("." in key for key in candidate):
            break
        head = heads.pop() + "."
        candidate, prefix = {key.removeprefix(head): value for key, value in candidate.items()}, prefix + head
        if any(key in own for key in candidate):
            return candidate, prefix
    return tensors, ""


def _convertible(model: torch.dtype, file: torch.dtype) -> bool:
    """Whether a copy keeps the values' meaning: ints and floats into floats, ints into ints, nothing
    complex into real, nothing fractional into integers, and bools only into bools."""
    if model == file:
        return True
    if model == torch.bool or file == torch.bool:
        return False
    if file.is_complex:
        return model.is_complex
    if model.is_floating_point or model.is_complex:
        return True
    return not file.is_floating_point


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _nothing_matches(report: MatchReport, own: dict[str, torch.Tensor], tensors: Tensors) -> str:
    if not own:
        return f"{report.source}: the model has no weights to load them into"
    misfits = [f"{key} {reason}" for key, reason in report.reasons() if reason.startswith(("shape", "dtype"))]
    if misfits:
        return f"{report.source}: no tensor fits the model; the names match but: {_listing(misfits, 3)}"
    return (f"{report.source}: none of its {len(tensors)} tensors is named like the model's; names must match "
            f"node names (the file has {_listing(list(tensors), 3)}; the model has {_listing(list(own), 3)})")


def _group(report: MatchReport, keys: list[str], compiled: CompiledModel | None) -> None:
    """Matched keys by graph node: a node's submodules (`attn`, `attn_1`) are listed under its first one."""
    for key in keys:
        attribute = key.partition(".")[0]
        node_id = compiled.node_of_module(attribute) if compiled is not None else None
        label = compiled.modules_of[node_id][0] if node_id is not None else attribute
        report.matched.setdefault(label, []).append(key)
        report.nodes[label] = node_id


# ---- the project setting ------------------------------------------------------------------------------------

def resolve_source(text: str, base_dir: Path | None) -> Path:
    """A weights path as the project file gives it: relative paths start at the project file's folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


def apply_init_weights(project: Project, compiled: CompiledModel, base_dir: Path | None) -> MatchReport | None:
    """Load `project.init.weights` over the freshly initialised model; None when the setting is empty.

    Raises WeightsError, naming the path, when the source cannot be read or nothing in it fits."""
    text = (project.init.weights or "").strip()
    if not text:
        return None
    tensors, description = read_weight_source(resolve_source(text, base_dir))
    return load_matching(compiled.network, tensors, compiled, source=description)
