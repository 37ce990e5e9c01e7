"""Turning a checked `dataset.augment` list into the batch transform the training step applies.

The ops run on the device, on the batch the fast path has just sliced, so the in-memory path keeps its speed:
kornia.augmentation for the image transforms, a few torch ops for noise, mixup and cutmix.

Reproducibility: kornia draws from torch's global generators. Each step's augmentation runs with those
generators seeded from (training seed, rank, step) and put back afterwards, so the augmented batches are a
function of the seed and the step alone: the same for the same seed, the same after a resume (the step is in
the checkpoint), and independent of dropout or anything else that draws in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from nnstudio.training.augment.mix import Mix
from nnstudio.training.augment.parse import EXTRA, KEY, Transform, parse_augment

if TYPE_CHECKING:
    from nnstudio.training.engine import Trainer

Op = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
MASK = (1 << 63) - 1


class AugmentError(Exception):
    """The list cannot be applied (kornia missing, or a list the checks would have refused)."""


def kornia_augmentation() -> Any:
    """kornia.augmentation, imported on first use, or an AugmentError saying how to install it."""
    try:
        import kornia.augmentation as augmentation
    except ImportError:
        raise AugmentError(f"dataset.augment: kornia is needed for these transforms; {EXTRA}") from None
    return augmentation


def step_seed(seed: int, step: int, rank: int = 0) -> int:
    """A 63-bit seed for one step's augmentation (a splitmix64-style mix, so nearby steps are unrelated)."""
    z = (seed * 0x9E3779B97F4A7C15 + step * 0xBF58476D1CE4E5B9 + rank * 0x94D049BB133111EB) & ((1 << 64) - 1)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
    return (z ^ (z >> 31)) & MASK


def _generators(device: torch.device) -> list[torch.Generator]:
    generators = [torch.default_generator]
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        generators.append(torch.cuda.default_generators[index])
    return generators


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run with the global CPU (and the device's) generator seeded, then put their states back (a few µs)."""
    generators = _generators(device)
    states = [g.get_state() for g in generators]
    mps_state = torch.mps.get_rng_state() if device.type == "mps" else None
    for g in generators:
        g.manual_seed(seed)
    if mps_state is not None:
        torch.mps.manual_seed(seed)
    try:
        yield
    finally:
        for g, state in zip(generators, states):
            g.set_state(state)
        if mps_state is not None:
            torch.mps.set_rng_state(mps_state)


class BatchAugment:
    """(x, y, step) -> the augmented (x, y) of one training step. With `follow_input` (reconstruction, where the
    target is the input) the target is the augmented input too."""

    def __init__(self, ops: list[Op], seed: int, rank: int = 0, follow_input: bool = False) -> None:
        self.ops = ops
        self.seed = seed
        self.rank = rank
        self.follow_input = follow_input

    def __call__(self, x: torch.Tensor, y: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        with seeded(step_seed(self.seed, step, self.rank), x.device):
            for op in self.ops:
                x, y = op(x, y)
        return x, (x if self.follow_input else y)


def build_ops(transforms: list[Transform], input_shape: tuple[int, ...], classes: int | None,
              device: torch.device) -> list[Op]:
    """One op per transform, in list order; kornia modules are moved to `device`."""
    ops: list[Op] = []
    for transform in transforms:
        name, values = transform.spec.name, transform.values
        if name in ("mixup", "cutmix"):
            ops.append(Mix(values["alpha"], values["p"], classes, cut=name == "cutmix"))
        elif name == "gaussian_noise":
            ops.append(_noise(values["std"], values["p"]))
        else:
            module = _kornia_module(name, values, tuple(input_shape)).to(device)
            ops.append(lambda x, y, m=module: (m(x), y))
    return ops


def _noise(std: float, p: float) -> Op:
    def add(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn_like(x) * std
        if p < 1.0:
            keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) < p
            noise = noise * keep
        return x + noise, y

    return add


def _kornia_module(name: str, values: dict[str, Any], shape: tuple[int, ...]) -> torch.nn.Module:
    K = kornia_augmentation()
    height, width = shape[-2], shape[-1]
    p = values.get("p", 1.0)
    if name == "random_crop":
        size = values["size"]
        crop = (height, width) if size is None else ((size, size) if isinstance(size, int) else tuple(size))
        cropper = K.RandomCrop(crop, padding=values["padding"], padding_mode=values["padding_mode"])
        return cropper if crop == (height, width) else torch.nn.Sequential(cropper, K.Resize((height, width)))
    if name == "hflip":
        return K.RandomHorizontalFlip(p=p)
    if name == "vflip":
        return K.RandomVerticalFlip(p=p)
    if name == "rotation":
        return K.RandomRotation(values["degrees"], p=p)
    if name == "affine":
        shift = values["translate"]
        return K.RandomAffine(values["degrees"], translate=(shift, shift) if shift else None,
                              scale=(values["scale_min"], values["scale_max"]), shear=values["shear"] or None, p=p)
    if name == "color_jitter":
        return K.ColorJitter(values["brightness"], values["contrast"], values["saturation"], values["hue"], p=p)
    if name == "random_erasing":
        return K.RandomErasing(scale=(values["scale_min"], values["scale_max"]),
                               ratio=(values["ratio_min"], values["ratio_max"]), value=values["value"], p=p)
    raise AugmentError(f"dataset.augment: no builder for {name!r}")


def batch_augment(section: Any, input_shape: tuple[int, ...], classes: int | None, seed: int,
                  device: torch.device, rank: int = 0, follow_input: bool = False) -> BatchAugment | None:
    """The transform for a dataset section's `augment` list; None when the list is absent or empty."""
    entries = section.get(KEY) if isinstance(section, dict) else None
    if not entries:
        return None
    transforms, problems = parse_augment(entries)
    if problems:
        raise AugmentError("; ".join(f"{where}: {message}" for where, message in problems))
    return BatchAugment(build_ops(transforms, input_shape, classes, device), seed, rank, follow_input)


def trainer_augment(trainer: Trainer) -> BatchAugment | None:
    """The training batches' transform of a trainer's job (each rank of a distributed run draws its own)."""
    job = trainer.job
    rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() \
        else 0
    return batch_augment(job.project.dataset, tuple(job.data.input_shape), job.data.num_classes,
                         trainer.settings.seed, trainer.device, rank, follow_input=job.task == "reconstruction")


def preview_samples(section: Any, x: torch.Tensor, y: torch.Tensor, classes: int | None, seed: int,
                    draw: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`x`, `y` (a few training samples) augmented as a training step would; `draw` picks the step, so each
    Refresh shows another draw and the same draw shows the same samples."""
    augment = batch_augment(section, tuple(x.shape[1:]), classes, seed, x.device)
    if augment is None:
        return x, y
    with torch.no_grad():
        return augment(x, y, draw)
