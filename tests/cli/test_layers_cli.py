"""`nnstudio layers`: the catalogue as text, JSON and Markdown, read off the same LayerSpecs as everything else."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nnstudio.cli import main
from nnstudio.layers.reference import markdown
from nnstudio.layers.registry import CATEGORY_ORDER, builtin_registry

REGISTRY = builtin_registry()


def test_the_listing_names_every_type_under_its_category_in_palette_order(capsys) -> None:
    assert main(["layers", "--builtin"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert headings == [c for c in CATEGORY_ORDER if any(s.category == c for s in REGISTRY)]
    listed = [line.split(":")[0].strip() for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert listed == [spec.type for _, specs in REGISTRY.by_category() for spec in specs]
    conv = lines.index(next(line for line in lines if line.startswith("  Conv2d:")))
    assert lines[conv + 1] == "    ports: in in; out out"
    assert "    kernel_size (int_tuple) = 3: an integer or a list of 2 integers in [1, 16777216]" in lines
    assert f"    formula: {REGISTRY['Conv2d'].formula}" in lines


def test_json_gives_params_ports_and_formula_of_each_type(capsys) -> None:
    assert main(["layers", "--json", "--builtin"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == len(REGISTRY)
    by_type = {entry["type"]: entry for entry in entries}
    for spec in REGISTRY:
        entry = by_type[spec.type]
        assert entry["category"] == spec.category and entry["formula"] == spec.formula
        assert [p["name"] for p in entry["params"]] == [p.name for p in spec.params]
        assert [p["default"] for p in entry["params"]] == [p.default for p in spec.params]
        assert [p["name"] for p in entry["inputs"]] == [p.name for p in spec.inputs]
        assert [p["name"] for p in entry["outputs"]] == [p.name for p in spec.outputs]
    upsample = {p["name"]: p for p in by_type["Upsample"]["params"]}
    assert upsample["mode"]["choices"] == list(REGISTRY["Upsample"].param("mode").choices)
    assert upsample["size"]["optional"] is True and upsample["size"]["default"] is None
    assert by_type["Add"]["inputs"][0] == {"name": "inputs", "doc": "Two or more tensors.", "multi": True,
                                           "min_count": 2}


def test_named_types_are_shown_in_full(capsys) -> None:
    assert main(["layers", "Subtract", "GroupNorm"]) == 0
    out = capsys.readouterr().out
    spec = REGISTRY["GroupNorm"]
    assert spec.explanation in out and spec.param("num_groups").doc in out
    assert "  Subtract: " in out and "ports: in a, b; out out" in out
    assert "Conv2d" not in out


def test_a_category_filter(capsys) -> None:
    assert main(["layers", "--category", "activation", "--json"]) == 0
    types = [entry["type"] for entry in json.loads(capsys.readouterr().out)]
    assert types == [spec.type for spec in REGISTRY if spec.category == "Activation"]


@pytest.mark.parametrize(("argv", "message"), [
    (["layers", "Conv2"], "nnstudio layers: no layer type 'Conv2'; did you mean 'Conv2d'?"),
    (["layers", "--category", "Vision"], "nnstudio layers: --category: no category 'Vision'; the categories are"),
    (["layers", "--markdown", "Conv2d"], "nnstudio layers: --markdown renders the whole catalogue"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_markdown_is_the_reference(capsys) -> None:
    assert main(["layers", "--markdown", "--builtin"]) == 0
    assert capsys.readouterr().out == markdown(REGISTRY)


def test_a_reader_that_stops_early_is_no_error() -> None:
    process = subprocess.Popen([sys.executable, "-m", "nnstudio", "layers"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"Input / Output\n"
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0 and err == b""


def test_a_broken_plugin_is_named_and_the_rest_listed(monkeypatch, capsys) -> None:
    from nnstudio.layers import registry as registry_module

    class Broken:
        name, value = "broken", "plugin_pkg:broken"

        def load(self):
            raise ImportError("No module named 'missing_dependency'")

    monkeypatch.setattr(registry_module, "entry_points", lambda group: [Broken()])
    registry_module.default_registry.cache_clear()
    try:
        assert main(["layers", "--json"]) == 0
    finally:
        registry_module.default_registry.cache_clear()
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == len(REGISTRY)
    assert captured.err == ("nnstudio layers: warning: layer plugin 'broken' (plugin_pkg:broken): No module named "
                            "'missing_dependency'\n")
