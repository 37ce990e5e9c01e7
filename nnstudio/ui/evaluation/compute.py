"""Scoring a finished run on its held-out data, with everything the evaluation view draws. Runs off the GUI thread.

The run's own project snapshot is compiled and its checkpoint loaded, so later edits to the graph never
change what a run's evaluation shows. Metrics and the confusion matrix come from the engine's
`evaluate_job`; this module adds the per-sample view: predictions, misclassified samples, reconstructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.layers.registry import Registry

MAX_MISCLASSIFIED = 64
MAX_RECONSTRUCTIONS = 16
MAX_SCATTER = 5000
BATCH = 1024


@dataclass
class Misclassified:
    index: int  # position in the split
    x: np.ndarray
    truth: int
    predicted: int
    confidence: float  # the model's probability for its (wrong) answer


@dataclass
class EvaluationResult:
    split: str
    count: int
    task: str
    kind: str
    metrics: dict[str, float]
    checkpoint: str
    confusion: list[list[int]] | None = None
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    truth: np.ndarray | None = None  # regression: flattened targets (at most MAX_SCATTER)
    predicted: np.ndarray | None = None
    misclassified: list[Misclassified] = field(default_factory=list)
    wrong_count: int = 0
    reconstructions: tuple[np.ndarray, np.ndarray] | None = None  # (inputs, outputs)

    @property
    def is_classification(self) -> bool:
        return self.task in ("classification", "binary")

    def class_name(self, index: int) -> str:
        if self.class_names and 0 <= index < len(self.class_names):
            return str(self.class_names[index])
        return str(index)


class EvaluationError(Exception):
    """A run that cannot be evaluated (no checkpoint, no held-out data, data that no longer loads)."""


def evaluate_run(project_text: str, registry: Registry, base_dir: Path | None, checkpoint: Path,
                 split: str = "auto") -> EvaluationResult:
    from nnstudio.compile.weights import WeightsError, load_weights
    from nnstudio.io import ProjectFileError, loads
    from nnstudio.training import TrainingInputError, prepare
    from nnstudio.training.evaluation import evaluate_job

    try:
        job = prepare(loads(project_text, registry), base_dir)
        load_weights(job.compiled.module, checkpoint, strict=True)
        report = evaluate_job(job, split)
    except (TrainingInputError, ProjectFileError, WeightsError, ValueError) as exc:
        raise EvaluationError(str(exc)) from None
    chosen = job.data.splits()[report.split]
    module = job.compiled.module.cpu().eval()
    outputs = _predict(module, chosen.x)
    result = EvaluationResult(report.split, report.count, job.task, job.data.kind, report.metrics,
                              str(checkpoint), report.confusion, job.data.class_names, job.data.feature_names)
    x, y = chosen.x.numpy(), chosen.y.numpy()
    if job.task == "classification":
        _add_misclassified(result, x, y.reshape(-1), torch.softmax(outputs.float(), dim=-1).numpy())
    elif job.task == "binary":
        _add_binary(result, x, y.reshape(-1), outputs.float().reshape(-1), job)
    elif job.task == "regression":
        result.truth = y.reshape(-1)[:MAX_SCATTER]
        result.predicted = outputs.float().numpy().reshape(-1)[:MAX_SCATTER]
    else:
        count = min(MAX_RECONSTRUCTIONS, len(x))
        result.reconstructions = (x[:count], outputs[:count].float().numpy().reshape(x[:count].shape))
    return result


@torch.no_grad()
def _predict(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([module(x[start:start + BATCH]) for start in range(0, len(x), BATCH)])


def _add_misclassified(result: EvaluationResult, x: np.ndarray, truth: np.ndarray, probs: Any) -> None:
    if probs.ndim != 2 or len(probs) != len(truth):
        return  # one label per time step or position: no per-sample browser
    predicted = probs.argmax(axis=-1)
    wrong = np.flatnonzero(predicted != truth)
    result.wrong_count = len(wrong)
    confidence = probs[np.arange(len(predicted)), predicted]
    order = wrong[np.argsort(-confidence[wrong])][:MAX_MISCLASSIFIED]  # the most confident mistakes first
    result.misclassified = [Misclassified(int(i), x[i], int(truth[i]), int(predicted[i]), float(confidence[i]))
                            for i in order]


def _add_binary(result: EvaluationResult, x: np.ndarray, truth: np.ndarray, output: torch.Tensor, job) -> None:
    from nnstudio.training.factories import decision_threshold

    threshold = decision_threshold(job.settings.loss, job.task)
    positive = torch.sigmoid(output) if threshold == 0.0 else output.clamp(0, 1)
    probs = torch.stack([1 - positive, positive], dim=1).numpy()
    labels = (truth > 0.5).astype(int)
    _add_misclassified(result, x, labels, probs)
    predicted = probs.argmax(axis=1)
    result.confusion = [[int(np.sum((labels == t) & (predicted == p))) for p in (0, 1)] for t in (0, 1)]
    if result.class_names is None:
        result.class_names = ["negative", "positive"]
