"""Errors that the CLI prints as one line (file:line: message) with a non-zero exit."""

from __future__ import annotations


class ToughtalkError(Exception):
    """Base for every error meant for the user, not a traceback."""


class UsageError(ToughtalkError):
    """A bad option, spec or name on the command line."""


class InputError(ToughtalkError):
    """A problem in an input file, with where it is."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
