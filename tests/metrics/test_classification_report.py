"""The per-class report against cases with a known answer and against scikit-learn's own functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from nnstudio.metrics.classification_report import classification_report


def labels(classes: int, count: int, seed: int = 0) -> np.ndarray:
    y = np.random.default_rng(seed).integers(0, classes, count)
    y[:classes] = np.arange(classes)  # every class present
    return y


def test_a_perfect_classifier_has_areas_of_one_and_no_calibration_error():
    y = labels(4, 200)
    report = classification_report(np.eye(4)[y], y, ["a", "b", "c", "d"])
    assert [row.name for row in report.classes] == ["a", "b", "c", "d"]
    assert all(row.precision == row.recall == row.f1 == 1.0 for row in report.classes)
    assert all(curve.area == pytest.approx(1.0) for curve in report.roc + report.pr)
    assert report.macro["roc_auc"] == 1.0 and report.top_k == {1: 1.0, 3: 1.0}
    assert report.calibration.ece == pytest.approx(0.0, abs=1e-12)


def test_a_constant_predictor_has_areas_of_one_half():
    y = labels(3, 300)
    prior = np.bincount(y) / len(y)
    report = classification_report(np.tile(prior, (len(y), 1)), y)
    assert all(row.roc_auc == pytest.approx(0.5) for row in report.classes)
    assert report.macro["roc_auc"] == pytest.approx(0.5)
    assert report.roc[-1].label == "macro" and report.roc[-1].area == pytest.approx(0.5)
    # it always answers the largest class with that class's frequency: calibrated, so no error
    assert report.calibration.ece == pytest.approx(0.0, abs=1e-9)


def test_an_overconfident_classifier_has_its_gap_as_ece():
    y = np.array([0, 1] * 50)
    probs = np.tile([0.95, 0.05], (100, 1))  # always class 0 at 95%, right half of the time
    report = classification_report(probs, y)
    assert report.calibration.ece == pytest.approx(0.45)
    assert report.calibration.counts == [100]


def test_binary_plots_the_positive_class_and_matches_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 120)
    p = np.clip(y * 0.3 + rng.random(120) * 0.7, 0, 1)
    report = classification_report(np.stack([1 - p, p], 1), y, ["no", "yes"])
    assert [c.label for c in report.roc] == ["yes"]
    assert report.roc[0].area == pytest.approx(metrics.roc_auc_score(y, p))
    assert report.pr[0].area == pytest.approx(metrics.average_precision_score(y, p))
    assert report.top_k == {1: pytest.approx(metrics.accuracy_score(y, p > 0.5))}


def test_a_class_missing_from_the_split_has_undefined_areas_left_out_of_the_macro():
    y = np.array([0, 1, 0, 1, 0, 1])
    probs = np.tile([0.5, 0.3, 0.2], (6, 1)) + np.array([[0.1, -0.1, 0.0]] * 6) * (y == 0)[:, None]
    report = classification_report(probs, y)
    assert np.isnan(report.classes[2].roc_auc) and report.classes[2].support == 0
    assert report.macro["roc_auc"] == pytest.approx(np.mean([r.roc_auc for r in report.classes[:2]]))


def test_one_label_per_position_is_pooled():
    y = labels(3, 40).reshape(10, 4)
    report = classification_report(np.eye(3)[y], y)
    assert report.samples == 40 and sum(row.support for row in report.classes) == 40


def test_text_and_json_name_every_class():
    y = labels(6, 90)
    report = classification_report(np.random.default_rng(2).dirichlet(np.ones(6), 90), y)
    text = report.text()
    assert text.splitlines()[0] == "per-class metrics" and "top-5" in text and "ECE" in text
    data = report.to_json()
    assert len(data["per_class"]) == 6 and set(data["top_k_accuracy"]) == {"1", "3", "5"}
    assert len(data["roc_curves"]) == 7


@settings(max_examples=25, deadline=None)
@given(classes=st.integers(3, 6), count=st.integers(8, 60), seed=st.integers(0, 10_000))
def test_areas_and_scores_agree_with_scikit_learn(classes, count, seed):
    y = labels(classes, count, seed)
    probs = np.random.default_rng(seed + 1).dirichlet(np.ones(classes), count)
    report = classification_report(probs, y)
    assert report.macro["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, probs, multi_class="ovr"))
    onehot = np.eye(classes)[y]
    assert report.macro["average_precision"] == pytest.approx(metrics.average_precision_score(onehot, probs))
    f1 = metrics.f1_score(y, probs.argmax(1), average="macro", labels=range(classes), zero_division=0)
    assert report.macro["f1"] == pytest.approx(f1)
    assert report.top_k[1] == pytest.approx(np.mean(probs.argmax(1) == y))
    assert 0.0 <= report.calibration.ece <= 1.0 and sum(report.calibration.counts) == count


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 labels for 2 predictions"):
        classification_report(np.eye(2), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="labels outside 0…2: from 0 to 5"):
        classification_report(np.eye(3), np.array([0, 1, 5]))
