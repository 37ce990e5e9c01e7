"""Layers that rearrange a tensor without learning anything: flatten, reshape, permute, reduce, identity."""

from __future__ import annotations

from nnstudio.layers.builtin.common import BATCH_NOT_COUNTED, axis, sample_axis
from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, choice_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType


def _dim_range(params, x: TensorType) -> tuple[int, int]:
    """start_dim and end_dim as indices into the non-batch shape (both inclusive)."""
    rank = len(x.shape)
    if rank == 0:
        raise ShapeError(f"has nothing to flatten in {x}", "in")
    start, end = (sample_axis(name, params[name], x) for name in ("start_dim", "end_dim"))
    if start > end:
        raise ShapeError(f"cannot flatten {x}: start_dim {params['start_dim']} comes after end_dim "
                         f"{params['end_dim']} in the sample shape {list(x.shape)} ({BATCH_NOT_COUNTED})", "in")
    return start, end


def _infer_flatten(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    start, end = _dim_range(params, x)
    merged = 1
    for size in x.shape[start:end + 1]:
        merged *= size
    return TensorType((*x.shape[:start], merged, *x.shape[end + 1:]), x.dtype)


def _build_flatten(params, types: Inputs) -> Construct:
    start, end = _dim_range(params, types.one())
    kwargs = {"start_dim": start + 1} if start else {}
    if end != len(types.one().shape) - 1:
        kwargs["end_dim"] = end + 1
    return Construct("torch.nn.Flatten", kwargs)


def _check_reshape(params) -> list[tuple[str, str]]:
    shape = params["shape"]
    if 0 in shape:
        return [("shape", f"dims must be positive (or -1 once, to infer one), got {shape}")]
    if shape.count(-1) > 1:
        return [("shape", f"only one dim can be -1 (inferred), got {shape}")]
    return []


def _infer_reshape(params, inputs: Inputs) -> TensorType:
    x, target = inputs.one(), list(params["shape"])
    known = 1
    for size in target:
        known *= size if size != -1 else 1
    if -1 in target:
        if x.numel % known:
            raise ShapeError(f"cannot reshape {x} ({x.numel} values per sample) to {target}: "
                             f"{x.numel} is not a multiple of {known}", "in")
        target[target.index(-1)] = x.numel // known
    elif known != x.numel:
        raise ShapeError(f"cannot reshape {x} ({x.numel} values per sample) to {target} "
                         f"({known} values); the totals must match", "in")
    return TensorType(tuple(target), x.dtype)


def _emit_reshape(ctx, params, values: Inputs, types: Inputs):
    return ctx.method("reshape", values.one(), -1, *_infer_reshape(params, types).shape)


def _check_permute(params) -> list[tuple[str, str]]:
    order = params["dims"]
    if sorted(order) != list(range(len(order))):
        return [("dims", f"must list each of 0..{len(order) - 1} exactly once, got {order}")]
    return []


def _infer_permute(params, inputs: Inputs) -> TensorType:
    x, order = inputs.one(), params["dims"]
    if len(order) != len(x.shape):
        raise ShapeError(f"cannot permute {x} with dims {order}: it has {len(x.shape)} dims besides the "
                         f"batch, not {len(order)}", "in")
    return TensorType(tuple(x.shape[d] for d in order), x.dtype)


def _emit_permute(ctx, params, values: Inputs, types: Inputs):
    return ctx.method("permute", values.one(), 0, *(d + 1 for d in params["dims"]))


def _transpose_dims(params, x: TensorType) -> tuple[int, int]:
    """The two dims as 0-based indices into the non-batch shape."""
    return axis(params["dim0"], len(x.shape)), axis(params["dim1"], len(x.shape))


def _infer_transpose(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    a, b = _transpose_dims(params, x)
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return TensorType(tuple(shape), x.dtype)


def _emit_transpose(ctx, params, values: Inputs, types: Inputs):
    return ctx.method("transpose", values.one(), *(d + 1 for d in _transpose_dims(params, types.one())))


_REDUCTIONS = {"mean": "mean", "max": "amax", "sum": "sum"}


def _infer_reduce(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    if x.dtype != "float32" and params["op"] == "mean":
        raise ShapeError(f"can only average float32 tensors, got {x}", "in")
    index = sample_axis("dim", params["dim"], x)
    kept = (1,) if params["keepdim"] else ()
    return TensorType((*x.shape[:index], *kept, *x.shape[index + 1:]), x.dtype)


def _emit_reduce(ctx, params, values: Inputs, types: Inputs):
    dim = axis(params["dim"], len(types.one().shape)) + 1
    kwargs = {"keepdim": True} if params["keepdim"] else {}
    return ctx.method(_REDUCTIONS[params["op"]], values.one(), dim=dim, **kwargs)


def _infer_identity(params, inputs: Inputs) -> TensorType:
    return inputs.one()


def _build_identity(params, types: Inputs) -> Construct:
    return Construct("torch.nn.Identity", {})


_SAME_DTYPE = "Keeps the values and their order; only the layout changes."
_SAMPLE_DIMS = ("Dims count the dims of one sample, without the batch: dim 0 is the first after N, which torch "
                "calls dim 1.")

SPECS = [
    LayerSpec(
        type="Flatten",
        category="Shape",
        title="Flatten",
        summary="Merges dims into one, e.g. [C, H, W] → [C·H·W] before a dense layer.",
        explanation=(
            "Lays a block of consecutive dims out as a single long one (row by row). The usual bridge from "
            f"convolutional feature maps to Linear layers. {_SAMPLE_DIMS} {_SAME_DTYPE}"
        ),
        formula="[d₀, …, d_start, …, d_end, …] → [d₀, …, d_start·…·d_end, …]",
        infer=_infer_flatten,
        build=_build_flatten,
        params=(
            int_param("start_dim", 0, "First dim to merge, counted without the batch.",
                      label=f"Start dim ({BATCH_NOT_COUNTED})"),
            int_param("end_dim", -1, "Last dim to merge, counted without the batch (-1 = last).",
                      label=f"End dim ({BATCH_NOT_COUNTED})"),
        ),
        glyph="▬",
    ),
    LayerSpec(
        type="Reshape",
        category="Shape",
        title="Reshape",
        summary="Reinterprets each sample with a new shape holding the same number of values.",
        explanation=(
            "Reads the values of each sample in order and pours them into the target shape, whose sizes "
            "must multiply to the same total. One size may be -1 to have it worked out from the rest. "
            f"The batch dimension is kept. {_SAME_DTYPE}"
        ),
        formula="[d₁, …, dₖ] → shape,  Π dᵢ = Π shapeⱼ",
        infer=_infer_reshape,
        emit=_emit_reshape,
        params=(ParamSpec("shape", ParamKind.SHAPE, [-1], "Target shape of one sample; one entry may be -1.",
                          minimum=-1),),
        glyph="▤",
        key_params=("shape",),
        check=_check_reshape,
    ),
    LayerSpec(
        type="Permute",
        category="Shape",
        title="Permute",
        summary="Reorders dims, e.g. [T, F] → [F, T] to feed a sequence to Conv1d.",
        explanation=(
            "Moves the dims of each sample into a new order, given as a list of the old positions "
            f"(0 = first dim after the batch). The batch stays first. {_SAME_DTYPE}"
        ),
        formula="y[i_{dims[0]}, …] = x[i₀, i₁, …];  new shape = [d_{dims[0]}, d_{dims[1]}, …]",
        infer=_infer_permute,
        emit=_emit_permute,
        params=(ParamSpec("dims", ParamKind.SHAPE, [1, 0], "New order of the dims, as old positions from 0.",
                          minimum=0),),
        glyph="⤨",
        key_params=("dims",),
        check=_check_permute,
    ),
    LayerSpec(
        type="Transpose",
        category="Shape",
        title="Transpose",
        summary="Swaps two dims of each sample.",
        explanation=f"Exchanges two dims (counted without the batch); a shortcut for a two-dim Permute. "
                    f"{_SAME_DTYPE}",
        formula="y[…, j, …, i, …] = x[…, i, …, j, …]",
        infer=_infer_transpose,
        emit=_emit_transpose,
        params=(
            int_param("dim0", 0, "First dim to swap, counted without the batch."),
            int_param("dim1", 1, "Second dim to swap, counted without the batch (-1 = last)."),
        ),
        glyph="⇄",
        key_params=("dim0", "dim1"),
    ),
    LayerSpec(
        type="Reduce",
        category="Shape",
        title="Reduce",
        summary="Mean, max or sum over one dim, e.g. averaging a sequence over time.",
        explanation=(
            "Collapses one dim by summarising its entries. A mean over the time dim of [T, E] turns a "
            f"sequence into a single vector for a classifier head, whatever the sequence length. {_SAMPLE_DIMS}"
        ),
        formula="y = op over dim of x   (op ∈ mean, max, sum)",
        infer=_infer_reduce,
        emit=_emit_reduce,
        params=(
            choice_param("op", "mean", tuple(_REDUCTIONS), "How to summarise the entries along dim."),
            int_param("dim", 0, "Dim to reduce, counted without the batch (-1 = last).",
                      label=f"Dim ({BATCH_NOT_COUNTED})"),
            bool_param("keepdim", False, "Keep the reduced dim with size 1 instead of removing it."),
        ),
        glyph="Σ",
        key_params=("op", "dim"),
    ),
    LayerSpec(
        type="Identity",
        category="Shape",
        title="Identity",
        summary="Passes its input through unchanged.",
        explanation=(
            "Computes nothing. Use it as a named junction where several branches read the same tensor, as a "
            "placeholder for a layer to be decided later, or where an imported model has nn.Identity (a "
            "replaced classifier head, a disabled shortcut). Any shape and dtype."
        ),
        formula="y = x",
        infer=_infer_identity,
        build=_build_identity,
        glyph="=",
    ),
]
