"""Training a shipped example (optionally edited first) and probing the trained model, for the objective examples'
tests: a layer's activations, distances to the nearest real digit, another example's run made in a folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nnstudio.examples import RUNS, example_path
from nnstudio.io import load
from nnstudio.model.project import Project
from nnstudio.training import Status, Trainer, TrainingJob, prepare


@dataclass
class Trained:
    job: TrainingJob
    trainer: Trainer
    metrics: dict[str, float]

    @property
    def model(self) -> torch.nn.Module:
        """The inference model in eval mode (GaussianNoise off, GaussianSample returning mu, dropout off)."""
        return self.job.compiled.module.eval()

    def split(self, name: str):
        return self.job.data.splits()[name]

    def epochs(self) -> list[dict]:
        return self.trainer.history.records("epoch")


def train_example(name: str, edit: Callable[[Project], None] | None = None, out: Path | None = None) -> Trained:
    """Train an example as shipped, or after `edit` changed its project; `out` keeps checkpoints (a run folder)."""
    project = load(example_path(name))
    if edit is not None:
        edit(project)
    job = prepare(project)
    trainer = Trainer(job, out)
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    return Trained(job, trainer, result.metrics)


def make_run(name: str, folder: Path) -> Trained:
    """Train example `name` into folder/runs/name, where a project started in `folder` finds it by init.weights."""
    return train_example(name, out=folder / RUNS / name)


def activations(trained: Trained, node_name: str, x: torch.Tensor) -> torch.Tensor:
    """What the named node computes for `x`, read with a forward hook on its module in the inference model."""
    compiled = trained.job.compiled
    node = trained.job.project.graph.node_by_name(node_name)
    assert node is not None, node_name
    module = trained.model.get_submodule(compiled.modules_of[node.id][0])
    seen: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _module, _args, output: seen.append(output.detach()))
    try:
        with torch.no_grad():
            trained.model(x)
    finally:
        handle.remove()
    return seen[0]


def nearest_distance(samples: torch.Tensor, reference: torch.Tensor) -> float:
    """The mean Euclidean distance from each sample to its nearest reference row (both flattened)."""
    return torch.cdist(samples.flatten(1), reference.flatten(1)).min(dim=1).values.mean().item()


def shuffled_pixels(images: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """Real digits with their pixels permuted: the same ink and pixel values, but no digit shape."""
    rows = torch.randint(0, len(images), (count,), generator=generator)
    flat = images.flatten(1)
    return torch.stack([flat[row][torch.randperm(flat.shape[1], generator=generator)] for row in rows])
