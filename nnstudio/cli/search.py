"""`nnstudio search`: hyperparameter and structure search over a project, with Optuna.

    nnstudio search FILE --trials N [--sampler S] [--pruner P] [--storage URL] [--study NAME] [--timeout S]
    nnstudio search --join NAME --storage URL          another worker on the same study (any machine)
    nnstudio search --report NAME --storage URL [--apply-best OUT.nnstudio]

Exit codes: 0 the worker finished (the budget is spent, or --timeout passed); 2 bad input (the search
section, a storage that cannot be opened, a study that does not exist, Optuna not installed), one line per
problem naming the place; 130 stopped by Ctrl-C (the running trial goes back to the study). One line per
finished trial on stderr; --json prints the study's summary on stdout at the end.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from nnstudio.cli.common import CliError, open_project, positive_int, project_dir
from nnstudio.search.tables import PRUNERS, SAMPLERS, help_text


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search", help="hyperparameter and structure search (Optuna); workers on many machines share one study",
        description="Search the space in the project's `search` section (docs/search.md). Each trial is a "
                    "normal run in the project's runs folder.")
    search.add_argument("file", nargs="?", help="a .nnstudio file, or example:NAME (not with --join/--report)")
    search.add_argument("--trials", type=positive_int, help="trials the study should hold in all (default: "
                        "search.study.trials, else 20); rerunning with more extends the study")
    search.add_argument("--sampler", choices=tuple(SAMPLERS), help=help_text(SAMPLERS))
    search.add_argument("--pruner", choices=tuple(PRUNERS), help=help_text(PRUNERS))
    search.add_argument("--storage", metavar="URL", help="an Optuna storage: sqlite:///PATH.db (default: "
                        "NAME.search.db beside the project), postgresql://..., mysql+pymysql://..., or "
                        "journal:PATH for a journal file on a shared disk")
    search.add_argument("--study", metavar="NAME", help="the study's name (default: search.study.name, else the "
                        "project file's name); an existing study of that name is resumed")
    search.add_argument("--join", metavar="NAME", help="work on an existing study (needs --storage)")
    search.add_argument("--report", metavar="NAME", help="summarise a study (needs --storage)")
    search.add_argument("--apply-best", metavar="OUT", help="with --report: write the best trial's project here")
    search.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    search.add_argument("--runs", metavar="DIR", help="the folder of the trials' runs (default: the project's "
                        "runs folder, NAME.runs beside it)")
    search.add_argument("--threads", type=positive_int, help="torch intra-op threads (1 per worker when several "
                        "workers share a machine)")
    search.add_argument("--stale-after", type=float, default=None, metavar="S",
                        help="a trial on another machine whose worker has not reported for S seconds is given "
                             "back (default 120); on this machine a dead worker is noticed at once")
    search.add_argument("--json", action="store_true", help="print the study's summary as JSON at the end")
    search.set_defaults(func=run_search)


def run_search(args: argparse.Namespace) -> int:
    from nnstudio.search.storage import SearchError

    modes = [flag for flag, value in (("FILE", args.file), ("--join", args.join), ("--report", args.report))
             if value]
    if len(modes) != 1:
        raise CliError("give one of FILE, --join NAME or --report NAME" if not modes else
                       f"{' and '.join(modes)} cannot be combined; give one of them")
    if (args.join or args.report) and not args.storage:
        raise CliError(f"{'--join' if args.join else '--report'} needs --storage URL (where the study lives)")
    if args.apply_best and not args.report:
        raise CliError("--apply-best goes with --report NAME")
    try:
        if args.report:
            return _report(args)
        return _work(args)
    except SearchError as exc:
        raise CliError(str(exc)) from None


def _context(args: argparse.Namespace) -> Any:
    from nnstudio.search.context import join_study, start_study
    from nnstudio.search.runs import runs_root
    from nnstudio.search.storage import STALE_AFTER_S, default_url

    stale = args.stale_after if args.stale_after is not None else STALE_AFTER_S
    runs = Path(args.runs).resolve() if args.runs else None
    if args.join or args.report:
        return join_study(args.storage, args.join or args.report, runs, stale)
    project = open_project(args.file)
    stem = Path(args.file.removeprefix("example:")).stem or "search"
    section = project.search.get("study") if isinstance(project.search, dict) else None
    file_name = section.get("name") if isinstance(section, dict) else None
    name = args.study or (file_name if isinstance(file_name, str) and file_name.strip() else stem)
    url = args.storage or default_url(args.file, stem)
    overrides = {"sampler": args.sampler, "pruner": args.pruner, "trials": args.trials}
    return start_study(project, args.file, url, name, project_dir(args.file), runs or runs_root(args.file, stem),
                       overrides, stale)


def _work(args: argparse.Namespace) -> int:
    from nnstudio.search.runner import StudyRunner
    from nnstudio.search.storage import optuna_module

    optuna_module()  # the install hint before anything else is read
    if args.threads is not None:
        from nnstudio.training.threads import configure_torch

        configure_torch(args.threads, leave_for_gui=False)
    context = _context(args)
    print(context.space.describe(), file=sys.stderr)
    print(f"storage: {context.url}  runs: {context.runs}", file=sys.stderr)
    runner = StudyRunner(context, on_trial=lambda report: print(report.line(), file=sys.stderr, flush=True))
    stopped = _run_stoppable(runner, args.timeout)
    _print_summary(context, args.json)
    return 130 if stopped else 0


def _run_stoppable(runner: Any, timeout: float | None) -> bool:
    """Run with Ctrl-C giving the running trial back to the study; True when Ctrl-C stopped it."""
    stopped = []

    def handler(signum: int, frame: Any) -> None:
        print("\nstopping: the running trial goes back to the study (Ctrl-C again to abort)", file=sys.stderr)
        stopped.append(signum)
        runner.request_stop(now=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        previous = None
    try:
        runner.run(timeout=timeout)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return bool(stopped)


def _print_summary(context: Any, as_json: bool) -> None:
    from nnstudio.search.report import best_trials, summarize_study

    summary = summarize_study(context)
    if as_json:
        from nnstudio.metrics import clean_json

        print(json.dumps(clean_json(summary), indent=2))
        return
    counts = ", ".join(f"{n} {state}" for state, n in summary["counts"].items() if n)
    print(f"study {context.name!r}: {counts}", file=sys.stdout)
    for trial in best_trials(context)[:1]:
        values = ", ".join(f"{v:.6g}" for v in trial.values)
        print(f"best: trial {trial.number} ({values}); nnstudio search --report {context.name} --storage "
              f"{context.url} --apply-best BEST.nnstudio writes it as a project", file=sys.stdout)


def _report(args: argparse.Namespace) -> int:
    from nnstudio.io.project_file import save
    from nnstudio.search.report import best_project, report_text, summarize_study

    context = _context(args)
    summary = summarize_study(context)
    if args.json:
        from nnstudio.metrics import clean_json

        print(json.dumps(clean_json(summary), indent=2))
    else:
        print(report_text(summary))
    if args.apply_best:
        project, trial = best_project(context)
        try:
            save(project, args.apply_best)
        except OSError as exc:
            raise CliError(f"{args.apply_best}: cannot write it ({exc.strerror or exc})") from None
        print(f"wrote trial {trial.number}'s project to {args.apply_best}", file=sys.stderr)
    return 0
