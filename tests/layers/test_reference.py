"""docs/layers.md is generated from the layer declarations and must equal a fresh rendering, so that it cannot
drift from what the app uses; each section documents its layer's every param and port."""

from __future__ import annotations

import json
from pathlib import Path

from nnstudio.layers.reference import REGENERATE, catalogue, markdown
from nnstudio.layers.registry import builtin_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "layers.md"
REGISTRY = builtin_registry()


def test_the_checked_in_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(REGISTRY), f"docs/layers.md is stale: run `{REGENERATE}`"


def _sections(text: str) -> dict[str, str]:
    parts = text.split("\n### ")[1:]
    return {part.split("\n", 1)[0]: part for part in parts}


def test_every_layer_has_a_section_with_its_params_ports_and_formula() -> None:
    sections = _sections(markdown(REGISTRY))
    assert list(sections) == [spec.type for _, specs in REGISTRY.by_category() for spec in specs]
    for spec in REGISTRY:
        section = sections[spec.type]
        assert spec.formula in section and spec.summary in section
        for param in spec.params:
            assert f"| `{param.name}` | {param.kind.value} |" in section, (spec.type, param.name)
        for port in (*spec.inputs, *spec.outputs):
            assert f"`{port.name}`" in section, (spec.type, port.name)


def test_contents_link_to_each_section() -> None:
    text = markdown(REGISTRY)
    for spec in REGISTRY:
        assert f"[{spec.type}](#{spec.type.lower()})" in text


def test_the_catalogue_is_plain_json() -> None:
    entries = catalogue(REGISTRY)
    assert json.loads(json.dumps(entries)) == entries
    assert len(entries) == len(REGISTRY)
