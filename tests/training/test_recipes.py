"""The recipe registry: the training.recipe section, its errors, and the adversarial recipe end to end."""

from __future__ import annotations

import pytest

from nnstudio.training.job import TrainingInputError, prepare
from nnstudio.training.recipes import RECIPES, create_trainer, parse_recipe
from nnstudio.training.recipes.registry import distributed_recipe_problem
from tests.training.helpers import blobs, make_job, mlp_project
from tests.training.objective_helpers import two_head_project


def test_every_recipe_declares_docs_and_legal_defaults() -> None:
    assert "supervised" in RECIPES and "adversarial" in RECIPES
    for spec in RECIPES.values():
        assert spec.title and spec.summary and spec.explanation and spec.trainer
        for param in spec.params:
            assert param.doc and param.coerce(param.default) == param.default
        assert isinstance(spec.trainer_class(), type)


def test_no_section_is_the_supervised_recipe() -> None:
    spec, _params, problems = parse_recipe(None)
    assert spec.name == "supervised" and problems == []
    assert make_job().recipe == "supervised"


@pytest.mark.parametrize(("section", "message"), [
    ({"name": "gann"}, "training.recipe.name: no recipe named 'gann'; choose one of "),
    ({"name": "adversarial", "params": {"epsilon": -1}}, "training.recipe.params.epsilon: expected a number >= 0"),
    ({"name": "adversarial", "params": {"eps": 0.1}}, "training.recipe.params.eps: the adversarial recipe has no "
                                                      "such param"),
    ({"name": "adversarial", "size": 2}, "training.recipe.size: unknown key"),
    (3, "training.recipe: expected an object"),
])
def test_bad_sections_name_the_place(section, message) -> None:
    project = mlp_project(training={"epochs": 1, "recipe": section})
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert str(caught.value).startswith(message)


def test_adversarial_training_reports_robust_accuracy() -> None:
    recipe = {"name": "adversarial", "params": {"epsilon": 0.3, "attack": "pgd", "steps": 3}}
    job = make_job({"epochs": 2, "recipe": recipe})
    assert job.recipe == "adversarial" and job.recipe_params["steps"] == 3
    result = create_trainer(job).run()
    assert result.ok, result.message
    assert {"val_robust_fgsm_accuracy", "val_robust_pgd_accuracy"} <= set(result.metrics)
    assert distributed_recipe_problem(job).startswith("training.recipe: the adversarial recipe does not run")


def test_adversarial_recipe_refuses_a_graph_with_loss_nodes() -> None:
    project = two_head_project(training={"recipe": "adversarial"})
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, data=blobs())
    assert "the adversarial recipe attacks a classifier trained with training.loss" in str(caught.value)


def test_adversarial_resume_is_bitwise(tmp_path) -> None:
    import torch

    from nnstudio.training import Event, Status, load_checkpoint

    recipe = {"name": "adversarial", "params": {"attack": "pgd", "steps": 2}}
    whole = create_trainer(make_job({"epochs": 3, "recipe": recipe}))
    assert whole.run().ok
    first = create_trainer(make_job({"epochs": 3, "recipe": recipe}), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 5 else None)
    assert first.run().status is Status.STOPPED
    second = create_trainer(make_job({"epochs": 3, "recipe": recipe}), tmp_path)
    second.restore(load_checkpoint(tmp_path / "checkpoints" / "last"))
    assert second.run().ok
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
