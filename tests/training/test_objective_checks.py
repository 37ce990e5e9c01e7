"""Validation of objectives: each refusal is one line that names the node and the port or setting."""

from __future__ import annotations

import pytest

from nnstudio.analysis import analyze
from nnstudio.model.builder import GraphBuilder
from nnstudio.training.job import TrainingInputError, prepare
from nnstudio.training.problems import training_problems
from tests.training.helpers import blobs, line
from tests.training.objective_helpers import FAST, two_head_project


def _errors(b: GraphBuilder) -> list[str]:
    return [d.message for d in analyze(b.graph).diagnostics if d.is_error]


def _classifier(b: GraphBuilder, classes: int = 3) -> tuple[str, str]:
    x = b.add("Input", "x", shape=[2])
    logits = b.add("Linear", "logits", out_features=classes)
    b.chain(x, logits, b.add("Output", "out"))
    return x, logits


def test_cross_entropy_needs_class_indices_on_its_target_port() -> None:
    b = GraphBuilder()
    _, logits = _classifier(b)
    target = b.add("Target", "y", shape=[3], dtype="float32")
    loss = b.add("CrossEntropyLoss", "ce")
    b.link(logits, loss, "input")
    b.link(target, loss, "target")
    (message,) = _errors(b)
    assert message.startswith("ce.target: expects class indices (int64") and "(from y)" in message


def test_kl_needs_matching_mu_and_logvar() -> None:
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[4])
    mu, logvar = b.add("Linear", "mu", out_features=3), b.add("Linear", "logvar", out_features=2)
    b.chain(x, mu, b.add("Output", "out"))
    b.link(x, logvar)
    kl = b.add("GaussianKLLoss", "kl")
    b.link(mu, kl, "mu")
    b.link(logvar, kl, "logvar")
    (message,) = _errors(b)
    assert message.startswith("kl.logvar: mu is [N, 3] but logvar is [N, 2]")


def test_teacher_and_student_must_score_the_same_classes() -> None:
    b = GraphBuilder()
    x, student = _classifier(b, classes=3)
    teacher = b.add("Linear", "teacher", out_features=5)
    b.link(x, teacher)
    distill = b.add("DistillationLoss", "distill")
    b.link(student, distill, "student")
    b.link(teacher, distill, "teacher")
    (message,) = _errors(b)
    assert message.startswith("distill.teacher:") and "the student has 3, the teacher 5" in message


def test_an_output_computed_from_a_target_is_refused() -> None:
    b = GraphBuilder()
    _classifier(b)
    target = b.add("Target", "y", shape=[1], dtype="float32")
    b.link(target, b.add("Output", "leak"))
    assert any(m.startswith("leak: is computed from Target 'y'") for m in _errors(b))


def test_two_outputs_without_loss_nodes_have_no_objective() -> None:
    b = GraphBuilder()
    x, _ = _classifier(b)
    b.chain(x, b.add("Linear", "other", out_features=2), b.add("Output", "second"))
    b.project.dataset, b.project.training = {"name": "blobs"}, dict(FAST)
    messages = [p.message for p in training_problems(b.project, data=blobs()) if p.is_error]
    assert any("2 Output nodes but no loss node" in m and "palette: Losses" in m for m in messages)


def test_a_head_with_the_wrong_number_of_classes_names_the_loss_port() -> None:
    project = two_head_project()
    project.graph.set_param(project.graph.node_by_name("classes").id, "out_features", 5)
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert str(caught.value).startswith("class_loss.input: gets [N, 5] logits but the dataset has 3 classes")


def test_a_class_map_too_short_for_the_classes_is_refused() -> None:
    project = two_head_project()
    project.graph.set_param(project.graph.node_by_name("to_parity").id, "table", [0, 1])
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert str(caught.value).startswith("to_parity.table: has 2 entries but the dataset has 3 classes")


def test_a_target_that_does_not_match_its_field_is_refused() -> None:
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[1])
    fit = b.add("Linear", "fit", out_features=2)
    b.chain(x, fit, b.add("Output", "out"))
    target = b.add("Target", "y", shape=[2], dtype="float32")
    mse = b.add("MSELoss", "mse")
    b.link(fit, mse, "input")
    b.link(target, mse, "target")
    b.project.dataset, b.project.training = {"name": "line"}, dict(FAST)
    with pytest.raises(TrainingInputError) as caught:
        prepare(b.project, data=line())
    assert str(caught.value).startswith("y: reads field y, the dataset's targets, which are [N, 1]")


def test_a_monitor_the_objective_does_not_measure_is_refused() -> None:
    project = two_head_project(training={"early_stopping": {"enabled": True, "monitor": "val_accuracy"}})
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert str(caught.value).startswith("training.early_stopping.monitor: 'val_accuracy' is not measured")
    assert "val_digit_accuracy" in str(caught.value)


def test_a_menu_loss_beside_loss_nodes_is_a_warning() -> None:
    project = two_head_project(training={"loss": {"name": "nll"}})
    job = prepare(project, data=blobs())
    assert [w.message for w in job.warnings] == [
        "training.loss: ignored, because the graph declares its own objective with loss nodes"]


def test_a_teacher_only_used_by_a_loss_is_not_a_dead_end() -> None:
    b = GraphBuilder()
    x, student = _classifier(b)
    teacher = b.add("Linear", "teacher", out_features=3)
    b.link(x, teacher)
    distill = b.add("DistillationLoss", "distill")
    b.link(student, distill, "student")
    b.link(teacher, distill, "teacher")
    assert [d.code for d in analyze(b.graph).diagnostics] == []
