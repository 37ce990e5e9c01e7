"""A progress bar for reading a large data file, drawn on stderr by tqdm when it is a terminal.

The loaders in nnstudio.training.data report (bytes read, total bytes) through a plain callback and
never import tqdm; this is the command line's side of that callback. Small files draw nothing, so a
quick load stays silent, and without tqdm (the optional `progress` extra) or a terminal nothing is drawn.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

MIN_BYTES = 16 * 2**20  # files smaller than this load in about a second: no bar


class FileProgress:
    """Call it with (done, total) bytes; it opens a bar once a large file is being read. Close it after."""

    def __init__(self, stream: TextIO | None = None, min_bytes: int = MIN_BYTES) -> None:
        self.stream = stream or sys.stderr
        self.min_bytes = min_bytes
        self.bar: Any = None
        self._tqdm = _tqdm() if _is_terminal(self.stream) else None

    def __call__(self, done: int, total: int) -> None:
        if self._tqdm is None or total < self.min_bytes:
            return
        if self.bar is None:
            self.bar = self._tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                file=self.stream,
                desc="reading data",
                dynamic_ncols=True,
                leave=False,
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm
