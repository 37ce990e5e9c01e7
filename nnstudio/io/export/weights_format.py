"""The safetensors export: the weights, plus a JSON sidecar that names the architecture and versions.

The sidecar embeds the project document itself, so the pair is enough to rebuild the model in
nnstudio (or to read the layer list by hand) without the original .nnstudio file.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from nnstudio.compile import build_module
from nnstudio.compile.weights import load_weights
from nnstudio.io.export.disk import write_bytes, write_text
from nnstudio.io.export.formats import nnstudio_version
from nnstudio.io.export.job import Job
from nnstudio.io.export.parity import Runner
from nnstudio.io.project_file import loads, to_document
from nnstudio.training.recipes.registry import export_model as recipe_export_model

SIDECAR_FORMAT = "nnstudio.weights"
SIDECAR_VERSION = 1


def sidecar_path(weights: Path) -> Path:
    return weights.with_name(weights.stem + ".json")


def tensor_types(job: Job, node_ids: list[str]) -> list[dict[str, Any]]:
    shapes = job.compiled.analysis.shapes
    graph = job.project.graph
    described = []
    for node_id in node_ids:
        t = shapes.of(node_id) or shapes.outputs.get((node_id, ""))
        described.append({"name": graph.nodes[node_id].name, "shape": ["N", *t.shape] if t else None,
                          "dtype": t.dtype if t else None})
    return described


def write(job: Job, target: Path) -> list[str]:
    state = {key: value.detach().to("cpu").contiguous() for key, value in job.module.state_dict().items()}
    data = safetensors.torch.save(state, metadata={"format": SIDECAR_FORMAT, "nnstudio_version": nnstudio_version()})
    write_bytes(target, data)  # serialised in memory, so a full disk is an error, not a crash
    digest = hashlib.sha256(data).hexdigest()
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "nnstudio_version": nnstudio_version(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "weights": {"file": target.name, "sha256": digest,
                    "trained": job.checkpoint is not None},
        "inputs": tensor_types(job, job.compiled.input_nodes),
        "outputs": tensor_types(job, job.compiled.output_nodes),
        "architecture": to_document(job.project),
    }
    write_text(sidecar_path(target), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    return [f"architecture and versions in {sidecar_path(target).name}"]


def load(job: Job, target: Path) -> Runner:
    """Rebuild the model from the sidecar alone and load the written weights: what a user would do.

    The file holds the inference model's tensors only (a teacher that only a loss uses is not exported),
    so they load strictly into `compiled.module`, never into the whole training network."""
    sidecar = json.loads(sidecar_path(target).read_text(encoding="utf-8"))
    project = loads(json.dumps(sidecar["architecture"]))
    compiled = recipe_export_model(build_module(project), project)  # a GAN's file holds its generator alone
    load_weights(compiled.module, target, strict=True)
    return compiled.module.eval()
