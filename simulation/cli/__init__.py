"""The ``statebiz`` command line: :mod:`.main` (the table of subcommands), :mod:`.common` (the
shared flags and the one result writer) and one module per group of subcommands."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
