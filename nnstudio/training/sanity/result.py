"""What every sanity check returns, and the options they share.

A result is data, not text: the CLI prints it, writes it as JSON, and the app's Check dialog shows it, all
from the same fields, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASS, FAIL, INFO, SKIP = "pass", "fail", "info", "skip"  # INFO: measured, but no expectation to compare with


@dataclass
class CheckOptions:
    """Knobs of the checks; the defaults keep a whole `nnstudio check` to seconds on the examples."""

    overfit_steps: int = 200
    lr_steps: int = 100
    lr_start: float = 1e-7
    lr_end: float = 10.0
    gradcheck_batch: int = 2
    seed: int = 0


@dataclass
class CheckResult:
    """One check's verdict: `status` (pass, fail, info or skip), a one-line `summary` with the figures that
    matter, the `figures` themselves, `details` (one line each: a failing layer, a skipped one, a term) and,
    for the LR range test, the `curve` to plot."""

    name: str
    title: str
    status: str
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    advice: str = ""  # what a failure usually means; filled from the check table when the check fails
    curve: dict[str, list[float]] | None = None

    @property
    def passed(self) -> bool:
        return self.status != FAIL

    def line(self) -> str:
        """The report's line: `PASS  Initial loss: 2.31 (expected ln 10 = 2.30, within 25 %)`."""
        return f"{self.status.upper():<5} {self.title}: {self.summary}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
