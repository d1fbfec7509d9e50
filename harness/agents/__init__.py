"""Agents: who answers the customer. Each module of this package registers its kinds in
`harness.registry.AGENTS` (`macros:PATH`, `model:ID`, `http:URL`); plugins add more."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from harness.registry import AGENTS

if TYPE_CHECKING:
    from harness.episode import CaseBrief, Participant
    from harness.llm import Gateway


@dataclass(frozen=True)
class AgentContext:
    """What a run gives every agent it builds, whatever its kind."""

    brief: CaseBrief | None = None
    gateway: Gateway | None = None
    system_prompt: str | None = None
    seed: int = 0
    temperature: float = 0.7
    conversation_id: str | None = None


class AgentFactory(Protocol):
    """Builds an agent of one kind from the spec's argument, its options and the run."""

    def __call__(self, arg: str, options: Any, context: AgentContext, /) -> Participant: ...


def make_agent(
    spec: str,
    context: AgentContext | None = None,
    *,
    options: Mapping[str, Any] | None = None,
) -> Participant:
    """Build an agent from its spec; `options` maps a kind name (e.g. `http`) to its options."""
    kind, parsed = AGENTS.resolve(spec)
    chosen = AGENTS.options(kind, (options or {}).get(kind.name))
    return kind.factory(parsed.arg, chosen, context or AgentContext())


def agent_files(spec: str) -> list[str]:
    """Files an agent spec reads (hashed into run.json)."""
    return AGENTS.files(spec)
