"""`nnstudio SUBCOMMAND ...`: argument parsing, exit codes and one-line errors.

Exit codes: 0 success; 1 the work failed (invalid graph, training diverged); 2 bad input
(unreadable file, bad arguments). Tracebacks appear only with --debug.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from nnstudio.cli.common import CliError
from nnstudio.io.project_file import EXTENSION
from nnstudio.util.errors import InputError

# name -> module; each module defines `register(subparsers)` which sets `func` on its parser.
SUBCOMMANDS: dict[str, str] = {
    "validate": "nnstudio.cli.inspect",
    "summary": "nnstudio.cli.inspect",
    "code": "nnstudio.cli.inspect",
    "examples": "nnstudio.cli.inspect",
    "train": "nnstudio.cli.train",
    "evaluate": "nnstudio.cli.train",
    "check": "nnstudio.cli.check",
    "export": "nnstudio.cli.export",
    "import": "nnstudio.cli.importing",
    "weights": "nnstudio.cli.weights",
    "predict": "nnstudio.cli.predict",
    "explain": "nnstudio.cli.explain",
    "compress": "nnstudio.cli.compress",
    "layers": "nnstudio.cli.layers",
    "search": "nnstudio.cli.search",
}


CLI_OPTIONS = ("-h", "--help", "--debug")  # options of the command line itself; Qt's own (-style ...) open the app


def opens_app(args: Sequence[str]) -> bool:
    """Whether a command line is for the desktop app: nothing, a project (any name ending in .nnstudio, which
    the app reports if it cannot open, or an existing file), or Qt options. Any other word is meant as a
    subcommand, and a mistyped one must fail in a script, not open a window that waits forever."""
    if not args:
        return True
    first = args[0]
    if first in SUBCOMMANDS or first in CLI_OPTIONS:
        return False
    if first.startswith("-"):
        return True
    return first.lower().endswith(EXTENSION) or Path(first).is_file()


def unknown_command(argv: Sequence[str]) -> str | None:
    """The one-line error for a first word that is no subcommand, with the closest one; None when it is one."""
    words = [arg for arg in argv if arg != "--debug"]
    if not words or words[0].startswith("-") or words[0] in SUBCOMMANDS:
        return None
    word = words[0]
    close = difflib.get_close_matches(word, list(SUBCOMMANDS), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"the commands are {', '.join(SUBCOMMANDS)}"
    return f"nnstudio: no such command {word!r}; {hint}"


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
    unknown = unknown_command(argv)
    if unknown is not None:
        print(unknown, file=sys.stderr)
        return 2
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
        for line in str(exc).splitlines() or [""]:  # a file with several problems: one line each
            print(f"nnstudio {args.command}: {line}", file=sys.stderr)
        return exc.exit_code
    except InputError as exc:  # a dataset or setting the core refused late (it names the place): bad input
        if args.debug:
            traceback.print_exc()
        print(f"nnstudio {args.command}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
              file=sys.stderr)
        return 2
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
