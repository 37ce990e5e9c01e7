"""Small jobs for the sanity-check tests: the engine tests' blobs and MLP, checked in well under a second."""

from __future__ import annotations

from nnstudio.model.graph import NodeTraining
from nnstudio.training.job import prepare
from nnstudio.training.sanity import CheckOptions, SanityContext
from tests.training.helpers import blobs, mlp_project

FAST = CheckOptions(overfit_steps=200, lr_steps=60)


def context(training: dict | None = None, frozen: bool = False, data=None, **project) -> SanityContext:
    """A SanityContext on the 3-class blobs with an MLP; `frozen` freezes every node."""
    settings = {"batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01}, **(training or {})}
    built = mlp_project(training=settings, **project)
    if frozen:
        for node in built.graph.nodes.values():
            node.training = NodeTraining(frozen=True)
    return SanityContext(prepare(built, data=data if data is not None else blobs(), allow_nothing_to_train=True))
