"""A full disk during export: one line naming the path and "no space left", the earlier file kept, no abort.

The disk is simulated: the free-space check is patched, or the write itself fails with ENOSPC after writing
part of the data, which is what a real full disk does. Leftovers of killed exports are removed on the next one.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.io.export import ExportError, disk, export_model
from nnstudio.io.export.formats import FORMATS, missing_modules
from nnstudio.io.export.staging import MARKER, REPLACED, remove_leftovers
from tests.helpers import mlp

FORMAT_NAMES = [name for name in FORMATS if not missing_modules(FORMATS[name])]


@pytest.fixture(scope="module")
def project():
    return mlp(width=8).project


def _earlier(out: Path) -> bytes:
    """An earlier export at the destination, which a failed export must leave exactly as it was."""
    if not out.suffix:
        out.mkdir()
        (out / MARKER).write_text("{}", encoding="utf-8")
        return (out / MARKER).read_bytes()
    out.write_bytes(b"the earlier export")
    return out.read_bytes()


def _out(tmp_path: Path, name: str) -> Path:
    info = FORMATS[name]
    return tmp_path / (f"m{info.extension}" if info.extension else "m_python")


def _kept(out: Path, before: bytes) -> bool:
    return (out / MARKER).read_bytes() == before if out.is_dir() else out.read_bytes() == before


def _full_disk(monkeypatch, after_writes: int = 0) -> list[Path]:
    """Make disk.write_bytes' open() hit ENOSPC after `after_writes` whole files, half-way into the next."""
    written: list[Path] = []
    real_open = open

    class Full:
        def __init__(self, path, mode):
            self.stream = real_open(path, mode)
            self.path = Path(path)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, data: bytes) -> int:
            if len(written) >= after_writes:
                self.stream.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(self.path)
            return self.stream.write(data)

    monkeypatch.setattr(disk, "open", Full, raising=False)
    return written


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_write_that_hits_a_full_disk_is_one_clear_error(project, tmp_path: Path, monkeypatch, name: str) -> None:
    out = _out(tmp_path, name)
    before = _earlier(out)
    _full_disk(monkeypatch)
    with pytest.raises(ExportError) as caught:
        export_model(project, name, out)
    assert str(caught.value) == f"cannot write {out}: no space left on device"
    assert caught.value.bad_input and "\n" not in str(caught.value)
    assert _kept(out, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "the staging folder is removed"


@pytest.mark.parametrize("writes", [1, 3, 6])
def test_a_python_export_that_fills_the_disk_later_leaves_nothing(
    project, tmp_path: Path, monkeypatch, writes: int
) -> None:
    project = mlp(width=8, classes=2).project
    project.dataset = {"name": "spirals", "params": {"samples": 40}}
    project.training = {"epochs": 1, "batch_size": 8}
    out = tmp_path / "py"
    written = _full_disk(monkeypatch, after_writes=writes)
    with pytest.raises(ExportError, match="no space left on device"):
        export_model(project, "python", out)
    assert len(written) == writes
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_too_little_free_space_is_refused_before_writing(project, tmp_path: Path, monkeypatch, name: str) -> None:
    out = _out(tmp_path, name)
    monkeypatch.setattr(disk, "free_space", lambda folder: 100)
    with pytest.raises(ExportError) as caught:
        export_model(project, name, out)
    assert str(caught.value).startswith(f"cannot write {out}: no space left on device (needs ")
    assert str(caught.value).endswith(", 100 B free)")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_zipping_the_bundle(project, tmp_path: Path, monkeypatch) -> None:
    import zipfile

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    out = tmp_path / "b.zip"
    with pytest.raises(ExportError, match=f"^cannot write {out}: no space left on device$"):
        export_model(project, "bundle", out)
    assert list(tmp_path.iterdir()) == []


def test_the_cli_says_one_line_and_exits_2(project, tmp_path: Path, monkeypatch, capsys) -> None:
    save(project, tmp_path / "p.nnstudio")
    out = tmp_path / "m.pt2"
    out.write_bytes(b"earlier")
    _full_disk(monkeypatch)
    code = main(["export", str(tmp_path / "p.nnstudio"), "-f", "exported-program", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.splitlines() == [err] and str(out) in err and "no space left" in err
    assert out.read_bytes() == b"earlier"


def _dead_pid() -> int:
    """The id of a process that has exited: a child we started and waited for."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(child.stdout)


@pytest.mark.skipif(os.name == "nt", reason="liveness is not probed on Windows, so nothing is removed there")
def test_leftovers_of_dead_exports_are_removed_and_a_swapped_out_folder_comes_back(project, tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".m.pt.{dead}.abcd_123.partial"
    (stale / "m.pt").parent.mkdir()
    (stale / "m.pt").write_bytes(b"half")
    live = tmp_path / f".m.pt.{alive}.zzzz9999.partial"
    live.mkdir()
    swapped = tmp_path / f".py.{dead}.q1w2e3r4.partial"
    (swapped / REPLACED).mkdir(parents=True)
    (swapped / REPLACED / MARKER).write_text("{}", encoding="utf-8")
    foreign = tmp_path / ".notes.partial"
    foreign.mkdir()
    export_model(project, "torchscript", tmp_path / "other.pt")
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"other.pt", live.name, "py", foreign.name}
    assert (tmp_path / "py" / MARKER).read_text(encoding="utf-8") == "{}", "the earlier export is back"
    assert remove_leftovers(tmp_path) == []


def test_the_staging_folder_is_named_after_the_process(project, tmp_path: Path, monkeypatch) -> None:
    seen = []
    real = disk.write_bytes

    def spy(path: Path, data: bytes) -> None:
        seen.append(path)
        real(path, data)

    monkeypatch.setattr("nnstudio.io.export.graph_formats.write_bytes", spy)
    export_model(project, "torchscript", tmp_path / "m.pt")
    assert seen[0].parent.name.startswith(f".m.pt.{os.getpid()}.") and seen[0].parent.name.endswith(".partial")
