"""What the commands print: progress, run summaries, usage, agreement and estimates.
Formatting (tables, decimals, percentages) lives here, not in the library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.cli.app import err_console, out_console
from harness.models import RunSettings, Scorecard


def number(value: float | None) -> str:
    """Two decimals, `-` for no value."""
    return "-" if value is None else f"{value:.2f}"


def percent(value: float) -> str:
    """A share as a whole percentage."""
    return f"{value:.0%}"


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar; yields the callback the library calls per conversation."""
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def print_summary(out: Path) -> None:
    """Per agent: conversations, score, final anger, resolved, csat; then usage, agreement
    (the statistic's name and n per guideline)."""
    from harness.compare import summary
    from harness.store import RunStore

    table = Table(
        "agent",
        "conversations",
        "score",
        "final anger",
        "resolved",
        "csat",
        title=f"Summary: {out}",
    )
    for row in summary([out]):
        errors = f" ({row.errors} errors)" if row.errors else ""
        table.add_row(
            row.agent,
            f"{row.conversations}{errors}",
            number(row.score),
            number(row.final_anger),
            percent(row.resolved),
            number(row.csat),
        )
    out_console.print(table)
    manifest = RunStore(out).read_manifest()
    if manifest is not None and manifest.usage:
        usage = Table(
            "role",
            "calls",
            "cached",
            "prompt tokens",
            "completion tokens",
            "cost (USD)",
            title="Model usage",
        )
        for role, u in manifest.usage.items():
            usage.add_row(
                role,
                str(u.calls),
                str(u.cached_calls),
                str(u.prompt_tokens),
                str(u.completion_tokens),
                f"{u.cost_usd:.4f}",
            )
        out_console.print(usage)
    if manifest is not None and manifest.agreement:
        print_agreement(manifest.agreement, RunStore(out).load_scorecards())
    out_console.print(f"results: {out}", highlight=False)


def print_agreement(agreement: dict[str, dict[str, float | None]], cards: list[Scorecard]) -> None:
    """One table per judge pair (and all judges): the statistic per guideline and its n."""
    from harness.agreement import agreement_counts, statistic_of

    counts = agreement_counts(cards)
    for table_name, values in agreement.items():
        pair, statistic = statistic_of(table_name)
        agree = Table("guideline", statistic, "n", title=f"Judge agreement: {pair}")
        for guideline, value in values.items():
            n = counts.get(table_name, {}).get(guideline)
            agree.add_row(guideline, number(value), "-" if n is None else str(n))
        out_console.print(agree)


def print_estimate(settings: RunSettings) -> None:
    """The dry-run table: calls, tokens and cost per model role."""
    from harness.estimate import estimate

    table = Table(
        "role",
        "model",
        "calls",
        "prompt tokens",
        "completion tokens",
        "cost (USD)",
        title="Dry run: estimate (no model was called)",
    )
    conversations, rows = estimate(settings)
    for row in rows:
        table.add_row(
            row.role,
            row.model,
            str(row.calls),
            str(row.prompt_tokens),
            str(row.completion_tokens),
            f"{row.cost_usd:.4f}",
        )
    if not rows:
        table.add_row("-", "no model roles", "0", "0", "0", "0.0000")
    out_console.print(table)
    out_console.print(f"{conversations} conversation(s)")
