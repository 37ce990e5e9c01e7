"""export_model: the one entry point the CLI and the GUI call for every format.

Each export is written into a private folder beside the destination, loaded back, run on a held-out
batch and compared with the in-app model. Only when every output is within formats.LIMIT (an absolute plus a
relative part, as torch.testing checks) is it moved into place; otherwise an ExportError names the node at
fault and nothing is written. A full disk is one ExportError naming the destination, never a crash.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch

from nnstudio.io.export import python_format, weights_format
from nnstudio.io.export.disk import NoSpaceError, ensure_space, is_full
from nnstudio.io.export.errors import ExportError
from nnstudio.io.export.formats import LIMIT, FormatInfo, get_format, require_extra
from nnstudio.io.export.graph_formats import GRAPH_FORMATS, quiet
from nnstudio.io.export.job import Job, prepare
from nnstudio.io.export.locate import Fault, locate, summarize_error
from nnstudio.io.export.parity import Gap, Runner, as_tensors, compare
from nnstudio.io.export.staging import Staging
from nnstudio.model.project import Project


@dataclass
class ExportResult:
    paths: list[Path]  # every file or folder written, the main artefact first
    max_abs_diff: float  # largest |exported - app| over the held-out batch
    messages: list[str] = field(default_factory=list)  # what the user should know (untrained weights...)
    format: str = ""
    max_rel_diff: float = 0.0  # largest |exported - app| / |app|


class Handler(Protocol):
    def write(self, job: Job, target: Path) -> list[str]: ...

    def load(self, job: Job, target: Path) -> Runner: ...


class GraphHandler:
    """Adapts a module-level writer (TorchScript, torch.export, ONNX) to whole-model jobs."""

    def __init__(self, name: str) -> None:
        self.writer = GRAPH_FORMATS[name]

    def write(self, job: Job, target: Path) -> list[str]:
        return self.writer.write_module(job.module, job.example, target, job.input_names, job.output_names)

    def load(self, job: Job, target: Path) -> Runner:
        return self.writer.load(target)


def handler_for(info: FormatInfo) -> Handler:
    if info.name in GRAPH_FORMATS:
        return GraphHandler(info.name)
    if info.name == "safetensors":
        return weights_format
    if info.name == "python":
        return python_format
    from nnstudio.io.export import bundle

    return bundle


def destination(out: str | os.PathLike[str], info: FormatInfo) -> tuple[Path, list[str]]:
    """The output path; a file name without a suffix gets the format's extension."""
    path = Path(out).expanduser()
    if not path.name or not path.absolute().name or path.name == "..":
        raise ExportError(f"cannot write {out}: it names an existing folder, not the {info.title} export to "
                          f"create; add a name, e.g. {Path(out) / ('model' + info.extension)}", bad_input=True)
    if not info.is_folder and not path.suffix:
        path = path.with_name(path.name + info.extension)
        return path.absolute(), [f"added the {info.extension} extension: {path.name}"]
    return path.absolute(), []


def export_model(project: Project, format: str, out_path: str | os.PathLike[str],
                 checkpoint: str | os.PathLike[str] | None = None,
                 batch: int | tuple[torch.Tensor, ...] | None = None,
                 base_dir: str | os.PathLike[str] | None = None) -> ExportResult:
    """Export the project's model (with the checkpoint's weights, else fresh ones) in one format.

    `batch` is the held-out parity batch: a size, or the input tensors themselves. `base_dir` is
    where relative dataset paths start (the project file's folder). Raises ExportError.
    """
    info = get_format(format)
    require_extra(info)
    out, notes = destination(out_path, info)
    try:
        with Staging(out, info.is_folder) as staging:  # checks the destination before the slow work
            job = prepare(project, checkpoint, batch, Path(base_dir) if base_dir is not None else None)
            job.messages.extend(notes)
            ensure_space(staging.target, weight_bytes(job))  # every format holds the weights at least once
            run_export(job, info, staging.target)
            try:
                paths = staging.commit()
            except OSError as exc:  # e.g. the sidecar could not be moved beside the weights
                if is_full(exc):
                    raise NoSpaceError(out) from None
                raise ExportError(f"{info.title} export passed its check but could not be moved to "
                                  f"{out.parent}: {exc.strerror or exc}") from None
    except NoSpaceError as exc:  # raised for a staging file; the user asked for `out`
        raise exc.at(out) from None
    abs_gap = max(g.max_abs for g in job.gaps.values())  # a bundle holds several exports: report the worst
    rel_gap = max(g.max_rel for g in job.gaps.values())
    job.messages.append(f"parity: largest difference {abs_gap:.3g} (relative {rel_gap:.3g}) over a held-out "
                        f"batch of {len(job.held_out[0]) if job.held_out else 0} (limit {LIMIT})")
    return ExportResult(paths, abs_gap, job.messages, info.name, rel_gap)


def weight_bytes(job: Job) -> int:
    return sum(t.numel() * t.element_size() for t in job.module.state_dict().values())


def run_export(job: Job, info: FormatInfo, target: Path) -> Gap:
    """Write, reload and compare one format at `target`; returns the parity gap or raises ExportError."""
    handler = handler_for(info)
    try:
        job.messages.extend(handler.write(job, target))
    except ExportError:
        raise
    except OSError as exc:
        if is_full(exc):  # a Python-side write (a zip, a copy) that found the disk full
            raise NoSpaceError(target) from None
        raise _failure(job, info, exc) from None
    except Exception as exc:  # exporters fail in many ways; turn each into a message naming the node
        raise _failure(job, info, exc) from None
    try:
        runner = handler.load(job, target)
        with torch.no_grad(), quiet():
            actual = as_tensors(runner(*job.held_out))
        gap = compare(job.expected, actual, job.output_names)
    except ExportError:
        raise
    except Exception as exc:
        raise _failure(job, info, exc, stage="running the exported file") from None
    if not gap.within:
        raise _gap(job, info, gap)
    job.gaps[info.name] = gap
    return gap


def _failure(job: Job, info: FormatInfo, exc: Exception, stage: str = "exporting") -> ExportError:
    fault = _locate(job, info)
    if fault is not None:
        return ExportError(f"{info.title} export failed at node {fault.node!r}: {fault.reason}", node=fault.node)
    return ExportError(f"{info.title} export failed while {stage}: {summarize_error(exc)}")


def _gap(job: Job, info: FormatInfo, gap: Gap) -> ExportError:
    head = (f"{info.title} export refused: its output {gap.where!r} differs from the app's by {gap.max_abs:.3g} "
            f"(relative {gap.max_rel:.3g}), more than the {LIMIT} allowed")
    fault = _locate(job, info)
    if fault is not None:
        return ExportError(f"{head}; node {fault.node!r}: {fault.reason}", node=fault.node)
    if info.name in GRAPH_FORMATS:
        return ExportError(f"{head}; no single node is off on its own, so the error builds up across the graph")
    return ExportError(head)


def _locate(job: Job, info: FormatInfo) -> Fault | None:
    if info.name not in GRAPH_FORMATS:
        return None
    try:
        return locate(job.module, job.owners, GRAPH_FORMATS[info.name], info.extension, job.example,
                      job.held_out)
    except Exception:  # locating is a best effort on top of an error we already report
        return None
