"""The reading bar the CLI draws while a large data file loads: only for large files, only on a terminal."""

from __future__ import annotations

import io

import pytest

from nnstudio.cli.file_progress import FileProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_large_file_on_a_terminal_gets_a_bar() -> None:
    pytest.importorskip("tqdm")
    stream = _Terminal()
    progress = FileProgress(stream, min_bytes=1000)
    progress(0, 500)
    assert progress.bar is None  # a small file: nothing drawn
    for done in (0, 4000, 10_000):
        progress(done, 10_000)
    assert progress.bar is not None and progress.bar.n == 10_000
    progress.close()
    assert progress.bar is None and "reading data" in stream.getvalue()


def test_no_terminal_no_bar() -> None:
    stream = io.StringIO()
    progress = FileProgress(stream, min_bytes=0)
    progress(10, 100)
    progress.close()
    assert progress.bar is None and stream.getvalue() == ""
