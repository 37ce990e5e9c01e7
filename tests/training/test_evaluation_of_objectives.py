"""evaluate_job on graphs with loss nodes: the objective's own scores, as training reports them."""

from __future__ import annotations

import pytest

from nnstudio.training import Trainer, prepare
from nnstudio.training.evaluation import evaluate_job
from tests.objective_graphs import two_heads, vae

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("builder", [vae, two_heads])
def test_the_report_matches_the_runs_own_test_metrics(builder):
    job = prepare(builder(epochs=1).project)
    result = Trainer(job).run()
    report = evaluate_job(job, "test")
    tested = {key.removeprefix("test_"): value for key, value in result.metrics.items() if key.startswith("test_")}
    assert tested, "the run scored its test split at the end"
    assert report.metrics == pytest.approx(tested, rel=1e-6)
    assert report.task == "objective"
    assert list(report.terms) == job.compiled.plan.term_names
    assert [h.name for h in report.heads] == [h.name for h in job.compiled.plan.heads]


def test_the_confusion_matrix_is_the_first_classification_heads():
    job = prepare(two_heads(epochs=1).project)
    Trainer(job).run()
    report = evaluate_job(job)
    assert report.confusion_head == "digit" and len(report.confusion) == 10
    diagonal = sum(report.confusion[i][i] for i in range(10))
    assert diagonal / report.count == pytest.approx(report.metrics["digit_accuracy"])
    text = report.text()
    assert "loss (digit_ce + 0.5·parity_ce)" in text and "confusion matrix of head 'digit'" in text


def test_a_plain_project_reports_as_before():
    from tests.helpers import mlp

    b = mlp(classes=2)
    b.project.dataset = {"name": "moons", "params": {"samples": 200}, "test_fraction": 0.2}
    b.project.training = {"epochs": 1}
    job = prepare(b.project)
    Trainer(job).run()
    report = evaluate_job(job)
    assert report.task == "classification" and report.objective is None
    assert "objective" not in report.to_json() and set(report.metrics) == {"loss", "accuracy"}
    assert report.text().splitlines()[1].split()[0] == "loss"
