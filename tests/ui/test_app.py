"""Start-up: the first document, a bad FILE argument, and a first paint that does not wait for torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnstudio.app import EXIT_AFTER_FIRST_PAINT, after_first_show, initial_project
from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import dumps, load, save
from nnstudio.model.builder import GraphBuilder

ROOT = Path(__file__).resolve().parents[2]


def test_no_argument_opens_the_default_example(registry):
    project, path, error = initial_project([], registry)
    assert dumps(project) == dumps(load(EXAMPLES[DEFAULT_EXAMPLE].path))
    assert path is None and error is None


def test_a_file_argument_opens_that_file(registry, tmp_path):
    builder = GraphBuilder(name="given")
    builder.sequential(("Input", {"shape": [3]}), "Output")
    save(builder.project, tmp_path / "given.nnstudio")
    project, path, error = initial_project([str(tmp_path / "given.nnstudio")], registry)
    assert project.metadata.name == "given" and path == (tmp_path / "given.nnstudio").resolve()
    assert error is None


def test_a_bad_file_argument_falls_back_to_the_default_example_with_the_reason(registry, tmp_path):
    bad = tmp_path / "broken.nnstudio"
    bad.write_text("{ not json")
    project, path, error = initial_project([str(bad)], registry)
    assert project.metadata.name == load(EXAMPLES[DEFAULT_EXAMPLE].path).metadata.name
    assert path is None
    assert str(bad) in error and "not valid JSON" in error and "Traceback" not in error


def test_after_first_show_reports_the_error_in_a_dialog(window, dialogs):
    after_first_show(window, "broken.nnstudio: not valid JSON")
    assert dialogs.errors == [("Could not open the project", "broken.nnstudio: not valid JSON")]


def _start(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", EXIT_AFTER_FIRST_PAINT: "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _first_paint(done: subprocess.CompletedProcess) -> dict:
    line = next(line for line in done.stdout.splitlines() if line.startswith("NNSTUDIO_FIRST_PAINT "))
    return json.loads(line.split(" ", 1)[1])


@pytest.mark.slow
def test_the_window_paints_before_torch_is_imported():
    done = _start()
    assert done.returncode == 0, done.stderr
    assert _first_paint(done)["torch_loaded"] is False


@pytest.mark.slow
def test_a_bad_file_argument_still_opens_the_window(tmp_path):
    bad = tmp_path / "bad.nnstudio"
    bad.write_text('{"format": "something else", "version": 1}')
    done = _start(str(bad))
    assert done.returncode == 0
    assert _first_paint(done)
    assert "not an nnstudio project" in done.stderr and "Traceback" not in done.stderr
