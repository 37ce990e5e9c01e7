"""Open an nnstudio bundle (.zip) without running anything from it.

Only the project (JSON), the weights (safetensors) and the JSON records are read; the TorchScript,
torch.export and ONNX files inside are for other tools and are never loaded here.

A bundle is untrusted input, so a small archive must not be able to claim a lot of memory (a zip
bomb): members are read through nnstudio.util.zip_members, which bounds their total size, their
compression ratio and the memory they take, and decompresses them in chunks against a running cap.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors

from nnstudio.compile import CompiledModel, CompileError, build_module
from nnstudio.compile.weights import check_weights
from nnstudio.io.project_file import MAX_FILE_BYTES, loads
from nnstudio.io.reader import ProjectFileError
from nnstudio.model.project import Project
from nnstudio.training.recipes.registry import export_model as recipe_export_model
from nnstudio.util.zip_members import MAX_TOTAL_BYTES, MemberError, check_total, read_member

BUNDLE_FORMAT = "nnstudio.bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
PROJECT = "project.nnstudio"
WEIGHTS = "model.safetensors"
HISTORY = "history.json"
ENVIRONMENT = "environment.json"
MAX_JSON_BYTES = 64 * 2**20
MAX_WEIGHTS_BYTES = MAX_TOTAL_BYTES


class BundleError(Exception):
    """A bundle that cannot be opened; the message names the archive and the member at fault."""


@dataclass
class Bundle:
    path: Path
    manifest: dict[str, Any]
    project: Project
    state: dict[str, torch.Tensor]
    history: Any | None = None
    environment: dict[str, Any] = field(default_factory=dict)

    def compiled(self) -> CompiledModel:
        """The project compiled with the bundle's weights loaded (they must match exactly)."""
        try:
            compiled = recipe_export_model(build_module(self.project), self.project)  # a GAN's: its generator
        except CompileError as exc:
            reason = exc.diagnostics[0].message if exc.diagnostics else str(exc)
            raise BundleError(f"{self.path}: {PROJECT} does not compile: {reason}") from None
        report = check_weights(compiled.module, self.state)
        if not report.ok:
            raise BundleError(f"{self.path}: the weights do not match the project's graph: {report.describe()}")
        compiled.module.load_state_dict(self.state)
        return compiled


def open_bundle(path: str | os.PathLike[str]) -> Bundle:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            reader = _Reader(path, archive)
            manifest = _check_manifest(path, reader.json(MANIFEST, required=True))
            reader.check_total((PROJECT, WEIGHTS, ENVIRONMENT, HISTORY))
            project = reader.project()
            state = reader.weights()
            environment = reader.json(ENVIRONMENT)
            environment = {} if environment is None else environment
            if not isinstance(environment, dict):
                raise BundleError(f"{path}: {ENVIRONMENT} must hold an object, not {type(environment).__name__}")
            return Bundle(path, manifest, project, state, reader.json(HISTORY), environment)
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except zipfile.BadZipFile:
        raise BundleError(f"{path}: not a zip archive, so not an nnstudio bundle") from None
    except OSError as exc:
        raise BundleError(f"{path}: {exc.strerror or exc}") from None


def _check_manifest(path: Path, manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}: not an nnstudio bundle ({MANIFEST} does not say {BUNDLE_FORMAT!r})")
    version = manifest.get("version", BUNDLE_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BundleError(f"{path}: {MANIFEST}: version must be a whole number from 1, got {version!r}")
    if version > BUNDLE_VERSION:
        raise BundleError(f"{path}: bundle version {version} is newer than this nnstudio reads "
                          f"({BUNDLE_VERSION}); update nnstudio")
    return manifest


class _Reader:
    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive

    def check_total(self, names: tuple[str, ...]) -> None:
        """Refuse before reading anything when the members would, together, take too much memory."""
        try:
            check_total(self.archive, names)
        except MemberError as exc:
            raise BundleError(f"{self.path}: {exc}") from None

    def read(self, name: str, limit: int, required: bool) -> bytes | None:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            if required:
                raise BundleError(f"{self.path}: the bundle has no {name}") from None
            return None
        try:
            return read_member(self.archive, info, limit)
        except MemberError as exc:
            raise BundleError(f"{self.path}: {exc}") from None

    def json(self, name: str, required: bool = False) -> Any | None:
        data = self.read(name, MAX_JSON_BYTES, required)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            raise BundleError(f"{self.path}: {name} is not valid JSON ({exc})") from None
        except RecursionError:
            raise BundleError(f"{self.path}: {name} is nested too deeply to be read") from None

    def project(self) -> Project:
        data = self.read(PROJECT, MAX_FILE_BYTES, True)
        try:
            return loads(data)
        except ProjectFileError as exc:
            raise BundleError(f"{self.path}: {PROJECT}: {exc}") from None
        except (ValueError, RecursionError) as exc:  # what the project reader may not have caught
            raise BundleError(f"{self.path}: {PROJECT} cannot be read ({type(exc).__name__})") from None

    def weights(self) -> dict[str, torch.Tensor]:
        data = self.read(WEIGHTS, MAX_WEIGHTS_BYTES, True)
        try:
            return load_safetensors(data)
        except (SafetensorError, ValueError) as exc:
            raise BundleError(f"{self.path}: {WEIGHTS} is not a readable safetensors file ({exc})") from None
