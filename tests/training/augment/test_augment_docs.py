"""docs/training.md lists every transform of the table, as the table itself generates it."""

from __future__ import annotations

from pathlib import Path

from nnstudio.training.augment import TRANSFORMS
from nnstudio.training.augment.specs import docs_table

ROOT = Path(__file__).resolve().parents[3]


def test_the_augmentation_section_holds_the_generated_table() -> None:
    text = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    assert docs_table() in text, "regenerate the table: nnstudio.training.augment.specs.docs_table()"
    for name in TRANSFORMS:
        assert f"| `{name}` |" in text
    assert (ROOT / "docs" / "screenshots" / "augment-preview-1400x900.png").exists()
    assert "dataset.augment" in (ROOT / "docs" / "file-format.md").read_text(encoding="utf-8")
