"""Composition root for the command line: a subcommand runs headless; nothing, a project or Qt options open the app."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def leave_rank(code: int) -> None:
    """End a torchrun rank whose work is done and written, without the interpreter's teardown.

    After a run that ended well (every rank passed the final barrier, the process group is destroyed, files are
    closed), a rank was still sometimes aborted at exit by gloo's threads ("terminate called without an active
    exception", exit -6) while C++ statics were destroyed, failing a launch that had succeeded. Flushing the
    streams and leaving with os._exit skips only that teardown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from nnstudio.cli.main import opens_app

    if not opens_app(args):  # a subcommand, or a word that is none and gets "no such command"
        from nnstudio.cli import main as cli_main

        code = cli_main(args)
        if "--distributed" in args and "TORCHELASTIC_RUN_ID" in os.environ:
            leave_rank(code)
        return code
    from nnstudio.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
