"""The step runners of a distributed rank: the sampled loss (and accuracy) is reduced over all ranks before it is
checked, so a non-finite value anywhere stops every rank at the same step (see training.distributed)."""

from __future__ import annotations

import torch
import torch.distributed as dist

from nnstudio.training.objective import ObjectiveStepRunner
from nnstudio.training.step import StepRunner


class DistributedStepRunner(StepRunner):
    def _fetch_loss(self, output: torch.Tensor, loss: torch.Tensor, yb: torch.Tensor) -> tuple[float, float | None]:
        """The batch loss (and accuracy) over all ranks, weighted by their sample counts, in one all_reduce;
        every rank gets the same value, so a non-finite loss anywhere stops every rank at this step."""
        with torch.no_grad():
            hits = self.batch_hits(output, yb)
            count = torch.tensor(float(yb.shape[0]), dtype=torch.float64, device=loss.device)
            values = [loss.detach().double() * count] + ([hits.double() * count] if hits is not None else [])
            packed = torch.stack([*values, count])
            dist.all_reduce(packed)
            *sums, total = packed.tolist()
        return sums[0] / total, sums[1] / total if hits is not None else None


class DistributedObjectiveStepRunner(ObjectiveStepRunner):
    def _fetch_loss(self, output, loss: torch.Tensor, yb: torch.Tensor) -> tuple[float, float | None]:
        """The total, every term and (for a classifying first head) the accuracy over all ranks, weighted by
        their sample counts, in one all_reduce, so a non-finite total anywhere stops every rank at this step."""
        with torch.no_grad():
            hits = self._hits()
            count = torch.tensor(float(yb.shape[0]), dtype=torch.float64, device=loss.device)
            parts = [loss.detach(), *(t.detach() for t in self._terms), *([hits] if hits is not None else [])]
            packed = torch.stack([*(part.double() * count for part in parts), count])
            dist.all_reduce(packed)
            *sums, total = packed.tolist()
        values = [value / total for value in sums]
        self._term_values = values[1 : 1 + len(self._terms)]
        return values[0], values[-1] if hits is not None else None
