"""Choosing the device and checking that the requested precision works there.

`auto` picks cuda, then mps, then cpu. Mixed precision runs the forward pass under torch.autocast;
fp16 also needs a gradient scaler, which this engine provides on CUDA only, so fp16 is refused elsewhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(choice: str) -> torch.device:
    """The torch device for a `training.device` value. Unavailable devices are left to device_problem."""
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_available() else torch.device("cpu")
    return torch.device(choice)


def device_problem(choice: str) -> str | None:
    """Why the requested device cannot be used, or None."""
    if choice == "cuda" and not torch.cuda.is_available():
        return "'cuda' is not available: this torch build sees no CUDA GPU; use 'auto' or 'cpu'"
    if choice == "mps" and not mps_available():
        return "'mps' is not available: it needs Apple silicon and a torch build with MPS; use 'auto' or 'cpu'"
    return None


def precision_problem(precision: str, device: torch.device) -> str | None:
    """Why a precision is not supported on a device, or None."""
    if precision == "fp32":
        return None
    if precision == "fp16" and device.type != "cuda":
        return (f"'fp16' needs a CUDA GPU (it relies on loss scaling); on {device.type} use 'bf16' or 'fp32'"
                if device.type == "cpu" else f"'fp16' is not supported on {device.type} here; use 'fp32'")
    if precision == "bf16":
        if device.type == "mps":
            return "'bf16' is not supported on mps here; use 'fp32'"
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return "'bf16' is not supported by this GPU; use 'fp16' or 'fp32'"
    return None


@contextlib.contextmanager
def autocast(precision: str, device: torch.device) -> Iterator[None]:
    """Autocast for bf16/fp16; nothing at all for fp32 (so the fp32 path is exactly plain PyTorch)."""
    if precision == "fp32":
        yield
        return
    with torch.autocast(device_type=device.type, dtype=AUTOCAST_DTYPES[precision]):
        yield


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A loss scaler for fp16 on CUDA, where small gradients would otherwise underflow."""
    if precision == "fp16" and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None
