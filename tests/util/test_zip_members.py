"""Members of an untrusted archive are read within bounds: by `nnstudio import` and by --init-weights alike."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from nnstudio.training.init_weights import WeightsError, read_weight_source
from nnstudio.util import zip_members
from nnstudio.util.zip_members import MemberError, read_member, size_text


def _bomb(path: Path, megabytes: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", '{"format": "nnstudio.bundle"}')
        zeros = bytes(2**20)
        with archive.open("model.safetensors", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(zeros)
    return path


def test_init_weights_refuses_a_zip_bomb_too(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"bomb\.zip: model\.safetensors expands \d+:1 .* zip bomb"):
        read_weight_source(_bomb(tmp_path / "bomb.zip", 20))


def test_small_members_may_compress_well(tmp_path: Path) -> None:
    path = tmp_path / "small.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros", bytes(2**20))
    with zipfile.ZipFile(path) as archive:
        assert read_member(archive, archive.getinfo("zeros"), 2**30) == bytes(2**20)


def test_the_member_limit_and_the_memory_bound(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", b"x" * 5000)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("data")
        with pytest.raises(MemberError, match=r"^data is 4\.9 KiB, over the 100 bytes limit"):
            read_member(archive, info, 100)
        monkeypatch.setattr(zip_members, "available_memory", lambda: 2000)
        with pytest.raises(MemberError, match="over the 1,000 bytes limit"):
            read_member(archive, info, 2**30)


def test_sizes_read_well() -> None:
    sizes = (10, 3000, 3 * 2**20, 5 * 2**30)
    assert [size_text(n) for n in sizes] == ["10 bytes", "2.9 KiB", "3.0 MiB", "5.0 GiB"]
