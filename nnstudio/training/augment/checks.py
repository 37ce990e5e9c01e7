"""The augmentation checks that need more than the dataset section: the loaded data and the training setup.

`training_problems` calls `augment_training_problems`; the section-only checks run in `dataset_problems`
(parse.augment_problems), so an unknown type or a bad param is reported with the other dataset problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.training.augment.parse import KEY, fit_problems, parse_augment, setup_problems
from nnstudio.training.factories import loss_name

if TYPE_CHECKING:
    from nnstudio.model.project import Project
    from nnstudio.training.data import DataSplits
    from nnstudio.training.settings import TrainingSettings


def augment_training_problems(project: Project, settings: TrainingSettings, data: DataSplits | None, recipe: str,
                              objective: bool) -> list[Diagnostic]:
    """Problems between `dataset.augment` and the data (once loaded), the recipe, the task and the loss."""
    section = project.dataset if isinstance(project.dataset, dict) else {}
    transforms, _ = parse_augment(section.get(KEY))  # the list's own problems come from dataset_problems
    if not transforms:
        return []
    from nnstudio.training.problems import resolve_task  # problems.py imports this module

    task = resolve_task(settings, section, data)
    loss = None if objective or task is None else loss_name(settings.loss, task)
    found = setup_problems(transforms, recipe, task, loss, objective, data.target_shape if data else None)
    if data is not None:
        found += fit_problems(transforms, data.kind, tuple(data.input_shape), data.input_dtype)
    return [error("dataset-setting", f"{place}: {message}", param=place) for place, message in found]
