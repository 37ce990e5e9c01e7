"""Data augmentation of training batches: the `dataset.augment` list (specs.py), its checks (parse.py,
checks.py), and the on-device batch transform the training step applies (build.py, mix.py).

kornia (the `augment` extra) is imported only when a list with image transforms is built.
"""

from nnstudio.training.augment.build import AugmentError, BatchAugment, batch_augment, preview_samples, trainer_augment
from nnstudio.training.augment.parse import EXTRA, KEY, Transform, augment_problems, parse_augment
from nnstudio.training.augment.specs import TRANSFORMS, TransformSpec, transform_summary

__all__ = [
    "EXTRA",
    "KEY",
    "TRANSFORMS",
    "AugmentError",
    "BatchAugment",
    "Transform",
    "TransformSpec",
    "augment_problems",
    "batch_augment",
    "parse_augment",
    "preview_samples",
    "trainer_augment",
    "transform_summary",
]
