"""Report formats of `toughtalk compare`, registered in `harness.registry.REPORTERS`:
`table` (a Rich table), `markdown`, `csv` and `json`; plugins add their own.

The text formats share one grid: a row per key of `--by`, then the outcome rows, pass^k,
the share of conversations per stop reason and the conversations that are not results;
a column per series (`†`: its run differs from the baseline run), then one paired
difference column per series that shares units with the baseline; footer lines say how the
intervals were computed."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Protocol

from rich.console import Group, RenderableType
from rich.table import Column as TableColumn
from rich.table import Table
from rich.text import Text

from harness.compare import Column, Comparison, Row
from harness.registry import REPORTERS
from harness.stats import MDD_FACTOR, Estimate, PairedDifference

DAGGER = "†"


class Reporter(Protocol):
    """Renders a comparison: text to print as is, or a Rich renderable."""

    def __call__(self, comparison: Comparison, /) -> str | RenderableType: ...


def number(value: float | None) -> str:
    """Two decimals, `-` for no value."""
    return "-" if value is None else f"{value:.2f}"


def cell(e: Estimate) -> str:
    """`0.82 [0.78, 0.86] n=48` (no interval below 2 values, `-` without values)."""
    if e.mean is None:
        return "-"
    if e.ci_low is None or e.ci_high is None:
        return f"{e.mean:.2f} n={e.n}"
    return f"{e.mean:.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}] n={e.n}"


def p_value(p: float) -> str:
    """`p=0.031`, or `p<0.001`."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def delta(d: PairedDifference | None) -> str:
    """`+0.12 [0.05, 0.20] p=0.003 n=48`, `-` without paired units."""
    if d is None:
        return "-"
    interval = "" if d.ci_low is None else f" [{d.ci_low:+.2f}, {d.ci_high:+.2f}]"
    return f"{d.delta:+.2f}{interval} {p_value(d.p_value)} n={d.n}"


def render(comparison: Comparison, fmt: str) -> str | RenderableType:
    """Render a comparison in a registered format."""
    kind, _ = REPORTERS.resolve(fmt)
    return kind.factory(comparison)


# ---------------------------------------------------------------- the shared grid


def _paired_columns(comparison: Comparison) -> list[int]:
    return [i for i, c in enumerate(comparison.series) if c.paired_units]


def header(comparison: Comparison) -> list[str]:
    """Key columns, one column per series, one paired-difference column per paired series."""
    names = [c.name + (f" {DAGGER}" if c.differs else "") for c in comparison.series]
    deltas = [f"Δ {comparison.columns[i]}" for i in _paired_columns(comparison)]
    return [*comparison.dims, *names, *deltas]


def _line(comparison: Comparison, row: Row) -> list[str]:
    key = list(row.key) + [""] * (len(comparison.dims) - len(row.key))
    deltas = [delta(row.paired[i]) for i in _paired_columns(comparison)]
    return [*key, *(cell(e) for e in row.cells), *deltas]


def _extra(comparison: Comparison, name: str, cells: list[str]) -> list[str]:
    """A row of per-series values only (no paired difference)."""
    keys = [""] * (len(comparison.dims) - 1)
    deltas = [""] * len(_paired_columns(comparison))
    return [name, *keys, *cells, *deltas]


def _excluded(column: Column) -> str:
    total = sum(column.excluded.values())
    if not total:
        return "0"
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(column.excluded.items()))
    return f"{total} ({reasons})"


def summary_rows(comparison: Comparison) -> list[list[str]]:
    """pass^k, stop reasons and the conversations left out, as grid rows."""
    rows = []
    most = max((max(c.pass_hat_k, default=0) for c in comparison.series), default=0)
    for k in range(1, most + 1):
        values = [number(c.pass_hat_k.get(k)) for c in comparison.series]
        rows.append(_extra(comparison, f"pass^{k} (resolved)", values))
    for reason, counts in comparison.stop_reasons:
        values = [
            f"{count / c.conversations:.0%} ({count}/{c.conversations})"
            for count, c in zip(counts, comparison.series, strict=True)
        ]
        rows.append(_extra(comparison, f"stop: {reason}", values))
    values = [_excluded(c) for c in comparison.series]
    rows.append(_extra(comparison, "errored / unscored conversations", values))
    return rows


