"""Few-shot training with prototypical networks: one episode per step, episodes of unseen classes to evaluate.

The base Trainer's loop runs unchanged: an epoch's "order" is its episodes' rows laid end to end (support, then
queries, of each episode in turn) and a batch is one episode, so pause, stop, sampled steps, checkpoints and
schedules behave as in supervised training. The episodes are a pure function of the seed and the epoch
(nnstudio.training.episodes), so a resumed run redraws the very episodes it had left and continues bitwise.

After each epoch the embedding is scored on `val_episodes` episodes of the validation classes (metrics
`val_loss`, `val_accuracy` = `val_fewshot_accuracy`, `val_fewshot_ci95`, and a `fewshot` record); at the end
of a finished run, and from `nnstudio evaluate`, on `test_episodes` episodes of the test classes for each K
in `test_shots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.training.device import resolve_device
from nnstudio.training.engine import Trainer
from nnstudio.training.episodes import (
    TEST_STREAM,
    TRAIN_STREAM,
    VAL_STREAM,
    EpisodeSampler,
    EpisodeScores,
    EpisodeShape,
    embed,
    episode_logits,
    score_episodes,
)
from nnstudio.training.evaluation import EvaluationReport
from nnstudio.training.recipes.fewshot import FewShotPlan
from nnstudio.training.step import StepRunner

if TYPE_CHECKING:
    from nnstudio.training.data import DataSplits
    from nnstudio.training.job import TrainingJob

SPLITS = ("auto", "test", "val", "train")


class FewShotStepRunner(StepRunner):
    """The plain and sampled steps of the base runner, with the prototypical loss of one episode."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shape: EpisodeShape = self.trainer.train_shape
        self.labels = self.shape.query_labels(self.trainer.device)

    def _forward(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.trainer
        if self.autocast_dtype is None:
            embeddings = t.forward_module(xb)
        else:
            with torch.autocast(device_type=xb.device.type, dtype=self.autocast_dtype):
                embeddings = t.forward_module(xb)
        logits = episode_logits(embeddings, self.shape)  # distances in float32, whatever the precision
        return logits, F.cross_entropy(logits, self.labels)

    def batch_hits(self, output: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """The episode's query accuracy (`yb` holds dataset classes; the logits are over the episode's ways)."""
        return (output.argmax(-1) == self.labels).float().mean()

    def step_extras(self) -> dict:
        """samples_per_s counted in episode rows, not training.batch_size (which episodes do not use)."""
        st = self.trainer.state
        interval = st.train_seconds() - st.sample_seconds
        samples = (st.step - st.sample_step) * self.shape.size
        return {"samples_per_s": samples / interval if interval > 0 else None}


class FewShotTrainer(Trainer):
    runner_class = FewShotStepRunner

    def setup(self) -> None:
        if self._ready:
            return
        job = self.job
        self.plan = FewShotPlan.resolve(job.recipe_params, job.data.num_classes or 0)
        self.train_shape = EpisodeShape(self.plan.ways, self.plan.shots, self.plan.queries)
        self.sampler = EpisodeSampler(job.data.train.y, self.plan.train_classes, self.train_shape,
                                      self.settings.seed)
        self._last_val: EpisodeScores | None = None
        super().setup()
        self.batch_size = self.train_shape.size  # one episode per step

    # --- the base loop's hooks ---------------------------------------------------------------
    def _validation_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = class_rows(self.job.data, self.plan.val_classes)
        return x.to(self.device), y.to(self.device)

    def _steps_per_epoch(self) -> int:
        return self.plan.episodes

    def _samples_per_epoch(self) -> int:
        return self.plan.episodes * self.train_shape.size

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        return self.sampler.draw(self.plan.episodes, (TRAIN_STREAM, epoch)).flat_rows()

    def recipe_state(self) -> dict:
        return {"episodes": {**self.sampler.state_dict(), "count": self.plan.episodes}}

    def load_recipe_state(self, state: dict) -> None:
        saved = dict(state["episodes"])
        if saved.pop("count") != self.plan.episodes:
            raise ValueError(f"the checkpoint was trained on {state['episodes']['count']} episodes per epoch, "
                             f"these settings give {self.plan.episodes}")
        self.sampler.check_state(saved)

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        """Few-shot scores on `val_episodes` episodes of the validation classes among these rows."""
        plan = self.plan
        shape = EpisodeShape(plan.test_ways, plan.shots, plan.queries)
        scores = score_pool(self.module, x, y, plan.val_classes, [shape], plan.val_episodes, self.settings.seed,
                            VAL_STREAM, self.settings.precision)[0]
        self._last_val = scores
        return {"loss": scores.loss, "accuracy": scores.accuracy, "fewshot_accuracy": scores.accuracy,
                "fewshot_ci95": scores.ci95}

    def _log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        super()._log_epoch(epoch, metrics)
        if self._last_val is not None:
            self._add_record("val", self.plan.val_classes, self._last_val)
            self._last_val = None

    def _test_metrics(self) -> dict[str, float]:
        results, classes, _ = measure(self.module, self.job.data, self.plan, "test", self.device,
                                      self.settings.seed, self.settings.precision)
        for scores in results:
            self._add_record("test", classes, scores)
        return {f"test_{k}": v for k, v in fewshot_metrics(results, self.plan.shots).items()}

    def _add_record(self, split: str, classes: Sequence[int], scores: EpisodeScores) -> None:
        names = self.job.data.class_names
        self.history.add({"kind": "fewshot", "epoch": self.state.epoch_in_progress, "step": self.state.step,
                          "split": split, "classes": [_name(names, c) for c in classes],
                          **scores.record(names)})


# --- shared by the trainer and `nnstudio evaluate` ---------------------------------------------------------
def class_rows(data: DataSplits, classes: Sequence[int], splits: Sequence[str] | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of these classes (with their dataset labels) from the named splits, all of them by default."""
    chosen = [s for name, s in data.splits().items() if splits is None or name in splits]
    x, y = torch.cat([s.x for s in chosen]), torch.cat([s.y for s in chosen]).reshape(-1)
    keep = torch.isin(y, torch.tensor(list(classes), dtype=y.dtype))
    return x[keep], y[keep]


def score_pool(module: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: Sequence[int],
               shapes: Sequence[EpisodeShape], count: int, seed: int, stream: int,
               precision: str = "fp32") -> list[EpisodeScores]:
    """`count` episodes of each shape drawn from these rows, scored on one embedding of the rows. Episodes of K
    shots come from stream (stream, K), so the same run, checkpoint or untrained net always meets the same."""
    embeddings = embed(module, x, precision)
    results = []
    for shape in shapes:
        episodes = EpisodeSampler(y, classes, shape, seed).draw(count, (stream, shape.shots))
        results.append(score_episodes(embeddings, episodes))
    return results


def measure(module: nn.Module, data: DataSplits, plan: FewShotPlan, which: str, device: torch.device,
            seed: int, precision: str = "fp32") -> tuple[list[EpisodeScores], list[int], int]:
    """The final evaluation of one class set ('test', 'val' or 'train'): for each K of test_shots (and the
    training K, the headline), `test_episodes` episodes. Returns the scores, the classes and the rows used."""
    if which == "train":  # classes it was trained on, from the rows it was trained on
        classes, splits, ways = plan.train_classes, ("train",), plan.ways
    else:
        classes, splits, ways = (plan.test_classes if which == "test" else plan.val_classes), None, plan.test_ways
    x, y = class_rows(data, classes, splits)
    shapes = [EpisodeShape(ways, k, plan.queries) for k in dict.fromkeys([*plan.test_shots, plan.shots])]
    results = score_pool(module, x.to(device), y.to(device), classes, shapes, plan.test_episodes, seed,
                         TEST_STREAM, precision)
    return results, list(classes), len(y)


def fewshot_metrics(results: Sequence[EpisodeScores], headline_shots: int) -> dict[str, float]:
    """`loss`, `fewshot_accuracy` and `fewshot_ci95` at the training K, and `fewshot_<K>shot_accuracy` /
    `_ci95` for every K measured."""
    metrics: dict[str, float] = {}
    for scores in results:
        if scores.shape.shots == headline_shots:
            metrics.update({"loss": scores.loss, "fewshot_accuracy": scores.accuracy,
                            "fewshot_ci95": scores.ci95})
    for scores in results:
        k = scores.shape.shots
        metrics.update({f"fewshot_{k}shot_accuracy": scores.accuracy, f"fewshot_{k}shot_ci95": scores.ci95})
    return metrics


def _name(names: Sequence[str] | None, cls: int) -> str:
    return names[cls] if names is not None and 0 <= cls < len(names) else str(cls)


@dataclass
class FewShotReport(EvaluationReport):
    """An EvaluationReport whose figures are N-way K-shot accuracies over episodes, not one split's scores."""

    results: list[EpisodeScores] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        data = super().to_json()
        data["fewshot"] = {"classes": self.classes, "results": [r.record(None) for r in self.results]}
        return data

    def text(self) -> str:
        lines = [f"few-shot evaluation on the {self.split} classes {', '.join(self.classes)} ({self.count} samples)"]
        for r in self.results:
            lines.append(f"  {r.shape.describe():<14} accuracy {r.accuracy:.4f} ± {r.ci95:.4f} (95 % CI over "
                         f"{r.episodes} episodes, {r.shape.queries} queries per class; chance {r.chance:.3g})")
        return "\n".join(lines)


def evaluate_fewshot(job: TrainingJob, split: str = "auto") -> FewShotReport:
    """`nnstudio evaluate` for the fewshot recipe: `split` picks the class set: test (and auto) the test
    classes, val the validation classes (the test classes when val_classes is empty), train the training
    classes on their training rows. The episodes are those of the run's final evaluation."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}")
    which = "test" if split == "auto" else split
    plan = FewShotPlan.resolve(job.recipe_params, job.data.num_classes or 0)
    device = resolve_device(job.settings.device)
    module = job.compiled.module.to(device)
    results, classes, count = measure(module, job.data, plan, which, device, job.settings.seed,
                                      job.settings.precision)
    names = [_name(job.data.class_names, c) for c in classes]
    return FewShotReport(which, count, job.task, fewshot_metrics(results, plan.shots), class_names=names,
                         results=results, classes=names)
