"""`show` and `coverage`: read a finished run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import out_console, user_errors


def show(
    run: Annotated[Path, typer.Argument(help="Run directory (results/<time>-<name>).")],
    conversation: Annotated[
        str | None,
        typer.Argument(help="Conversation id or a unique prefix of it; omit to list them."),
    ] = None,
) -> None:
    """List a run's conversations, or show one turn by turn with its verdicts.

    Under each agent turn, the verdicts quoting it; then the rest, the outcome, the score.

    Examples:

      toughtalk show results/20260101-120000-run

      toughtalk show results/20260101-120000-run late-gift__macros
    """
    from harness.show import (
        conversation_table,
        conversation_view,
        find_conversation,
        list_footer,
        load_run,
    )

    with user_errors():
        loaded = load_run(run)
        if conversation is None:
            out_console.print(conversation_table(loaded))
            out_console.print(list_footer(loaded), highlight=False)
            return
        cid = find_conversation(loaded, conversation)
        out_console.print(conversation_view(loaded, cid))


def coverage(
    run: Annotated[Path, typer.Argument(help="Run directory with macros:PATH agents.")],
) -> None:
    """Macro coverage: stages with no fitting macro, repeats, and the guidelines each fails.

    For each macros:PATH agent of the run; see docs/regrading-and-show.md.

    Example:

      toughtalk coverage results/20260101-120000-demo
    """
    from harness.coverage import coverage_view, macro_coverage
    from harness.show import load_run

    with user_errors():
        for report in macro_coverage(load_run(run)):
            out_console.print(coverage_view(report))
