"""Report formats of `toughtalk compare`, registered in `harness.registry.REPORTERS`:
`table` (a Rich table), `markdown`, `csv` and `json`; plugins add their own."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Protocol

from rich.console import RenderableType
from rich.table import Table

from harness.compare import Comparison
from harness.registry import REPORTERS


class Reporter(Protocol):
    """Renders a comparison: text to print as is, or a Rich renderable."""

    def __call__(self, comparison: Comparison, /) -> str | RenderableType: ...


def number(value: float | None) -> str:
    """Two decimals, `-` for no value."""
    return "-" if value is None else f"{value:.2f}"


def render(comparison: Comparison, fmt: str) -> str | RenderableType:
    """Render a comparison in a registered format."""
    kind, _ = REPORTERS.resolve(fmt)
    return kind.factory(comparison)


def _header(comparison: Comparison) -> list[str]:
    return [comparison.by, *comparison.columns]


@REPORTERS.register("json", summary="one object per row: {column: {mean, n}}", arg="none")
def as_json(comparison: Comparison) -> str:
    """Every row with the mean and count of each column."""
    data: list[dict[str, Any]] = [
        {
            comparison.by: key,
            **{
                c: {"mean": v, "n": n}
                for c, v, n in zip(comparison.columns, values, counts, strict=True)
            },
        }
        for key, values, counts in comparison.rows
    ]
    return json.dumps(data, indent=2) + "\n"


@REPORTERS.register("csv", summary="comma-separated means", arg="none")
def as_csv(comparison: Comparison) -> str:
    """The means, one row per key."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_header(comparison))
    for key, values, _ in comparison.rows:
        writer.writerow([key, *("" if v is None else v for v in values)])
    return buffer.getvalue()


@REPORTERS.register("markdown", summary="a markdown table", arg="none")
def as_markdown(comparison: Comparison) -> str:
    """The means as a markdown table (two decimals)."""
    header = _header(comparison)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join([key, *(number(v) for v in values)]) + " |"
        for key, values, _ in comparison.rows
    ]
    return "\n".join(lines) + "\n"


@REPORTERS.register("table", summary="a table in the terminal (default)", arg="none")
def as_table(comparison: Comparison) -> Table:
    """The means as a Rich table (two decimals)."""
    table = Table(*_header(comparison), title=f"Mean score by {comparison.by} (na excluded)")
    for key, values, _ in comparison.rows:
        table.add_row(key, *(number(v) for v in values))
    return table
