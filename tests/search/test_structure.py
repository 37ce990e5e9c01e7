"""Structure dimensions: finding a block, bypassing and repeating it, and what the analyzer says of a sample."""

from __future__ import annotations

from nnstudio.analysis.validate import analyze
from nnstudio.search.sample import apply_sample
from nnstudio.search.structure import find_block
from nnstudio.search.study import parse_search
from tests.search.projects import residual, spirals


def names_in_order(project):
    order = analyze(project.graph).structure.order
    return [project.graph.node(node_id).name for node_id in order]


def test_a_chain_is_a_block_and_an_input_is_not():
    graph = spirals().graph
    block, why = find_block(graph, ["fc2", "relu2"])
    assert why is None and block.names == ("fc2", "relu2")
    assert graph.node(block.source.node).name == "relu1"
    assert [graph.node(c.node).name for c in block.consumers] == ["fc3"]
    assert find_block(graph, ["points"])[0] is None
    assert "fed from one output port" in find_block(graph, ["fc1", "fc3"])[1]


def test_a_residual_block_with_its_skip_edge_inside_is_a_block():
    project = residual(width=8)
    block, why = find_block(project.graph, ["fc1", "act", "fc2", "join"])
    assert why is None and project.graph.node(block.source.node).name == "x"


def test_bypassing_reconnects_the_input_to_the_consumers():
    project = spirals({"space": [{"kind": "optional", "nodes": ["fc2", "relu2"]}]})
    space, problems = parse_search(project)
    assert problems == []
    kept = apply_sample(project, space, {"keep:fc2+relu2": True})
    bypassed = apply_sample(project, space, {"keep:fc2+relu2": False})
    assert names_in_order(kept.project) == ["points", "fc1", "relu1", "fc2", "relu2", "fc3", "logits"]
    assert names_in_order(bypassed.project) == ["points", "fc1", "relu1", "fc3", "logits"]
    assert bypassed.invalid is None
    assert len(project.graph.nodes) == 7  # the study's project is never changed


def test_repeating_puts_copies_in_series_with_the_sampled_width():
    project = spirals({"space": [
        {"kind": "int", "node": "fc2", "param": "out_features", "low": 8, "high": 32},
        {"kind": "repeat", "nodes": ["fc2", "relu2"], "low": 0, "high": 3}]})
    space, problems = parse_search(project)
    assert problems == []
    three = apply_sample(project, space, {"fc2.out_features": 12, "repeat:fc2+relu2": 3})
    assert three.invalid is None
    assert names_in_order(three.project) == ["points", "fc1", "relu1", "fc2", "relu2", "fc2_2", "relu2_2",
                                             "fc2_3", "relu2_3", "fc3", "logits"]
    graph = three.project.graph
    assert {graph.node_by_name(n).params["out_features"] for n in ("fc2", "fc2_2", "fc2_3")} == {12}
    shapes = analyze(graph).shapes
    assert shapes is not None
    zero = apply_sample(project, space, {"fc2.out_features": 12, "repeat:fc2+relu2": 0})
    assert names_in_order(zero.project) == ["points", "fc1", "relu1", "fc3", "logits"]


def test_a_bypass_that_breaks_shapes_is_invalid_with_the_analyzers_reason():
    project = residual(width=16)
    project.search = {"space": [{"kind": "optional", "nodes": ["fc2"]}]}
    space, problems = parse_search(project)
    assert problems == []
    assert apply_sample(project, space, {"keep:fc2": True}).invalid is None
    broken = apply_sample(project, space, {"keep:fc2": False})
    assert broken.invalid is not None and "join" in broken.invalid
    fits = residual(width=8)
    fits.search = project.search
    space, _ = parse_search(fits)
    assert apply_sample(fits, space, {"keep:fc2": False}).invalid is None


def test_adjacent_blocks_are_found_again_after_an_earlier_bypass():
    project = spirals({"space": [{"kind": "optional", "nodes": ["relu1"]},
                                 {"kind": "optional", "nodes": ["fc2"]}]})
    space, problems = parse_search(project)
    assert problems == []
    both = apply_sample(project, space, {"keep:relu1": False, "keep:fc2": False})
    assert both.invalid is None
    assert names_in_order(both.project) == ["points", "fc1", "relu2", "fc3", "logits"]


def test_values_reach_training_settings_and_node_params():
    project = spirals({"space": [
        {"kind": "float", "param": "training.optimizer.lr", "low": 1e-3, "high": 1e-1, "log": True},
        {"kind": "float", "param": "training.schedule.gamma", "low": 0.1, "high": 0.9},
        {"kind": "int", "node": "fc1", "param": "out_features", "low": 8, "high": 64}]})
    space, _ = parse_search(project)
    sampled = apply_sample(project, space, {"training.optimizer.lr": 0.02, "training.schedule.gamma": 0.5,
                                            "fc1.out_features": 40})
    training = sampled.project.training
    assert training["optimizer"]["lr"] == 0.02 and training["schedule"]["gamma"] == 0.5
    assert sampled.project.graph.node_by_name("fc1").params["out_features"] == 40
    assert project.training["optimizer"]["lr"] == 1e-5 and "schedule" not in project.training
