"""The parity limit: an absolute part plus a part relative to the output's magnitude, with both figures reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.compile import build_module
from nnstudio.compile.weights import save_weights
from nnstudio.io.export import export_model
from nnstudio.io.export.formats import FORMATS, missing_modules
from nnstudio.io.export.parity import ATOL, RTOL, compare
from tests.helpers import mlp


def _rounded(values: torch.Tensor, ulps: float) -> torch.Tensor:
    """values off by `ulps` float32 rounding steps of the largest one: what summing in another order gives."""
    step = torch.finfo(torch.float32).eps * values.abs().max()
    noise = torch.linspace(-1, 1, values.numel()).reshape(values.shape)
    return values + ulps * step * noise


@settings(max_examples=50, deadline=None)
@given(magnitude=st.floats(1e-3, 1e6), ulps=st.floats(0, 40))
def test_rounding_noise_passes_at_every_magnitude(magnitude: float, ulps: float) -> None:
    want = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(4, 6) * magnitude
    got = _rounded(want, ulps)
    gap = compare([want], [got], ["y"])
    assert gap.within, gap
    assert gap.max_rel == pytest.approx(float((want - got).abs().max()) / magnitude, rel=1e-9, abs=0)


def test_large_outputs_pass_where_the_fixed_absolute_limit_refused() -> None:
    want = torch.linspace(-3e4, 3e4, 40).reshape(5, 8).double()
    got = _rounded(want, 8)
    gap = compare([want], [got], ["y"])
    assert gap.max_abs > ATOL, "the old rule (absolute 1e-5) would refuse this"
    assert gap.within and 0 < gap.max_rel < RTOL
    assert "max abs difference" in gap.describe() and "relative" in gap.describe()


def test_a_real_error_is_refused_and_named() -> None:
    ok = torch.ones(3, 2)
    want = torch.full((3, 2), 1e4)
    got = want.clone()
    got[1, 1] *= 1.001
    gap = compare([ok, want], [ok.clone(), got], ["a", "b"])
    assert not gap.within and gap.where == "b"
    assert gap.max_abs == pytest.approx(10.0) and gap.max_rel == pytest.approx(1e-3)


@pytest.mark.parametrize(
    ("want", "got", "within"),
    [
        ([float("nan"), 1.0], [float("nan"), 1.0], True),
        ([float("inf"), 1.0], [float("inf"), 1.0], True),
        ([float("nan"), 1.0], [0.0, 1.0], False),
        ([float("inf"), 1.0], [1e30, 1.0], False),
        ([0.0, 0.0], [0.0, 2e-5], False),
        ([0.0, 0.0], [0.0, 5e-6], True),
    ],
)
def test_nan_infinity_and_zero_outputs(want: list[float], got: list[float], within: bool) -> None:
    assert compare([torch.tensor(want)], [torch.tensor(got)], ["y"]).within is within


@pytest.mark.skipif(bool(missing_modules(FORMATS["onnx"])), reason="the onnx extra is not installed")
def test_an_onnx_export_of_a_model_with_large_outputs(tmp_path: Path) -> None:
    project = mlp(width=64, classes=4, inputs=16).project
    compiled = build_module(project)
    with torch.no_grad():
        for parameter in compiled.module.parameters():
            parameter.mul_(300.0)  # outputs around 1e4, where float32 rounding alone exceeds 1e-5
    save_weights(compiled.module, tmp_path / "w.safetensors")
    result = export_model(project, "onnx", tmp_path / "m.onnx", checkpoint=tmp_path / "w.safetensors")
    assert result.max_rel_diff <= RTOL
    assert any(
        m.startswith("parity: largest difference ") and "(relative " in m and "magnitude" in m for m in result.messages
    )
