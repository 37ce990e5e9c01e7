"""validate, summary, code and examples: looking at a project without training it."""

from __future__ import annotations

import argparse
import json

from nnstudio.analysis.diagnostics import Diagnostic, located
from nnstudio.analysis.validate import analyze
from nnstudio.cli.common import CliError, open_project, project_dir
from nnstudio.model.project import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    validate = subparsers.add_parser(
        "validate", help="check a project, graph and training readiness (the checks train runs before "
                         "training: settings, dataset, loss against data); exit 1 if it has errors")
    validate.add_argument("file", help="a .nnstudio file, or example:NAME")
    validate.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    validate.add_argument("--graph-only", action="store_true",
                          help="check the graph's structure and shapes only, not training readiness")
    validate.set_defaults(func=run_validate)

    summary = subparsers.add_parser("summary", help="per-layer shapes, parameters and FLOPs")
    summary.add_argument("file")
    summary.add_argument("--json", action="store_true")
    summary.set_defaults(func=run_summary)

    code = subparsers.add_parser(
        "code", help="print the model as standalone PyTorch code: imports, the class, __init__ and forward()",
        description="Print the compiled model as one Python module that runs with torch alone: its imports, the "
                    "helpers it copies from nnstudio, and the class whose __init__ builds the layers and whose "
                    "forward() is the compiled graph. A compiled model's state_dict loads into it.")
    code.add_argument("file", help="a .nnstudio file, or example:NAME")
    code.set_defaults(func=run_code)

    examples = subparsers.add_parser("examples", help="list the shipped examples")
    examples.set_defaults(func=run_examples)


def run_validate(args: argparse.Namespace) -> int:
    """Graph problems first; when the graph is sound (and unless --graph-only), every problem `train` would
    refuse before training, found by the same `prepare` (which also loads the data and compiles the model)."""
    project = open_project(args.file)
    analysis = analyze(project.graph)
    diagnostics = list(analysis.diagnostics)
    if analysis.ok and not args.graph_only:
        diagnostics += training_readiness(project, args.file)
    ok = not any(d.is_error for d in diagnostics)
    if args.json:
        print(json.dumps({"ok": ok, "diagnostics": [d.to_json() for d in diagnostics]}, indent=2))
        return 0 if ok else 1
    names = {node.id: (node.name, node.type) for node in project.graph.nodes.values()}
    for diagnostic in diagnostics:
        severity = "" if diagnostic.is_error else "warning: "
        print(f"{args.file}: {severity}{located(diagnostic, names)}")
    if ok:
        what = "graph" if args.graph_only else "ready to train"
        print(f"{args.file}: valid, {what} ({len(project.graph.nodes)} nodes, {len(project.graph.edges)} edges)")
    return 0 if ok else 1


def training_readiness(project: Project, file: str) -> list[Diagnostic]:
    """The errors and warnings `nnstudio train` would report before its first step."""
    from nnstudio.training import TrainingInputError, prepare

    try:
        return prepare(project, project_dir(file)).warnings
    except TrainingInputError as exc:
        return exc.problems


def _compiled(args: argparse.Namespace):
    """The compiled project, or a CliError with one line per problem in validate's format. A model too large
    for this machine's memory is bad input (exit 2); any other graph problem is exit 1, as in validate."""
    from nnstudio.compile import CompileError, build_module
    from nnstudio.compile.memory import CODE as TOO_LARGE

    project = open_project(args.file)
    try:
        return project, build_module(project)
    except CompileError as exc:
        names = {node.id: (node.name, node.type) for node in project.graph.nodes.values()}
        lines = [f"{args.file}: {located(d, names)}" for d in exc.diagnostics]
        too_large = any(d.code == TOO_LARGE for d in exc.diagnostics)
        raise CliError("\n".join(lines), exit_code=2 if too_large else 1) from None


def run_summary(args: argparse.Namespace) -> int:
    from nnstudio.compile import summarize

    project, compiled = _compiled(args)
    summary = summarize(compiled, project.graph)
    print(json.dumps(summary.to_json(), indent=2) if args.json else summary.table())
    return 0


def run_code(args: argparse.Namespace) -> int:
    from nnstudio.io.export.python_model import code_listing

    project, compiled = _compiled(args)
    print(code_listing(project, compiled).strip())
    return 0


def run_examples(args: argparse.Namespace) -> int:
    from nnstudio.examples import EXAMPLES

    width = max(len(name) for name in EXAMPLES)
    for name, example in EXAMPLES.items():
        print(f"{name:<{width}}  {example.description}")
    return 0
