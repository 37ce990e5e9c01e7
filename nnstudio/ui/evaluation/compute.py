"""Scoring a finished run on its held-out data, with everything the evaluation view draws. Runs off the GUI thread.

The run's own project snapshot is compiled and its checkpoint loaded, so later edits to the graph never
change what a run's evaluation shows. Metrics and the confusion matrix come from the engine's
`evaluate_job`, with a classifier's per-class report (metrics/classification_report.py); this module adds the
per-sample view: predictions, misclassified samples, reconstructions, and the source the projector embeds.
A graph with loss nodes is scored by its objective, and its heads choose the pages (evaluation/objective.py);
a VAE also gets samples drawn from its prior.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.layers.registry import Registry
from nnstudio.metrics.classification_report import ClassificationMetrics
from nnstudio.training.data.streaming import is_streamed
from nnstudio.ui.evaluation.adversarial import AdversarialExamples, adversarial_examples
from nnstudio.ui.evaluation.fewshot import FewShotSummary, fewshot_summary
from nnstudio.ui.evaluation.gan import GanSamples, gan_samples
from nnstudio.ui.evaluation.objective import PriorSampler, objective_pages, prior_sampler, reconstruction_output
from nnstudio.ui.evaluation.projector import ProjectorSource
from nnstudio.ui.evaluation.som import SomMap, som_map

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
    value_range: tuple[float, float] | None = None  # the data's range: inputs and outputs drawn on one scale
    objective: str | None = None  # "rec + 0.01·kl" for a graph with loss nodes
    term_names: list[str] = field(default_factory=list)
    head_names: list[str] = field(default_factory=list)  # with several, their metric keys start with the name
    sampler: PriorSampler | None = None  # a VAE's decoder, to draw more samples on demand
    samples: np.ndarray | None = None  # decoded prior samples, drawn with `sample_seed`
    sample_seed: int = 0
    notes: list[str] = field(default_factory=list)  # what could not be shown, and why
    adversarial: AdversarialExamples | None = None  # a classifier on float images: attacked test samples
    gan: GanSamples | None = None  # a GAN run: its final generator's samples (and no classifier pages)
    som: SomMap | None = None  # a SOM run: its U-matrix and hit map on the split (and no classifier pages)
    fewshot: FewShotSummary | None = None  # a few-shot run: N-way K-shot accuracies (and no classifier pages)
    classification: ClassificationMetrics | None = None  # per-class table, ROC/PR curves, top-k, calibration
    projector: ProjectorSource | None = None  # a plain model: any node's output can be embedded in 2-D

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
    from nnstudio.training.embedding import embedding_nodes
    from nnstudio.training.evaluation import evaluate_job
    from nnstudio.training.factories import decision_threshold

    try:
        job = prepare(loads(project_text, registry), base_dir)
        load_weights(job.compiled.network, checkpoint, strict=True)  # with an objective: its loss-only parts too
        report = evaluate_job(job, split)
    except (TrainingInputError, ProjectFileError, WeightsError, ValueError) as exc:
        raise EvaluationError(str(exc)) from None
    chosen = job.data.splits()[report.split]
    result = EvaluationResult(report.split, report.count, job.task, job.data.kind, report.metrics,
                              str(checkpoint), report.confusion, job.data.class_names, job.data.feature_names)
    result.classification, result.notes = report.classification, list(report.notes)
    if job.recipe == "gan":
        result.gan = gan_samples(job, chosen.x)
        return result
    if job.recipe == "som":
        result.som = som_map(report, report.class_names)
        return result
    if job.recipe == "fewshot":
        result.fewshot = fewshot_summary(job, report)
        return result
    if is_streamed(job.data):  # the sample views below need the whole split in memory
        result.notes.append("Sample views left out: the dataset is streamed from disk (dataset.streaming); the "
                            "metrics above cover the whole split.")
        return result
    if job.compiled.objective is not None:
        _add_objective(result, job, report, chosen)
        return result
    module = job.compiled.module.cpu().eval()
    result.projector = ProjectorSource(job, chosen.x, chosen.y if job.task in ("classification", "binary") else None,
                                       embedding_nodes(job), _class_names(job), job.settings.seed)
    outputs = _predict(module, chosen.x)
    x, y = chosen.x.numpy(), chosen.y.numpy()
    if job.task == "classification":
        _add_misclassified(result, x, y.reshape(-1), torch.softmax(outputs.float(), dim=-1).numpy())
        result.adversarial = adversarial_examples(job, chosen.x, chosen.y)
        if result.adversarial is not None:
            result.notes.append(f"Adversarial examples: {result.adversarial.describe()}")
    elif job.task == "binary":
        threshold = decision_threshold(job.settings.loss, job.task)
        _add_binary(result, x, y.reshape(-1), _positive(outputs.float().reshape(-1), threshold))
    elif job.task == "regression":
        result.truth = y.reshape(-1)[:MAX_SCATTER]
        result.predicted = outputs.float().numpy().reshape(-1)[:MAX_SCATTER]
    else:
        count = min(MAX_RECONSTRUCTIONS, len(x))
        result.reconstructions = (x[:count], outputs[:count].float().numpy().reshape(x[:count].shape))
    return result


def _add_objective(result: EvaluationResult, job, report, chosen) -> None:
    """The pages of a graph with loss nodes: chosen by its heads, plus reconstructions and prior samples."""
    plan = job.compiled.plan
    result.objective, result.term_names = report.objective, list(plan.term_names)
    result.head_names = [h.name for h in plan.heads]
    job.compiled.objective.cpu().eval()
    pages = objective_pages(job, chosen.x, chosen.y, MAX_SCATTER)
    result.task, result.class_names = pages.task, pages.class_names
    x = chosen.x.numpy()
    if pages.probabilities is not None:
        _add_misclassified(result, x, pages.truth, pages.probabilities)
        if result.classification is None:  # evaluate_job already reports each head that decides per sample
            _add_head_report(result, report, pages)
        if pages.binary:
            _binary_confusion(result, pages.truth, pages.probabilities)
    elif pages.predicted is not None:
        result.truth, result.predicted = pages.truth, pages.predicted
    index = reconstruction_output(job)
    if index is None:
        return
    result.value_range = (float(x.min()), float(x.max())) if x.size else None
    count = min(MAX_RECONSTRUCTIONS, len(x))
    outputs = _predict(job.compiled.module, chosen.x[:count], index)
    if count and outputs[0].numel() == x[0].size:
        result.reconstructions = (x[:count], outputs.float().numpy().reshape(x[:count].shape))
        result.task = "reconstruction" if result.task == "objective" else result.task
    result.sampler, note = prior_sampler(job, tuple(x.shape[1:]))
    result.notes += [note] if note else []
    if result.sampler is not None:
        result.sample_seed = job.settings.seed
        result.samples = result.sampler.draw(result.sample_seed)


def _class_names(job) -> list[str] | None:
    if job.task == "binary":
        names = job.data.class_names
        return list(names) if names and len(names) == 2 else ["negative", "positive"]
    return job.data.class_names


def _add_head_report(result: EvaluationResult, report, pages) -> None:
    """The per-class report of an objective graph's first classifying head, from the pages' probabilities."""
    from nnstudio.training.evaluation import add_classification

    names = result.class_names if not pages.binary else ["negative", "positive"]
    add_classification(report, torch.as_tensor(pages.probabilities), np.asarray(pages.truth), names)
    result.classification = report.classification
    result.notes += [n for n in report.notes if n not in result.notes]


@torch.no_grad()
def _predict(module: torch.nn.Module, x: torch.Tensor, output: int | None = None) -> torch.Tensor:
    """The model's outputs in batches; `output` picks one of several Outputs."""
    module.eval()
    parts = []
    for start in range(0, len(x), BATCH):
        value = module(x[start:start + BATCH])
        parts.append(value[output] if isinstance(value, tuple) and output is not None else value)
    return torch.cat(parts)


