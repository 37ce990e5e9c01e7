"""Everything one export needs: the compiled model with its weights, the batches and the reference outputs."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nnstudio.compile import CompiledModel, CompileError, build_module
from nnstudio.compile.weights import WeightsError, check_weights, read_state_dict
from nnstudio.io.export.errors import ExportError
from nnstudio.io.export.nodes import fx_owners
from nnstudio.io.export.parity import (
    HELD_OUT_BATCH,
    HELD_OUT_SEED,
    TRACE_BATCH,
    Gap,
    make_inputs,
    reference_outputs,
)
from nnstudio.io.importing.weights import PROJECT_FILE, Checkpoint, open_checkpoint
from nnstudio.io.project_file import dumps, load, loads
from nnstudio.io.reader import ProjectFileError
from nnstudio.model.project import Project
from nnstudio.training.recipes.registry import export_model as recipe_export_model


@dataclass
class Job:
    project: Project
    compiled: CompiledModel
    checkpoint: Checkpoint | None
    example: tuple[torch.Tensor, ...]  # traced or scripted with this batch
    held_out: tuple[torch.Tensor, ...]  # a different batch size and values, for the parity check
    expected: list[torch.Tensor]  # the in-app model's outputs on held_out
    owners: dict[str, str]  # fx node name -> graph node name
    base_dir: Path | None = None  # where relative dataset paths in the project start
    messages: list[str] = field(default_factory=list)
    gaps: dict[str, Gap] = field(default_factory=dict)  # parity gap per format checked so far

    @property
    def module(self) -> torch.nn.Module:
        return self.compiled.module

    @property
    def input_names(self) -> list[str]:
        return [self.project.graph.nodes[n].name for n in self.compiled.input_nodes]

    @property
    def output_names(self) -> list[str]:
        return [self.project.graph.nodes[n].name for n in self.compiled.output_nodes]


def prepare(project: Project, checkpoint: str | os.PathLike[str] | None,
            batch: int | tuple[torch.Tensor, ...] | None, base_dir: Path | None) -> Job:
    """Compile, load the checkpoint (refusing one that does not fit), and compute the reference outputs."""
    try:
        compiled = build_module(project)
    except CompileError as exc:
        raise ExportError(f"cannot export: {exc}") from None
    messages: list[str] = []
    opened = None
    if checkpoint is None:
        messages.append(f"no checkpoint given: exporting freshly initialised, untrained weights (init scheme "
                        f"{project.init.scheme!r}, seed {project.init.seed})")
    else:
        try:
            opened = open_checkpoint(checkpoint)
            load_trained_weights(compiled, opened)
        except WeightsError as exc:
            raise ExportError(str(exc), bad_input=True) from None
        messages.append(f"weights from {opened.weights}")
        project, notes = _with_run_settings(project, opened)
        messages.extend(notes)
    compiled = recipe_export_model(compiled, project)  # the recipe's inference part: a GAN's generator
    compiled.module.eval()
    held_out = _held_out(compiled, batch)
    with torch.no_grad():
        expected = reference_outputs(compiled.module, held_out)
    example = make_inputs(compiled, TRACE_BATCH, HELD_OUT_SEED + 1)
    return Job(project, compiled, opened, example, held_out, expected, fx_owners(compiled, project.graph),
               base_dir, messages)


def load_trained_weights(compiled: CompiledModel, checkpoint: Checkpoint) -> None:
    """Load a checkpoint strictly into `compiled.network`, the whole trained graph.

    A training checkpoint of a graph with loss nodes also holds the parts only the losses use (a distillation
    teacher), so it fits the network, not the inference model. A file holding exactly the inference model's
    tensors (an earlier export's model.safetensors) is accepted as well. Anything else raises WeightsError
    listing what differs from the network.
    """
    state = read_state_dict(checkpoint.weights)
    report = check_weights(compiled.network, state)
    target = compiled.network
    if not report.ok and compiled.objective is not None and check_weights(compiled.module, state).ok:
        target = compiled.module
    elif not report.ok:
        raise WeightsError(f"{checkpoint.path}: the weights do not match the graph: {report.describe()}")
    with torch.no_grad():
        target.load_state_dict(state, strict=True)


def _graph_signature(project: Project) -> set[tuple]:
    """The graph without ids and positions: what two projects must share to compute the same thing."""
    graph = project.graph
    names = {node.id: node.name for node in graph.nodes.values()}
    nodes = {("node", n.name, n.type, json.dumps(n.params, sort_keys=True)) for n in graph.nodes.values()}
    edges = {("edge", names[e.source.node], e.source.port, names[e.target.node], e.target.port)
             for e in graph.edges.values()}
    return nodes | edges


def _with_run_settings(project: Project, checkpoint: Checkpoint) -> tuple[Project, list[str]]:
    """The project as the checkpoint's run saw it: its dataset, training and init sections.

    A training run may override settings (`nnstudio train --epochs 5`); its checkpoint keeps the
    project it ran with, and train.py and the bundle must reproduce that run. When the graphs
    differ (the weights can still fit: a changed activation has none), the given project is kept
    and a warning says so. The caller's project is never modified.
    """
    member = checkpoint.member(PROJECT_FILE)
    if member is None:
        return project, []
    try:
        trained = load(member)
    except ProjectFileError as exc:
        return project, [f"warning: cannot read the checkpoint's {PROJECT_FILE} ({exc}); training settings "
                         "come from the given project"]
    differing = sorted(_graph_signature(project) ^ _graph_signature(trained), key=str)
    if differing:
        shown = ", ".join(dict.fromkeys(str(item[1]) for item in differing[:6]))
        return project, [f"warning: the weights fit, but the checkpoint was trained with a different graph "
                         f"({len(differing)} difference(s), around {shown}); the export follows the given "
                         "project"]
    run = loads(dumps(project))
    run.dataset, run.training, run.init = trained.dataset, trained.training, trained.init
    same = (run.dataset, run.training, run.init) == (project.dataset, project.training, project.init)
    return run, [] if same else ["data, training settings and init from the run (the checkpoint's project)"]


def _held_out(compiled: CompiledModel, batch: int | tuple[torch.Tensor, ...] | None) -> tuple[torch.Tensor, ...]:
    if isinstance(batch, tuple):
        if len(batch) != len(compiled.input_nodes):
            raise ExportError(f"the parity batch has {len(batch)} tensor(s), the model takes "
                              f"{len(compiled.input_nodes)}", bad_input=True)
        return tuple(torch.as_tensor(t) for t in batch)
    size = HELD_OUT_BATCH if batch is None else int(batch)
    if size < 1:
        raise ExportError(f"the parity batch size must be at least 1, got {size}", bad_input=True)
    if size == TRACE_BATCH:
        size += 1  # a batch size the exporter never saw proves the batch dimension is dynamic
    return make_inputs(compiled, size, HELD_OUT_SEED)
