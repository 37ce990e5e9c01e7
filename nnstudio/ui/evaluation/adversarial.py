"""Adversarial examples beside their originals, for the Evaluation tab. Computed off the GUI thread.

A run of the adversarial recipe is attacked with its own settings (attack, ε, clamp); any other classifier on
float images gets FGSM at ε = 0.1 clamped to the data's range, so its robustness can be seen too. Each sample
is shown three times: the original, the attacked input and the perturbation magnified to fill the grey range
(an ε-step is too faint to see at the data's own scale), with the prediction before → after. Tabular inputs get
no page: a nudged row of numbers says nothing at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PySide6.QtCore import QSize
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from nnstudio.ui.evaluation.images import ICON, sample_image, side_by_side, to_pixmap

COUNT = 12
PLAIN_EPSILON = 0.1
FLIPPED = QColor("#ffcdd2")


@dataclass
class AdversarialExamples:
    originals: np.ndarray  # [N, ...] the split's first samples
    adversarial: np.ndarray  # the same, attacked
    truth: np.ndarray  # [N] class indices
    before: np.ndarray  # [N] predicted class on the original
    after: np.ndarray  # [N] predicted class on the adversarial version
    method: str
    epsilon: float
    value_range: tuple[float, float]

    @property
    def flipped(self) -> np.ndarray:
        return self.before != self.after

    def describe(self) -> str:
        return (f"{self.method.upper()}, ε = {self.epsilon:g}: {int(self.flipped.sum())} of {len(self.before)} "
                "predictions flipped")


def _attack_for(job, x: torch.Tensor):
    """The run's own attack (adversarial recipe) or FGSM ε = 0.1 clamped to the data's range; None: no page."""
    from nnstudio.training.attacks import Attack

    if job.recipe == "adversarial":
        from nnstudio.training.recipes.adversarial_trainer import attack_of

        return attack_of(job.recipe_params)
    if job.task != "classification" or job.compiled.objective is not None or job.recipe != "supervised":
        return None
    return Attack("fgsm", PLAIN_EPSILON, low=float(x.min()), high=float(x.max()))


def is_image_batch(x: torch.Tensor) -> bool:
    """Float samples drawn as pictures ([C, H, W] or [H, W]); rows of features are not."""
    return (x.is_floating_point() and len(x) > 0 and x.ndim in (3, 4)
            and sample_image(x[0].numpy()) is not None)


def adversarial_examples(job, x: torch.Tensor, y: torch.Tensor, count: int = COUNT) -> AdversarialExamples | None:
    """Attacks the first `count` samples of a split with the weights already loaded; None when there is no page."""
    from nnstudio.training.attacks import perturb
    from nnstudio.training.factories import make_loss

    if not is_image_batch(x) or job.ends is None:
        return None
    attack = _attack_for(job, x)
    if attack is None:
        return None
    model = job.compiled.module.cpu().eval()
    loss = make_loss(job.settings.loss, job.task, len(job.ends.output_type.shape))
    xb, yb = x[:count], y[:count].reshape(-1)
    generator = torch.Generator().manual_seed(job.settings.seed)
    attacked = perturb(model, loss, xb, yb, attack, generator)
    with torch.no_grad():
        before = model(xb).argmax(-1).reshape(-1)
        after = model(attacked).argmax(-1).reshape(-1)
    value_range = (float(x.min()), float(x.max()))
    return AdversarialExamples(xb.numpy(), attacked.numpy(), yb.numpy(), before.numpy(), after.numpy(),
                               attack.method, attack.epsilon, value_range)


def magnified(delta: np.ndarray) -> np.ndarray:
    """A perturbation scaled so its largest change reaches black or white; no change is mid grey."""
    peak = float(np.abs(delta).max())
    return np.full_like(delta, 0.5) if peak == 0 else 0.5 + delta / (2 * peak)


class AdversarialPage(QListWidget):
    """Per sample one tile, original | adversarial | perturbation ×, captioned 'before → after'; flips in red."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(ICON * 3, ICON))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(6)

    def show_examples(self, examples: AdversarialExamples, class_name) -> None:
        self.clear()
        for i in range(len(examples.before)):
            x, adv = examples.originals[i], examples.adversarial[i]
            left = sample_image(x, examples.value_range)
            middle = sample_image(adv, examples.value_range)
            right = sample_image(magnified(adv - x), (0.0, 1.0))
            tiles = side_by_side(side_by_side(left, middle), right)
            before, after = class_name(int(examples.before[i])), class_name(int(examples.after[i]))
            item = QListWidgetItem(QIcon(to_pixmap(tiles, ICON * 3)), f"{before} → {after}")
            item.setToolTip(f"sample {i}: true {class_name(int(examples.truth[i]))}; predicted {before} on the "
                            f"original, {after} after the attack (original | adversarial | perturbation, magnified)")
            if examples.flipped[i]:
                item.setBackground(QBrush(FLIPPED))
            self.addItem(item)
