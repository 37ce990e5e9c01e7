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
