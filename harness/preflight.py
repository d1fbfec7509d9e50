"""Checks before the first conversation: every model a run calls can be called as
configured (a known id, its API key set, a local model installed). A run that cannot work
fails at once in one line, instead of retrying for minutes and scoring nothing."""

from __future__ import annotations

from collections.abc import Iterable

from harness.llm import Gateway
from harness.registry import AGENTS, CUSTOMERS, JUDGES


def run_models(
    *, agents: Iterable[str] = (), customer: str | None = None, judges: Iterable[str] = ()
) -> list[str]:
    """The model ids that the given agent, customer and judge specs call, once each."""
    ids = [m for spec in agents for m in AGENTS.models(spec)]
    if customer:
        ids += CUSTOMERS.models(customer)
    ids += [m for spec in judges for m in JUDGES.models(spec)]
    return list(dict.fromkeys(ids))


def check_models(gateway: Gateway, models: Iterable[str]) -> None:
    """Raise the first model's problem (a `ToughtalkError` naming the fix), if any."""
    for model in models:
        gateway.check(model)
