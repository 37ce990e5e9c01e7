"""Training settings: declared once, round-tripped through JSON, and every problem names its setting."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from nnstudio.layers.params import ParamSpec
from nnstudio.training import SettingsError, TrainingInputError, TrainingSettings, parse_settings, prepare
from nnstudio.training.problems import training_problems
from nnstudio.training.settings import (
    EarlyStoppingSettings,
    InstrumentationSettings,
    LossSettings,
    OptimizerSettings,
    RegularizationSettings,
    ScheduleSettings,
    applies,
    specs_of,
)
from tests.training.helpers import blobs, line, mlp_project

SECTIONS = (OptimizerSettings, LossSettings, ScheduleSettings, RegularizationSettings, EarlyStoppingSettings,
            InstrumentationSettings, TrainingSettings)


def messages(problems) -> list[str]:
    return [p.message for p in problems]


def test_defaults_round_trip_through_json():
    settings = TrainingSettings()
    data = json.loads(json.dumps(settings.to_dict()))
    assert TrainingSettings.from_dict(data) == settings
    assert TrainingSettings.from_dict({}) == settings


def test_every_value_survives_a_round_trip():
    data = {"task": "classification", "epochs": 7, "batch_size": 3, "seed": 9, "device": "cpu",
            "precision": "bf16",
            "optimizer": {"name": "sgd", "lr": 0.5, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
            "loss": {"name": "cross_entropy", "class_weights": [1, 2.5], "label_smoothing": 0.1},
            "schedule": {"name": "multistep", "milestones": [2, 5], "gamma": 0.5},
            "regularization": {"l1": 0.001, "l2": 0.002, "clip": "norm", "max_norm": 2.0},
            "early_stopping": {"enabled": True, "monitor": "val_accuracy", "patience": 3, "min_delta": 0.01,
                               "restore_best": False},
            "instrumentation": {"loss_every": 5, "grads_every": 0, "activations_every": 100,
                                "weight_histograms": False, "histogram_bins": 16}}
    settings = TrainingSettings.from_dict(data)
    assert settings.optimizer.nesterov and settings.loss.class_weights == [1.0, 2.5]
    again = settings.to_dict()
    for section, values in data.items():
        if isinstance(values, dict):
            assert {k: again[section][k] for k in values} == values
        else:
            assert again[section] == values


def test_every_field_is_declared_by_a_param_spec_named_like_it():
    for section in SECTIONS:
        for f in fields(section):
            if "section" in f.metadata or f.metadata.get("raw"):  # raw: parsed by its owner (training.recipe)
                continue
            spec = f.metadata["spec"]
            assert isinstance(spec, ParamSpec) and spec.name == f.name and spec.doc
        assert specs_of(section)


def test_applies_tells_editors_which_fields_matter():
    assert applies(OptimizerSettings, "nesterov", "sgd")
    assert not applies(OptimizerSettings, "nesterov", "adam")
    assert applies(OptimizerSettings, "lr", "adagrad")
    assert applies(ScheduleSettings, "milestones", "multistep") and not applies(ScheduleSettings, "milestones", "step")


@pytest.mark.parametrize(("data", "expected"), [
    ({"optimizer": {"lr": -1}}, "training.optimizer.lr: expected a number > 0, got -1"),
    ({"optimizer": {"lr": 0}}, "training.optimizer.lr: expected a number > 0, got 0"),
    ({"batch_size": 0}, "training.batch_size: expected an integer >= 1, got 0"),
    ({"epochs": "ten"}, "training.epochs: expected an integer in [1, 1000000], got 'ten'"),
    ({"optimizer": {"name": "lbfgs"}}, "training.optimizer.name: expected one of 'adam', 'adamw', 'sgd'"),
    ({"loss": {"class_weights": [1, -2]}}, "training.loss.class_weights: expected a list of numbers >= 0"),
    ({"schedule": "cosine"}, "training.schedule: expected an object, got 'cosine'"),
    ({"learning_rate": 0.1}, "training.learning_rate: unknown setting; expected one of"),
    ({"early_stopping": {"monitor": "val_f1"}}, "training.early_stopping.monitor: expected one of"),
])
def test_bad_values_name_the_setting(data, expected):
    settings, problems = parse_settings(data)
    text = [f"{place}: {message}" for place, message in problems]
    assert any(line.startswith(expected) for line in text), text
    assert isinstance(settings, TrainingSettings)  # the rest still parses, with defaults for bad values
    with pytest.raises(SettingsError, match="training."):
        TrainingSettings.from_dict(data)


def problems_for(training=None, data=None, **project):
    return training_problems(mlp_project(training=training, **project), data=data)


def test_a_valid_project_has_no_problems():
    assert [p for p in problems_for(data=blobs()) if p.is_error] == []


def test_bce_on_a_ten_class_output_is_refused():
    found = messages(problems_for({"loss": {"name": "bce"}}, data=blobs(classes=10), outputs=10))
    assert any(m.startswith("training.loss.name: the task is classification with 10 classes: 'bce'")
               for m in found), found


def test_cross_entropy_with_the_wrong_output_width_names_both():
    found = messages(problems_for(data=blobs(classes=4), outputs=3))
    assert any("needs one output per class: the dataset has 4 classes, so the Output should give [N, 4]" in m
               and "gives [N, 3]" in m for m in found), found


def test_dataset_input_shape_against_the_graph_input_names_both_shapes():
    found = messages(problems_for(data=blobs(features=5), inputs=2))
    assert any(m.startswith("dataset: samples are [N, 5] but Input 'input' expects [N, 2]") for m in found), found


def test_regression_target_width_against_the_output():
    found = messages(problems_for(data=line(outputs=2), inputs=1, outputs=1))
    assert any("gives [N, 1] but the regression targets are [N, 2]" in m for m in found), found


def test_loss_that_does_not_fit_the_task():
    found = messages(problems_for({"loss": {"name": "cross_entropy"}}, data=line(), inputs=1, outputs=1))
    assert any(m.startswith("training.loss.name: 'cross_entropy' does not fit the regression task") for m in found)


def test_class_weights_need_one_weight_per_class():
    found = messages(problems_for({"loss": {"class_weights": [1, 2]}}, data=blobs(classes=3)))
    assert "training.loss.class_weights: expected 3 weights (one per class), got 2" in found


def test_monitor_must_be_measured_for_the_task():
    found = messages(problems_for({"early_stopping": {"enabled": True, "monitor": "val_r2"}}, data=blobs()))
    assert any(m.startswith("training.early_stopping.monitor: 'val_r2' is not measured for classification")
               for m in found)


def test_early_stopping_on_a_val_metric_needs_a_validation_split():
    found = messages(problems_for({"early_stopping": {"enabled": True}}, data=blobs(val=False)))
    assert any(m.startswith("training.early_stopping.monitor: 'val_loss' needs a validation split") for m in found)


def test_cross_setting_rules():
    found = messages(problems_for({"epochs": 3, "optimizer": {"name": "adam", "nesterov": True},
                                   "schedule": {"name": "warmup_cosine", "warmup_epochs": 3}}, data=blobs()))
    assert any(m.startswith("training.optimizer.nesterov: Nesterov momentum needs") for m in found)
    assert any(m.startswith("training.schedule.warmup_epochs: the warm-up (3 epochs)") for m in found)


def test_unsupported_precision_and_device_get_a_clear_message():
    found = messages(problems_for({"device": "cpu", "precision": "fp16"}, data=blobs()))
    assert any(m.startswith("training.precision: 'fp16' needs a CUDA GPU") for m in found), found
    import torch

    if not torch.cuda.is_available():
        found = messages(problems_for({"device": "cuda"}, data=blobs()))
        assert any(m.startswith("training.device: 'cuda' is not available") for m in found)


def test_a_softmax_before_cross_entropy_is_a_warning():
    project = mlp_project()
    graph = project.graph
    output = next(n for n in graph.nodes.values() if n.type == "Output")
    feeding = graph.incoming(output.id)[0]
    graph.remove_edge(feeding.id)
    from nnstudio.model.builder import GraphBuilder

    b = GraphBuilder(project)
    softmax = b.add("Softmax")
    b.link(feeding.source.node, softmax)
    b.link(softmax, output.id)
    found = [p for p in training_problems(project, data=blobs()) if "Softmax" in p.message]
    assert found and not found[0].is_error


def test_missing_dataset_and_bad_dataset_params_are_reported_by_place():
    project = mlp_project()
    project.dataset = {}
    assert "dataset: no dataset chosen" in messages(training_problems(project))
    project.dataset = {"name": "spirals", "params": {"noise": -1}}
    assert any(m.startswith("dataset.params.noise:") for m in messages(training_problems(project)))


def test_prepare_raises_one_error_naming_the_first_place():
    project = mlp_project(training={"optimizer": {"lr": -1}, "batch_size": 0})
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert str(caught.value).startswith("training.batch_size: expected an integer >= 1, got 0")
    assert "(and 1 more problem(s))" in str(caught.value)


def test_prepare_converts_targets_for_another_task():
    job = prepare(mlp_project(inputs=2, outputs=2, training={"task": "reconstruction"}), data=blobs())
    assert job.task == "reconstruction" and job.loss == "mse"
    assert job.data.train.y is job.data.train.x
    with pytest.raises(TrainingInputError, match="training.task: this dataset's targets are for"):
        prepare(mlp_project(training={"task": "regression"}), data=blobs())
