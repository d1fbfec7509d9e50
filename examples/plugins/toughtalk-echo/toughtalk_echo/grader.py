"""The `echo.no_parroting` rule grader: an agent reply must not just repeat the customer."""

from __future__ import annotations

from harness.graders.base import Finding, GradeInput, Quote, finding, grader
from harness.signals import Hit


@grader("echo.no_parroting")
def no_parroting(g: GradeInput) -> Finding:
    """Violated when an agent reply is the customer's previous message, word for word."""
    if not g.agent:
        return finding("na", "no agent reply")
    for index, text in g.agent:
        before = g.turns[index - 1] if index else None
        if before is not None and before.role == "customer" and text.strip() == before.text.strip():
            quote = Quote(index, Hit(0, len(text), text))
            return finding("violated", "repeats the customer's message back", quote)
    return finding("met", "every reply says something of its own")
