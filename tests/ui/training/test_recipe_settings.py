"""The Recipe section of the training settings: the combo, the generated editors, undo, problems and locking."""

from __future__ import annotations

from nnstudio.training.recipes import RECIPES
from tests.ui.training.app_helpers import make_project


def choose(editor, name: str) -> None:
    index = editor.combo.findData(name)
    editor.combo.setCurrentIndex(index)
    editor.combo.activated.emit(index)


def test_the_combo_lists_every_recipe_with_its_summary(training_app):
    editor = training_app().bench.settings_panel.settings.recipe
    names = [editor.combo.itemData(i) for i in range(editor.combo.count())]
    assert names == list(RECIPES)
    adversarial = names.index("adversarial")
    assert editor.combo.itemText(adversarial) == RECIPES["adversarial"].title
    assert editor.combo.itemData(adversarial, 3) == RECIPES["adversarial"].summary  # Qt.ToolTipRole
    assert editor.name == "supervised" and editor.form is None, "supervised takes no params"
    assert editor.explanation.text() == RECIPES["supervised"].explanation


def test_choosing_a_recipe_writes_the_section_and_is_undoable(training_app):
    app = training_app()
    editor = app.bench.settings_panel.settings.recipe
    stack = app.document.undo_stack
    before = stack.count()
    choose(editor, "adversarial")
    assert app.document.project.training["recipe"] == {"name": "adversarial"}
    assert stack.count() == before + 1
    assert set(editor.form.specs) == {p.name for p in RECIPES["adversarial"].params}
    assert editor.explanation.text() == RECIPES["adversarial"].explanation
    editor.form.editor("epsilon").edited.emit(0.2)
    assert app.document.project.training["recipe"] == {"name": "adversarial", "params": {"epsilon": 0.2}}
    assert stack.count() == before + 2, "a param edit is its own undo step"
    stack.undo()
    assert app.document.project.training["recipe"] == {"name": "adversarial"}
    assert editor.form.value("epsilon") == RECIPES["adversarial"].param("epsilon").default
    stack.undo()
    assert "recipe" not in app.document.project.training
    assert editor.name == "supervised" and editor.combo.currentData() == "supervised"
    stack.redo()
    assert editor.combo.currentData() == "adversarial" and editor.form is not None


def test_the_editors_follow_the_chosen_recipe(training_app):
    app = training_app()
    editor = app.bench.settings_panel.settings.recipe
    for name in ("som", "adversarial", "supervised"):
        if name not in RECIPES:
            continue
        choose(editor, name)
        expected = {p.name for p in RECIPES[name].params}
        assert (set(editor.form.specs) if editor.form is not None else set()) == expected
        assert app.document.project.training.get("recipe", {"name": "supervised"})["name"] == name


def test_a_recipe_param_problem_is_shown_under_its_editor(training_app):
    training = {"epochs": 2, "recipe": {"name": "adversarial", "params": {"clamp_low": 1.0, "clamp_high": 0.0}}}
    app = training_app(make_project("digits_cnn", dataset={"name": "digits"}, training=training))
    app.bench.check()
    form = app.bench.settings_panel.settings.recipe.form
    assert "clamp_high" in form.message("clamp_low")


def test_an_unknown_recipe_is_named_under_the_combo(training_app):
    app = training_app(make_project(training={"epochs": 2, "recipe": {"name": "hopfield"}}))
    app.bench.check()
    editor = app.bench.settings_panel.settings.recipe
    assert editor.problem.isVisibleTo(editor) and "hopfield" in editor.problem.text()


def test_the_recipe_is_locked_while_training(training_app):
    app = training_app()
    settings = app.bench.settings_panel.settings
    choose(settings.recipe, "adversarial")
    settings.set_locked(True)
    assert not settings.recipe.combo.isEnabled() and not settings.recipe.form.isEnabled()
    assert not settings.recipe.form.editor("epsilon").isEnabled()
    settings.recipe._on_chosen(settings.recipe.combo.findData("supervised"))
    assert app.document.project.training["recipe"] == {"name": "adversarial"}, "refused while locked"
    settings.set_locked(False)
    assert settings.recipe.combo.isEnabled()
