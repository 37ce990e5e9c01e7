"""A bundle is untrusted: a zip bomb, a deep JSON record or a forged manifest gets one line naming the member,
never a traceback and never gigabytes of memory."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save

from nnstudio.cli import main
from nnstudio.compile import build_module
from nnstudio.io.importing import BundleError, open_bundle
from nnstudio.io.project_file import dumps
from nnstudio.util import zip_members
from tests.helpers import mlp

PROJECT = mlp(width=4).project
MANIFEST = {"format": "nnstudio.bundle", "version": 1, "trained": False}


BASE = {
    "manifest.json": json.dumps(MANIFEST).encode(),
    "project.nnstudio": dumps(PROJECT).encode(),
    "model.safetensors": save(build_module(PROJECT).module.state_dict()),
}


def _members(**replace: bytes | None) -> dict[str, bytes]:
    members = {**BASE, **replace}
    return {name: data for name, data in members.items() if data is not None}


def _bundle(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _bomb(path: Path, megabytes: int) -> Path:
    """A valid bundle whose weights member is `megabytes` MiB of zeros, a few hundred KiB compressed."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in _members(**{"model.safetensors": None}).items():
            archive.writestr(name, data)
        zeros = bytes(2**20)
        with archive.open("model.safetensors", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(zeros)
    return path


def test_a_plain_bundle_opens(tmp_path: Path) -> None:
    opened = open_bundle(_bundle(tmp_path / "run.zip", _members()))
    assert set(opened.state) == set(build_module(PROJECT).module.state_dict())
    assert opened.compiled().module is not None


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.zip", 64)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(BundleError, match=r"bomb\.zip: model\.safetensors expands \d+:1 .*zip bomb"):
            open_bundle(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # the 64 MiB were never decompressed


def test_the_total_uncompressed_size_is_bounded(tmp_path: Path, monkeypatch) -> None:
    path = _bundle(tmp_path / "run.zip", _members())
    monkeypatch.setattr(zip_members, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(BundleError, match=r"run\.zip: project\.nnstudio, model\.safetensors expand to .* over the"):
        open_bundle(path)


def test_the_limit_follows_the_available_memory(monkeypatch) -> None:
    monkeypatch.setattr(zip_members, "available_memory", lambda: 2**30)
    assert zip_members.total_limit() == 2**29
    monkeypatch.setattr(zip_members, "available_memory", lambda: None)
    assert zip_members.total_limit() == zip_members.MAX_TOTAL_BYTES


def test_a_member_is_read_in_chunks_against_a_running_cap(tmp_path: Path, monkeypatch) -> None:
    """A member that yields more than its header declares is stopped once past the declared size."""
    path = _bundle(tmp_path / "run.zip", _members())
    real_open = zipfile.ZipFile.open

    def lying_open(self, name, *args, **kwargs):
        stream = real_open(self, name, *args, **kwargs)
        if getattr(name, "filename", name) == "model.safetensors":
            stream.read = lambda size=-1: b"x" * (size if size > 0 else 10)
        return stream

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(BundleError, match="model.safetensors holds more than .* its header declares"):
        open_bundle(path)


@pytest.mark.parametrize(
    ("member", "data", "message"),
    [
        ("history.json", b"[" * 200_000 + b"]" * 200_000, "history.json is nested too deeply"),
        ("history.json", b'{"a": 1', "history.json is not valid JSON"),
        ("history.json", b"\xff\xfe", "history.json is not valid JSON"),
        ("manifest.json", json.dumps({**MANIFEST, "version": "one"}).encode(), "version must be a whole number"),
        ("manifest.json", json.dumps({**MANIFEST, "version": True}).encode(), "version must be a whole number"),
        ("manifest.json", json.dumps({**MANIFEST, "version": 2}).encode(), "newer than this nnstudio reads"),
        ("manifest.json", b"[" * 100_000, "manifest.json is nested too deeply"),
        ("environment.json", b"[1, 2]", "environment.json must hold an object"),
        ("environment.json", b"[]", "environment.json must hold an object"),
        ("model.safetensors", b"not safetensors", "model.safetensors is not a readable safetensors file"),
    ],
    ids=[
        "deep-history",
        "cut-history",
        "binary-history",
        "version-word",
        "version-bool",
        "version-new",
        "deep-manifest",
        "list-environment",
        "empty-list-environment",
        "junk-weights",
    ],
)
def test_bad_members_get_one_line(tmp_path: Path, member: str, data: bytes, message: str) -> None:
    with pytest.raises(BundleError, match=message) as caught:
        open_bundle(_bundle(tmp_path / "run.zip", _members(**{member: data})))
    assert str(caught.value).startswith(f"{tmp_path / 'run.zip'}: ") and "\n" not in str(caught.value)


def test_a_damaged_member_names_it(tmp_path: Path) -> None:
    path = _bundle(tmp_path / "run.zip", _members())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("project.nnstudio")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0xFF  # corrupt the compressed stream: a bad CRC or a deflate error
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="project.nnstudio"):
        open_bundle(path)


def test_cli_refuses_a_bomb_and_reads_an_upper_case_zip(tmp_path: Path, capsys) -> None:
    bomb = _bomb(tmp_path / "BOMB.ZIP", 20)
    assert main(["import", str(bomb), "--out", str(tmp_path / "a.nnstudio")]) == 2
    err = capsys.readouterr().err.strip()
    assert "BOMB.ZIP: model.safetensors expands" in err and len(err.splitlines()) == 1
    upper = _bundle(tmp_path / "RUN.ZIP", _members())
    assert main(["import", str(upper), "--out", str(tmp_path / "b.nnstudio")]) == 0
    assert "opened bundle" in capsys.readouterr().out and (tmp_path / "b.safetensors").is_file()


def test_cli_deep_history_exit_2(tmp_path: Path, capsys) -> None:
    path = _bundle(tmp_path / "run.zip", _members(**{"history.json": b"[" * 200_000}))
    assert main(["import", str(path), "--out", str(tmp_path / "a.nnstudio")]) == 2
    assert "history.json is nested too deeply" in capsys.readouterr().err


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
MEMBERS = ("manifest.json", "history.json", "environment.json", "project.nnstudio", "model.safetensors")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(MEMBERS), json_values | st.binary(max_size=64), st.booleans())
def test_fuzzed_members_open_or_give_a_bundle_error(tmp_path: Path, member: str, value, as_manifest: bool) -> None:
    if isinstance(value, bytes):
        data = value
    elif member == "manifest.json" and as_manifest:
        data = json.dumps({**MANIFEST, "version": value}).encode()
    else:
        data = json.dumps(value).encode()
    path = _bundle(tmp_path / "fuzz.zip", _members(**{member: data}))
    try:
        open_bundle(path).compiled()
    except BundleError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
