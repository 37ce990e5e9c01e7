"""`nnstudio SUBCOMMAND ...`: argument parsing, exit codes and one-line errors.

Exit codes: 0 success; 1 the work failed (invalid graph, training diverged); 2 bad input
(unreadable file, bad arguments). Tracebacks appear only with --debug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from nnstudio.cli.common import CliError

# name -> module; each module defines `register(subparsers)` which sets `func` on its parser.
SUBCOMMANDS: dict[str, str] = {
    "validate": "nnstudio.cli.inspect",
    "summary": "nnstudio.cli.inspect",
    "code": "nnstudio.cli.inspect",
    "examples": "nnstudio.cli.inspect",
    "train": "nnstudio.cli.train",
    "evaluate": "nnstudio.cli.train",
    "export": "nnstudio.cli.export",
    "import": "nnstudio.cli.importing",
    "weights": "nnstudio.cli.weights",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnstudio", description="Design, train and export neural networks.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    for module_name in dict.fromkeys(SUBCOMMANDS.values()):
        if module_name not in registered:
            importlib.import_module(module_name).register(subparsers)
            registered.add(module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"nnstudio {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"nnstudio {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one readable line, never a traceback
        if args.debug:
            traceback.print_exc()
        else:
            print(f"nnstudio {args.command}: internal error: {type(exc).__name__}: {exc} "
                  "(run with --debug for details)", file=sys.stderr)
        return 1
