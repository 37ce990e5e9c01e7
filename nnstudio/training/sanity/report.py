"""The sanity report as text: what `nnstudio check` prints and the app's Check dialog shows, line for line."""

from __future__ import annotations

from collections.abc import Sequence

from nnstudio.training.sanity.result import CheckResult


def report_text(results: Sequence[CheckResult]) -> str:
    """The printed report: each check's line, its details indented, and the advice of a failing one."""
    lines = []
    for result in results:
        lines.append(result.line())
        lines += [f"      {detail}" for detail in result.details]
        if result.advice:
            lines.append(f"      what it usually means: {result.advice}")
        if result.curve:
            lines += curve_lines(result.curve)
    failed = sum(not r.passed for r in results)
    lines.append(
        f"{len(results) - failed} of {len(results)} check(s) passed"
        if failed
        else f"all {len(results)} check(s) passed"
    )
    return "\n".join(lines)


def curve_lines(curve: dict) -> list[str]:
    """The LR curve's key points (every tenth step, smoothed): the whole curve is in --json."""
    lrs, smooth = curve["lr"], curve["smoothed"]
    step = max(1, len(lrs) // 10)
    points = "  ".join(f"{lrs[i]:.0e}:{smooth[i]:.3g}" for i in range(0, len(lrs), step))
    return [f"      curve (lr:smoothed loss): {points}"]
