"""Layers that join several branches: residual sums, differences, products, matrix products and concatenation."""

from __future__ import annotations

from nnstudio.layers.builtin.common import BATCH_NOT_COUNTED, require_float, same_shape, sample_axis, torch_dim
from nnstudio.layers.params import int_param
from nnstudio.layers.spec import Inputs, LayerSpec, PortSpec, ShapeError, TensorType

_MANY = (PortSpec("inputs", "Two or more tensors.", multi=True, min_count=2),)


def _infer_elementwise(verb: str):
    def infer(params, inputs: Inputs) -> TensorType:
        types = inputs.many()
        for x in types:
            require_float(x, "inputs")
        return same_shape(types, "inputs", verb)

    return infer


def _emit_chain(operator_name: str):
    def emit(ctx, params, values: Inputs, types: Inputs):
        items = values.many()
        result = items[0]
        for item in items[1:]:
            result = ctx.function(operator_name, result, item)
        return result

    return emit


_PAIR = (PortSpec("a", "The left operand."), PortSpec("b", "The right operand."))


def _infer_subtract(params, inputs: Inputs) -> TensorType:
    a, b = inputs.one("a"), inputs.one("b")
    require_float(a, "a")
    require_float(b, "b")
    if a.shape != b.shape:
        raise ShapeError(f"cannot subtract {b} from {a}; shapes must be equal", "b")
    return a


def _emit_pair(operator_name: str):
    def emit(ctx, params, values: Inputs, types: Inputs):
        return ctx.function(operator_name, values.one("a"), values.one("b"))

    return emit


def _infer_matmul(params, inputs: Inputs) -> TensorType:
    a, b = inputs.one("a"), inputs.one("b")
    for port, x in (("a", a), ("b", b)):
        require_float(x, port)
        if len(x.shape) < 2:
            raise ShapeError(f"expects a matrix per sample, [N, …, rows, cols], got {x}", port)
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"cannot multiply {a} by {b}: a has {a.shape[-1]} columns but b has {b.shape[-2]} "
                         "rows", "b")
    if a.shape[:-2] != b.shape[:-2]:
        raise ShapeError(f"cannot multiply {a} by {b}: the dims before the last two must be equal "
                         "(broadcasting has no node)", "b")
    return TensorType((*a.shape[:-1], b.shape[-1]))


def _infer_concat(params, inputs: Inputs) -> TensorType:
    types = inputs.many()
    rank = len(types[0].shape)
    axis = sample_axis("dim", params["dim"], types[0], "inputs")
    for index, x in enumerate(types[1:], start=2):
        others_match = len(x.shape) == rank and all(
            a == b for i, (a, b) in enumerate(zip(x.shape, types[0].shape)) if i != axis
        )
        if not others_match or x.dtype != types[0].dtype:
            raise ShapeError(
                f"cannot concatenate {types[0]} with {x} (input {index}) along dim {params['dim']} of the "
                f"sample shape {list(types[0].shape)} ({BATCH_NOT_COUNTED}): all other dims must match",
                "inputs",
            )
    shape = list(types[0].shape)
    shape[axis] = sum(x.shape[axis] for x in types)
    return TensorType(tuple(shape), types[0].dtype)


def _emit_concat(ctx, params, values: Inputs, types: Inputs):
    dim = torch_dim(params["dim"], len(types.many()[0].shape))
    return ctx.function("torch.cat", values.many(), dim=dim)


SPECS = [
    LayerSpec(
        type="Add",
        category="Merge",
        title="Add (residual)",
        summary="Element-wise sum of its inputs; the join of a residual block.",
        explanation=(
            "Adds tensors of identical shape. A skip connection x + F(x) lets gradients flow straight "
            "through deep networks, which is what makes ResNets trainable."
        ),
        formula="y = x₁ + x₂ + …",
        infer=_infer_elementwise("add"),
        emit=_emit_chain("operator.add"),
        inputs=_MANY,
        glyph="+",
    ),
    LayerSpec(
        type="Multiply",
        category="Merge",
        title="Multiply",
        summary="Element-wise product of its inputs, e.g. for gating.",
        explanation="Multiplies tensors of identical shape; with a sigmoid branch it forms a learned gate.",
        formula="y = x₁ ⊙ x₂ ⊙ …",
        infer=_infer_elementwise("multiply"),
        emit=_emit_chain("operator.mul"),
        inputs=_MANY,
        glyph="×",
    ),
    LayerSpec(
        type="Concat",
        category="Merge",
        title="Concat",
        summary="Joins tensors along one dimension (channels, features, time).",
        explanation=(
            "Stacks inputs side by side along dim; every other dimension must agree. Inception-style "
            "blocks concatenate parallel branches along the channel dim (dim 0). dim counts the dims of "
            "one sample, without the batch: dim 0 is the first after N, which torch calls dim 1."
        ),
        formula="y = [x₁ ‖ x₂ ‖ …] along dim",
        infer=_infer_concat,
        emit=_emit_concat,
        params=(int_param("dim", 0, "Dimension to join along, counted without the batch (-1 = last).",
                          label=f"Dim ({BATCH_NOT_COUNTED})"),),
        inputs=_MANY,
        glyph="‖",
        key_params=("dim",),
    ),
    LayerSpec(
        type="Subtract",
        category="Merge",
        title="Subtract",
        summary="Element-wise difference a − b of two tensors of the same shape.",
        explanation=(
            "Subtracts its second input from its first. Siamese and contrastive models compare two "
            "embeddings through their difference; a residual that is removed (x − F(x)) and a centring step "
            "(x − mean) are others."
        ),
        formula="y = a − b",
        infer=_infer_subtract,
        emit=_emit_pair("operator.sub"),
        inputs=_PAIR,
        glyph="−",
    ),
    LayerSpec(
        type="MatMul",
        category="Merge",
        title="MatMul",
        summary="Matrix product of two inputs per sample: [n, k] · [k, m] → [n, m].",
        explanation=(
            "Multiplies the last two dims of a by those of b, for every sample (and every leading dim, which "
            "must agree). Attention written by hand is two of them: scores = Q·Kᵀ (with a Transpose on K) and "
            "output = softmax(scores)·V. With a Learned tensor as b it is a learned linear map on the left."
        ),
        formula="y[…, i, j] = Σ_k a[…, i, k] · b[…, k, j]",
        infer=_infer_matmul,
        emit=_emit_pair("torch.matmul"),
        inputs=_PAIR,
        glyph="⊗",
    ),
]
