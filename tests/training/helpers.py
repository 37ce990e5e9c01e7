"""Small in-memory datasets and jobs for the engine tests: no files, no dataset catalogue."""

from __future__ import annotations

from typing import Any

import torch

from nnstudio.model.builder import GraphBuilder
from nnstudio.model.project import Project
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.job import TrainingJob, prepare


def blobs(n: int = 96, classes: int = 3, features: int = 2, seed: int = 0, val: bool = True,
          test: bool = False) -> DataSplits:
    """Gaussian blobs around distinct centres: learnable in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, features, generator=g) * 3
    y = torch.arange(n) % classes
    x = centres[y] + torch.randn(n, features, generator=g) * 0.5
    parts = [Split(x[i::4].contiguous(), y[i::4].contiguous()) for i in range(4)]
    train = Split(torch.cat([parts[0].x, parts[1].x]), torch.cat([parts[0].y, parts[1].y]))
    return DataSplits(train=train, val=parts[2] if val else None, test=parts[3] if test else None,
                      input_shape=(features,), input_dtype="float32", task="classification",
                      num_classes=classes, target_shape=(), class_names=[f"c{i}" for i in range(classes)],
                      feature_names=None, kind="points2d", description="test blobs")


def line(n: int = 64, outputs: int = 1, seed: int = 0) -> DataSplits:
    """y = 2x - 1 plus a little noise, for regression."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    y = (2 * x - 1).repeat(1, outputs) + 0.01 * torch.randn(n, outputs, generator=g)
    half = n * 3 // 4
    return DataSplits(train=Split(x[:half], y[:half]), val=Split(x[half:], y[half:]), test=None,
                      input_shape=(1,), input_dtype="float32", task="regression", num_classes=None,
                      target_shape=(outputs,), class_names=None, feature_names=None, kind="tabular",
                      description="test line")


def mlp_project(inputs: int = 2, outputs: int = 3, width: int = 16, training: dict[str, Any] | None = None,
                dropout: float = 0.0) -> Project:
    b = GraphBuilder(name="mlp")
    layers: list = [("Input", {"shape": [inputs]}), ("Linear", {"out_features": width}), "ReLU"]
    if dropout:
        layers.append(("Dropout", {"p": dropout}))
    layers += [("Linear", {"out_features": outputs}), "Output"]
    b.sequential(*layers)
    b.project.dataset = {"name": "blobs"}
    b.project.training = training or {}
    return b.project


def make_job(training: dict[str, Any] | None = None, data: DataSplits | None = None, **project: Any) -> TrainingJob:
    data = data if data is not None else blobs()
    defaults = {"epochs": 2, "batch_size": 16, "instrumentation": {"enabled": False}}
    return prepare(mlp_project(training={**defaults, **(training or {})}, **project), data=data)
