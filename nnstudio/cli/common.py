"""Shared CLI plumbing: errors with exit codes, and opening a project by path or example name."""

from __future__ import annotations

import argparse
from pathlib import Path

from nnstudio.io.project_file import load
from nnstudio.io.reader import ProjectFileError
from nnstudio.model.project import Project


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def positive_int(text: str) -> int:
    """An argparse `type` for counts that must be at least 1 (--threads): 0 or -2 is refused as bad input
    (exit 2, argparse's one line) instead of being quietly raised to 1 or passed on to torch."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def project_dir(file: str) -> Path | None:
    """The folder a project's relative paths (dataset files, init.weights) are read from; None for an
    example, whose paths the example itself resolves."""
    return None if file.startswith("example:") else Path(file).resolve().parent


def open_project(path: str) -> Project:
    """Load a project file; `example:NAME` opens a shipped example."""
    if path.startswith("example:"):
        from nnstudio.examples import example_path

        try:
            path = str(example_path(path.removeprefix("example:")))
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
    if not Path(path).exists():
        raise CliError(f"{path}: no such file")
    try:
        return load(path)
    except ProjectFileError as exc:
        raise CliError(str(exc)) from None
