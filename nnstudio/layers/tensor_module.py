"""The module behind the LearnedTensor layer: one trained tensor, the same for every sample.

Kept apart from the other custom modules so that an exported model.py can copy it verbatim.
"""

from __future__ import annotations

import torch
from torch import nn

from nnstudio.layers.builtin.tensor import INITS

NORMAL_STD = 0.02  # what ViT and GPT-2 use for learned positions and class tokens


class LearnedTensor(nn.Module):
    """A parameter of a fixed shape, repeated along the batch of `like` (whose values are not read).

    A bare parameter has no batch dim; repeating it gives every sample its own view, so the result has
    the [N, ...] shape every nnstudio tensor has, and an Add with the input broadcasts nothing.
    """

    def __init__(self, shape: list[int], init: str = "normal") -> None:
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        self.weight = nn.Parameter(torch.empty(*shape))
        if init == "zeros":
            nn.init.zeros_(self.weight)
        else:
            nn.init.normal_(self.weight, std=NORMAL_STD)

    def forward(self, like: torch.Tensor) -> torch.Tensor:
        return self.weight.expand(like.shape[0], *self.weight.shape)
