"""Robust accuracy against ε: how a trained classifier's accuracy falls as FGSM or PGD attacks grow stronger.

One curve point per ε: every sample of a split is attacked (training/attacks.py, the implementation the
adversarial recipe trains with), clamped to the data's range as the Evaluation tab's examples are, and scored
again. The point at ε = 0 is the clean accuracy, measured without an attack. Each point also counts the
predictions the attack changed (flipped), whether they were right before or not.

ε is in the data's own units, since that is what the attack adds to each input value. The default grid is a
fixed set of fractions of the data's range (0 to 0.3 of it), so pixels in [0, 1] get the ε values the
literature quotes for MNIST and standardised features get the same relative strengths. PGD takes
`PGD_STEPS` steps of α = 2.5·ε / steps from a random start, the rule of Madry et al., so its last steps can
still reach the ball's edge from anywhere inside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.training.attacks import ATTACKS, Attack, LossFn, perturb

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

DEFAULT_FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)  # of the data's range (max - min)
PGD_STEPS = 10
PGD_STEP_RULE = 2.5  # α = PGD_STEP_RULE · ε / steps
BATCH = 512
RECIPES = ("supervised", "adversarial")  # recipes whose model is a plain classifier of the inputs
TASKS = ("classification", "binary")

Predict = Callable[[torch.Tensor], torch.Tensor]  # outputs -> one label per prediction


class RobustnessError(ValueError):
    """A model, split or ε grid that a robustness curve cannot be computed for; the message is one line."""


@dataclass(frozen=True)
class RobustnessPoint:
    epsilon: float
    accuracy: float
    flipped: int  # predictions that differ from the clean model's


@dataclass
class RobustnessCurve:
    method: str
    count: int  # samples attacked
    predictions: int  # predictions scored (a sample has one, or one per position)
    value_range: tuple[float, float]  # the clamp: the data's range
    points: list[RobustnessPoint] = field(default_factory=list)
    steps: int = PGD_STEPS  # PGD only
    split: str = ""

    @property
    def epsilons(self) -> list[float]:
        return [p.epsilon for p in self.points]

    @property
    def accuracies(self) -> list[float]:
        return [p.accuracy for p in self.points]

    def describe(self) -> str:
        attack = f"PGD ({self.steps} steps)" if self.method == "pgd" else "FGSM"
        where = f"{self.split} split, " if self.split else ""
        low, high = self.value_range
        return (f"robust accuracy under {attack} ({where}{self.count} samples; ε in data units, inputs clamped "
                f"to [{low:.4g}, {high:.4g}])")

    def to_json(self) -> dict:
        return {"method": self.method, "split": self.split, "samples": self.count, "predictions": self.predictions,
                "value_range": list(self.value_range), "steps": self.steps if self.method == "pgd" else None,
                "points": [{"epsilon": p.epsilon, "accuracy": p.accuracy, "flipped": p.flipped}
                           for p in self.points]}

    def text(self) -> str:
        lines = [self.describe(), f"  {'ε':>10}  {'accuracy':>8}  {'flipped':>7}"]
        lines += [f"  {p.epsilon:>10.4g}  {p.accuracy:>8.4f}  {p.flipped:>7}" for p in self.points]
        return "\n".join(lines)


def default_epsilons(low: float, high: float) -> list[float]:
    """The grid DEFAULT_FRACTIONS of the range [low, high], rounded to 3 significant digits for reading."""
    spread = max(high - low, 0.0) or 1.0
    return [float(f"{fraction * spread:.3g}") for fraction in DEFAULT_FRACTIONS]


def parse_epsilons(text: str) -> list[float]:
    """Comma-separated ε values, each >= 0, in increasing order; duplicates are dropped."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = float(part)
        except ValueError:
            raise RobustnessError(f"--eps: expected comma-separated numbers, got {part!r}") from None
        if not (math.isfinite(value) and value >= 0):
            raise RobustnessError(f"--eps: ε must be a finite number >= 0, got {part}")
        values.append(value)
    return sorted(set(values))


def robustness_problem(job: TrainingJob) -> str | None:
    """Why a curve cannot be computed for this job's model, in one line; None when it can."""
    from nnstudio.training.inference import input_label, integer_input

    if job.compiled.objective is not None:
        return ("robustness: the graph declares its own objective (loss nodes); robust accuracy is measured "
                "on plain classifiers, scored by training.loss")
    if job.recipe not in RECIPES:
        return f"robustness: the {job.recipe} recipe trains no classifier of its inputs"
    if job.task not in TASKS or job.ends is None:
        return f"robustness: robust accuracy needs a classifier, and this model's task is {job.task}"
    if integer_input(job):
        return (f"robustness: {input_label(job)} reads token ids (whole numbers), which have no gradient for "
                "FGSM or PGD to follow")
    return None