def footer(comparison: Comparison) -> list[str]:
    """What the numbers are, how the intervals were computed, and the notes."""
    base = comparison.columns[comparison.baseline]
    lines = ["cells: mean [95% interval] n (conversations that are not results left out)"]
    lines += [f"interval: {m}" for m in comparison.methods()]
    if _paired_columns(comparison):
        lines.append(
            f"Δ: paired difference vs {base} (baseline): mean of the per-unit differences over "
            "the same (persona, seed, difficulty) [95% interval] two-sided sign-flip p-value, "
            "n units"
        )
    overall = next((r for r in comparison.outcomes if r.key == ("OVERALL score",)), None)
    for i in _paired_columns(comparison):
        d = overall.paired[i] if overall else None
        if d is not None and d.mdd is not None:
            lines.append(
                f"minimum detectable difference of OVERALL score, {comparison.columns[i]} vs "
                f"{base}: {d.mdd:.3f} (80% power at alpha 0.05: {MDD_FACTOR} * sd(diff) / "
                f"sqrt(n), n={d.n})"
            )
    for c in comparison.series:
        if c.differs:
            lines.append(
                f"{DAGGER} {c.name}: its run differs from the baseline run in "
                f"{', '.join(c.differs)}"
            )
    return lines + comparison.notes


def grid(comparison: Comparison) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The header, the rows by `--by`, and the outcome + summary rows."""
    body = [_line(comparison, row) for row in comparison.rows]
    tail = [_line(comparison, row) for row in comparison.outcomes] + summary_rows(comparison)
    return header(comparison), body, tail


# ---------------------------------------------------------------- formats


def _estimate(e: Estimate) -> dict[str, Any]:
    return {"mean": e.mean, "n": e.n, "ci_low": e.ci_low, "ci_high": e.ci_high, "method": e.method}


def _difference(d: PairedDifference | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "delta": d.delta,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "p_value": d.p_value,
        "n": d.n,
        "method": d.method,
        "mdd": d.mdd,
    }


def _json_row(comparison: Comparison, row: Row, keys: list[str]) -> dict[str, Any]:
    base = comparison.baseline
    return {
        **dict(zip(keys, row.key, strict=True)),
        "cells": {c: _estimate(e) for c, e in zip(comparison.columns, row.cells, strict=True)},
        "paired": {
            c: _difference(d)
            for i, (c, d) in enumerate(zip(comparison.columns, row.paired, strict=True))
            if i != base
        },
    }


def as_data(comparison: Comparison) -> dict[str, Any]:
    """The whole comparison as plain data (what `--format json` prints)."""
    return {
        "by": comparison.dims,
        "baseline": comparison.columns[comparison.baseline],
        "methods": comparison.methods(),
        "columns": [
            {
                "name": c.name,
                "run": c.run,
                "agent": c.agent,
                "conversations": c.conversations,
                "excluded": c.excluded,
                "differs": c.differs,
                "paired_units": c.paired_units,
            }
            for c in comparison.series
        ],
        "differences": [{"name": d.name, "values": d.values} for d in comparison.differences],
        "rows": [_json_row(comparison, r, comparison.dims) for r in comparison.rows],
        "outcomes": [_json_row(comparison, r, ["metric"]) for r in comparison.outcomes],
        "pass_hat_k": {
            c.name: {str(k): v for k, v in c.pass_hat_k.items()} for c in comparison.series
        },
        "stop_reasons": [
            {
                "stop_reason": reason,
                "cells": {
                    c.name: {
                        "count": count,
                        "n": c.conversations,
                        "share": count / c.conversations if c.conversations else None,
                    }
                    for count, c in zip(counts, comparison.series, strict=True)
                },
            }
            for reason, counts in comparison.stop_reasons
        ],
        "notes": comparison.notes,
    }


@REPORTERS.register(
    "json",
    summary="one object: rows and outcomes with {mean, n, ci_low, ci_high} per column, "
    "paired differences, pass_hat_k, stop_reasons, differences",
    arg="none",
)
def as_json(comparison: Comparison) -> str:
    """Every number of the comparison, as JSON."""
    return json.dumps(as_data(comparison), indent=2) + "\n"


@REPORTERS.register("csv", summary="comma-separated cells, then # footer lines", arg="none")
def as_csv(comparison: Comparison) -> str:
    """The grid as CSV; the footer lines follow as one-cell rows starting with `#`."""
    head, body, tail = grid(comparison)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([head, *body, *tail])
    writer.writerows([f"# {line}"] for line in footer(comparison))
    return buffer.getvalue()


@REPORTERS.register("markdown", summary="a markdown table and footer lines", arg="none")
def as_markdown(comparison: Comparison) -> str:
    """The grid as a markdown table, then the footer lines."""
    head, body, tail = grid(comparison)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body + tail]
    return "\n".join([*lines, "", *footer(comparison)]) + "\n"


@REPORTERS.register("table", summary="a table in the terminal (default)", arg="none")
def as_table(comparison: Comparison) -> RenderableType:
    """The grid as a Rich table, the footer lines under it."""
    head, body, tail = grid(comparison)
    columns = [TableColumn(name, overflow="fold") for name in head]  # never cut a column's name
    table = Table(*columns, title=f"Mean score by {comparison.by} [95% interval] n")
    for row in body:
        table.add_row(*row)
    table.add_section()
    for row in tail:
        table.add_row(*row)
    return Group(table, *(Text(line) for line in footer(comparison)))
