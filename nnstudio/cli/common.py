"""Shared CLI plumbing: errors with exit codes, and opening a project by path or example name."""

from __future__ import annotations

from pathlib import Path

from nnstudio.io.project_file import load
from nnstudio.io.reader import ProjectFileError
from nnstudio.model.project import Project


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
