"""Few-shot episodes: N-way K-shot tasks drawn from the rows of a labelled pool, and their prototypical scoring.

An episode picks N of the pool's classes and, from each, K support rows and Q query rows, all distinct. A model
that has never seen these classes is asked to label each query with one of the N, given only the support: a
prototypical network embeds every row, takes each class's mean support embedding as its prototype and scores a
query by its negative squared distance to each prototype (Snell et al., 2017).

The episodes of a stream (the training episodes of epoch e, the validation episodes, the final test at K shots)
are a pure function of the run's seed and the stream's name, drawn from their own torch.Generator. So a run
stopped halfway through an epoch redraws exactly the episodes it had left (its position, epoch and episode, is
in the checkpoint), and every evaluation of a run, of a checkpoint, or of an untrained baseline sees the same
tasks, which makes their figures directly comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.training.device import AUTOCAST_DTYPES

TRAIN_STREAM, VAL_STREAM, TEST_STREAM = 0, 1, 2  # stream ids; a stream is (id, number): (0, epoch), (2, shots)
SCORE_CHUNK = 64  # episodes scored at once: bounds the [chunk, N·Q, N] distance tensors
EMBED_BATCH = 1024  # rows embedded at once under no_grad
Z95 = 1.96  # the normal quantile of a two-sided 95 % interval


class EpisodeError(ValueError):
    """A pool that cannot give the asked-for episodes; the message says which class falls short."""


@dataclass(frozen=True)
class EpisodeShape:
    """N-way K-shot with Q queries per class."""

    ways: int
    shots: int
    queries: int

    @property
    def per_class(self) -> int:
        return self.shots + self.queries

    @property
    def size(self) -> int:
        """Rows one episode feeds forward: N·K support rows, then N·Q query rows."""
        return self.ways * self.per_class

    def query_labels(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The episode-relative label of each query row, in the order `flat_rows` lays them out: 0…0 1…1 …"""
        return torch.arange(self.ways, device=device).repeat_interleave(self.queries)

    def describe(self) -> str:
        return f"{self.ways}-way {self.shots}-shot"


@dataclass(frozen=True)
class Episodes:
    """A stream's episodes: `rows[e, n]` holds the K support rows, then the Q query rows, of way n of episode e."""

    rows: torch.Tensor  # [E, N, K + Q] int64 row indices into the pool
    classes: torch.Tensor  # [E, N] the dataset class of each way
    shape: EpisodeShape

    def __len__(self) -> int:
        return self.rows.shape[0]

    @property
    def support(self) -> torch.Tensor:
        return self.rows[:, :, :self.shape.shots]

    @property
    def query(self) -> torch.Tensor:
        return self.rows[:, :, self.shape.shots:]

    def flat_rows(self) -> torch.Tensor:
        """[E · N(K + Q)]: each episode's support rows (way-major), then its query rows (way-major), so that
        slicing it in batches of `shape.size` gives one episode per batch."""
        count = len(self)
        return torch.cat([self.support.reshape(count, -1), self.query.reshape(count, -1)], dim=1).reshape(-1)


def stream_seed(seed: int, stream: Sequence[int]) -> int:
    """A 63-bit generator seed for one stream of a run, well mixed (so epoch 1 of seed 0 and epoch 0 of seed 1
    share nothing)."""
    return int(np.random.SeedSequence([int(seed), *map(int, stream)]).generate_state(1, np.uint64)[0] >> 1)


class EpisodeSampler:
    """Draws episodes of `shape` from the rows of `labels` whose class is in `classes`.

    Raises EpisodeError when fewer than N classes are given or a class has fewer than K + Q rows.
    """

    def __init__(self, labels: torch.Tensor, classes: Sequence[int], shape: EpisodeShape, seed: int) -> None:
        labels = labels.detach().reshape(-1).cpu()
        self.classes = [int(c) for c in classes]
        self.shape = shape
        self.seed = int(seed)
        if len(self.classes) < shape.ways:
            raise EpisodeError(f"{len(self.classes)} classes cannot make {shape.ways}-way episodes")
        self.rows = [torch.nonzero(labels == c).reshape(-1) for c in self.classes]
        for cls, rows in zip(self.classes, self.rows):
            if len(rows) < shape.per_class:
                raise EpisodeError(f"class {cls} has {len(rows)} samples; {shape.describe()} episodes with "
                                   f"{shape.queries} queries need {shape.per_class} per class")

    def draw(self, count: int, stream: Sequence[int]) -> Episodes:
        """`count` episodes of one stream; the same stream always gives the same episodes."""
        g = torch.Generator().manual_seed(stream_seed(self.seed, stream))
        ways, per_class = self.shape.ways, self.shape.per_class
        # Random keys sorted give a uniform permutation: the first N positions are the episode's classes in
        # a random order, the first K + Q rows of a class its support and queries.
        chosen = torch.rand(count, len(self.classes), generator=g, dtype=torch.float64).argsort(dim=1)[:, :ways]
        rows = torch.empty(count, ways, per_class, dtype=torch.int64)
        for position, pool in enumerate(self.rows):
            episode, way = torch.nonzero(chosen == position, as_tuple=True)
            if len(episode):
                keys = torch.rand(len(episode), len(pool), generator=g, dtype=torch.float64)
                rows[episode, way] = pool[keys.argsort(dim=1)[:, :per_class]]
        classes = torch.tensor(self.classes, dtype=torch.int64)[chosen]
        return Episodes(rows, classes, self.shape)

    def state_dict(self) -> dict:
        """What the episodes depend on besides the stream, for a checkpoint to check that it still fits."""
        return {"seed": self.seed, "classes": list(self.classes), "ways": self.shape.ways,
                "shots": self.shape.shots, "queries": self.shape.queries}

    def check_state(self, state: dict) -> None:
        """Raise ValueError naming the first thing that differs from a checkpoint's `state_dict`."""
        own = self.state_dict()
        for key, value in own.items():
            if state.get(key) != value:
                raise ValueError(f"the checkpoint's episodes have {key} {state.get(key)}, these settings {value}")


