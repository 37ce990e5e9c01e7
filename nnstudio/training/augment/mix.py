"""Mixup and CutMix: batch-level transforms that blend pairs of samples and their targets.

Both pair each sample with another of the same batch (a random permutation) and mix the targets by the same
share, so class indices become probabilities ("soft labels", [N, classes]). torch's CrossEntropyLoss takes
those as they are (with class weights and label smoothing too), and the BCE losses take mixed 0/1 targets, so
the step's loss code is unchanged. Every random draw is a small CPU tensor: no device sync in the fast path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_targets(y: torch.Tensor, classes: int | None, dtype: torch.dtype) -> torch.Tensor:
    """Class indices [N] as one-hot probabilities [N, classes]; float targets (binary, or already mixed) as
    they are."""
    if y.is_floating_point():
        return y
    if classes is None:
        raise ValueError("mixing class indices needs the number of classes")
    return F.one_hot(y.reshape(-1), classes).to(dtype)


class Mix:
    """Mixup (`cut=False`) or CutMix (`cut=True`) with lambda ~ Beta(alpha, alpha), on a share `p` of batches."""

    def __init__(self, alpha: float, p: float, classes: int | None, cut: bool) -> None:
        self.beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
        self.p = p
        self.classes = classes
        self.cut = cut

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        if n < 2 or (self.p < 1.0 and float(torch.rand(())) >= self.p):
            return x, y
        share = float(self.beta.sample())  # the share of each sample that stays its own
        perm = torch.randperm(n).to(x.device, non_blocking=True)
        if self.cut:
            x, share = self._paste(x, perm, share)
        else:
            x = x * share + x.index_select(0, perm) * (1.0 - share)
        soft = soft_targets(y, self.classes, x.dtype if x.is_floating_point() else torch.float32)
        return x, soft * share + soft.index_select(0, perm) * (1.0 - share)

    @staticmethod
    def _paste(x: torch.Tensor, perm: torch.Tensor, share: float) -> tuple[torch.Tensor, float]:
        """Paste a box covering about 1 - share of the image from the paired sample; the share actually kept."""
        height, width = x.shape[-2], x.shape[-1]
        ratio = (1.0 - share) ** 0.5
        box_h, box_w = int(height * ratio), int(width * ratio)
        if box_h == 0 or box_w == 0:
            return x, 1.0
        centre_y, centre_x = (int(v) for v in torch.randint(0, 1 << 30, (2,)))
        centre_y, centre_x = centre_y % height, centre_x % width
        top, bottom = max(centre_y - box_h // 2, 0), min(centre_y + (box_h + 1) // 2, height)
        left, right = max(centre_x - box_w // 2, 0), min(centre_x + (box_w + 1) // 2, width)
        mixed = x.clone()
        mixed[..., top:bottom, left:right] = x.index_select(0, perm)[..., top:bottom, left:right]
        return mixed, 1.0 - (bottom - top) * (right - left) / (height * width)
