"""`kinds`: every registered agent, customer, judge and report kind, plugins included."""

from __future__ import annotations

from rich.table import Table

from harness.cli.app import out_console, user_errors


def kinds() -> None:
    """List the kinds of agent, customer, judge and report format, with their options."""
    from harness.registry import AGENTS, CUSTOMERS, JUDGES, REPORTERS

    with user_errors():
        table = Table("role", "spec", "options", "what it is")
        for registry in (AGENTS, CUSTOMERS, JUDGES, REPORTERS):
            for kind in registry.kinds():
                options = ", ".join(kind.options.model_fields) or "-"
                table.add_row(registry.noun, kind.usage, options, kind.summary)
        out_console.print(table)
