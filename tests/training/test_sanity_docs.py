"""docs/health.md documents every sanity check of the table, and the CLI report prints each one's line."""

from __future__ import annotations

from pathlib import Path

from nnstudio.training.sanity import CHECKS, FAIL, PASS, CheckResult, report_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "health.md"


def test_every_check_has_a_row_in_the_docs():
    text = DOC.read_text(encoding="utf-8")
    assert "## Sanity checks" in text
    for check in CHECKS:
        assert f"| `{check.name}` |" in text, check.name


def test_the_report_prints_lines_details_advice_and_a_tally():
    results = [
        CheckResult("a", "First", PASS, "fine", details=["SKIP  x skipped: random"]),
        CheckResult("b", "Second", FAIL, "broken", advice="try this"),
    ]
    text = report_text(results).splitlines()
    assert text[0] == "PASS  First: fine"
    assert text[1] == "      SKIP  x skipped: random"
    assert text[2] == "FAIL  Second: broken"
    assert text[3] == "      what it usually means: try this"
    assert text[-1] == "1 of 2 check(s) passed"
