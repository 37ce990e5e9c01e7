"""The probe's cases: bundles, data files, checkpoints and a full disk (see probe_reliability.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
from probe_cases import Case, example, small


def _nnstudio(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "nnstudio", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=True)


@cache
def _trained() -> Path:
    """A project trained for two epochs with a checkpoint, and its bundle: built once per probe run."""
    folder = Path(tempfile.mkdtemp(prefix="nnstudio-probe-base-"))
    project = small(example())
    project["training"]["epochs"] = 2
    (folder / "p.nnstudio").write_text(json.dumps(project), encoding="utf-8")
    _nnstudio("train", "p.nnstudio", "--out", "run", cwd=folder)
    _nnstudio("export", "p.nnstudio", "--format", "bundle", "--out", "b.zip", "--checkpoint", "run/checkpoints/last",
              cwd=folder)
    return folder


def _rewrite_bundle(target: Path, replace: dict[str, bytes], suffix: str = ".zip") -> Path:
    source = _trained() / "b.zip"
    path = target / f"b{suffix}"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info))
        for name, data in replace.items():
            dst.writestr(name, data)
    return path


def _bundle_case(name: str, replace: dict[str, bytes] | None = None, suffix: str = ".zip",
                 expect: str = "refuse", raw: bytes | None = None) -> Case:
    def prepare(folder: Path) -> list[str]:
        if raw is not None:
            path = folder / f"b{suffix}"
            path.write_bytes(raw)
        else:
            path = _rewrite_bundle(folder, replace or {}, suffix)
        return ["import", str(path), "--out", str(folder / "imported.nnstudio")]
    return Case(f"bundle/{name}", prepare, expect)


def _manifest(**changes: object) -> bytes:
    with zipfile.ZipFile(_trained() / "b.zip") as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    manifest.update(changes)
    return json.dumps(manifest).encode()


def bundle_cases() -> list[Case]:
    bomb = b"0" * (1 << 30)  # 1 GiB of zeros compresses to about 1 MB
    deep = b"[" * 200000 + b"]" * 200000
    valid = (_trained() / "b.zip").read_bytes
    return [_bundle_case("valid", expect="accept"), _bundle_case("upper-case-ZIP", suffix=".ZIP", expect="accept"),
            _bundle_case("zip-bomb-weights", {"model.safetensors": bomb}),
            _bundle_case("zip-bomb-history", {"history.json": bomb}),
            _bundle_case("deep-history", {"history.json": deep}),
            _bundle_case("manifest-version-one", {"manifest.json": _manifest(version="one")}),
            _bundle_case("manifest-version-99", {"manifest.json": _manifest(version=99)}),
            _bundle_case("manifest-not-json", {"manifest.json": b"{nope"}),
            _bundle_case("project-not-json", {"project.nnstudio": b"\x00\x01"}),
            _bundle_case("weights-garbage", {"model.safetensors": os.urandom(2000)}),
            _bundle_case("traversal-member", {"../../escape.txt": b"x"}, expect="accept"),  # read, never extracted
            _bundle_case("not-a-zip", raw=b"PK\x03\x04 this is not a zip"),
            _bundle_case("truncated", raw=valid()[:5000]),
            _bundle_case("empty-file", raw=b"")]


def _data_case(name: str, dataset: str, write, expect: str = "refuse") -> Case:
    def prepare(folder: Path) -> list[str]:
        relative = write(folder)
        project = small(example())
        project["dataset"] = {"name": dataset, "params": {"path": relative}}
        project["graph"]["nodes"][0]["params"]["shape"] = [2]
        (folder / "p.nnstudio").write_text(json.dumps(project), encoding="utf-8")
        return ["train", str(folder / "p.nnstudio"), "--epochs", "1", "--out", str(folder / "run")]
    return Case(f"data/{name}", prepare, expect)


def _csv(text: str, encoding: str = "utf-8"):
    def write(folder: Path) -> str:
        (folder / "d.csv").write_bytes(text.encode(encoding))
        return "d.csv"
    return write


def _npz(**arrays):
    def write(folder: Path) -> str:
        np.savez(folder / "d.npz", **arrays)
        return "d.npz"
    return write


def _images(classes: int):
    def write(folder: Path) -> str:
        from PIL import Image  # only when Pillow is there: the datasets extra

        for c in range(classes):
            (folder / "img" / f"c{c}").mkdir(parents=True)
            for i in range(6):
                Image.new("RGB", (4, 4), (40 * c, 10 * i, 0)).save(folder / "img" / f"c{c}" / f"{i}.png")
        return "img"
    return write


def _wide_csv(columns: int):
    def write(folder: Path) -> str:
        header = ",".join(f"c{i}" for i in range(columns)) + ",label"
        rows = [",".join(["0.5"] * columns) + f",{i % 2}" for i in range(4)]
        (folder / "d.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return "d.csv"
    return write


def data_cases() -> list[Case]:
    good = "a,b,label\n" + "".join(f"{i * 0.1},{1 - i * 0.1},{i % 2}\n" for i in range(40))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)).astype("float32"), (np.arange(40) % 2).astype("int64")
    return [_data_case("csv-valid", "csv", _csv(good), "accept"),
            _data_case("csv-bom", "csv", _csv("\ufeff" + good), "accept"),
            _data_case("csv-one-class", "csv", _csv("a,b,label\n" + "1,2,0\n" * 20)),
            _data_case("csv-empty", "csv", _csv("")),
            _data_case("csv-header-only", "csv", _csv("a,b,label\n")),
            _data_case("csv-ragged", "csv", _csv("a,b,label\n1,2\n3,4,5,6\n")),
            _data_case("csv-latin1", "csv", _csv("a,é,label\n1,2,0\n", "latin-1")),
            _data_case("csv-80000-columns", "csv", _wide_csv(80000)),
            _data_case("npz-valid", "numpy", _npz(x=x, y=y), "accept"),
            _data_case("npz-object", "numpy", _npz(x=np.array([{"a": 1}] * 40, dtype=object), y=y)),
            _data_case("npz-scalar", "numpy", _npz(x=np.float32(1.0), y=y)),
            _data_case("npz-missing-y", "numpy", _npz(x=x)),
            _data_case("npz-length-mismatch", "numpy", _npz(x=x, y=y[:10])),
            _data_case("npz-nan", "numpy", _npz(x=np.full((40, 2), np.nan, "float32"), y=y)),
            _data_case("npz-not-zip", "numpy", lambda f: (f / "d.npz").write_bytes(b"nope") or "d.npz"),
            _data_case("images-one-class", "image_folder", _images(1)),
            _data_case("images-missing", "image_folder", lambda f: "nowhere")]


def _checkpoint_case(name: str, damage, extra: tuple[str, ...] = (), expect: str = "refuse") -> Case:
    def prepare(folder: Path) -> list[str]:
        shutil.copytree(_trained() / "run", folder / "run")
        shutil.copy(_trained() / "p.nnstudio", folder / "p.nnstudio")
        damage(folder / "run" / "checkpoints" / "last")
        return ["train", str(folder / "p.nnstudio"), "--resume", str(folder / "run" / "checkpoints" / "last"),
                "--epochs", "3", *extra]
    return Case(f"checkpoint/{name}", prepare, expect)


def _edit_state(**changes: object):
    def damage(last: Path) -> None:
        import torch

        state = torch.load(last / "trainer_state.pt", weights_only=True)
        loop = state.get("loop", state)
        loop.update(changes)
        torch.save(state, last / "trainer_state.pt")
    return damage


def _write(member: str, data: bytes):
    return lambda last: (last / member).write_bytes(data)


def _kill_during_training(seconds: float) -> Case:
    def prepare(folder: Path) -> list[str]:
        project = small(example())
        project["training"]["epochs"] = 30  # about 10 s of training: every kill lands mid-run
        (folder / "p.nnstudio").write_text(json.dumps(project), encoding="utf-8")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        proc = subprocess.Popen([sys.executable, "-m", "nnstudio", "train", "p.nnstudio", "--out", "run"], cwd=folder,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (folder / "run" / "checkpoints" / "last").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(seconds)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return ["train", "p.nnstudio", "--resume", "run/checkpoints/last"]

    def lost(folder: Path) -> str | None:
        return None if (folder / "run" / "checkpoints" / "last").is_dir() else "no checkpoints/last after kill -9"
    return Case(f"checkpoint/kill-9-after-{seconds:.2f}s", prepare, "accept", lost)


def checkpoint_cases() -> list[Case]:
    return [_checkpoint_case("valid-resume", lambda last: None, expect="accept"),
            _checkpoint_case("epoch-1e6", _edit_state(epoch=10**6)),
            _checkpoint_case("step-negative", _edit_state(step=-5)),
            _checkpoint_case("history-corrupt", _write("history.json", b"{not json")),
            _checkpoint_case("state-garbage", _write("trainer_state.pt", os.urandom(3000))),
            _checkpoint_case("weights-garbage", _write("model.safetensors", os.urandom(3000))),
            _checkpoint_case("resume-lr-override", lambda last: None, ("--lr", "0.5"), expect="accept"),
            *[_kill_during_training(s) for s in (0.0, 0.13, 0.37, 0.71, 1.1, 1.9)]]


def _disk_case(fmt: str, suffix: str) -> Case:
    mount = Path(tempfile.mkdtemp(prefix="nnstudio-probe-disk-"))

    def prepare(folder: Path) -> list[str] | None:
        if os.geteuid() != 0:
            return None
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], check=True)
        target = mount / f"m{suffix}"
        if suffix:
            target.write_bytes(b"the previous export")
        else:
            target.mkdir()
            (target / "previous.txt").write_bytes(b"the previous export")
        project = small(example())
        project["graph"]["nodes"][1]["params"]["out_features"] = 2048  # half a megabyte of weights
        (folder / "p.nnstudio").write_text(json.dumps(project), encoding="utf-8")
        return ["export", str(folder / "p.nnstudio"), "--format", fmt, "--out", str(target)]

    def lost(folder: Path) -> str | None:
        target = mount / f"m{suffix}"
        try:
            exists = target.exists()
            leftovers = [p.name for p in mount.iterdir() if p.name != target.name]
        finally:
            subprocess.run(["umount", str(mount)], check=False)
        if not exists:
            return "the previous export is gone"
        return f"leftover: {leftovers}" if leftovers else None
    return Case(f"full-disk/{fmt}", prepare, "refuse", lost)


def disk_cases() -> list[Case]:
    return [_disk_case(fmt, suffix) for fmt, suffix in
            (("torchscript", ".pt"), ("exported-program", ".pt2"), ("bundle", ".zip"), ("onnx", ".onnx"),
             ("safetensors", ".safetensors"), ("python", ""))]
