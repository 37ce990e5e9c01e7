"""Adversarial examples beside their originals, under a curve of robust accuracy against ε, for the Evaluation
tab. Computed off the GUI thread.

A run of the adversarial recipe is attacked with its own settings (attack, ε, clamp); any other classifier on
float images gets FGSM at ε = 0.1 clamped to the data's range, so its robustness can be seen too. Each sample
is shown three times: the original, the attacked input and the perturbation magnified to fill the grey range
(an ε-step is too faint to see at the data's own scale), with the prediction before → after. Tabular inputs get
no page: a nudged row of numbers says nothing at a glance (`nnstudio evaluate --robustness` measures them).

Above the examples, the curve (training/robustness.py) of the split's first CURVE_SAMPLES samples: the run's
own attack for an adversarial-recipe run, FGSM otherwise, computed with the evaluation on its thread; the other
attack is computed on request, on a worker thread of its own (ui/background.py), and kept for the run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from nnstudio.training.attacks import ATTACKS
from nnstudio.training.robustness import RobustnessCurve, attack_curve, default_epsilons
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.evaluation.images import ICON, sample_image, side_by_side, to_pixmap
from nnstudio.ui.evaluation.robustness_plot import RobustnessPlot, curve_name

COUNT = 12
PLAIN_EPSILON = 0.1
EXAMPLE_ROWS = 2  # rows of examples the page keeps room for under the curve
CURVE_SAMPLES = 1000  # the curve's share of the split: enough for 0.1 % steps, quick enough for every evaluation
FLIPPED = QColor("#ffcdd2")


@dataclass
class RobustnessSource:
    """What a curve needs: the run's model (weights loaded, on the CPU), its loss, and the samples it attacks."""

    model: torch.nn.Module
    loss: torch.nn.Module
    x: torch.Tensor
    y: torch.Tensor
    value_range: tuple[float, float]
    epsilons: list[float]
    split_count: int = 0  # the split's size (the curve attacks its first len(x) samples)
    seed: int = 0
    cache: dict[str, RobustnessCurve] = field(default_factory=dict)

    def curve(self, method: str) -> RobustnessCurve:
        if method not in self.cache:
            self.cache[method] = attack_curve(self.model, self.loss, self.x, self.y, method, self.epsilons,
                                              self.value_range, seed=self.seed)
        return self.cache[method]


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
    source: RobustnessSource | None = None  # for the curve of robust accuracy against ε
    curve: RobustnessCurve | None = None  # computed with the examples: the run's own attack, else FGSM

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
    grid = sorted({*default_epsilons(*value_range), float(attack.epsilon)})
    source = RobustnessSource(model, loss, x[:CURVE_SAMPLES], y[:CURVE_SAMPLES], value_range, grid,
                              split_count=len(x), seed=job.settings.seed)
    return AdversarialExamples(xb.numpy(), attacked.numpy(), yb.numpy(), before.numpy(), after.numpy(),
                               attack.method, attack.epsilon, value_range, source, source.curve(attack.method))


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


class AdversarialTab(QSplitter):
    """The curve of robust accuracy against ε (FGSM and PGD on request) above the attacked examples."""

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.plot = RobustnessPlot()
        self.method = QComboBox()
        for method in ATTACKS:
            self.method.addItem(method.upper(), method)
        self.method.setToolTip("the attack whose curve to add (PGD: several projected steps, usually stronger)")
        self.compute_button = QPushButton("Add curve")
        self.compute_button.clicked.connect(self.request)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.examples = AdversarialPage()
        self.examples.setMinimumHeight(EXAMPLE_ROWS * (ICON + 40))  # two rows of tiles with their captions
        top = QWidget()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Attack"))
        controls.addWidget(self.method)
        controls.addWidget(self.compute_button)
        controls.addStretch(1)
        layout = QVBoxLayout(top)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self.addWidget(top)
        self.addWidget(self.examples)
        self.setChildrenCollapsible(False)
        self.setStretchFactor(0, 1)  # half each: the curve stays readable and the examples show several rows
        self.setStretchFactor(1, 1)
        self._poller = FuturePoller(self)
        self._generation = 0
        self.source: RobustnessSource | None = None

    def show_examples(self, examples: AdversarialExamples, class_name) -> None:
        self._generation += 1  # a curve still being computed for the previous run is not this run's
        self.examples.show_examples(examples, class_name)
        self.source = examples.source
        self.plot.clear_curves()
        self.plot.mark_epsilon(examples.epsilon, f"examples: ε = {examples.epsilon:g}")
        if examples.curve is not None:
            self.plot.show_curve(examples.curve)
            self.method.setCurrentIndex(self.method.findData("pgd" if examples.curve.method == "fgsm" else "fgsm"))
        self.compute_button.setEnabled(self.source is not None)
        self._describe()

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def request(self) -> None:
        """Add the chosen attack's curve; computed off the GUI thread unless this run has it already."""
        if self.source is None:
            return
        method = self.method.currentData()
        self._generation += 1
        if method in self.source.cache:
            self.plot.show_curve(self.source.cache[method])
            self._describe()
            return
        self.compute_button.setEnabled(False)
        self.status.setText(f"Attacking {len(self.source.x)} samples with {method.upper()} at "
                            f"{len(self.source.epsilons)} values of ε…")
        future = start_thread(partial(self.source.curve, method), "nnstudio-robustness")
        self._poller.watch(future, partial(self._on_done, self._generation))

    def _on_done(self, generation: int, future) -> None:
        if generation != self._generation:
            return
        self.compute_button.setEnabled(True)
        try:
            curve = future.result()
        except Exception as exc:  # shown to the user; the app carries on
            self.status.setText(f"<span style='color:#c62828'>{html.escape(type(exc).__name__)}: "
                                f"{html.escape(str(exc), quote=False)}</span>")
            return
        self.plot.show_curve(curve)
        self._describe()

    def _describe(self) -> None:
        """Which samples the curves attack, and each curve's strongest ε in words."""
        source = self.source
        if source is None:
            self.status.setText("")
            return
        share = f"the first {len(source.x)} of {source.split_count}" if len(source.x) < source.split_count \
            else f"all {len(source.x)}"
        low, high = source.value_range
        parts = [f"{curve_name(c)}: {c.points[-1].accuracy:.1%} at ε = {c.points[-1].epsilon:g}"
                 for c in self.plot.curves.values() if c.points]
        self.status.setText(f"Robust accuracy of {share} samples, inputs clamped to [{low:.3g}, {high:.3g}]. "
                            + "; ".join(parts))
