"""Small objective graphs for the engine tests, trained on the in-memory blobs (no dataset files)."""

from __future__ import annotations

from typing import Any

from nnstudio.model.builder import GraphBuilder
from nnstudio.model.graph import NodeTraining
from nnstudio.model.project import Project
from nnstudio.training.job import TrainingJob, prepare
from tests.training.helpers import blobs

FAST = {"epochs": 2, "batch_size": 16, "instrumentation": {"enabled": False}}


def two_head_project(weights: tuple[float, float] = (1.0, 0.5), training: dict[str, Any] | None = None,
                     frozen: str | None = None, lr_scale: dict[str, float] | None = None) -> Project:
    """A trunk with a BatchNorm, a class head scored by cross-entropy, a parity head (ClassMap target) and
    an activity penalty on the trunk: three loss terms, two heads."""
    b = GraphBuilder(name="two heads")
    x = b.add("Input", "x", shape=[2])
    trunk = b.add("Linear", "trunk", out_features=16)
    norm = b.add("BatchNorm1d", "norm")
    act = b.add("ReLU", "act")
    classes = b.add("Linear", "classes", out_features=3)
    parity = b.add("Linear", "parity", out_features=2)
    b.chain(x, trunk, norm, act)
    b.chain(act, classes, b.add("Output", "digit"))
    b.chain(act, parity, b.add("Output", "even"))
    y = b.add("Target", "y")
    mapped = b.add("ClassMap", "to_parity", table=[0, 1, 0])
    b.link(y, mapped)
    ce = b.add("CrossEntropyLoss", "class_loss", weight=weights[0])
    b.link(classes, ce, "input")
    b.link(y, ce, "target")
    ce2 = b.add("CrossEntropyLoss", "parity_loss", weight=weights[1])
    b.link(parity, ce2, "input")
    b.link(mapped, ce2, "target")
    sparse = b.add("ActivityL1Loss", "sparsity", weight=0.01)
    b.link(act, sparse)
    for name in [frozen] if frozen else []:
        node = b.graph.node_by_name(name)
        b.graph.set_node_training(node.id, NodeTraining(frozen=True))
    for name, scale in (lr_scale or {}).items():
        node = b.graph.node_by_name(name)
        b.graph.set_node_training(node.id, NodeTraining(frozen=node.training.frozen, lr_scale=scale))
    b.project.dataset = {"name": "blobs"}
    b.project.training = {**FAST, **(training or {})}
    return b.project


def objective_job(project: Project | None = None, **kwargs: Any) -> TrainingJob:
    return prepare(project or two_head_project(**kwargs), data=blobs())
