"""Agents: who answers the customer. `make_agent` turns a spec into one."""

from __future__ import annotations

from harness.episode import CaseBrief, Participant
from harness.errors import UsageError


def make_agent(spec: str, brief: CaseBrief | None) -> Participant:
    """Build an agent from its spec: `macros:PATH` (more kinds arrive with later issues)."""
    kind, _, arg = spec.partition(":")
    if kind == "macros" and arg:
        from harness.agents.macros import MacroAgent
        from harness.catalog import load_macros

        library, _ = load_macros(arg)
        return MacroAgent(library, brief, spec)
    if kind in ("model", "http"):
        raise UsageError(f"agent {spec!r}: {kind} agents are not available in this version")
    raise UsageError(f"unknown agent spec {spec!r}; try macros:evals/macros/seed-playbook.yaml")


def agent_files(spec: str) -> list[str]:
    """Files an agent spec reads (hashed into run.json)."""
    kind, _, arg = spec.partition(":")
    if kind == "macros":
        from harness.catalog import load_macros

        return [str(load_macros(arg)[1])]
    return []
