"""Datasets for training: generated, bundled with scikit-learn, and the user's own files.

`load_dataset(project.dataset, seed, base_dir)` returns tensors split into train / val / test;
`dataset_problems(project.dataset)` lists what is wrong with a section without loading it.
`DATASETS` is the catalogue the GUI lists, with ParamSpecs to generate editors from.
"""

from nnstudio.training.data.base import (
    DatasetError,
    DatasetSpec,
    DataSplits,
    LoadContext,
    RawData,
    Split,
)
from nnstudio.training.data.catalogue import (
    DATASETS,
    DEFAULT_DATASET,
    dataset_problems,
    fractions,
    load_dataset,
    resolve,
)

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "DataSplits",
    "DatasetError",
    "DatasetSpec",
    "LoadContext",
    "RawData",
    "Split",
    "dataset_problems",
    "fractions",
    "load_dataset",
    "resolve",
]
