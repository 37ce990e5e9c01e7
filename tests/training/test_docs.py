"""docs/training.md documents every training setting the file format accepts."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from nnstudio.training.settings import (
    LOSSES,
    MONITORS,
    OPTIMIZERS,
    SCHEDULES,
    TrainingSettings,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def setting_names(cls: type) -> set[str]:
    names = set()
    for f in fields(cls):
        names.add(f.name)
        if "section" in f.metadata:
            names |= setting_names(f.metadata["section"])
    return names


def test_every_setting_and_choice_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for name in sorted(setting_names(TrainingSettings) | set(OPTIMIZERS) | set(LOSSES) | set(SCHEDULES)
                       | set(MONITORS)):
        assert f"`{name}`" in text or f".{name}`" in text, name  # sections appear as `training.NAME`


def test_every_loss_node_and_objective_block_is_documented():
    from nnstudio.layers.registry import default_registry

    text = DOC.read_text(encoding="utf-8")
    for spec in default_registry():
        if spec.category in ("Losses", "Stochastic") or spec.type in ("Target", "Split", "ClassMap"):
            assert f"`{spec.type}`" in text or f"**{spec.title}**" in text, spec.type
