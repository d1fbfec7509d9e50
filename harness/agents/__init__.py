"""Agents: who answers the customer. `make_agent` turns a spec into one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.episode import CaseBrief, Participant
from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.agents.http import HttpOptions
    from harness.llm import Gateway


def make_agent(
    spec: str,
    brief: CaseBrief | None,
    *,
    gateway: Gateway | None = None,
    system_prompt: str | None = None,
    seed: int = 0,
    temperature: float = 0.7,
    http: HttpOptions | None = None,
    conversation_id: str | None = None,
) -> Participant:
    """Build an agent from its spec: `macros:PATH`, `model:ID` (a litellm model id) or
    `http:URL` (a chatbot over HTTP; `http` carries its format, header templates, timeout)."""
    kind, _, arg = spec.partition(":")
    if kind == "model" and arg:
        from harness.agents.model import ModelAgent
        from harness.llm import Gateway

        return ModelAgent(
            arg,
            gateway or Gateway(),
            brief,
            spec,
            system_prompt=system_prompt,
            seed=seed,
            temperature=temperature,
        )
    if kind == "macros" and arg:
        from harness.agents.macros import MacroAgent
        from harness.catalog import load_macros

        library, _ = load_macros(arg)
        return MacroAgent(library, brief, spec)
    if kind == "http" and arg:
        from harness.agents.http import HttpAgent

        return HttpAgent(arg, brief, spec, options=http, conversation_id=conversation_id)
    raise UsageError(f"unknown agent spec {spec!r}; try macros:evals/macros/seed-playbook.yaml")


def agent_files(spec: str) -> list[str]:
    """Files an agent spec reads (hashed into run.json)."""
    kind, _, arg = spec.partition(":")
    if kind == "macros":
        from harness.catalog import load_macros

        return [str(load_macros(arg)[1])]
    if kind == "http":
        return []  # a URL, not a file: nothing to hash
    return []
