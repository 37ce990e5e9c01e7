"""Errors raised by exporters. Each names the graph node at fault whenever one can be found."""

from __future__ import annotations


class ExportError(Exception):
    """The export could not produce a faithful file; nothing was written at the destination.

    `node` is the name of the graph node at fault, when the problem could be pinned to one.
    `bad_input` tells the CLI whether the user's request was wrong (exit 2) or the export failed (exit 1).
    """

    def __init__(self, message: str, node: str | None = None, bad_input: bool = False) -> None:
        super().__init__(message)
        self.node = node
        self.bad_input = bad_input


class MissingExtraError(ExportError):
    """An optional dependency is not installed; the message says exactly what to install."""

    def __init__(self, message: str) -> None:
        super().__init__(message, bad_input=True)
