"""Recipes trained from the app: a GAN run feeds its live views; the canvas colours the players."""

from __future__ import annotations

from tests.gan_graphs import gan


def test_a_gan_trains_in_the_app_and_its_views_fill(training_app):
    b = gan(training={"epochs": 2, "instrumentation": {"enabled": True}})
    b.project.dataset = {"name": "ring", "params": {"samples": 400}}
    app = training_app(b.project)
    assert app.bench.train()
    outcome = app.wait_finished()
    assert outcome.status == "finished", app.bench.error_details
    plots = app.bench.plots
    assert plots.recipe == "gan" and plots.tabs.currentWidget() is plots.gan
    assert plots.gan.losses.has_data() and plots.gan.scores.has_data()
    assert plots.gan.samples.mode == "scatter"


def test_the_canvas_marks_the_players_while_the_gan_recipe_is_chosen(training_app):
    from nnstudio.ui.training.recipe_form import with_recipe
    from tests.gan_graphs import node

    b = gan()
    app = training_app(b.project)
    scene = app.window.view.scene()
    marks = scene.players
    assert marks.tabs[node(b, "g_fc1")].player == "generator"
    assert marks.tabs[node(b, "d_fc2")].player == "discriminator"
    assert marks.tabs[node(b, "g_fc1")].parentItem() is scene.nodes[node(b, "g_fc1")]
    editor = app.bench.settings_panel.settings.recipe
    index = editor.combo.findData("supervised")
    editor.combo.setCurrentIndex(index)
    editor.combo.activated.emit(index)
    assert marks.tabs == {}, "no marks for another recipe"
    app.document.undo_stack.undo()
    assert len(marks.tabs) == len(marks.players) > 0
    # rewiring moves a node between players: cut d_fc1 off the x Input, so nothing reaches it
    graph = app.document.graph
    edge = next(e for e in graph.edges.values() if e.target.node == node(b, "d_fc1"))
    from nnstudio.ui.commands import RemoveEdgesCommand

    app.document.push(RemoveEdgesCommand(app.document, [edge.id]))
    app.document.reanalyze_now()
    assert node(b, "d_fc1") not in marks.tabs
    assert with_recipe({}, "supervised", {}) == {}
