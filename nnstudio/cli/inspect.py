"""validate, summary, code and examples: looking at a project without training it."""

from __future__ import annotations

import argparse
import json

from nnstudio.analysis.validate import analyze
from nnstudio.cli.common import CliError, open_project


def register(subparsers: argparse._SubParsersAction) -> None:
    validate = subparsers.add_parser("validate", help="check a project; exit 1 if it has errors")
    validate.add_argument("file", help="a .nnstudio file, or example:NAME")
    validate.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    validate.set_defaults(func=run_validate)

    summary = subparsers.add_parser("summary", help="per-layer shapes, parameters and FLOPs")
    summary.add_argument("file")
    summary.add_argument("--json", action="store_true")
    summary.set_defaults(func=run_summary)

    code = subparsers.add_parser("code", help="print the generated PyTorch forward() code")
    code.add_argument("file")
    code.set_defaults(func=run_code)

    examples = subparsers.add_parser("examples", help="list the shipped examples")
    examples.set_defaults(func=run_examples)


def run_validate(args: argparse.Namespace) -> int:
    project = open_project(args.file)
    analysis = analyze(project.graph)
    if args.json:
        print(json.dumps({"ok": analysis.ok, "diagnostics": [d.to_json() for d in analysis.diagnostics]},
                         indent=2))
    else:
        for diagnostic in analysis.diagnostics:
            print(diagnostic)
        if analysis.ok:
            print(f"{args.file}: valid ({len(project.graph.nodes)} nodes, {len(project.graph.edges)} edges)")
    return 0 if analysis.ok else 1


def _compiled(args: argparse.Namespace):
    from nnstudio.compile import CompileError, build_module

    project = open_project(args.file)
    try:
        return project, build_module(project)
    except CompileError as exc:
        raise CliError(str(exc), exit_code=1) from None


def run_summary(args: argparse.Namespace) -> int:
    from nnstudio.compile import summarize

    project, compiled = _compiled(args)
    summary = summarize(compiled, project.graph)
    print(json.dumps(summary.to_json(), indent=2) if args.json else summary.table())
    return 0


def run_code(args: argparse.Namespace) -> int:
    _, compiled = _compiled(args)
    print(compiled.code.strip())
    return 0


def run_examples(args: argparse.Namespace) -> int:
    from nnstudio.examples import EXAMPLES

    width = max(len(name) for name in EXAMPLES)
    for name, example in EXAMPLES.items():
        print(f"{name:<{width}}  {example.description}")
    return 0
