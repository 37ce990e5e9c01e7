"""module_source: the compiled model as one runnable module (imports, __init__ and forward), as `nnstudio code`
and the Code tab show it. It must run: exec it, build the class, load the compiled model's weights, compare."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.examples import EXAMPLES
from nnstudio.io.export import python_model
from nnstudio.io.export.errors import ExportError
from nnstudio.io.export.parity import as_tensors, make_inputs
from nnstudio.io.export.python_model import class_name, code_listing, module_source
from nnstudio.io.project_file import load


def run_listing(text: str, project, compiled) -> None:
    """Exec the text as a module of its own, load the compiled weights strictly, and match the outputs."""
    module = types.ModuleType(f"listing_{abs(hash(text))}")
    sys.modules[module.__name__] = module  # dataclasses and postponed annotations look their module up
    try:
        exec(compile(text, "<nnstudio code>", "exec"), module.__dict__)  # our own generated code
        model = getattr(module, class_name(project.metadata.name))()
    finally:
        del sys.modules[module.__name__]
    model.load_state_dict(compiled.module.state_dict(), strict=True)
    compiled.module.eval()
    model.eval()
    inputs = make_inputs(compiled, 3, 7)
    with torch.no_grad():
        for want, got in zip(as_tensors(compiled.module(*inputs)), as_tensors(model(*inputs)), strict=True):
            assert torch.equal(want, got)


# plain layers, batch norm with buffers, copied nnstudio modules (positions, capsules, an ODE solver), a VAE
@pytest.mark.parametrize(
    "example", ["spirals", "residual_cnn", "transformer", "capsnet_digits", "neural_ode", "vae_digits"]
)
def test_the_listing_runs_and_computes_what_the_compiled_model_does(example: str) -> None:
    project = load(EXAMPLES[example].path)
    compiled = build_module(project)
    text = module_source(project, compiled)
    assert "def __init__(self) -> None:" in text and "def forward(self" in text
    assert "nnstudio" not in "".join(line for line in text.splitlines() if line.startswith(("import", "from")))
    run_listing(text, project, compiled)


def test_the_constructors_are_in_the_listing() -> None:
    project = load(EXAMPLES["spirals"].path)
    text = module_source(project, build_module(project))
    assert text.startswith('"""Spirals MLP: the PyTorch module')
    assert "import torch\nfrom torch import nn\n" in text
    assert "class SpiralsMLP(nn.Module):" in text
    assert "        self.fc1 = nn.Linear(in_features=2, out_features=64, bias=True)\n" in text
    assert "= None" not in text.split("def forward", 1)[1]


def test_a_model_that_cannot_be_written_falls_back_to_forward(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise ExportError("python export: cannot copy the code of node 'fc1': no source")

    monkeypatch.setattr(python_model, "copy_internal", refuse)
    project = load(EXAMPLES["spirals"].path)
    text = code_listing(project, build_module(project))
    assert text.splitlines()[0] == (
        "# The constructors cannot be shown as standalone code: python export: "
        "cannot copy the code of node 'fc1': no source"
    )
    assert "def forward(self, points):" in text and "self.fc1(points)" in text
