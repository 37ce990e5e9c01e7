"""Parsing the search section: the space, the study, and each bad input named by its place."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.search.study import parse_search
from nnstudio.search.tables import DIMENSION_KINDS, PRUNERS, SAMPLERS
from tests.search.projects import spirals

LR = {"kind": "float", "param": "training.optimizer.lr", "low": 1e-4, "high": 0.1, "log": True}


def parse(space=None, study=None, **overrides):
    return parse_search(spirals({"space": space or [], "study": study or {}}), overrides)


def test_a_full_space_parses_with_every_kind():
    space, problems = parse([
        LR,
        {"kind": "int", "param": "training.batch_size", "low": 16, "high": 128, "step": 16},
        {"kind": "choice", "param": "training.optimizer.name", "choices": ["adam", "sgd"]},
        {"kind": "int", "node": "fc1", "param": "out_features", "low": 8, "high": 64, "log": True},
        {"kind": "optional", "nodes": ["relu1"]},
        {"kind": "repeat", "nodes": ["fc2", "relu2"], "low": 1, "high": 3},
    ], {"metric": "val_accuracy", "pruner": "median", "trials": 7})
    assert problems == []
    assert [d.kind for d in space.dimensions] == ["float", "int", "choice", "int", "optional", "repeat"]
    assert [d.label for d in space.structure] == ["keep:relu1", "repeat:fc2+relu2"]
    study = space.study
    assert (study.metric, study.direction, study.sampler, study.pruner, study.trials) == \
        ("val_accuracy", "maximize", "tpe", "median", 7)
    text = space.describe()
    assert "training.optimizer.lr" in text and "float 0.0001 .. 0.1 (log)" in text
    assert "repeated 1..3 times in series" in text and "maximize val_accuracy" in text


def test_the_study_defaults_follow_the_monitored_metric():
    space, problems = parse([LR])
    assert problems == []
    assert (space.study.metric, space.study.direction, space.study.sampler, space.study.pruner) == \
        ("val_loss", "minimize", "tpe", "none")


def test_a_second_objective_defaults_to_nsga2():
    space, problems = parse([LR], {"second": "params"})
    assert problems == [] and space.study.sampler == "nsga2" and space.study.directions == ["minimize"] * 2


@pytest.mark.parametrize(("entry", "place", "words"), [
    ({**LR, "low": 0.5, "high": 0.1, "log": False}, "search.space[0].low", "low 0.5 is above high 0.1"),
    ({**LR, "low": 0.0}, "search.space[0].low", "a log range must stay above 0, got low 0.0"),
    ({**LR, "low": -1.0}, "search.space[0].low", "a log range must stay above 0"),
    ({**LR, "log": False, "low": 0.0}, "search.space[0].low", "training.optimizer.lr: expected a number > 0"),
    ({**LR, "param": "training.optimizer.lrr"}, "search.space[0].param", "no training setting"),
    ({**LR, "param": "training.optimizer"}, "search.space[0].param", "is a section"),
    ({**LR, "param": "lr"}, "search.space[0].param", "expected a training setting"),
    ({"kind": "int", "node": "fc9", "param": "out_features", "low": 1, "high": 4}, "search.space[0].node",
     "no node named 'fc9'"),
    ({"kind": "int", "node": "fc1", "param": "units", "low": 1, "high": 4}, "search.space[0].param",
     "node 'fc1' (Linear) has no parameter 'units'; it takes out_features"),
    ({"kind": "int", "node": "fc1", "param": "out_features", "low": 0, "high": 4}, "search.space[0].low",
     "fc1.out_features: expected an integer"),
    ({"kind": "float", "node": "fc1", "param": "out_features", "low": 1, "high": 4}, "search.space[0].kind",
     "takes whole numbers; use kind int"),
    ({"kind": "choice", "param": "training.optimizer.name", "choices": ["adam", "adamm"]},
     "search.space[0].choices[1]", "training.optimizer.name: expected one of"),
    ({"kind": "choice", "param": "training.optimizer.name", "choices": []}, "search.space[0].choices",
     "non-empty list"),
    ({"kind": "float", "param": "training.optimizer.lr", "low": 0.1}, "search.space[0].high", "missing"),
    ({**LR, "lo": 1}, "search.space[0].lo", "unknown key"),
    ({"kind": "wiggle"}, "search.space[0].kind", "expected one of float, int, choice, optional, repeat"),
    ({"kind": "optional", "nodes": ["nope"]}, "search.space[0].nodes", "no node named 'nope'"),
    ({"kind": "optional", "nodes": ["points"]}, "search.space[0].nodes", "fed from one output port"),
    ({"kind": "repeat", "nodes": ["fc2"], "low": 3, "high": 1}, "search.space[0].low", "low 3 is above high 1"),
    ({"kind": "repeat", "nodes": ["fc2"], "low": -1, "high": 1}, "search.space[0].low", ">= 0"),
])
def test_each_bad_dimension_names_its_place(entry, place, words):
    space, problems = parse([entry])
    assert space.dimensions == []
    assert any(p == place and words in m for p, m in problems), problems


def test_a_value_searched_twice_and_overlapping_blocks_are_refused():
    _, problems = parse([LR, LR, {"kind": "optional", "nodes": ["fc2"]},
                         {"kind": "repeat", "nodes": ["fc2", "relu2"], "low": 1, "high": 2}])
    messages = [m for _, m in problems]
    assert any("already searched by search.space[0]" in m for m in messages)
    assert any("node 'fc2' is already in the block of search.space[2]" in m for m in messages)


@pytest.mark.parametrize(("study", "place", "words"), [
    ({"sampler": "annealing"}, "search.study.sampler", "expected one of tpe, random, grid, cmaes, nsga2"),
    ({"pruner": "sometimes"}, "search.study.pruner", "expected one of none, median"),
    ({"trials": 0}, "search.study.trials", ">= 1"),
    ({"metric": "accuracy"}, "search.study.metric", "expected an epoch metric"),
    ({"second": "latency"}, "search.study.second", "expected one of params, flops"),
    ({"direction": "up"}, "search.study.direction", "expected one of auto"),
    ({"second": "flops", "sampler": "cmaes"}, "search.study.sampler", "optimises one objective"),
    ({"second": "flops", "pruner": "median"}, "search.study.pruner", "pruning needs one objective"),
    ({"sampler": "cmaes"}, "search.study.sampler", "training.optimizer.name is a choice"),
    ({"sampler": "grid"}, "search.study.sampler", "give training.optimizer.lr a step"),
    ({"budget": 3}, "search.study.budget", "unknown key"),
])
def test_each_bad_study_setting_names_its_place(study, place, words):
    choice = {"kind": "choice", "param": "training.optimizer.name", "choices": ["adam", "sgd"]}
    _, problems = parse([LR, choice], study)
    assert any(p == place and words in m for p, m in problems), problems


def test_command_line_overrides_win_over_the_file():
    space, problems = parse([LR], {"sampler": "tpe", "trials": 3}, sampler="random", trials=9, pruner=None)
    assert problems == [] and (space.study.sampler, space.study.trials) == ("random", 9)


def test_a_grid_enumerates_steps_choices_and_structure():
    space, problems = parse([
        {"kind": "float", "param": "training.optimizer.lr", "low": 0.01, "high": 0.03, "step": 0.01},
        {"kind": "int", "param": "training.batch_size", "low": 16, "high": 48, "step": 16},
        {"kind": "optional", "nodes": ["relu1"]},
    ], {"sampler": "grid"})
    assert problems == []
    assert [d.grid_values() for d in space.dimensions] == [[0.01, 0.02, 0.03], [16, 32, 48], [True, False]]


def test_the_tables_name_what_parsing_accepts():
    assert set(DIMENSION_KINDS) == {"float", "int", "choice", "optional", "repeat"}
    assert {"tpe", "random", "grid", "cmaes", "nsga2"} <= set(SAMPLERS)
    assert {"none", "median", "halving", "hyperband"} <= set(PRUNERS)


def test_a_search_section_that_is_not_an_object_is_one_problem():
    project = spirals()
    project.search = ["lr"]
    _, problems = parse_search(project)
    assert ("search", "expected an object with space and study") in problems


JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 200) | st.floats(-1e3, 1e3) |
                    st.sampled_from(["fc1", "relu1", "training.optimizer.lr", "out_features", "float", "int",
                                     "choice", "optional", "repeat", "tpe", "grid", "params"]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["kind", "param", "node", "nodes", "low", "high", "log", "step", "choices",
                                         "space", "study", "sampler", "pruner", "second", "metric", "trials"]),
                        inner, max_size=5), max_leaves=12)


FUZZED = spirals()


@settings(max_examples=100, deadline=None)
@given(section=JSON)
def test_parsing_never_raises_whatever_the_section_holds(section):
    project = FUZZED
    project.search = section
    space, problems = parse_search(project)
    assert all(isinstance(place, str) and isinstance(message, str) for place, message in problems)
    assert isinstance(space.describe(), str)
