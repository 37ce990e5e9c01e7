"""Issue 15: a mistyped subcommand is an error with a suggestion, never the app; counts such as --threads
refuse 0."""

import argparse
import subprocess
import sys

import pytest

from nnstudio.__main__ import main as entry_point
from nnstudio.cli import SUBCOMMANDS, main
from nnstudio.cli.common import positive_int
from nnstudio.cli.main import opens_app


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trian", "x.nnstudio"], "nnstudio: no such command 'trian'; did you mean 'train'?"),
        (["--debug", "sumary", "x.nnstudio"], "nnstudio: no such command 'sumary'; did you mean 'summary'?"),
        (["exprot"], "nnstudio: no such command 'exprot'; did you mean 'export'?"),
        (["frobnicate"], f"nnstudio: no such command 'frobnicate'; the commands are {', '.join(SUBCOMMANDS)}"),
    ],
)
def test_unknown_command_suggests_the_closest(argv, message, capsys, monkeypatch):
    monkeypatch.setattr("nnstudio.app.run_app", lambda args: pytest.fail("the app must not open"), raising=False)
    assert entry_point(argv) == 2
    assert capsys.readouterr().err == message + "\n"
    assert main(argv) == 2


@pytest.mark.parametrize(
    ("argv", "app"),
    [
        ([], True),  # `nnstudio` alone: the default example
        (["model.nnstudio"], True),  # a project, even a missing one: the app says it cannot open it
        (["MODEL.NNSTUDIO"], True),
        (["-style", "fusion"], True),  # Qt's own options
        (["train", "model.nnstudio"], False),
        (["--help"], False),
        (["trian", "model.nnstudio"], False),
        (["notes.txt"], False),  # not a project and not a file: meant as a command
    ],
)
def test_what_opens_the_app(argv, app):
    assert opens_app(argv) is app


def test_an_existing_file_opens_the_app(tmp_path):
    path = tmp_path / "saved-as.json"
    path.write_text("{}")
    assert opens_app([str(path)])


def test_the_installed_entry_point_exits_without_a_window():
    result = subprocess.run(
        [sys.executable, "-m", "nnstudio", "trian", "x.nnstudio"], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stderr) == (2, "nnstudio: no such command 'trian'; did you mean 'train'?\n")


@pytest.mark.parametrize("text", ["0", "-3", "two", "1.5"])
def test_positive_int_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number >= 1"):
        positive_int(text)


def test_positive_int_accepts():
    assert positive_int("4") == 4
