"""The Typer app, its consoles and the one-line error boundary every command uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from harness import __version__
from harness.errors import ToughtalkError

app = typer.Typer(
    name="toughtalk",
    help=(
        "Practise and measure the hardest customer-service conversations.\n\n"
        "Pair a simulated customer (persona) with an agent, grade every reply against the "
        "service guidelines, and compare runs. Start with:  toughtalk eval demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
personas_app = typer.Typer(help="List and show the simulated customers.", no_args_is_help=True)
rubrics_app = typer.Typer(help="List and show the grading rubrics.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")
app.add_typer(rubrics_app, name="rubrics")

# Markup off: text from files, paths, URLs and bots is printed as written, never parsed as
# Rich markup (a `[/bold]` in a path must not crash a command or restyle its output). Style
# comes from `Text` objects and `style=` arguments.
out_console = Console(markup=False)
err_console = Console(stderr=True, markup=False)
STATE: dict[str, bool] = {"debug": False}


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our errors into one line and an exit code (a traceback only with --debug)."""
    try:
        yield
    except ToughtalkError as exc:
        if STATE["debug"]:
            raise
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


def _version(value: bool) -> None:
    if value:
        out_console.print(f"toughtalk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
) -> None:
    """Practise and measure the hardest customer-service conversations."""
    STATE["debug"] = debug
