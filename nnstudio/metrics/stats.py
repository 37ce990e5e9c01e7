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


def summary_row(tensor: torch.Tensor, bins: int) -> torch.Tensor:
    """The summary of one tensor as a device tensor of length HEAD + bins. Never syncs with the host."""
    flat = tensor.detach().reshape(-1).float()
    if flat.numel() == 0:
        return torch.zeros(HEAD + bins, device=flat.device)
    finite = torch.isfinite(flat)
    nonfinite = 1.0 - finite.float().mean()
    clean = torch.where(finite, flat, torch.zeros((), device=flat.device))
    mean = clean.mean()
    std = clean.std(correction=0)
    zeros = (flat == 0).float().mean()
    lo, hi = torch.aminmax(clean)
    same = lo == hi
    lo = torch.where(same, lo - 1, lo)
    hi = torch.where(same, hi + 1, hi)
    counts = _histogram(clean, bins, lo, hi)
    head = torch.stack([mean, std, zeros, nonfinite, lo, hi])
    return torch.cat([head, counts])


def _histogram(values: torch.Tensor, bins: int, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Counts over [lo, hi] with device-side bounds (torch.histc wants host numbers, which would sync)."""
    scaled = torch.nan_to_num((values - lo) / (hi - lo) * bins)
    index = scaled.clamp(0, bins - 1).to(torch.int64)
    return torch.bincount(index, minlength=bins)[:bins].float()


def rows_to_summaries(rows: torch.Tensor) -> list[TensorSummary]:
    """Fetch stacked rows to the host in one transfer and unpack them."""
    summaries = []
    for row in rows.cpu().tolist():
        mean, std, zeros, nonfinite, lo, hi = row[:HEAD]
        summaries.append(TensorSummary(mean, std, zeros, nonfinite, lo, hi, [int(c) for c in row[HEAD:]]))
    return summaries
