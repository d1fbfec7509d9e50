"""`progress`: one trainee's practice history (score, per-section trend, still missed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.app import out_console, user_errors


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def progress(
    name: Annotated[str, typer.Option(help="The trainee's name, as given to toughtalk chat.")],
    results: Annotated[Path, typer.Option(help="Folder holding the chat run directories.")] = Path(
        "results"
    ),
) -> None:
    """Show one trainee's practice history: score per chat, section trend, what is still missed.

    Example: toughtalk progress --name ana
    """
    from harness.progress import history, section_trend, still_missed

    with user_errors():
        practices = history(name, results)
        if not practices:
            out_console.print(f"No chats by {name} under {results}.")
            return
        table = Table(title=f"Practice history of {name}")
        for column in ("when", "persona", "difficulty", "ended", "score"):
            table.add_column(column, justify="right" if column == "score" else "left")
        for p in practices:
            table.add_row(
                p.started[:16].replace("T", " "),
                p.persona,
                "-" if p.difficulty is None else str(p.difficulty),
                p.stop_reason,
                _fmt(p.score),
            )
        out_console.print(table)
        trend = Table(title="By section: first chat → latest")
        trend.add_column("section")
        trend.add_column("first", justify="right")
        trend.add_column("latest", justify="right")
        for section, (first, last) in section_trend(practices).items():
            trend.add_row(section, _fmt(first), _fmt(last))
        out_console.print(trend)
        missing = still_missed(practices)
        out_console.print(
            Text("Still to show (latest applicable verdict not met): ", style="bold")
            + Text(", ".join(missing) or "nothing: every guideline met when it last applied")
        )
