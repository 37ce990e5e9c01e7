"""Data files from a hostile-input probe: very wide CSVs, one-class data in every format, and .npz members
that are not arrays. Each gets a result or one line naming the file (and member), never a traceback."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from nnstudio.training.data import DatasetError, csv_table, load_dataset
from nnstudio.training.data.base import require_classes

COLUMNS = 20_000


def _csv(tmp_path: Path, columns: int, rows: int) -> Path:
    header = ",".join(f"c{k}" for k in range(columns)) + ",label"
    lines = [",".join(str((r * 7 + k) % 5) for k in range(columns)) + f",{r % 2}" for r in range(rows)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_a_wide_csv_loads_with_one_lookup_per_column(tmp_path: Path, monkeypatch) -> None:
    path = _csv(tmp_path, COLUMNS, 6)
    lookups = []
    real_index = csv_table.Table.index
    monkeypatch.setattr(csv_table.Table, "index", lambda self, name: lookups.append(name) or real_index(self, name))
    calls: list[tuple[int, int]] = []
    section = {"name": "csv", "params": {"path": path.name}, "val_fraction": 0.34}
    data = load_dataset(section, seed=0, base_dir=tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert data.input_shape == (COLUMNS,) and data.num_classes == 2
    assert len(lookups) <= 2  # the target column; features are read by position, not looked up in a list
    assert calls and calls[-1][0] == calls[-1][1] == path.stat().st_size


def test_progress_is_reported_while_a_long_file_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(csv_table, "PROGRESS_STEP_ROWS", 10)
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "".join(f"{k},{k % 3}\n" for k in range(100)))
    calls: list[tuple[int, int]] = []
    table = csv_table.read_table(path, progress=lambda done, total: calls.append((done, total)))
    assert len(table.rows) == 100 and len(calls) == 11
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(total == len(path.read_text()) for _, total in calls)


def test_a_missing_column_in_a_wide_csv_stays_one_short_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, 500, 4)
    section = {"name": "csv", "params": {"path": path.name, "target": "nope"}}
    with pytest.raises(DatasetError, match=r"has no column 'nope'; its columns are c0, .*c19 and 481 more") as caught:
        load_dataset(section, seed=0, base_dir=tmp_path)
    assert len(str(caught.value)) < 400


ONE_CLASS = "a single class, {name!r}, so there is nothing to classify"


def test_one_class_is_refused_the_same_way_everywhere(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("a,label\n1,cat\n2,cat\n3,cat\n")
    with pytest.raises(DatasetError, match=ONE_CLASS.format(name="cat")) as csv_error:
        load_dataset({"name": "csv", "params": {"path": "one.csv"}}, seed=0, base_dir=tmp_path)
    assert "one.csv, column 'label'" in str(csv_error.value)

    folder = tmp_path / "pictures" / "cats"
    folder.mkdir(parents=True)
    for k in range(4):
        Image.new("RGB", (4, 4), (k, 0, 0)).save(folder / f"{k}.png")
    with pytest.raises(DatasetError, match=ONE_CLASS.format(name="cats")) as image_error:
        load_dataset({"name": "image_folder", "params": {"path": "pictures"}}, seed=0, base_dir=tmp_path)
    assert str(image_error.value).startswith(str(tmp_path / "pictures"))

    np.savez(tmp_path / "one.npz", x=np.ones((6, 2)), y=np.full(6, 3))
    with pytest.raises(DatasetError, match=ONE_CLASS.format(name="3")) as npz_error:
        load_dataset({"name": "numpy", "params": {"path": "one.npz"}}, seed=0, base_dir=tmp_path)
    assert "one.npz, y" in str(npz_error.value)


def test_the_shared_class_check() -> None:
    require_classes(["a", "b"], "here")
    with pytest.raises(DatasetError, match="^here: no class so there is nothing"):
        require_classes([], "here")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _header(text: str) -> bytes:
    header = text.encode("latin1")
    pad = 63 - (10 + len(header)) % 64
    return b"\x93NUMPY\x01\x00" + (len(header) + pad + 1).to_bytes(2, "little") + header + b" " * pad + b"\n"


def _archive(path: Path, x: bytes, y: bytes | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", x)
        archive.writestr("y.npy", y if y is not None else _npy(np.arange(4) % 2))
    return path


HUGE = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"
BAD_MEMBERS = [
    (_npy(np.array([{"a": 1}, None, 2, 3], dtype=object)), r"member 'x': holds Python objects .* never loaded"),
    (b"hello world, not an array", r"member 'x': is not a \.npy array"),
    (_header(HUGE), r"member 'x': declares shape \[1000000000, 1000000000\] of float64 .* but holds 0"),
    (_header("{'descr': 'what', 'fortran_order': False, 'shape': (4,), }"), r"member 'x': is not a \.npy array"),
    (b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'shape': (3,  \n", r"member 'x': is not a \.npy array"),
    (_npy(np.array(3.0)), r"x must be a numeric array with samples on the first axis"),
    (_npy(np.array(["a", "b", "c", "d"])), r"x must be a numeric array"),
]


@pytest.mark.parametrize(("member", "message"), BAD_MEMBERS)
def test_npz_members_that_are_not_arrays(tmp_path: Path, member: bytes, message: str) -> None:
    path = _archive(tmp_path / "data.npz", member)
    with pytest.raises(DatasetError, match=message) as caught:
        load_dataset({"name": "numpy", "params": {"path": "data.npz"}}, seed=0, base_dir=tmp_path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_forged_npy_file_is_refused_before_it_is_allocated(tmp_path: Path) -> None:
    (tmp_path / "x.npy").write_bytes(_header(HUGE))
    np.save(tmp_path / "y.npy", np.arange(4))
    with pytest.raises(DatasetError, match=r"x\.npy, the inputs: declares shape"):
        load_dataset({"name": "numpy", "params": {"path": "x.npy", "y_path": "y.npy"}}, seed=0, base_dir=tmp_path)


def test_cli_names_the_member_with_exit_2(tmp_path: Path, capsys) -> None:
    from nnstudio.cli import main
    from nnstudio.io.project_file import save
    from tests.helpers import mlp

    _archive(tmp_path / "data.npz", _npy(np.array([None] * 4, dtype=object)))
    project = mlp(width=4).project
    project.dataset = {"name": "numpy", "params": {"path": "data.npz"}}
    save(project, tmp_path / "p.nnstudio")
    assert main(["train", str(tmp_path / "p.nnstudio"), "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "data.npz, member 'x': holds Python objects" in err and "internal error" not in err


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=96), st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"\x93NUMPY\x03\x00"]))
def test_fuzzed_members_give_a_dataset_error(tmp_path: Path, tail: bytes, magic: bytes) -> None:
    path = _archive(tmp_path / "fuzz.npz", magic + tail)
    with contextlib.suppress(DatasetError):
        load_dataset({"name": "numpy", "params": {"path": "fuzz.npz"}}, seed=0, base_dir=tmp_path)
    assert path.exists()
