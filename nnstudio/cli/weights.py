"""`nnstudio weights FILE --from PATH`: how a weights source fits a project's graph, without training.

It answers "what would --init-weights (or the project's init.weights) load?" before a run is spent on it:
tensors matched per node, and each one that is not, with the reason. Exit codes: 0 at least one tensor
matches; 1 the graph does not compile; 2 the source is unreadable or nothing in it fits.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nnstudio.cli.common import CliError, open_project
from nnstudio.model.project import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "weights", help="show which tensors of a weights source match a project's graph",
        description="Match a weights source to the project's graph by tensor name (node names) and shape, and "
                    "report what would load and what would keep its initialisation. Nothing is written.")
    parser.add_argument("file", help="a .nnstudio file, or example:NAME")
    parser.add_argument("--from", dest="source", metavar="PATH",
                        help="a .safetensors or torch file, a checkpoint or run folder, an exported folder or a "
                             "bundle .zip (default: the project's init.weights)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run_weights)


def run_weights(args: argparse.Namespace) -> int:
    from nnstudio.compile import CompileError, build_module
    from nnstudio.compile.weights import WeightsError
    from nnstudio.training.init_weights import load_matching, read_weight_source

    project = open_project(args.file)
    path = _source_path(args, project)
    try:
        compiled = build_module(project)
    except CompileError as exc:
        raise CliError(str(exc), exit_code=1) from None
    try:
        tensors, description = read_weight_source(path)
        report = load_matching(compiled.network, tensors, compiled, source=description)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text())
    return 0


def _source_path(args: argparse.Namespace, project: Project) -> Path:
    """--from is relative to the current folder; the project's own setting to the project file's folder."""
    from nnstudio.training.init_weights import resolve_source

    if args.source:
        return Path(args.source)
    if project.init.weights:
        base = None if args.file.startswith("example:") else Path(args.file).resolve().parent
        return resolve_source(project.init.weights, base)
    raise CliError("give --from PATH: the project sets no init.weights")
