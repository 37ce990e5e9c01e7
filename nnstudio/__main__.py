"""Composition root for the command line: a subcommand runs headless; nothing, a project or Qt options open the app."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from nnstudio.cli.main import opens_app

    if not opens_app(args):  # a subcommand, or a word that is none and gets "no such command"
        from nnstudio.cli import main as cli_main

        return cli_main(args)
    from nnstudio.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
