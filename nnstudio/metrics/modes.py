"""How well generated 2-D samples cover the modes of the data: modes covered and the high-quality share.

These are the usual metrics for the 2-D mixtures GANs are tried on (a ring or a grid of Gaussians; VEEGAN,
Srivastava et al. 2017; PacGAN, Lin et al. 2018). A generated sample is *high quality* when it lies within
3σ of the nearest mode centre. A mode is *covered* when at least 0.8 % of the samples are high-quality samples
of it: PacGAN's rule, 20 of 2,500 samples (a mode with fewer is "lost"). The centres and σ come from the real
data: the mean of each class, and the pooled per-axis standard deviation within the classes. That is exact for
a mixture whose label is the mode it was drawn from (the `ring` dataset, well-separated `blobs`), and the
metrics are only defined when the modes stand apart: every two centres more than 6σ apart, so that no sample
is within 3σ of two modes. Data that fails this (spiral arms, moons) has no modes in this sense and gets no
such metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SAMPLES = 2500  # generated samples each score is computed on (PacGAN's and VEEGAN's count)
QUALITY_SIGMAS = 3.0
SEPARATION_SIGMAS = 6.0
COVERED_SHARE = 20 / SAMPLES  # a covered mode holds at least this share of the samples as high-quality ones


@dataclass(frozen=True)
class Modes:
    centres: torch.Tensor  # [K, 2]
    sigma: float

    @classmethod
    def from_data(cls, x: torch.Tensor, y: torch.Tensor) -> Modes | None:
        """The modes of labelled 2-D points, or None when the data is not a mixture of separate modes."""
        if x.dim() != 2 or x.shape[1] != 2 or y.dim() != 1 or y.dtype.is_floating_point or len(x) < 2:
            return None
        x = x.detach().double().cpu()
        labels, index = torch.unique(y.detach().cpu(), return_inverse=True)
        if len(labels) < 2:
            return None
        counts = torch.bincount(index, minlength=len(labels)).double()
        centres = torch.zeros(len(labels), 2, dtype=torch.float64).index_add_(0, index, x) / counts[:, None]
        sigma = float((x - centres[index]).square().mean().sqrt())
        apart = torch.cdist(centres, centres) + torch.eye(len(labels), dtype=torch.float64) * 1e300
        if sigma <= 0 or float(apart.min()) <= SEPARATION_SIGMAS * sigma:
            return None
        return cls(centres.float(), sigma)

    def score(self, samples: torch.Tensor) -> dict[str, float]:
        """`modes_covered` (a count, out of len(centres)) and `high_quality` (a share of the samples)."""
        samples = samples.detach().float().cpu().reshape(len(samples), -1)
        nearest, which = torch.cdist(samples, self.centres).min(dim=1)
        good = nearest <= QUALITY_SIGMAS * self.sigma
        counts = torch.bincount(which[good], minlength=len(self.centres))
        needed = COVERED_SHARE * len(samples)
        return {"modes_covered": int((counts >= needed).sum()), "high_quality": float(good.float().mean())}
