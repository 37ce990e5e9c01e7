"""Composition root for the command line: a subcommand runs headless, anything else opens the app."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from nnstudio.cli import SUBCOMMANDS

    wants_cli = bool(args) and (args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--debug"))
    if wants_cli:
        from nnstudio.cli import main as cli_main

        return cli_main(args)
    from nnstudio.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
