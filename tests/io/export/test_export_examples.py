"""Every shipped example in every format: the export succeeds, passes its own parity check, and the
written files load in a fresh Python without nnstudio and give the app's outputs."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.examples import EXAMPLES
from nnstudio.io.export import FORMATS, export_model
from nnstudio.io.export.parity import TOLERANCE, as_tensors, make_inputs
from nnstudio.io.project_file import load
from nnstudio.training.recipes.registry import export_model as recipe_export_model
from tests.io.export.fresh_process import CHECK_ARTEFACTS, json_result, run_without_nnstudio

FILE_FORMATS = {"torchscript": "model.pt", "exported-program": "model.pt2", "onnx": "model.onnx",
                "safetensors": "model.safetensors", "python": "python"}


@pytest.mark.slow
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_example_exports_load_without_nnstudio(example: str, tmp_path: Path) -> None:
    project = load(EXAMPLES[example].path)
    for format_name, file_name in FILE_FORMATS.items():
        result = export_model(project, format_name, tmp_path / file_name)
        assert result.paths[0] == tmp_path / file_name
        assert result.max_abs_diff <= TOLERANCE, (format_name, result.max_abs_diff)
        assert any("untrained" in m for m in result.messages)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILE_FORMATS.values(), "model.json"])

    compiled = recipe_export_model(build_module(project), project)  # a GAN's: the generator
    compiled.module.eval()
    inputs = make_inputs(compiled, 7, seed=123)  # a batch size no exporter saw
    with torch.no_grad():
        expected = as_tensors(compiled.module(*inputs))
    torch.save(list(inputs), tmp_path / "inputs.pt")
    torch.save(expected, tmp_path / "expected.pt")

    gaps = json_result(run_without_nnstudio(CHECK_ARTEFACTS, tmp_path))
    assert set(gaps) == set(FILE_FORMATS)
    for format_name, gap in gaps.items():
        assert gap <= TOLERANCE, f"{example} {format_name}: {gap}"

    model = onnx.load(str(tmp_path / "model.onnx"))
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.HasField("dim_value"), "the ONNX batch dimension must be dynamic"
    assert [i.name for i in model.graph.input] == [project.graph.nodes[n].name for n in compiled.input_nodes]


def test_formats_describe_themselves() -> None:
    assert list(FORMATS) == ["torchscript", "exported-program", "onnx", "safetensors", "python", "bundle"]
    assert FORMATS["onnx"].extra == "onnx" and FORMATS["onnx"].modules
    assert FORMATS["python"].is_folder and not FORMATS["bundle"].is_folder
    assert all(f.title and f.description for f in FORMATS.values())