def robustness_curve(job: TrainingJob, method: str, epsilons: Sequence[float] | None = None, split: str = "auto",
                     limit: int | None = None, steps: int = PGD_STEPS, device: torch.device | None = None,
                     ) -> RobustnessCurve:
    """The curve of the job's model (with whatever weights it holds) on one split, its first `limit` samples."""
    from nnstudio.training.evaluation import choose_split
    from nnstudio.training.factories import decision_threshold, make_loss

    problem = robustness_problem(job)
    if problem:
        raise RobustnessError(problem)
    try:
        split = choose_split(job, split)
    except ValueError as exc:
        raise RobustnessError(str(exc)) from None
    chosen = job.data.splits()[split]
    x, y = chosen.x[:limit], chosen.y[:limit]
    if not x.is_floating_point():
        raise RobustnessError(f"robustness: the {split} split holds whole numbers, not real-valued inputs")
    device = device or torch.device("cpu")
    model = job.compiled.module.to(device)
    loss = make_loss(job.settings.loss, job.task, len(job.ends.output_type.shape), device)
    value_range = (float(chosen.x.min()), float(chosen.x.max())) if len(chosen) else (0.0, 1.0)
    grid = list(epsilons) if epsilons is not None else default_epsilons(*value_range)
    curve = attack_curve(model, loss, x.to(device), y.to(device), method, grid, value_range, job.task,
                         decision_threshold(job.settings.loss, job.task), steps, seed=job.settings.seed)
    curve.split = split
    return curve


def predictor(task: str, threshold: float = 0.0) -> Predict:
    """Outputs -> predicted labels: the top class, or a binary output's side of its threshold."""
    if task == "binary":
        return lambda output: (output.reshape(output.shape[0], -1) > threshold).long().reshape(-1)
    return lambda output: output.argmax(-1).reshape(-1)


def truth_labels(task: str, y: torch.Tensor) -> torch.Tensor:
    return (y.reshape(-1) > 0.5).long() if task == "binary" else y.reshape(-1).long()


def attack_for(method: str, epsilon: float, value_range: tuple[float, float], steps: int = PGD_STEPS) -> Attack:
    """The attack of one curve point; PGD's step size follows ε (Madry et al.'s α = 2.5·ε / steps)."""
    if method not in ATTACKS:
        raise RobustnessError(f"robustness: unknown attack {method!r}; choose one of {', '.join(ATTACKS)}")
    low, high = value_range
    step_size = PGD_STEP_RULE * epsilon / steps if epsilon > 0 else 1.0  # at ε = 0 the ball is a point anyway
    return Attack(method, epsilon, steps=steps, step_size=step_size, low=low, high=high)


def attack_curve(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, method: str,
                 epsilons: Sequence[float], value_range: tuple[float, float], task: str = "classification",
                 threshold: float = 0.0, steps: int = PGD_STEPS, seed: int = 0,
                 batch_size: int = BATCH) -> RobustnessCurve:
    """Attack `x` at every ε and score it; the model is scored in eval mode and its mode restored after.
    `task` and `threshold` say how outputs become labels (training/factories.decision_threshold)."""
    if any(not e >= 0 for e in epsilons):
        raise RobustnessError(f"robustness: ε must be >= 0, got {min(epsilons)}")
    predict = predictor(task, threshold)
    truth = truth_labels(task, y)
    was_training = model.training
    model.eval()
    try:
        clean = _predictions(model, x, predict, batch_size)
        curve = RobustnessCurve(method, int(x.shape[0]), int(clean.numel()), value_range, steps=steps)
        for epsilon in epsilons:
            if epsilon == 0:
                attacked = clean
            else:
                attack = attack_for(method, float(epsilon), value_range, steps)
                attacked = _attacked_predictions(model, loss_fn, x, y, attack, predict, batch_size, seed)
            hits = int((attacked == truth).sum())
            curve.points.append(RobustnessPoint(float(epsilon), hits / max(1, truth.numel()),
                                                int((attacked != clean).sum())))
    finally:
        model.train(was_training)
    return curve


@torch.no_grad()
def _predictions(model: nn.Module, x: torch.Tensor, predict: Predict, batch_size: int) -> torch.Tensor:
    return torch.cat([predict(model(x[i:i + batch_size])) for i in range(0, x.shape[0], batch_size)]) \
        if x.shape[0] else torch.zeros(0, dtype=torch.long)


def _attacked_predictions(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, attack: Attack,
                          predict: Predict, batch_size: int, seed: int) -> torch.Tensor:
    """Predictions on the attacked split; the same batches and random start as attacks.robust_accuracy."""
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        adversarial = perturb(model, loss_fn, xb, yb, attack, generator)
        with torch.no_grad():
            parts.append(predict(model(adversarial)))
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)
