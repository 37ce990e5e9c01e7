"""Hostile-input and fault probe of the CLI and the file loaders (issue 15).

Runs classes of bad input against the real `nnstudio` command in subprocesses and counts the outcomes:
accepted (when acceptance is right), clean errors (one line naming the place, exit 1 or 2), internal errors
("internal error", a traceback, or output that is not one line), aborts (a signal, exit 134), hangs (past the
timeout), and data lost (a file that existed before is gone or changed, or `--resume` cannot find a
checkpoint after a kill). Run it from the repository root:

    python tools/probe_reliability.py            # every class
    python tools/probe_reliability.py --only project,bundle

A full-disk class mounts a small tmpfs and runs only as root; it is skipped otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe_cases import Case, Outcome, command_cases, mutation_cases, project_cases
from probe_faults import bundle_cases, checkpoint_cases, data_cases, disk_cases

CASE_CLASSES = {"project": project_cases, "command": command_cases, "bundle": bundle_cases, "data": data_cases,
                "checkpoint": checkpoint_cases, "full-disk": disk_cases, "mutations": mutation_cases}

TIMEOUT_S = 90


def run_case(case: Case, work: Path) -> Outcome:
    """Run one case's command and classify what happened."""
    folder = Path(tempfile.mkdtemp(prefix=case.name.replace("/", "_") + "-", dir=work))
    try:
        argv = case.prepare(folder)
    except Exception as exc:  # a case that could not be set up is reported, not fatal to the probe
        return Outcome(case, "skipped", f"set-up failed: {type(exc).__name__}: {exc}")
    if argv is None:
        return Outcome(case, "skipped", "needs what this machine lacks")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run([sys.executable, "-m", "nnstudio", *argv], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Outcome(case, "hang", f"no answer after {TIMEOUT_S} s")
    lost = case.check_lost(folder) if case.check_lost else None
    kind, detail = _classify(case, proc.returncode, proc.stderr + proc.stdout)
    if lost and kind != "abort":
        return Outcome(case, "leftover" if lost.startswith("leftover") else "data lost", lost)
    return Outcome(case, kind, detail)


def _classify(case: Case, code: int, output: str) -> tuple[str, str]:
    """A clean error is an exit of 1 or 2 with lines that say what is wrong, and no traceback."""
    lines = [line for line in output.splitlines() if line.strip() and not _is_warning(line)]
    last = lines[-1] if lines else ""
    if code < 0 or code == 134:
        return "abort", f"exit {code}"
    if "Traceback" in output or "internal error" in output:
        return "internal error", last[:160]
    if code == 0:
        return ("accepted", "") if case.expect in {"accept", "either"} else ("wrongly accepted", "exit 0")
    if case.expect == "accept":
        return "wrongly refused", last[:160]
    if code not in (1, 2):
        return "internal error", f"exit {code}: {last[:120]}"
    if not lines:
        return "internal error", f"exit {code} with no message"
    return "clean error", last[:160]


def _is_warning(line: str) -> bool:
    """Progress bars and Python warnings are not error lines."""
    return "Warning" in line or "warnings.warn" in line or "it/s]" in line or line.lstrip().startswith("%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated classes: " + ", ".join(CASE_CLASSES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    chosen = [c for c in args.only.split(",") if c] or list(CASE_CLASSES)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="nnstudio-probe-") as tmp:
        for name in chosen:
            cases = CASE_CLASSES[name]()
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(lambda c: run_case(c, Path(tmp)), cases))
            outcomes += results
            _print_class(name, results)
    _print_totals(outcomes)
    bad = sum(o.kind in {"abort", "hang", "data lost"} for o in outcomes)
    return 1 if bad else 0


def _print_class(name: str, results: list[Outcome]) -> None:
    counts = Counter(o.kind for o in results)
    print(f"\n## {name}: {len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for outcome in results:
        if outcome.kind not in {"clean error", "accepted"}:
            print(f"  - {outcome.case.name}: {outcome.kind}: {outcome.detail}")


def _print_totals(outcomes: list[Outcome]) -> None:
    counts = Counter(o.kind for o in outcomes)
    kinds = ["accepted", "clean error", "internal error", "wrongly accepted", "wrongly refused",
             "leftover", "abort", "hang", "data lost", "skipped"]
    print(f"\nTotal: {len(outcomes)} cases tried")
    for kind in kinds:
        print(f"  {kind:17} {counts.get(kind, 0)}")


if __name__ == "__main__":
    raise SystemExit(main())
