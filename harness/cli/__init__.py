"""toughtalk's command line: a thin Typer app over the library.

`app.py` holds the app and the error boundary, `options.py` the shared options and the
one builder of run settings, `output.py` everything printed; the commands live in
`catalog.py`, `runs.py`, `show.py`, `chat.py`, `progress.py`, `web.py` and `kinds.py` and
are added here, in help order.
"""

from harness.cli.app import app
from harness.cli.catalog import schema, validate
from harness.cli.chat import chat
from harness.cli.kinds import kinds
from harness.cli.progress import progress
from harness.cli.runs import compare, eval_suite, grade, run
from harness.cli.show import coverage, show
from harness.cli.web import report, serve

for command in (
    validate,
    schema,
    run,
    eval_suite,
    grade,
    show,
    coverage,
    compare,
    report,
    chat,
    progress,
    serve,
    kinds,
):
    app.command("eval" if command is eval_suite else None)(command)

__all__ = ["app"]
