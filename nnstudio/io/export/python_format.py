"""The python export: a folder with model.py, train.py, the weights, the data and a README."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path

import torch

from nnstudio.io.export.disk import serialised, write_bytes, write_text
from nnstudio.io.export.formats import nnstudio_version
from nnstudio.io.export.job import Job
from nnstudio.io.export.parity import Runner
from nnstudio.io.export.python_model import render_model
from nnstudio.io.export.staging import MARKER
from nnstudio.io.project_file import dumps

WEIGHTS = "model.pt"


def write(job: Job, target: Path) -> list[str]:
    target.mkdir()
    text, cls = render_model(job)
    write_text(target / "model.py", text)
    state = {key: value.detach().cpu().contiguous() for key, value in job.module.state_dict().items()}
    write_bytes(target / WEIGHTS, serialised(lambda buffer: torch.save(state, buffer)))
    write_text(target / "project.nnstudio", dumps(job.project))
    from nnstudio.io.export.python_train import write_training

    training, notes = write_training(job, target)
    from nnstudio.io.export.python_readme import render_readme

    write_text(target / "README.md", render_readme(job, cls, training))
    write_text(target / MARKER, json.dumps({"format": "python", "nnstudio_version": nnstudio_version(),
                                            "class": cls, "trained": job.checkpoint is not None}, indent=2) + "\n")
    return notes


def load(job: Job, target: Path) -> Runner:
    """Import the generated model.py and load model.pt, as the README tells users to."""
    spec = importlib.util.spec_from_file_location(f"nnstudio_export_{uuid.uuid4().hex}", target / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # our own generated code, checked before it is handed to the user
    model = module.Model()
    model.load_state_dict(torch.load(target / WEIGHTS, map_location="cpu", weights_only=True))
    return model.eval()
