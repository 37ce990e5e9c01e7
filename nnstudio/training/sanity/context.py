"""Everything the sanity checks need from a project, built once: the job's model, loss and data.

The checks reuse `prepare()` and the Trainer's own setup, so they measure exactly the loss a run would
train on (penalty aside), on the same device, with the same objective graph for graphs with loss nodes.
Each check starts from the initial weights: `fresh()` puts them back, so checks do not see each other's
training.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from nnstudio.training import engine
from nnstudio.training.engine import Trainer
from nnstudio.training.job import TrainingJob
from nnstudio.training.recipes.registry import DEFAULT_RECIPE


@contextlib.contextmanager
def _placeholder_optimizer() -> Iterator[None]:
    """While the Trainer sets up: a model with every node frozen gets a do-nothing optimizer instead of
    torch's "empty parameter list" error, so that the checks can run and report the frozen model (the checks
    build their own optimizers; the Trainer's is never stepped)."""
    real = engine.make_optimizer

    def make(params, settings):
        params = list(params)
        return real(params, settings) if params else torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)

    engine.make_optimizer = make
    try:
        yield
    finally:
        engine.make_optimizer = real


class SanityInputError(Exception):
    """The project cannot be checked (no loss to measure, no training data); the message names why."""


@dataclass
class Measured:
    """One forward pass: the outputs a loss scored, the total loss and, for objective graphs, each term."""

    output: torch.Tensor
    loss: torch.Tensor
    terms: Sequence[torch.Tensor] = ()
    predictions: Sequence[torch.Tensor] = ()
    targets: Sequence[torch.Tensor] = ()


class SanityContext:
    """The job, a set-up Trainer and a snapshot of the initial weights."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        if job.recipe != DEFAULT_RECIPE:
            raise SanityInputError(
                f"training.recipe: the sanity checks measure the {DEFAULT_RECIPE} step (a loss on batches of the "
                f"dataset); the {job.recipe!r} recipe trains with its own step, which they would not measure"
            )
        self.trainer = Trainer(job)
        with _placeholder_optimizer():
            self.trainer.setup()
        if self.trainer.criterion is None and self.trainer.objective is None:
            raise SanityInputError("the checks need a loss: this graph has no Output and no loss node")
        if len(job.data.train) == 0:
            raise SanityInputError("dataset: the training split is empty")
        self.module = self.trainer.module
        self._initial = copy.deepcopy(self.module.state_dict())
        self.names = job.names

    @property
    def objective(self):
        return self.trainer.objective

    @property
    def settings(self):
        return self.job.settings

    @property
    def task(self) -> str:
        return self.job.task

    def fresh(self) -> None:
        """Back to the initial weights, in train mode, with gradients cleared (before each check)."""
        self.module.load_state_dict(self._initial)
        self.module.train()
        self.module.zero_grad(set_to_none=True)
        torch.manual_seed(self.settings.seed)

    def batch(self, size: int, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """`size` training samples from a seeded shuffle, starting at `offset` (wrapping round)."""
        t = self.trainer
        n = t.x.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.settings.seed)).to(t.x.device)
        index = order[(torch.arange(min(size, n), device=t.x.device) + offset) % n]
        return t.x.index_select(0, index), t.y.index_select(0, index)

    def measure(self, xb: torch.Tensor, yb: torch.Tensor) -> Measured:
        """The training loss of one batch through the Trainer's own step code (no update)."""
        runner = self.trainer.runner
        output, loss = runner._forward(xb, yb)
        if self.objective is None:
            return Measured(output, loss)
        predictions, targets = runner._pairs
        first = predictions[0] if predictions else loss
        return Measured(first, loss, runner._terms, predictions, targets)

    def accuracy(self, measured: Measured, yb: torch.Tensor) -> float | None:
        """The batch accuracy of a classifier (the first scored head of an objective graph); None otherwise."""
        runner = self.trainer.runner
        with torch.no_grad():
            hits = runner._hits() if self.objective is not None else runner.batch_hits(measured.output, yb)
        return None if hits is None else float(hits)

    def trainable(self) -> list[torch.nn.Parameter]:
        return [p for p in self.module.parameters() if p.requires_grad]
