"""Scoring a model on a split, in eval mode and without gradients, in large batches."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nnstudio.metrics.scores import TaskScores
from nnstudio.training.device import AUTOCAST_DTYPES

EVAL_BATCH = 1024  # memory, not accuracy, limits this: no gradients are kept


@torch.no_grad()
def score(module: nn.Module, criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor,
          y: torch.Tensor, scores: TaskScores, batch_size: int = EVAL_BATCH, precision: str = "fp32") -> TaskScores:
    """Feed `x` through the model batch by batch and accumulate `scores`; restores train/eval mode."""
    was_training = module.training
    module.eval()
    try:
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            if precision == "fp32":
                output = module(xb)
            else:
                with torch.autocast(device_type=xb.device.type, dtype=AUTOCAST_DTYPES[precision]):
                    output = module(xb)
                output = output.float()
            scores.update(output, yb, criterion(output, yb))
    finally:
        module.train(was_training)
    return scores