def _add_misclassified(result: EvaluationResult, x: np.ndarray, truth: np.ndarray, probs: Any) -> None:
    if probs.ndim != 2 or not len(probs) == len(truth) == len(x):
        return  # one label per time step or position: no per-sample browser
    predicted = probs.argmax(axis=-1)
    wrong = np.flatnonzero(predicted != truth)
    result.wrong_count = len(wrong)
    confidence = probs[np.arange(len(predicted)), predicted]
    order = wrong[np.argsort(-confidence[wrong])][:MAX_MISCLASSIFIED]  # the most confident mistakes first
    result.misclassified = [Misclassified(int(i), x[i], int(truth[i]), int(predicted[i]), float(confidence[i]))
                            for i in order]


def _positive(output: torch.Tensor, threshold: float) -> np.ndarray:
    """[1 - p, p] per sample: logits go through a sigmoid (threshold 0), probabilities are clamped."""
    positive = torch.sigmoid(output) if threshold == 0.0 else output.clamp(0, 1)
    return torch.stack([1 - positive, positive], dim=1).numpy()


def _add_binary(result: EvaluationResult, x: np.ndarray, truth: np.ndarray, probs: np.ndarray) -> None:
    labels = (truth > 0.5).astype(int)
    _add_misclassified(result, x, labels, probs)
    _binary_confusion(result, labels, probs)


def _binary_confusion(result: EvaluationResult, labels: np.ndarray, probs: np.ndarray) -> None:
    predicted = probs.argmax(axis=1)
    result.confusion = [[int(np.sum((labels == t) & (predicted == p))) for p in (0, 1)] for t in (0, 1)]
    if result.class_names is None:
        result.class_names = ["negative", "positive"]
