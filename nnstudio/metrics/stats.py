"""Summaries of a tensor computed on its own device, so sampling never forces a host sync per tensor.

Each summary is one flat float32 row: [mean, std, zero_fraction, nonfinite_fraction, lo, hi, counts...].
Rows of many layers are stacked and fetched with a single `.tolist()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

HEAD = 6  # number of scalar fields before the histogram counts


@dataclass(frozen=True)
class TensorSummary:
    mean: float
    std: float
    zero_fraction: float  # share of exact zeros: dead ReLU units show up here
    nonfinite_fraction: float
    lo: float  # histogram range
    hi: float
    counts: list[int]

    def to_json(self) -> dict:
        return {
            "mean": self.mean,
            "std": self.std,
            "zero_fraction": self.zero_fraction,
            "nonfinite_fraction": self.nonfinite_fraction,
            "hist": {"lo": self.lo, "hi": self.hi, "counts": self.counts},
        }


def summary_row(tensor: torch.Tensor, bins: int, finite: bool = False) -> torch.Tensor:
    """The summary of one tensor as a device tensor of length HEAD + bins, in about ten device ops.

    Non-finite entries are counted, then left out of the other fields. `finite=True` skips that check for
    tensors known to be finite (weights that were just checked).
    """
    flat = tensor.detach().reshape(-1).float()
    count = flat.numel()
    if count == 0:
        return torch.zeros(HEAD + bins, device=flat.device)
    if finite:
        clean, nonfinite = flat, torch.zeros((), device=flat.device)
    else:
        clean = torch.nan_to_num(flat, nan=0.0, posinf=0.0, neginf=0.0)
        nonfinite = (~torch.isfinite(flat)).sum() / count
    std, mean = torch.std_mean(clean, correction=0)
    zeros = 1.0 - torch.count_nonzero(flat) / count
    lo, hi = torch.aminmax(clean)
    counts = torch.histc(clean, bins=bins)  # min=max=0: the data's own range, widened by 1 if constant
    return torch.cat([torch.stack([mean, std, zeros, nonfinite, lo, hi]), counts])


def rows_to_summaries(rows: torch.Tensor) -> list[TensorSummary]:
    """Fetch stacked rows to the host in one transfer and unpack them."""
    summaries = []
    for row in rows.cpu().tolist():
        mean, std, zeros, nonfinite, lo, hi = row[:HEAD]
        if lo == hi:  # torch.histc widens a constant tensor's range the same way
            lo, hi = lo - 1, hi + 1
        summaries.append(TensorSummary(mean, std, zeros, nonfinite, lo, hi, [int(c) for c in row[HEAD:]]))
    return summaries
