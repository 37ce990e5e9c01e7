"""Headless commands over the same core the desktop app uses. Never imports Qt."""

from nnstudio.cli.main import SUBCOMMANDS, main

__all__ = ["SUBCOMMANDS", "main"]
