"""Task metrics accumulated over batches on the device: loss, accuracy, RMSE, MAE, R², confusion matrix.

`update` only queues device arithmetic; `compute` fetches every sum in one transfer. R² pools all target
elements (for several regression targets it is the variance-weighted R²).
"""

from __future__ import annotations

import math

import torch

CLASSIFYING = ("classification", "binary")
REGRESSING = ("regression", "reconstruction")

# positions in the accumulator vector
_LOSS, _SAMPLES, _CORRECT, _ELEMENTS, _SSE, _SAE, _SUM_Y, _SUM_Y2 = range(8)


def metric_names(task: str) -> tuple[str, ...]:
    """What `TaskScores.compute` reports for a task, in display order."""
    if task in CLASSIFYING:
        return ("loss", "accuracy")
    if task == "regression":
        return ("loss", "rmse", "mae", "r2")
    return ("loss", "rmse", "mae")


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of a metric (with or without a train_/val_ prefix) is an improvement."""
    return metric.rsplit("_", 1)[-1] in ("accuracy", "r2")


class TaskScores:
    """Running sums for one pass over a split."""

    def __init__(self, task: str, num_classes: int | None = None, threshold: float = 0.0,
                 confusion: bool = False) -> None:
        self.task = task
        self.num_classes = num_classes
        self.threshold = threshold  # binary decision boundary: 0 for logits, 0.5 for probabilities
        self.want_confusion = confusion and task == "classification" and bool(num_classes)
        self._sums: torch.Tensor | None = None
        self._confusion: torch.Tensor | None = None

    def _start(self, device: torch.device) -> torch.Tensor:
        if self._sums is None:
            dtype = torch.float32 if device.type == "mps" else torch.float64
            self._sums = torch.zeros(8, dtype=dtype, device=device)
            if self.want_confusion:
                self._confusion = torch.zeros(self.num_classes**2, dtype=torch.int64, device=device)
        return self._sums

    @torch.no_grad()
    def update(self, output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor) -> None:
        """Add one batch; `loss` is the batch's mean loss."""
        sums = self._start(output.device)
        count = target.shape[0]
        parts = [loss.detach().to(sums.dtype) * count]
        if self.task == "classification":
            predicted = output.argmax(-1).reshape(-1)
            truth = target.reshape(-1)
            parts.append((predicted == truth).sum().to(sums.dtype))
            if self._confusion is not None:
                self._confusion += torch.bincount(truth * self.num_classes + predicted,
                                                  minlength=self.num_classes**2)
            elements = truth.numel()
        elif self.task == "binary":
            predicted = output.reshape(target.shape) > self.threshold
            parts.append((predicted == (target > 0.5)).sum().to(sums.dtype))
            elements = target.numel()
        else:
            diff = (output.reshape(target.shape) - target).to(sums.dtype)
            truth = target.to(sums.dtype)
            parts += [diff.square().sum(), diff.abs().sum(), truth.sum(), truth.square().sum()]
            elements = target.numel()
        values = torch.stack(parts)
        if self.task in CLASSIFYING:
            sums[[_LOSS, _CORRECT]] += values
        else:
            sums[[_LOSS, _SSE, _SAE, _SUM_Y, _SUM_Y2]] += values
        sums[_SAMPLES] += count
        sums[_ELEMENTS] += elements

    def accumulators(self, device: torch.device) -> list[torch.Tensor]:
        """The running sums (zero when nothing was added), so several processes can add theirs together."""
        self._start(device)
        return [t for t in (self._sums, self._confusion) if t is not None]

    def compute(self) -> dict[str, float]:
        if self._sums is None:
            return {}
        loss, samples, correct, elements, sse, sae, sum_y, sum_y2 = self._sums.cpu().tolist()
        result = {"loss": loss / samples}
        if self.task in CLASSIFYING:
            result["accuracy"] = correct / elements
            return result
        result["rmse"] = math.sqrt(sse / elements)
        result["mae"] = sae / elements
        if self.task == "regression":
            total = sum_y2 - sum_y * sum_y / elements
            result["r2"] = 1.0 - sse / total if total > 0 else float("nan")
        return result

    def confusion_matrix(self) -> list[list[int]] | None:
        """Rows are true classes, columns predicted ones."""
        if self._confusion is None:
            return None
        k = self.num_classes
        flat = self._confusion.cpu().tolist()
        return [flat[row * k:(row + 1) * k] for row in range(k)]
