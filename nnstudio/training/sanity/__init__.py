"""Sanity runs before training (issue 14): initial loss, overfit one batch, LR range test, gradient check.

Qt-free: `nnstudio check` and the app's Check dialog both call `run_checks` on a `SanityContext` built from
`prepare()`'s job, and read the one table of checks, `CHECKS`.
"""

from nnstudio.training.sanity.context import SanityContext, SanityInputError
from nnstudio.training.sanity.report import report_text
from nnstudio.training.sanity.result import FAIL, INFO, PASS, SKIP, CheckOptions, CheckResult
from nnstudio.training.sanity.table import BY_NAME, CHECKS, SanityCheck, run_checks

__all__ = [
    "BY_NAME",
    "CHECKS",
    "FAIL",
    "INFO",
    "PASS",
    "SKIP",
    "CheckOptions",
    "CheckResult",
    "SanityCheck",
    "SanityContext",
    "SanityInputError",
    "report_text",
    "run_checks",
]
