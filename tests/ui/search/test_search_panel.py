"""The Search panel, driven through its real widgets: a short study in the background, the table and plots
filling in, Stop, and "Apply best trial" as one undoable edit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nnstudio.search import figures
from nnstudio.ui.document import Document
from nnstudio.ui.search.panel import SearchPanel
from tests.search.projects import spirals, write

LR = {"kind": "float", "param": "training.optimizer.lr", "low": 3e-3, "high": 0.1, "log": True}
WIDTH = {"kind": "int", "node": "fc1", "param": "out_features", "low": 4, "high": 32}


def panel_for(qtbot, registry, tmp_path, search) -> SearchPanel:
    path = write(spirals(search), tmp_path)
    from nnstudio.io.project_file import load

    document = Document(load(path, registry), registry, path)
    panel = SearchPanel(document)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    return panel


def test_a_study_fills_the_table_and_plots_and_its_best_trial_applies_as_one_undo_step(qtbot, registry, tmp_path):
    panel = panel_for(qtbot, registry, tmp_path, {"space": [LR, WIDTH], "study": {"seed": 1}})
    assert "training.optimizer.lr" in panel.space_label.text()
    panel.trials.setValue(3)
    panel.sampler.setCurrentText("random")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: panel.session.future.done() and not panel._timer.isActive(), timeout=120_000)
    assert panel.table.rowCount() == 3
    assert [panel.table.item(row, 1).text() for row in range(3)] == ["complete"] * 3
    assert len(panel.history.points.data) == 3 and len(panel.parallel.lines) == 3
    assert panel.importance.bars is not None  # Optuna's evaluator over three trials of two parameters
    assert not panel.plots.isTabVisible(3)  # one objective: no Pareto front
    assert panel.apply_button.isEnabled()
    document = panel.document
    before = document.project.training["optimizer"]["lr"]
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    best = panel.summary["best"][0]["params"]
    assert document.project.training["optimizer"]["lr"] == pytest.approx(best["training.optimizer.lr"])
    assert document.graph.node_by_name("fc1").params["out_features"] == best["fc1.out_features"]
    assert document.undo_stack.undoText().startswith("Apply search trial")
    document.undo_stack.undo()
    assert document.project.training["optimizer"]["lr"] == before
    assert document.graph.node_by_name("fc1").params["out_features"] == 64


def test_start_says_why_it_cannot(qtbot, registry, tmp_path):
    panel = panel_for(qtbot, registry, tmp_path, {})
    assert not panel.start()
    assert "no search space" in panel.space_label.text() and "problem" in panel.status.text()
    panel.document.project.search = {"space": [{**LR, "low": 0.5, "high": 0.1}]}
    assert not panel.start() and "low" in panel.status.text()


def test_the_figures_rank_trials_and_find_the_front():
    trials = [{"number": n, "state": "complete", "values": v, "params": {"lr": lr, "opt": opt}}
              for n, (v, lr, opt) in enumerate([([0.5, 10.0], 1e-3, "adam"), ([0.3, 30.0], 1e-1, "sgd"),
                                                ([0.4, 5.0], 1e-2, "adam"), ([0.6, 40.0], 1e-4, "sgd")])]
    trials.append({"number": 4, "state": "pruned", "values": None, "params": {"lr": 1.0}})
    history = figures.history(trials, maximize=False)
    assert history.numbers == [0, 1, 2, 3] and history.best == [0.5, 0.3, 0.3, 0.3]
    parallel = figures.parallel(trials, "val_loss")
    assert [axis.name for axis in parallel.axes] == ["lr", "opt", "val_loss"] and parallel.axes[0].log
    assert parallel.lines[1] == [1.0, 1.0, 0.0]  # the largest lr, "sgd", the lowest loss
    front = figures.pareto(trials, maximize_first=False)
    assert [front.x[i] for i in front.front] == [0.3, 0.4]  # trial 0 and 3 are beaten by trial 2 or 1


def test_closing_gives_the_running_trial_back_and_ends_the_thread(qtbot, registry, tmp_path):
    panel = panel_for(qtbot, registry, tmp_path, {"space": [LR], "study": {"trials": 50}})
    panel.trials.setValue(50)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.session.runner is not None, timeout=60_000)
    panel.shutdown()
    assert panel.session.future.done() and panel.session.future.exception() is None
    states = [t.state.name for t in panel.session.context.study.get_trials(deepcopy=False)]
    assert "RUNNING" not in states and states.count("COMPLETE") < 50
