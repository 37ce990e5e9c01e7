"""Small helpers shared by the built-in layer declarations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnstudio.layers.params import ParamKind, ParamSpec
from nnstudio.layers.spec import ShapeError, TensorType

# How window layers (convolution, pooling) expect their input, by number of spatial dims.
LAYOUT = {1: "[N, channels, length]", 2: "[N, channels, height, width]", 3: "[N, channels, depth, height, width]"}
DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def require_float(tensor: TensorType, port: str = "in") -> None:
    if tensor.dtype != "float32":
        raise ShapeError(f"expects a float32 tensor, got {tensor}", port)


def require_rank(tensor: TensorType, ranks: tuple[int, ...], what: str, port: str = "in") -> None:
    """Ranks count the dims after the batch dimension."""
    if len(tensor.shape) not in ranks:
        wanted = what or " or ".join(f"[N, {', '.join(what_dims(r))}]" for r in ranks)
        raise ShapeError(f"expects {wanted}, got {tensor}", port)


def what_dims(rank: int) -> list[str]:
    return [f"d{i}" for i in range(1, rank + 1)]


def torch_dim(dim: int, rank: int, port: str = "in") -> int:
    """Map a dim counted over non-batch dims (negative from the end) to torch's dim, batch included."""
    if not -rank <= dim < rank:
        raise ShapeError(f"dim {dim} is out of range for a tensor with {rank} non-batch dims", port)
    return dim + 1 if dim >= 0 else dim


def same_shape(types: list[TensorType], port: str, verb: str) -> TensorType:
    first = types[0]
    for index, other in enumerate(types[1:], start=2):
        if other.shape != first.shape:
            raise ShapeError(
                f"cannot {verb} {first} with {other} (input {index}); shapes must be equal", port
            )
    return first


def require_int(tensor: TensorType, port: str = "in") -> None:
    if tensor.dtype != "int64":
        raise ShapeError(f"expects int64 token ids, got {tensor}; feed it from an Input with dtype int64", port)


def window_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                ceil_mode: bool = False) -> int:
    """Output length of a sliding window (convolution or pooling), exactly as torch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # the last window must start inside the input
            out -= 1
        return out
    return span // stride + 1 if span >= 0 else 0


def check_positive_dims(out: tuple[int, ...], names: tuple[str, ...], x: TensorType, hint: str,
                        port: str = "in") -> None:
    """Refuse a window layer whose output would be empty, saying which dim collapsed and why."""
    for size, name in zip(out, names):
        if size < 1:
            raise ShapeError(f"would produce an output of {name} {size}: {x} is too small for {hint}", port)


def expand(value: int | list[int] | None, dims: int) -> tuple[int, ...]:
    """An int or per-dim list as a tuple of `dims` ints."""
    if isinstance(value, int):
        return (value,) * dims
    return tuple(int(v) for v in value)


def trimmed(kwargs: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Drop keyword arguments equal to the constructor's defaults, so generated code stays short.

    Lists become tuples: that is how torch spells pairs, and it reads better in exported code.
    """
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        value = tuple(value) if isinstance(value, list) else value
        if name in defaults and _same_value(value, defaults[name]):
            continue
        out[name] = value
    return out


def _same_value(value: Any, default: Any) -> bool:
    if isinstance(value, tuple) and not isinstance(default, tuple):
        return all(v == default for v in value)
    return value == default and type(value) is type(default)


def window_param(name: str, default: int | None, doc: str, dims: int, minimum: int,
                 optional: bool = False) -> ParamSpec:
    """An int for 1-D window layers; an int or a per-dim list ([h, w], [d, h, w]) for 2-D and 3-D ones."""
    if dims == 1:
        return ParamSpec(name, ParamKind.INT, default, doc, minimum=minimum, optional=optional)
    return ParamSpec(name, ParamKind.INT_TUPLE, default, doc, minimum=minimum, length=dims, optional=optional)


BATCH_NOT_COUNTED = "batch not counted"  # what a dim's label and messages say: dim 0 is torch's dim 1


def sample_axis(name: str, dim: int, x: TensorType, port: str = "in") -> int:
    """`dim` as a 0-based index into the sample shape of `x`, or a ShapeError that says how it is counted
    (without the batch, where torch counts with it): "dim 3 is out of range for the sample shape [16, 8, 8]
    (batch not counted: dim 0 is the 16, -1 the last 8)"."""
    rank = len(x.shape)
    if not -rank <= dim < rank:
        where = f": dim 0 is the {x.shape[0]}, -1 the last {x.shape[-1]}" if rank else ""
        raise ShapeError(f"{name} {dim} is out of range for the sample shape {list(x.shape)} "
                         f"({BATCH_NOT_COUNTED}{where})", port)
    return dim % rank


def axis(dim: int, rank: int, port: str = "in") -> int:
    """A dim counted over non-batch dims (negative from the end) as a 0-based index into the shape."""
    torch_dim(dim, rank, port)
    return dim % rank
