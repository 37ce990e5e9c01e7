"""NumPy arrays as a dataset: one .npz archive with arrays x and y, or a pair of .npy files.

Files are always read with allow_pickle=False, so a data file can never run code.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, choice_param
from nnstudio.training.data.base import DatasetError, DatasetSpec, LoadContext, RawData, require_classes
from nnstudio.training.data.splits import standardise

READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)


class _NotAnArray(Exception):
    """A stored member or file that is not a plain NumPy array; the message says what it is instead."""


def _check_header(stream: BinaryIO, size: int) -> None:
    """Read the .npy header and refuse, before anything is allocated, what np.load would choke on: object
    arrays (only a pickle stores them, and pickles can run code) and shapes the data cannot fill."""
    try:
        version = np.lib.format.read_magic(stream)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in reader:
            raise _NotAnArray(f"is in .npy format version {version[0]}.{version[1]}, which this reader does not know")
        shape, _, dtype = reader[version](stream)
    except _NotAnArray:
        raise
    except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError, TokenError ... on junk
        raise _NotAnArray(f"is not a .npy array ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject:
        raise _NotAnArray(f"holds Python objects (dtype {dtype}), which are never loaded: only a pickle "
                          "stores those, and a pickle can run code")
    needed = dtype.itemsize * math.prod(shape)
    left = size - stream.tell()
    if needed > left:
        raise _NotAnArray(f"declares shape {list(shape)} of {dtype} ({needed:,} bytes) but holds {max(left, 0):,}")


def _read_npy(path: Path, what: str) -> np.ndarray:
    _require_file(path)
    try:
        with open(path, "rb") as stream:
            if stream.read(6) == b"\x93NUMPY":
                stream.seek(0)
                _check_header(stream, path.stat().st_size)
        array = np.load(path, allow_pickle=False)
    except _NotAnArray as exc:
        raise DatasetError(f"{path}, {what}: {exc}") from None
    except READ_ERRORS as exc:
        raise DatasetError(f"{path}: cannot read {what} ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise DatasetError(f"{path}: is an .npz archive; for {what} give a single .npy array, or put x and y "
                           f"in the archive and leave y_path empty")
    return array


def _member(archive: Any, key: str, path: Path) -> np.ndarray:
    """Array `key` of an open .npz archive, its header checked first; a member that is anything but a
    plain numeric or text array gets one line naming the file and the member."""
    name = f"{key}.npy" if f"{key}.npy" in archive.zip.namelist() else key
    try:
        info = archive.zip.getinfo(name)
        with archive.zip.open(info) as stream:
            _check_header(stream, info.file_size)
        return archive[key]
    except _NotAnArray as exc:
        raise DatasetError(f"{path}, member {key!r}: {exc}") from None
    except Exception as exc:  # a damaged member fails inside zipfile or numpy in many ways; all mean "unreadable"
        raise DatasetError(f"{path}, member {key!r}: cannot be read ({type(exc).__name__}: {exc})") from None


def _read_inputs(path: Path) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """(x, y) when the file is an .npz archive, else the single array it holds."""
    _require_file(path)
    try:
        with open(path, "rb") as stream:
            is_npy = stream.read(6) == b"\x93NUMPY"
        if is_npy:
            return _read_npy(path, "the inputs")
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return loaded
        with loaded as archive:
            keys = set(archive.files)
            for key in ("x", "y"):
                if key not in keys:
                    found = ", ".join(sorted(keys)) or "nothing"
                    raise DatasetError(f"{path}: the archive has no array named {key!r} (it holds {found})")
            return _member(archive, "x", path), _member(archive, "y", path)
    except READ_ERRORS as exc:
        raise DatasetError(f"{path}: cannot read the arrays ({exc})") from None


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise DatasetError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")


def _inputs(x: np.ndarray, dtype: str, where: str) -> np.ndarray:
    """Inputs with at least one feature dim, checked for type and (for tokens) for valid ids."""
    if x.ndim == 0 or x.dtype.kind not in "biuf":
        raise DatasetError(f"{where}: x must be a numeric array with samples on the first axis, got dtype "
                           f"{x.dtype} and shape {list(x.shape)}")
    x = x.reshape(len(x), 1) if x.ndim == 1 else x
    if dtype == "int64":
        if x.dtype.kind == "f" and not (np.isfinite(x).all() and (x == np.round(x)).all()):
            raise DatasetError(f"{where}: x_dtype is int64 (token ids) but x holds fractional values")
        if x.size and x.min() < 0:
            raise DatasetError(f"{where}: token ids in x must be >= 0, found {int(x.min())}")
        return x.astype(np.int64)
    x = x.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
    if len(bad):
        raise DatasetError(f"{where}: x sample {int(bad[0])} holds NaN or infinity")
    return x


def _targets(y: np.ndarray, hint: str, where: str) -> tuple[np.ndarray, str, list[str] | None]:
    """Targets for the task: integer labels become classes under 'auto', floats regression."""
    if y.ndim == 0 or y.dtype.kind not in "biuf":
        raise DatasetError(f"{where}: y must be a numeric array with samples on the first axis, got dtype "
                           f"{y.dtype} and shape {list(y.shape)}")
    if not np.isfinite(y.astype(np.float64)).all():
        raise DatasetError(f"{where}: y holds NaN or infinity")
    task = hint if hint != "auto" else ("classification" if y.dtype.kind in "biu" else "regression")
    if task == "regression":
        return y.astype(np.float64).reshape(len(y), -1), task, None
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise DatasetError(f"{where}: class labels must have shape [N] or [N, 1], got {list(y.shape)}")
    distinct, labels = np.unique(y.reshape(-1), return_inverse=True)
    names = [str(int(v)) if float(v).is_integer() else str(v) for v in distinct]
    if task == "binary" and len(names) != 2:
        raise DatasetError(f"dataset.params.task: binary needs exactly 2 distinct values in y, found {len(names)}")
    require_classes(names, f"{where}, y")
    return labels.astype(np.int64), task, names


def _kind(x: np.ndarray, task: str) -> str:
    if x.dtype == np.int64:
        return "tokens"
    if x.ndim == 2:
        return "points2d" if x.shape[1] == 2 and task != "regression" else "tabular"
    return "sequence" if x.ndim == 3 else "image"


def load_numpy(values: dict[str, Any], context: LoadContext) -> RawData:
    path = context.resolve(values["path"], "path")
    pair = _read_inputs(path)
    if isinstance(pair, np.ndarray):
        if not values["y_path"].strip():
            raise DatasetError(f"dataset.params.y_path: {path} is a single array; give the .npy file of targets")
        pair = (pair, _read_npy(context.resolve(values["y_path"], "y_path"), "the targets"))
    where = str(path)
    x_raw, y_raw = pair
    if x_raw.ndim and y_raw.ndim and len(x_raw) != len(y_raw):
        raise DatasetError(f"{where}: x has {len(x_raw)} samples but y has {len(y_raw)}")
    for label, array in (("x", x_raw), ("y", y_raw)):
        if array.ndim and array.size == 0:
            raise DatasetError(f"{where}: {label} is empty (shape {list(array.shape)}), so there are no samples")
    x = _inputs(x_raw, values["x_dtype"], where)
    y, task, names = _targets(y_raw, values["task"], where)
    scale = values["standardize"] and x.dtype != np.int64

    def finish(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (standardise(x, train) if scale else x), y

    note = " Inputs are standardised per feature." if scale else ""
    return RawData(x=x, y=y, task=task, kind=_kind(x, task), num_classes=len(names) if names else None,
                   class_names=names, description=f"{path.name}: {len(x)} samples of shape "
                   f"{list(x.shape[1:])}, {task}.{note}", finish=finish)


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [] if values["path"].strip() else [("dataset.params.path", "choose a .npz or .npy file")]


NUMPY_SPEC = DatasetSpec(
    name="numpy", title="NumPy arrays", group="Your data",
    summary="Arrays x (samples first) and y: one .npz archive holding both, or two .npy files.",
    params=(
        ParamSpec("path", ParamKind.STRING, "", "An .npz archive with arrays x and y, or the .npy file of inputs."),
        ParamSpec("y_path", ParamKind.STRING, "", "The .npy file of targets, when path is an .npy file."),
        choice_param("task", "auto", ("auto", "classification", "binary", "regression"),
                     "What to predict. 'auto': integer y means classes, floating-point y regression."),
        choice_param("x_dtype", "float32", ("float32", "int64"),
                     "float32 for measurements and pixels, int64 for token ids fed to an embedding."),
        bool_param("standardize", False, "Scale each input feature to zero mean and unit variance "
                   "(training statistics)."),
    ),
    load=load_numpy, kind="tabular", task=None, val_fraction=0.2, test_fraction=0.1,
    path_params=("path", "y_path"), check=_check,
)
