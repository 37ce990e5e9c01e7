"""Small helpers shared by the built-in layer declarations."""

from __future__ import annotations

from nnstudio.layers.spec import ShapeError, TensorType


def require_float(tensor: TensorType, port: str = "in") -> None:
    if tensor.dtype != "float32":
        raise ShapeError(f"expects a float32 tensor, got {tensor}", port)


def require_rank(tensor: TensorType, ranks: tuple[int, ...], what: str, port: str = "in") -> None:
    """Ranks count the dims after the batch dimension."""
    if len(tensor.shape) not in ranks:
        wanted = " or ".join(f"[N, {', '.join(what_dims(r))}]" for r in ranks) if not what else what
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
