"""Converters for the functions and tensor methods of a traced model, and the helpers they share.

Which function or method becomes which layer is declared once, in forms.FORMS. Each converter
reads the call's arguments and returns the layer type, its params and the user nodes feeding each
port, or raises Refused with a reason. Dims are translated from torch's
counting (batch included) to nnstudio's (batch excluded); a call that touches the batch dim has no
layer and is refused. Whether the result computes the same thing is checked afterwards, when the
whole imported graph is compared with the original model.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import fx


class Refused(Exception):
    """This call has no nnstudio layer; the message says why."""


@dataclass
class Converted:
    type: str
    params: dict[str, Any]
    inputs: dict[str, list[fx.Node]]
    helpers: list[fx.Node] = field(default_factory=list)  # batch-size expressions the call used
    # The layer's own tensors (its state-dict keys) taken from module attributes: F.linear(x, self.w, self.b)
    weights: dict[str, fx.Node] = field(default_factory=dict)


def arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """A call's argument by position (counting the tensor as 0 for methods) or by keyword."""
    if index < len(node.args):
        return node.args[index]
    return node.kwargs.get(name, default)


def rank_of(node: Any) -> int:
    """Dims of a tensor value without the batch dim, from the shapes recorded while tracing."""
    return len(sample_shape(node))


def shape_of(node: fx.Node) -> tuple[int, ...]:
    return tuple(node.meta["tensor_meta"].shape)


def learned_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The per-sample shape of a parameter read from `self`, which becomes a LearnedTensor: a leading 1 is
    the batch dim it broadcasts over ((1, T, E) for learned positions), and without one the whole
    parameter is added to every sample ((T, E))."""
    return tuple(shape[1:]) if len(shape) >= 2 and shape[0] == 1 else tuple(shape)


def sample_shape(node: Any) -> tuple[int, ...]:
    """A value's shape without the batch dim; for a parameter read from `self`, its LearnedTensor's shape."""
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise Refused(f"{node} is not a tensor nnstudio can follow")
    shape = tuple(int(d) for d in meta.shape)
    return learned_shape(shape) if node.op == "get_attr" else shape[1:]


def layer_dim(dim: Any, rank: int, what: str) -> int:
    """torch dim (batch is 0) -> nnstudio dim (batch excluded); refuses the batch dim itself."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise Refused(f"{what} along {dim!r}: only a single constant dim can become a layer param")
    full = dim + rank + 1 if dim < 0 else dim
    if full == 0:
        raise Refused(f"{what} along the batch dimension (dim 0), which no nnstudio layer does")
    if not 0 < full <= rank:
        raise Refused(f"{what}: dim {dim} is out of range")
    return dim if dim < 0 else dim - 1


def _tensor(value: Any, what: str) -> fx.Node:
    if not isinstance(value, fx.Node):
        raise Refused(f"{what} with a constant {value!r}; nnstudio layers combine tensors only")
    return value


def is_batch_size(value: Any, helpers: list[fx.Node]) -> bool:
    """x.size(0), x.shape[0] or x.size()[0]: the batch size, recorded as a helper node."""
    if not isinstance(value, fx.Node):
        return False
    if value.op == "call_method" and value.target == "size" and arg(value, 1, "dim") == 0:
        helpers.append(value)
        return True
    if value.op == "call_function" and value.target is operator.getitem and value.args[1] == 0:
        source = value.args[0]
        whole = isinstance(source, fx.Node) and (
            (source.op == "call_function" and source.target is getattr and source.args[1] == "shape")
            or (source.op == "call_method" and source.target == "size" and arg(source, 1, "dim") is None))
        if whole:
            helpers.extend([value, source])
            return True
    return False


def is_helper(node: fx.Node) -> bool:
    """Nodes that compute sizes rather than tensors; they are consumed by the reshape that uses them."""
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
        return True
    return node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node) \
        and is_helper(node.args[0])


# --- converters ----------------------------------------------------------------------------
def merge(layer: str, verb: str) -> Callable[[fx.Node], Converted]:
    def convert(node: fx.Node) -> Converted:
        if node.kwargs.get("alpha", 1) != 1:
            raise Refused(f"{verb} with alpha={node.kwargs['alpha']}")
        a, b = (_tensor(v, verb) for v in node.args[:2])
        if sample_shape(a) != sample_shape(b):
            raise Refused(f"{verb} of tensors with different shapes [N, {_dims(a)}] and [N, {_dims(b)}] "
                          "(broadcasting has no layer)")
        return Converted(layer, {}, {"inputs": [a, b]})

    return convert


