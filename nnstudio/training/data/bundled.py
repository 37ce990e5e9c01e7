"""Small classic datasets that ship inside scikit-learn (no download), an optional extra.

Tabular features are standardised with statistics of the training split only. Regression
targets can be standardised the same way, which keeps a mean squared error near 1 at the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nnstudio.layers.params import bool_param
from nnstudio.training.data.base import EXTRA_HINT, DatasetError, DatasetSpec, LoadContext, RawData
from nnstudio.training.data.splits import standardise


def _sklearn_bunch(loader_name: str) -> Any:
    """Call sklearn.datasets.<loader_name>(), or explain how to get scikit-learn."""
    try:
        from sklearn import datasets
    except ImportError:
        raise DatasetError(f"dataset: scikit-learn is needed for the bundled datasets; {EXTRA_HINT}") from None
    return getattr(datasets, loader_name)()


def _load_digits(values: dict[str, Any], context: LoadContext) -> RawData:
    bunch = _sklearn_bunch("load_digits")
    pixels = np.asarray(bunch.data, np.float64) / 16.0
    flat = values["flat"]
    return RawData(
        x=pixels if flat else pixels.reshape(-1, 1, 8, 8), y=np.asarray(bunch.target, np.int64),
        task="classification", kind="tabular" if flat else "image", num_classes=10,
        class_names=[str(d) for d in range(10)], feature_names=[f"pixel {i}" for i in range(64)] if flat else None,
        description=f"{len(pixels)} handwritten digits, 8x8 grey pixels scaled to [0, 1].")


def _tabular(loader_name: str, task: str, text: str) -> Callable[[dict[str, Any], LoadContext], RawData]:
    """A loader for one of scikit-learn's small tables."""

    def load(values: dict[str, Any], context: LoadContext) -> RawData:
        bunch = _sklearn_bunch(loader_name)
        x = np.asarray(bunch.data, np.float64)
        y = np.asarray(bunch.target)
        names = [str(n) for n in bunch.target_names] if task != "regression" else None
        scale_target = task == "regression" and values.get("scale_target", False)

        def finish(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            target = standardise(y.reshape(-1, 1), train) if scale_target else y
            return standardise(x, train), target

        note = " Targets are standardised." if scale_target else ""
        return RawData(x=x, y=y, task=task, kind="tabular", num_classes=len(names) if names else None,
                       class_names=names, feature_names=[str(n) for n in bunch.feature_names],
                       description=f"{len(x)} samples, {x.shape[1]} standardised features. {text}{note}",
                       finish=finish)

    return load


def _bundled(name: str, title: str, summary: str, load: Callable[[dict[str, Any], LoadContext], RawData],
             kind: str, task: str, params: tuple = ()) -> DatasetSpec:
    return DatasetSpec(name=name, title=title, group="Bundled", summary=summary, params=params, load=load,
                       kind=kind, task=task, val_fraction=0.2, test_fraction=0.2)


BUNDLED: tuple[DatasetSpec, ...] = (
    _bundled("digits", "Digits (8x8)", "1,797 small images of handwritten digits 0-9.", _load_digits, "image",
             "classification",
             (bool_param("flat", False, "Give each image as 64 numbers instead of a 1x8x8 picture."),)),
    _bundled("iris", "Iris", "150 iris flowers, 4 measurements, 3 species.",
             _tabular("load_iris", "classification", "Which iris species is it?"), "tabular",
             "classification"),
    _bundled("wine", "Wine", "178 wines, 13 chemical measurements, 3 cultivars.",
             _tabular("load_wine", "classification", "Which cultivar made the wine?"), "tabular",
             "classification"),
    _bundled("breast_cancer", "Breast cancer", "569 tumour samples, 30 features, malignant or benign.",
             _tabular("load_breast_cancer", "binary", "Target 1 means benign, 0 malignant."), "tabular",
             "binary"),
    _bundled("diabetes", "Diabetes", "442 patients, 10 features, disease progression after one year.",
             _tabular("load_diabetes", "regression", "Predict disease progression one year on."), "tabular",
             "regression",
             (bool_param("scale_target", True, "Standardise the target with training-split statistics."),)),
)
