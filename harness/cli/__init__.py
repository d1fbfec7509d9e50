"""toughtalk's command line: a thin Typer app over the library.

`app.py` holds the app and the error boundary, `options.py` the shared options and the
one builder of run settings, `output.py` everything printed; each other module adds its
commands to the app on import.
"""

from harness.cli import catalog, chat, kinds, runs  # noqa: F401  (register the commands)
from harness.cli.app import app

__all__ = ["app"]
