"""Weight initialisation schemes, applied per module right after it is built (under a fixed seed)."""

from __future__ import annotations

import torch
from torch import nn

from nnstudio.model.project import INIT_SCHEMES


def apply_init(module: nn.Module, scheme: str) -> None:
    """Re-initialise matrices and kernels (dim >= 2) with the scheme; biases become zero.

    Norm-layer scales and other vectors keep their defaults, which is what every scheme intends.
    'default' leaves the framework's own initialisation untouched.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown weight init {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")
    if scheme == "default":
        return
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.dim() >= 2:
                _init_matrix(param, scheme)
            elif "bias" in name:
                param.zero_()
        padding_idx = getattr(module, "padding_idx", None)
        if isinstance(module, nn.Embedding) and padding_idx is not None:
            module.weight[padding_idx].zero_()  # the padding token must stay a zero vector


def _init_matrix(param: torch.Tensor, scheme: str) -> None:
    if scheme == "xavier_uniform":
        nn.init.xavier_uniform_(param)
    elif scheme == "xavier_normal":
        nn.init.xavier_normal_(param)
    elif scheme == "kaiming_uniform":
        nn.init.kaiming_uniform_(param, nonlinearity="relu")
    elif scheme == "kaiming_normal":
        nn.init.kaiming_normal_(param, nonlinearity="relu")
    elif scheme == "orthogonal":
        nn.init.orthogonal_(param)
    elif scheme == "zeros":
        nn.init.zeros_(param)
