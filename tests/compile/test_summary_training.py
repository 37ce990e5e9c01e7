"""Summary of objective graphs: every trained parameter is counted (a teacher that only a loss uses included),
split into trainable and frozen exactly as the trainer splits them, with a Training note per node."""

from __future__ import annotations

import pytest
import torch

from nnstudio.compile import build_module, summarize
from nnstudio.compile.summary import count_parameters, inference_nodes
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.graph import NodeTraining
from nnstudio.training import node_training
from tests.helpers import mlp

STUDENT = 2 * 3 + 3
TEACHER = (2 * 8 + 8) + 2 * 8 + (8 * 3 + 3)  # Linear, BatchNorm1d (weight and bias), Linear


def teacher_student(frozen: tuple[str, ...] = ("teacher_fc", "teacher_bn", "teacher_out"),
                    scaled: dict[str, float] | None = None) -> GraphBuilder:
    b = GraphBuilder(name="distil")
    x = b.add("Input", "x", shape=[2])
    student = b.add("Linear", "student", out_features=3)
    out = b.add("Output", "logits")
    fc = b.add("Linear", "teacher_fc", out_features=8)
    bn = b.add("BatchNorm1d", "teacher_bn")
    act = b.add("ReLU", "teacher_act")
    head = b.add("Linear", "teacher_out", out_features=3)
    y = b.add("Target", "label", field="y", shape=[], dtype="int64")
    ce = b.add("CrossEntropyLoss", "ce")
    distil = b.add("DistillationLoss", "distil", weight=0.5)
    b.chain(x, student, out)
    b.chain(x, fc, bn, act, head)
    b.link(student, ce, "input")
    b.link(y, ce, "target")
    b.link(student, distil, "student")
    b.link(head, distil, "teacher")
    graph = b.project.graph
    for name in frozen:
        graph.set_node_training(graph.node_by_name(name).id, NodeTraining(frozen=True))
    for name, scale in (scaled or {}).items():
        graph.set_node_training(graph.node_by_name(name).id, NodeTraining(lr_scale=scale))
    return b


def test_a_frozen_teacher_is_counted_as_frozen_parameters():
    project = teacher_student(scaled={"student": 0.1}).project
    compiled = build_module(project)
    summary = summarize(compiled, project.graph)
    assert (summary.trainable_params, summary.frozen_params) == (STUDENT, TEACHER)
    assert summary.total_params == STUDENT + TEACHER
    assert summary.inference_params == STUDENT, "the exported model has the student alone"
    rows = {r.name: r for r in summary.rows}
    assert rows["teacher_fc"].params == 2 * 8 + 8 and rows["teacher_bn"].params == 16
    assert rows["teacher_fc"].note == "frozen, training only"
    assert rows["student"].note == "lr ×0.1" and rows["student"].inference
    assert rows["ce"].note == "training only" and rows["ce"].output == "scalar"
    assert rows["label"].note == "training only" and rows["logits"].note == ""
    assert rows["teacher_out"].flops == 2 * 8 * 3 and rows["student"].flops == 2 * 2 * 3
    assert summary.total_flops == rows["student"].flops, "FLOPs per sample are the inference model's"
    assert summary.training_flops > summary.total_flops


def test_summary_counts_agree_with_the_trainer():
    """Summary and the trainer share one rule: the optimizer gets exactly the parameters counted trainable."""
    project = teacher_student(frozen=("teacher_fc",), scaled={"teacher_out": 0.5}).project
    compiled = build_module(project)
    summary = summarize(compiled, project.graph)
    plan = node_training.apply_node_training(compiled, project.graph, base_lr=0.01)
    plan.remove_hooks()
    assert (plan.trainable, plan.frozen) == (summary.trainable_params, summary.frozen_params)
    optimised = sum(p.numel() for group in plan.params for p in group["params"])
    assert optimised == summary.trainable_params == STUDENT + TEACHER - (2 * 8 + 8)
    assert node_training.count_parameters is count_parameters


def test_a_plain_graph_has_no_frozen_parameters_and_no_training_column():
    project = mlp().project
    compiled = build_module(project)
    summary = summarize(compiled, project.graph)
    assert count_parameters(compiled, project.graph) == (summary.total_params, 0)
    assert inference_nodes(compiled) == set(project.graph.nodes)
    table = summary.table()
    assert table.splitlines()[0].split() == ["Node", "Type", "Output", "shape", "Params", "FLOPs"]
    assert all(line == line.rstrip() for line in table.splitlines())
    assert f"Total params: {summary.total_params} (trainable {summary.total_params}), " in table
    assert "frozen" not in table and "Inference model" not in table


def test_the_table_shows_the_training_column_and_the_split():
    project = teacher_student(scaled={"student": 0.1}).project
    table = summarize(build_module(project), project.graph).table()
    lines = table.splitlines()
    assert lines[0].split()[-1] == "Training"
    teacher = next(line for line in lines if line.startswith("teacher_fc "))
    assert teacher.endswith("frozen, training only")
    assert next(line for line in lines if line.startswith("student ")).endswith("lr ×0.1")
    assert f"Total params: {STUDENT + TEACHER:,} (trainable {STUDENT:,}, frozen {TEACHER:,})" in table
    assert f"Inference model: {STUDENT:,} params; the other {TEACHER:,} serve only the losses" in table
    assert "FLOPs per sample: 12 (training forward, losses included: " in table


def test_json_carries_the_split_and_each_note():
    project = teacher_student().project
    data = summarize(build_module(project), project.graph).to_json()
    assert (data["trainable_params"], data["frozen_params"], data["inference_params"]) == (STUDENT, TEACHER, STUDENT)
    notes = {row["name"]: row["note"] for row in data["rows"]}
    assert notes["teacher_bn"] == "frozen, training only" and notes["x"] == ""
    assert next(row for row in data["rows"] if row["name"] == "teacher_bn")["frozen"] is True


def test_a_loss_refusing_example_data_still_gives_a_summary():
    """BCE wants probabilities; fed raw scores, the example forward fails and the inference model is measured."""
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[4])
    fc = b.add("Linear", "fc", out_features=4)
    out = b.add("Output", "score")
    y = b.add("Target", "y", field="y", shape=[4], dtype="float32")
    loss = b.add("BCELoss", "bce")
    b.chain(x, fc, out)
    b.link(fc, loss, "input")
    b.link(y, loss, "target")
    compiled = build_module(b.project)
    torch.manual_seed(0)  # random scores, some outside [0, 1]
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        compiled.objective(*torch.randn(2, 1, 4))
    torch.manual_seed(0)
    summary = summarize(compiled, b.project.graph)
    assert summary.total_params == 4 * 4 + 4
    assert {r.name: r.flops for r in summary.rows}["fc"] == 2 * 4 * 4


@pytest.mark.parametrize("frozen", [(), ("student",)])
def test_frozen_inference_layers_are_still_in_the_inference_count(frozen):
    project = teacher_student(frozen=frozen).project
    summary = summarize(build_module(project), project.graph)
    assert summary.inference_params == STUDENT
    assert summary.frozen_params == (STUDENT if frozen else 0)
