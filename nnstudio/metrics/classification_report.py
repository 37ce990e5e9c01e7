"""The evaluation a professional expects of a classifier, computed by scikit-learn from per-sample probabilities.

Per-class precision, recall, F1 and support; ROC and precision-recall curves with their areas (one-vs-rest
for several classes, the positive class for a binary task) and their macro averages; top-k accuracy for
k = 1, 3, 5 below the number of classes; a 10-bin reliability diagram of the top-label confidence and its
expected calibration error (ECE, Guo et al. 2017). The formulas are scikit-learn's; only the ECE, which
scikit-learn does not offer, is the weighted gap over `calibration_curve`'s own bins.

scikit-learn is the optional `datasets` extra (it also loads the bundled datasets and seeds RBF centres), so
one install line covers every use of it; without it `classification_report` raises MissingScikitLearn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SKLEARN_HINT = 'per-class metrics need scikit-learn: pip install "nnstudio[datasets]"'
TOP_K = (1, 3, 5)
CALIBRATION_BINS = 10
MAX_PROBABILITIES = 20_000_000  # samples x classes kept for the report; more is skipped, with a note
CURVE_POINTS = 201  # the macro curves are averaged on this grid


class MissingScikitLearn(ImportError):
    """scikit-learn is not installed; the message says how to install it."""


@dataclass
class ClassRow:
    name: str
    precision: float
    recall: float
    f1: float
    support: int
    roc_auc: float  # NaN when the split holds no sample (or only samples) of the class
    average_precision: float


@dataclass
class Curve:
    """One curve of a plot: x, y and its area."""

    label: str
    x: list[float]
    y: list[float]
    area: float


@dataclass
class Calibration:
    bins: int
    confidence: list[float]  # mean top-label confidence of each non-empty bin
    accuracy: list[float]  # fraction correct in that bin
    counts: list[int]
    ece: float


@dataclass
class ClassificationMetrics:
    classes: list[ClassRow]
    macro: dict[str, float]  # precision, recall, f1, roc_auc, average_precision
    weighted: dict[str, float]
    roc: list[Curve]  # one per class (binary: the positive class), then "macro" for several classes
    pr: list[Curve]
    top_k: dict[int, float]
    calibration: Calibration
    samples: int
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "samples": self.samples,
            "per_class": [row.__dict__ for row in self.classes],
            "macro": self.macro,
            "weighted": self.weighted,
            "roc_auc": {c.label: c.area for c in self.roc},
            "average_precision": {c.label: c.area for c in self.pr},
            "roc_curves": [c.__dict__ for c in self.roc],
            "pr_curves": [c.__dict__ for c in self.pr],
            "top_k_accuracy": {str(k): v for k, v in self.top_k.items()},
            "calibration": self.calibration.__dict__,
            "ece": self.calibration.ece,
        }

    def text(self) -> str:
        """A table per class, then the averages, the areas, top-k and the ECE, for a terminal."""
        width = max(12, *(len(r.name) for r in self.classes))
        head = f"{'class':<{width}} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8} {'ROC AUC':>8} {'AP':>7}"
        lines = ["per-class metrics", head]
        for r in self.classes:
            lines.append(
                f"{r.name:<{width}} {r.precision:>9.4f} {r.recall:>7.4f} {r.f1:>7.4f} {r.support:>8d} "
                f"{r.roc_auc:>8.4f} {r.average_precision:>7.4f}"
            )
        for label, values in (("macro avg", self.macro), ("weighted avg", self.weighted)):
            lines.append(
                f"{label:<{width}} {values['precision']:>9.4f} {values['recall']:>7.4f} "
                f"{values['f1']:>7.4f} {self.samples:>8d} {values['roc_auc']:>8.4f} "
                f"{values['average_precision']:>7.4f}"
            )
        lines.append("top-k accuracy  " + "  ".join(f"top-{k} {v:.4f}" for k, v in self.top_k.items()))
        lines.append(
            f"calibration     ECE {self.calibration.ece:.4f} ({self.calibration.bins} bins of top-label confidence)"
        )
        lines += self.notes
        return "\n".join(lines)


def _sklearn():
    try:
        import sklearn.calibration
        import sklearn.metrics
    except ImportError:
        raise MissingScikitLearn(SKLEARN_HINT) from None
    return sklearn.metrics, sklearn.calibration


def flatten(probabilities: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[N, classes] probabilities and [N] labels; one label per position ([N, T, classes]) is pooled."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    classes = probabilities.shape[-1]
    return probabilities.reshape(-1, classes), np.asarray(truth).reshape(-1).astype(np.int64)


def classification_report(
    probabilities: np.ndarray, truth: np.ndarray, class_names: list[str] | None = None
) -> ClassificationMetrics:
    """Everything above from [N, classes] probabilities (rows sum to 1) and [N] true class indices."""
    metrics, calibration = _sklearn()
    probs, y = flatten(probabilities, truth)
    k = probs.shape[1]
    if len(y) != len(probs) or len(y) == 0:
        raise ValueError(f"{len(y)} labels for {len(probs)} predictions")
    if k < 2:
        raise ValueError(f"{k} class: a classifier needs at least 2")
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"labels outside 0…{k - 1}: from {y.min()} to {y.max()}")
    names = [str(n) for n in class_names] if class_names and len(class_names) == k else [str(i) for i in range(k)]
    labels = list(range(k))
    predicted = probs.argmax(axis=1)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    roc, pr = _curves(metrics, probs, y, names)
    rows = [
        ClassRow(
            names[i], float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]), roc[i].area, pr[i].area
        )
        for i in labels
    ]
    averages = {}
    for average in ("macro", "weighted"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y, predicted, labels=labels, average=average, zero_division=0
        )
        averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    _add_area_averages(averages, rows, support)
    top_k = {
        t: float(metrics.top_k_accuracy_score(y, probs if k > 2 else probs[:, 1], k=t, labels=labels))
        for t in TOP_K
        if t == 1 or t < k
    }  # binary: scikit-learn wants the positive class's score
    if k == 2:  # a binary task plots its positive class alone (the negative's ROC is the same curve)
        roc, pr = roc[1:2], pr[1:2]
    else:
        roc, pr = [*roc, _macro_curve(roc, "macro")], [*pr, _macro_curve(pr, "macro")]
    return ClassificationMetrics(
        rows, averages["macro"], averages["weighted"], roc, pr, top_k, reliability(calibration, probs, y), len(y)
    )


def _add_area_averages(averages: dict, rows: list[ClassRow], support: np.ndarray) -> None:
    """Macro and support-weighted means of the per-class areas, over the classes where they are defined."""
    for key in ("roc_auc", "average_precision"):
        values = np.array([getattr(r, key) for r in rows])
        defined = np.isfinite(values)
        weights = support[defined]
        averages["macro"][key] = float(values[defined].mean()) if defined.any() else float("nan")
        averages["weighted"][key] = (
            float(np.average(values[defined], weights=weights)) if defined.any() and weights.sum() > 0 else float("nan")
        )


def _curves(metrics, probs: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[list[Curve], list[Curve]]:
    """ROC and PR curves of each class against the rest."""
    roc, pr = [], []
    for c in range(probs.shape[1]):
        positive = (y == c).astype(int)
        if 0 < positive.sum() < len(positive):
            fpr, tpr, _ = metrics.roc_curve(positive, probs[:, c])
            precision, recall, _ = metrics.precision_recall_curve(positive, probs[:, c], drop_intermediate=True)
            roc.append(Curve(names[c], fpr.tolist(), tpr.tolist(), float(metrics.auc(fpr, tpr))))
            ap = float(metrics.average_precision_score(positive, probs[:, c]))
            pr.append(Curve(names[c], recall.tolist(), precision.tolist(), ap))
        else:  # no positives (or no negatives) of this class in the split: its curves are undefined
            roc.append(Curve(names[c], [], [], float("nan")))
            pr.append(Curve(names[c], [], [], float("nan")))
    return roc, pr


def _macro_curve(curves: list[Curve], label: str) -> Curve:
    """The mean of the defined curves on a common x grid; its area is the mean of their areas."""
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    defined = [c for c in curves if c.x]
    if not defined:
        return Curve(label, [], [], float("nan"))
    ys = []
    for c in defined:
        x, y = np.asarray(c.x), np.asarray(c.y)
        order = np.argsort(x, kind="stable")  # np.interp wants a rising x; a PR curve's recall falls
        ys.append(np.interp(grid, x[order], y[order]))
    return Curve(label, grid.tolist(), np.mean(ys, axis=0).tolist(), float(np.mean([c.area for c in defined])))


def reliability(calibration, probs: np.ndarray, y: np.ndarray, bins: int = CALIBRATION_BINS) -> Calibration:
    """Accuracy against top-label confidence in equal-width bins (scikit-learn's `calibration_curve`), and the
    expected calibration error: the sample-weighted mean gap between the two over the same bins."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(int)
    accuracy, mean_confidence = calibration.calibration_curve(correct, confidence, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=bins)  # calibration_curve's binning
    counts = counts[counts > 0]
    ece = float(np.sum(counts / counts.sum() * np.abs(accuracy - mean_confidence)))
    return Calibration(bins, mean_confidence.tolist(), accuracy.tolist(), counts.tolist(), ece)
