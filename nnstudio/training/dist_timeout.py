"""How long a distributed run's processes wait for each other: declared once, without importing torch (the CLI
reads it while building its parser)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

DEFAULT_TIMEOUT = 300.0  # seconds: longer than any step, evaluation or checkpoint write of a sane run
TIMEOUT_ENV = "NNSTUDIO_DIST_TIMEOUT"  # the default for --dist-timeout, for launch scripts that set it once
FLAG = "--dist-timeout"


def dist_timeout(value: str | None, environ: Mapping[str, str] | None = None) -> float:
    """Seconds from --dist-timeout, else $NNSTUDIO_DIST_TIMEOUT, else DEFAULT_TIMEOUT.

    Raises ValueError with one line naming the flag or the variable."""
    environ = os.environ if environ is None else environ
    where, text = (FLAG, value) if value is not None else (TIMEOUT_ENV, environ.get(TIMEOUT_ENV))
    if text is None or (value is None and not text.strip()):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{where}: expected a number of seconds > 0, got {text!r}")
    return seconds