def _dims(node: fx.Node) -> str:
    return ", ".join(str(d) for d in sample_shape(node))


def concat(node: fx.Node) -> Converted:
    tensors = arg(node, 0, "tensors")
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2:
        raise Refused("concatenating fewer than two tensors")
    items = [_tensor(t, "concatenating") for t in tensors]
    dim = layer_dim(arg(node, 1, "dim", 0), rank_of(items[0]), "concatenating")
    return Converted("Concat", {"dim": dim}, {"inputs": items})


def flatten(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "flattening")
    rank = rank_of(x)
    start = layer_dim(arg(node, 1, "start_dim", 0), rank, "flattening from")
    end = layer_dim(arg(node, 2, "end_dim", -1), rank, "flattening up to")
    return Converted("Flatten", {"start_dim": start, "end_dim": end}, {"in": [x]})


def reshape(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "reshaping")
    sizes = list(node.args[1:]) if node.op == "call_method" else [arg(node, 1, "shape")]
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = list(sizes[0])
    helpers: list[fx.Node] = []
    if not sizes:
        raise Refused("reshaping without a shape")
    first, rest = sizes[0], sizes[1:]
    keeps_batch = is_batch_size(first, helpers) or (first == -1 and rest and -1 not in rest
                                                     and all(isinstance(s, int) for s in rest))
    if not keeps_batch:
        raise Refused(f"reshaping to {sizes}: the first size must be the batch size "
                      "(x.size(0) or -1), since nnstudio layers keep the batch dimension")
    if any(isinstance(s, fx.Node) for s in rest):
        raise Refused("reshaping to sizes computed at run time; only the batch size may vary")
    return Converted("Reshape", {"shape": list(shape_of(node)[1:])}, {"in": [x]}, helpers)


def permute(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "permuting")
    dims = list(node.args[1:]) if node.op == "call_method" else list(arg(node, 1, "dims"))
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    full = rank_of(x) + 1
    dims = [d % full if isinstance(d, int) else d for d in dims]
    if not dims or dims[0] != 0:
        raise Refused(f"permuting with dims {dims}: the batch dim must stay first")
    return Converted("Permute", {"dims": [d - 1 for d in dims[1:]]}, {"in": [x]})


def transpose(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "transposing")
    rank = rank_of(x)
    a = layer_dim(arg(node, 1, "dim0"), rank, "transposing")
    b = layer_dim(arg(node, 2, "dim1"), rank, "transposing")
    return Converted("Transpose", {"dim0": a, "dim1": b}, {"in": [x]})


def reduce(op: str) -> Callable[[fx.Node], Converted]:
    def convert(node: fx.Node) -> Converted:
        x = _tensor(node.args[0], "reducing")
        rank = rank_of(x)
        dim, keepdim = arg(node, 1, "dim"), bool(arg(node, 2, "keepdim", False))
        spatial = tuple(range(2, rank + 1))
        if op in ("mean", "amax") and not keepdim and rank >= 2 and _same_dims(dim, spatial, rank):
            return Converted("GlobalAvgPool" if op == "mean" else "GlobalMaxPool", {}, {"in": [x]})
        if isinstance(dim, (list, tuple)) and len(dim) == 1:
            dim = dim[0]
        if dim is None:
            raise Refused(f"{op} over every dim, batch included")
        return Converted("Reduce", {"op": {"amax": "max"}.get(op, op), "dim": layer_dim(dim, rank, op),
                                    "keepdim": keepdim}, {"in": [x]})

    return convert


def _same_dims(dim: Any, wanted: tuple[int, ...], rank: int) -> bool:
    dims = dim if isinstance(dim, (list, tuple)) else (dim,)
    if not all(isinstance(d, int) for d in dims):
        return False
    return tuple(sorted(d % (rank + 1) for d in dims)) == wanted


def subtract(node: fx.Node) -> Converted:
    if node.kwargs.get("alpha", 1) != 1:
        raise Refused(f"subtracting with alpha={node.kwargs['alpha']}")
    a, b = (_tensor(v, "subtracting") for v in node.args[:2])
    if sample_shape(a) != sample_shape(b):
        raise Refused(f"subtracting tensors with different shapes [N, {_dims(a)}] and [N, {_dims(b)}] "
                      "(broadcasting has no layer)")
    return Converted("Subtract", {}, {"a": [a], "b": [b]})


def matmul(node: fx.Node) -> Converted:
    a, b = (_tensor(v, "multiplying matrices") for v in node.args[:2])
    for x in (a, b):
        if rank_of(x) < 2:
            raise Refused(f"a matrix product with [N, {_dims(x)}]: the MatMul layer multiplies a matrix per "
                          "sample, [N, ..., rows, cols] (for a vector times a weight matrix use F.linear)")
    if sample_shape(a)[:-2] != sample_shape(b)[:-2]:
        raise Refused(f"a matrix product of [N, {_dims(a)}] and [N, {_dims(b)}]: the dims before the last two "
                      "must be equal (broadcasting has no layer)")
    return Converted("MatMul", {}, {"a": [a], "b": [b]})


def clamp(node: fx.Node) -> Converted:
    """torch.clamp with two constant bounds is Hardtanh; with only a lower bound of 0 it is ReLU."""
    x = _tensor(node.args[0], "clamping")
    low, high = arg(node, 1, "min"), arg(node, 2, "max")
    if isinstance(low, fx.Node) or isinstance(high, fx.Node):
        raise Refused("clamping to bounds that are tensors; only constant bounds become a Hardtanh layer")
    if low is not None and high is not None:
        if low >= high:
            raise Refused(f"clamping to [{low}, {high}], an empty range")
        return Converted("Hardtanh", {"min_val": float(low), "max_val": float(high)}, {"in": [x]})
    if low == 0 and high is None:
        return Converted("ReLU", {}, {"in": [x]})
    raise Refused(f"clamping with only one bound (min={low!r}, max={high!r}); Hardtanh needs both, and only "
                  "min=0 alone is ReLU")


def relu6(node: fx.Node) -> Converted:
    return Converted("Hardtanh", {"min_val": 0.0, "max_val": 6.0}, {"in": [_tensor(node.args[0], "F.relu6")]})


_INTERPOLATE = (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                ("recompute_scale_factor", None), ("antialias", False))
_UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "trilinear")


def interpolate(node: fx.Node) -> Converted:
    """F.interpolate in the modes the Upsample layer has, with one scale for every dim or constant sizes."""
    x = _tensor(node.args[0], "F.interpolate")
    size, scale, mode, corners, recompute, antialias = (
        arg(node, index, name, default) for index, (name, default) in enumerate(_INTERPOLATE, start=1))
    if any(isinstance(v, fx.Node) for v in (size, scale)):
        raise Refused("F.interpolate to a size or scale computed at run time; a layer param is a constant")
    if mode not in _UPSAMPLE_MODES:
        raise Refused(f"F.interpolate with mode={mode!r}: the Upsample layer has {', '.join(_UPSAMPLE_MODES)}")
    if recompute or antialias:
        raise Refused("F.interpolate with recompute_scale_factor or antialias: the Upsample layer has neither")
    if isinstance(scale, (tuple, list)):
        if len(set(scale)) != 1:
            raise Refused(f"F.interpolate with scale_factor={tuple(scale)!r}: Upsample scales every dim alike")
        scale = scale[0]
    spatial = rank_of(x) - 1
    if isinstance(size, int):
        size = [size] * spatial
    params = {"scale_factor": None if scale is None else float(scale),
              "size": None if size is None else [int(s) for s in size],
              "mode": mode, "align_corners": bool(corners)}
    return Converted("Upsample", params, {"in": [x]})


_SDPA = (("attn_mask", None), ("dropout_p", 0.0), ("is_causal", False), ("scale", None), ("enable_gqa", False))


def dot_product_attention(node: fx.Node) -> Converted:
    """F.scaled_dot_product_attention without a mask tensor, dropout or a scale of its own."""
    what = "F.scaled_dot_product_attention"
    query, key, value = (_tensor(v, what) for v in node.args[:3])
    for position, (name, default) in enumerate(_SDPA, start=3):
        given = arg(node, position, name, default)
        if name != "is_causal" and given != default:
            why = "it drops in evaluation too" if name == "dropout_p" else "the layer has no param for it"
            raise Refused(f"{what} with {name}={given!r}: {why}")
    causal = arg(node, 5, "is_causal", False)
    if not isinstance(causal, bool):
        raise Refused(f"{what} with is_causal computed at run time; a layer param is a constant")
    return Converted("ScaledDotProductAttention", {"causal": causal}, {"query": [query], "key": [key],
                                                                       "value": [value]})
