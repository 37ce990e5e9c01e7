"""ParamForm on its own, as other settings forms (training, datasets) will use it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nnstudio.layers.params import (
    ParamKind,
    ParamSpec,
    bool_param,
    choice_param,
    float_param,
    int_param,
    pair_param,
)
from nnstudio.ui.inspector import ParamForm
from nnstudio.ui.inspector.editors import format_float, parse_floats, parse_ints

SPECS = (
    int_param("epochs", 10, "Passes over the data.", minimum=1, maximum=1000),
    float_param("lr", 1e-3, "Learning rate.", minimum=0.0),
    choice_param("optimizer", "adam", ("adam", "sgd"), "Optimiser."),
    bool_param("shuffle", True, "Shuffle each epoch."),
    pair_param("window", 3, "Window.", minimum=1),
    int_param("limit", None, "Stop early after this many batches.", minimum=1, optional=True),
    ParamSpec("run_name", ParamKind.STRING, "run", "A label for the run."),
)


@pytest.fixture
def form(qtbot):
    changes: list[tuple[str, object]] = []
    widget = ParamForm(SPECS, {"epochs": 5}, lambda name, value: changes.append((name, value)))
    qtbot.addWidget(widget)
    widget.changes = changes
    return widget


def test_values_default_from_the_specs(form):
    assert form.values() == {"epochs": 5, "lr": 1e-3, "optimizer": "adam", "shuffle": True, "window": 3,
                             "limit": None, "run_name": "run"}
    assert form.editor("lr").box.text() == "0.001"
    assert form.editor("limit").box.text() == "none"


def test_changes_reach_on_change_coerced(form, qtbot):
    form.editor("epochs").box.setValue(7)
    form.editor("optimizer").box.setCurrentIndex(1)
    form.editor("shuffle").box.setChecked(False)
    form.editor("limit").box.setValue(20)
    line = form.editor("window").line
    line.selectAll()
    qtbot.keyClicks(line, "4 x 2")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert form.changes == [("epochs", 7), ("optimizer", "sgd"), ("shuffle", False), ("limit", 20),
                            ("window", [4, 2])]
    assert form.value("window") == [4, 2]


def test_ranges_are_enforced_by_the_widgets(form):
    box = form.editor("epochs").box
    assert (box.minimum(), box.maximum()) == (1, 1000)
    box.setValue(5000)
    assert form.value("epochs") == 1000


def test_set_value_shows_outside_changes_without_calling_back(form):
    form.set_value("epochs", 42)
    form.set_value("limit", None)
    form.set_value("run_name", "baseline")
    assert form.editor("epochs").value() == 42
    assert form.editor("run_name").line.text() == "baseline"
    assert form.changes == []


def test_on_change_can_refuse_with_a_reason(qtbot):
    form = ParamForm(SPECS[:1], {}, lambda name, value: "must be even" if value % 2 else None)
    qtbot.addWidget(form)
    form.editor("epochs").box.setValue(11)
    assert form.message("epochs") == "Refused: must be even"
    assert form.value("epochs") == 10 and form.editor("epochs").value() == 10
    form.editor("epochs").box.setValue(12)
    assert form.message("epochs") == "" and form.value("epochs") == 12


def test_analysis_problems_show_under_the_field(form):
    form.set_problem("window", "window is larger than the input")
    assert form.message("window") == "window is larger than the input"
    form.clear_problems()
    assert form.message("window") == ""


def test_parsing_and_formatting_helpers():
    assert parse_ints("1, 28, 28", single_allowed=False) == [1, 28, 28]
    assert parse_ints("[3, 3]", single_allowed=True) == [3, 3]
    assert parse_ints("3", single_allowed=True) == 3
    assert parse_ints("3", single_allowed=False) == [3]
    assert parse_ints("3, b", single_allowed=True) == "3, b"
    assert [format_float(v) for v in (1e-05, 0.5, 2.0, 1234.5)] == ["1e-05", "0.5", "2", "1234.5"]


def test_number_lists_and_wide_integers_get_editors(qtbot):
    specs = (
        ParamSpec("weights", ParamKind.FLOAT_LIST, None, "One weight per class.", optional=True),
        int_param("seed", 0, "Random seed.", minimum=0, maximum=2**63 - 1),
    )
    changes: list[tuple[str, object]] = []
    form = ParamForm(specs, {}, lambda name, value: changes.append((name, value)))
    qtbot.addWidget(form)
    assert form.editor("seed").box.maximum() == 2**31 - 1  # what a Qt spin box can hold
    line = form.editor("weights").line
    qtbot.keyClicks(line, "0.5, 2")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert changes == [("weights", [0.5, 2.0])]
    assert parse_floats("a, b") == "a, b"
