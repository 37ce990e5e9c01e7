"""`nnstudio check FILE`: the sanity runs (initial loss, overfit one batch, LR range test, gradient check).

One line per check, PASS/FAIL/INFO/SKIP with its figures; a failing check adds what that usually means.
`--json` prints every result, the LR range curve included, as JSON instead. Exit codes: 0 every check
passed (or only reported); 1 a check failed; 2 bad input (file, settings, data, arguments).
"""

from __future__ import annotations

import argparse
import json
import sys

from nnstudio.cli.common import CliError, open_project, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser(
        "check", help="sanity runs before training: initial loss, overfit one batch, LR range test, gradient check"
    )
    check.add_argument("file", help="a .nnstudio file, or example:NAME")
    check.add_argument(
        "--only",
        action="append",
        metavar="CHECK",
        help="run only this check (repeatable): initial-loss, overfit-batch, lr-range, gradcheck",
    )
    check.add_argument("--steps", type=positive_int, default=200, help="overfit-one-batch steps (default 200)")
    check.add_argument("--lr-steps", type=positive_int, default=100, help="LR range test steps (default 100)")
    check.add_argument("--batch-size", type=positive_int, help="override training.batch_size")
    check.add_argument("--lr", type=float, help="override training.optimizer.lr (the overfit test's Adam rate)")
    check.add_argument("--device", help="override training.device (auto, cpu, cuda, mps)")
    check.add_argument("--seed", type=int, help="override training.seed")
    check.add_argument("--json", action="store_true", help="print the results, LR curve included, as JSON")
    check.set_defaults(func=run_check)


def _wanted(only: list[str] | None) -> list[str] | None:
    """The checks --only names, each validated against the table (which imports torch, hence not at parse)."""
    from nnstudio.training.sanity import BY_NAME

    for name in only or ():
        if name not in BY_NAME:
            raise CliError(f"--only: no check {name!r}; the checks are {', '.join(BY_NAME)}")
    return only


def run_check(args: argparse.Namespace) -> int:
    from nnstudio.cli.train import _prepare
    from nnstudio.training.sanity import CheckOptions, SanityContext, SanityInputError, report_text, run_checks

    wanted = _wanted(args.only)
    job = _prepare(args, open_project(args.file), allow_nothing_to_train=True)  # reported by the checks
    try:
        ctx = SanityContext(job)
    except SanityInputError as exc:
        raise CliError(str(exc)) from None
    options = CheckOptions(overfit_steps=args.steps, lr_steps=args.lr_steps, seed=job.settings.seed)
    progress = (
        None if args.json else (lambda check: print(f"running {check.title.lower()}…", file=sys.stderr, flush=True))
    )
    results = run_checks(ctx, options, wanted, progress)
    if args.json:
        from nnstudio.metrics import clean_json

        print(json.dumps(clean_json({"file": args.file, "checks": [r.to_json() for r in results]}), indent=2))
    else:
        print(report_text(results))
    return 1 if any(not r.passed for r in results) else 0
