"""What the commands print: progress, run summaries, usage, agreement and estimates.
Formatting (tables, decimals, percentages) lives here, not in the library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from harness.cli.app import err_console, out_console
from harness.models import RunSettings, Scorecard

if TYPE_CHECKING:
    from harness.compare import Comparison, Row
    from harness.stats import Estimate

_SUMMARY_OUTCOMES = ("OVERALL score", "final anger (0-10)", "resolved rate", "csat (1-5)")


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


def _outcome(comparison: Comparison, name: str) -> Row | None:
    return next((r for r in comparison.outcomes if r.key == (name,)), None)


def _pass_hat_k(values: dict[int, float]) -> str:
    """`0.94 0.90 0.88`: pass^1 .. pass^n (the first three and the last when n > 4)."""
    shown = [k for k in values if k <= 3 or k == len(values)]
    return " ".join(f"{'.. ' if k > 4 else ''}{values[k]:.2f}" for k in shown) or "-"


def _interval(e: Estimate | None) -> str:
    """`0.82 [0.78, 0.86]` (n is in the conversations column)."""
    if e is None or e.mean is None:
        return "-"
    if e.ci_low is None or e.ci_high is None:
        return number(e.mean)
    return f"{e.mean:.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}]"


def print_summary(out: Path) -> None:
    """Per agent: conversations, score and resolved with 95% intervals, final anger, csat,
    pass^k; paired differences to the first agent with the minimum detectable difference;
    then usage and judge agreement (the statistic's name and n per guideline)."""
    from harness.compare import summary
    from harness.reports import delta
    from harness.stats import MDD_FACTOR
    from harness.store import RunStore

    comparison = summary([out])
    table = Table(
        Column("agent", overflow="fold"),
        "conversations",
        Column("score", no_wrap=True),
        "anger",
        Column("resolved", no_wrap=True),
        "csat",
        Column("pass^k", no_wrap=True),
        title=f"Summary: {out}",
        caption="score, resolved: mean [95% interval] over the conversations that are results "
        "(n= when some are not); anger: final, 0-10; pass^k: k = 1, 2 .. seeds, all k resolved",
    )
    rows = {name: _outcome(comparison, name) for name in _SUMMARY_OUTCOMES}
    for i, column in enumerate(comparison.series):
        left_out = sum(column.excluded.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(column.excluded.items()))
        results = column.conversations - left_out
        note = f" (n={results}; {reasons})" if left_out else ""
        score, anger, resolved, csat = (row.cells[i] if row else None for row in rows.values())
        table.add_row(
            column.agent,
            f"{column.conversations}{note}",
            _interval(score),
            number(anger.mean if anger else None),
            _interval(resolved),
            number(csat.mean if csat else None),
            _pass_hat_k(column.pass_hat_k),
        )
    out_console.print(table)
    first = comparison.columns[comparison.baseline]
    for i, column in enumerate(comparison.series):
        if i == comparison.baseline:
            continue
        score_row, resolved_row = rows["OVERALL score"], rows["resolved rate"]
        d = score_row.paired[i] if score_row else None
        if d is None:
            out_console.print(f"{column.agent}: no units in common with {first}", highlight=False)
            continue
        r = resolved_row.paired[i] if resolved_row else None
        mdd = f"{d.mdd:.3f}" if d.mdd is not None else "- (needs 2 units)"
        out_console.print(
            f"{column.agent} vs {first} (paired, same persona x seed x difficulty): "
            f"score {delta(d)}; resolved {delta(r)}; minimum detectable score difference "
            f"{mdd} (80% power at alpha 0.05: {MDD_FACTOR} * sd(diff) / sqrt(n))",
            highlight=False,
        )
    for method in comparison.methods():
        out_console.print(f"interval: {method}", highlight=False)
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


def print_estimate(settings: RunSettings, *, graded: int | None = None) -> None:
    """The dry-run table: calls, tokens and cost per model role (of grading `graded`
    recorded conversations, when given)."""
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
    conversations, rows = estimate(settings, graded=graded)
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
