"""Issue 15: every size a layer takes has an upper bound (a Linear of 10**12 outputs is refused when read, not
when allocated), and Concat, Reduce and Flatten say wherever a dim shows that it does not count the batch."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.analysis import analyze
from nnstudio.layers.params import MAX_LAYER_SIZE, ParamKind, ParamValueError, int_param
from nnstudio.layers.registry import default_registry
from nnstudio.layers.spec import LayerSpec
from nnstudio.model.builder import GraphBuilder

REGISTRY = default_registry()
SPECS = list(REGISTRY._specs.values())
SIZES = [
    (spec, param)
    for spec in SPECS
    for param in spec.params
    if param.kind in (ParamKind.INT, ParamKind.INT_TUPLE, ParamKind.SHAPE, ParamKind.INT_LIST)
    and (param.minimum is not None or param.kind is ParamKind.SHAPE)
]


def test_every_size_param_has_a_maximum():
    assert SIZES
    unbounded = [f"{spec.type}.{param.name}" for spec, param in SIZES if param.maximum is None]
    assert unbounded == []
    assert all(param.maximum <= MAX_LAYER_SIZE for _, param in SIZES)


def test_a_plugin_layer_is_bounded_too():
    spec = LayerSpec(
        type="PluginDense",
        category="Test",
        title="t",
        summary="s",
        explanation="e",
        formula="f",
        infer=lambda params, inputs: inputs.one(),
        emit=lambda *args: None,
        params=(
            int_param("units", 4, "Width.", minimum=1),
            int_param("axis", -1, "A dim: may be negative, not a size."),
        ),
    )
    assert spec.param("units").maximum == MAX_LAYER_SIZE
    assert spec.param("axis").maximum is None


def test_linear_of_10_to_the_12_is_refused_with_the_limit():
    with pytest.raises(ParamValueError, match=r"expected an integer in \[1, 16777216\], got 1000000000000"):
        REGISTRY.get("Linear").param("out_features").coerce(10**12)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(SIZES), st.integers(-(2**70), 2**70))
def test_any_integer_is_either_in_range_or_refused(spec_param, number):
    _, param = spec_param
    value = [number] * (param.length or 1) if param.kind is not ParamKind.INT else number
    try:
        accepted = param.coerce(value)
    except ParamValueError:
        return
    entries = accepted if isinstance(accepted, list) else [accepted]
    assert all(entry <= param.maximum for entry in entries)


@pytest.mark.parametrize(
    ("layer", "params"), [("Concat", ("dim",)), ("Reduce", ("dim",)), ("Flatten", ("start_dim", "end_dim"))]
)
def test_dim_labels_and_explanations_say_the_batch_is_not_counted(layer, params):
    spec = REGISTRY.get(layer)
    for name in params:
        assert "batch not counted" in spec.param(name).title
        assert "without the batch" in spec.param(name).doc
    assert "torch calls dim 1" in spec.explanation


def _problems(build) -> list[str]:
    b = GraphBuilder(name="dims")
    build(b)
    return [d.message for d in analyze(b.graph).errors]


def test_out_of_range_dims_name_the_sample_shape():
    def reduce(b):
        b.chain(b.add("Input", "x", shape=[16, 8, 8]), b.add("Reduce", "r", dim=3), b.add("Output", "y"))

    def flatten(b):
        b.chain(b.add("Input", "x", shape=[4, 5]), b.add("Flatten", "f", start_dim=1, end_dim=0), b.add("Output", "y"))

    assert _problems(reduce) == [
        "r.in: dim 3 is out of range for the sample shape [16, 8, 8] (batch not counted: "
        "dim 0 is the 16, -1 the last 8) (from x)"
    ]
    assert _problems(flatten) == [
        "f.in: cannot flatten [N, 4, 5]: start_dim 1 comes after end_dim 0 in the sample "
        "shape [4, 5] (batch not counted) (from x)"
    ]


def test_concat_mismatch_says_how_dim_counts():
    def concat(b):
        x = b.add("Input", "x", shape=[3, 4])
        z = b.add("Input", "z", shape=[5, 6])
        join = b.add("Concat", "join", dim=0)
        b.link(x, join, "inputs")
        b.link(z, join, "inputs")
        b.chain(join, b.add("Output", "y"))

    (message,) = _problems(concat)
    assert message == (
        "join.inputs: cannot concatenate [N, 3, 4] with [N, 5, 6] (input 2) along dim 0 of the sample "
        "shape [3, 4] (batch not counted): all other dims must match (from x, z)"
    )
