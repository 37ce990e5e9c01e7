"""Small projects for the search tests: a spirals MLP that trains in well under a second per trial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nnstudio.examples import example_path
from nnstudio.io.project_file import loads, save
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.project import Project

FAST = {"enabled": False}  # no sampled losses, gradient norms or histograms: the trial is the training itself


def spirals(search: dict[str, Any] | None = None, lr: float = 1e-5, epochs: int = 3, samples: int = 300) -> Project:
    """The shipped spirals MLP on a small data set; lr 1e-5 is far too low, so tuning it matters."""
    document = json.loads(Path(example_path("spirals")).read_text(encoding="utf-8"))
    document["dataset"] = {"name": "spirals", "params": {"samples": samples}}
    document["training"] = {"epochs": epochs, "batch_size": 32, "optimizer": {"name": "adam", "lr": lr},
                            "instrumentation": FAST}
    document["search"] = search or {}
    return loads(json.dumps(document))


def write(project: Project, folder: Path, name: str = "spirals") -> Path:
    path = folder / f"{name}.nnstudio"
    save(project, path)
    return path


def residual(width: int = 16) -> Project:
    """x(8) → fc1(width) → act → fc2(8) → join(+x) → y: bypassing fc2 breaks the Add unless width is 8."""
    b = GraphBuilder(name="residual")
    x = b.add("Input", "x", shape=[8])
    fc1 = b.add("Linear", "fc1", out_features=width)
    act = b.add("ReLU", "act")
    fc2 = b.add("Linear", "fc2", out_features=8)
    join = b.add("Add", "join")
    y = b.add("Output", "y")
    b.chain(x, fc1, act, fc2, join)
    b.link(x, join, "inputs")
    b.link(join, y)
    return b.project