# --- prototypical scoring ------------------------------------------------------------------------------------
def prototype_logits(support: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """Negative squared Euclidean distances of queries [E, M, D] to the class means of support [E, N, K, D]:
    [E, M, N]. Written out as ‖q‖² − 2 q·p + ‖p‖² rather than with cdist, whose square root has no gradient
    where a query sits on a prototype (an untrained ReLU net maps many rows to the same point)."""
    prototypes = support.mean(dim=2)
    squared = (query * query).sum(-1, keepdim=True) - 2 * query @ prototypes.transpose(1, 2) \
        + (prototypes * prototypes).sum(-1).unsqueeze(1)
    return -squared


def episode_logits(embeddings: torch.Tensor, shape: EpisodeShape) -> torch.Tensor:
    """The query logits [N·Q, N] of one episode whose rows were fed as `Episodes.flat_rows` lays them out."""
    flat = embeddings.reshape(embeddings.shape[0], -1).float()
    split = shape.ways * shape.shots
    support = flat[:split].reshape(1, shape.ways, shape.shots, -1)
    return prototype_logits(support, flat[split:].unsqueeze(0))[0]


@dataclass
class EpisodeScores:
    """N-way K-shot accuracy over a stream of episodes, with its 95 % confidence interval."""

    shape: EpisodeShape
    episodes: int
    accuracy: float  # mean over episodes of the share of queries labelled right
    ci95: float  # 1.96 · std / √episodes (the sample std over episodes; 0 for a single episode)
    loss: float  # mean prototypical cross-entropy of the queries
    class_accuracy: dict[int, float]  # dataset class -> share of its queries labelled right

    @property
    def chance(self) -> float:
        return 1.0 / self.shape.ways

    def record(self, names: Sequence[str] | None = None) -> dict:
        """The fields of a `fewshot` history record (class accuracies keyed by class name when given)."""
        def name(cls: int) -> str:
            return names[cls] if names is not None and 0 <= cls < len(names) else str(cls)

        return {"ways": self.shape.ways, "shots": self.shape.shots, "queries": self.shape.queries,
                "episodes": self.episodes, "accuracy": self.accuracy, "ci95": self.ci95, "loss": self.loss,
                "chance": self.chance, "class_accuracy": {name(c): v for c, v in self.class_accuracy.items()}}


@torch.no_grad()
def embed(module: nn.Module, x: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
    """Every row's embedding [rows, D] in eval mode (each row alone: batch norm uses its running statistics),
    so an episode's scores do not depend on which other rows share the batch; restores train/eval mode."""
    was_training = module.training
    module.eval()
    try:
        parts = []
        for start in range(0, x.shape[0], EMBED_BATCH):
            xb = x[start:start + EMBED_BATCH]
            if precision == "fp32":
                out = module(xb)
            else:
                with torch.autocast(device_type=xb.device.type, dtype=AUTOCAST_DTYPES[precision]):
                    out = module(xb)
            parts.append(out.reshape(xb.shape[0], -1).float())
        return torch.cat(parts) if parts else torch.empty(0, 0, device=x.device)
    finally:
        module.train(was_training)


@torch.no_grad()
def score_episodes(embeddings: torch.Tensor, episodes: Episodes) -> EpisodeScores:
    """Score every episode on embeddings of the pool's rows (index i is row i)."""
    shape, device = episodes.shape, embeddings.device
    labels = shape.query_labels(device)
    accuracies, losses, hits_by_way = [], [], []
    for start in range(0, len(episodes), SCORE_CHUNK):
        support = episodes.support[start:start + SCORE_CHUNK].to(device)
        query = episodes.query[start:start + SCORE_CHUNK].to(device)
        count = support.shape[0]
        logits = prototype_logits(embeddings[support], embeddings[query.reshape(count, -1)])
        hits = (logits.argmax(-1) == labels).float()  # [chunk, N·Q]
        accuracies.append(hits.mean(1))
        losses.append(F.cross_entropy(logits.reshape(-1, shape.ways), labels.repeat(count)))
        hits_by_way.append(hits.reshape(count, shape.ways, shape.queries).mean(2))
    accuracy = torch.cat(accuracies).double()
    count = len(accuracy)
    spread = float(accuracy.std()) if count > 1 else 0.0
    by_way = torch.cat(hits_by_way).double().reshape(-1).cpu()
    classes = episodes.classes.reshape(-1)
    per_class = {int(c): float(by_way[classes == c].mean()) for c in torch.unique(classes)}
    weights = [min(SCORE_CHUNK, count - s) for s in range(0, count, SCORE_CHUNK)]
    loss = sum(float(v) * w for v, w in zip(losses, weights)) / max(1, count)
    return EpisodeScores(shape, count, float(accuracy.mean()), Z95 * spread / math.sqrt(count), loss, per_class)
