"""Errors that mean "the user's input cannot be used", shared by the core and the command line.

The CLI turns any of them that reaches it into one line and exit code 2 (bad input), like its own CliError,
instead of the last-resort "internal error" line and exit 1 that an unexpected exception gets. Lives in util so
the CLI can catch it without importing torch or the training package.
"""

from __future__ import annotations


class InputError(Exception):
    """The input (a file, a dataset, a setting) cannot be used as given; the message names the place."""
