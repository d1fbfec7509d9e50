"""The one interface agents and customers share, and the plain episode loop.

A participant produces its next `Reply` from the transcript so far. The loop alternates
customer and agent, starting with the customer, and ends with a typed `StopReason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from harness.models import CustomerState, Offer, Persona, StopReason, Turn

Action = Literal[
    "end",  # agent ends the conversation
    "transfer",  # agent hands over to a manager
    "accept",  # customer accepts an offer the policy allows
    "accept_forbidden",  # customer accepts an offer the policy forbids
    "resolved",  # customer closes a resolved conversation
    "leave",  # customer gives up
    "manager",  # customer insists on a manager and is escalated
]


@dataclass(frozen=True)
class Reply:
    """One participant's next message, with an optional typed action."""

    text: str
    action: Action | None = None
    state: CustomerState | None = None
    macro: str | None = None
    stage: str | None = None


class Participant(Protocol):
    """Agents and simulated customers: the next turn from the transcript so far."""

    spec: str

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """Produce the next message."""
        ...


@dataclass(frozen=True)
class CaseBrief:
    """What the agent is allowed to see about the case (never the hidden issue)."""

    customer_name: str
    issue: str
    context: dict[str, str | int | float]
    channel: str
    role: str
    allowed: tuple[Offer, ...]
    forbidden: tuple[Offer, ...]
    needs_supervisor: tuple[Offer, ...]

    @classmethod
    def from_persona(cls, persona: Persona) -> CaseBrief:
        """The agent-visible part of a persona."""
        return cls(
            customer_name=persona.customer_name,
            issue=persona.issue,
            context=dict(persona.context),
            channel=persona.channel,
            role=persona.agent_role,
            allowed=tuple(persona.policy.allows),
            forbidden=tuple(persona.policy.forbids),
            needs_supervisor=tuple(persona.policy.needs_supervisor),
        )

    def visible_context(self) -> dict[str, str | int | float]:
        """Case facts plus the customer's name, as recorded with transcripts."""
        return {"customer_name": self.customer_name, "issue": self.issue, **self.context}


@dataclass
class EpisodeResult:
    """A finished conversation."""

    turns: list[Turn]
    stop_reason: StopReason
    error: str | None = None
    extras: dict[str, object] = field(default_factory=dict)


CUSTOMER_STOPS: dict[str, StopReason] = {
    "resolved": StopReason.resolved,
    "leave": StopReason.customer_left,
    "manager": StopReason.escalated,
}
AGENT_STOPS: dict[str, StopReason] = {
    "end": StopReason.agent_ended,
    "transfer": StopReason.escalated,
}


Role = Literal["customer", "agent"]
STOPS: dict[Role, dict[str, StopReason]] = {"customer": CUSTOMER_STOPS, "agent": AGENT_STOPS}


@dataclass(frozen=True)
class Step:
    """What one participant's move did: the turn it added, and the stop it caused."""

    turn: Turn | None
    stop: StopReason | None = None
    error: str | None = None


async def step(turns: list[Turn], role: Role, who: Participant, *, max_turns: int) -> Step:
    """One move of `who`: appends its turn to `turns` and says whether the episode stops
    (turn limit, a typed stop action, or an error, which ends this episode only)."""
    if len(turns) >= max_turns:
        return Step(None, StopReason.max_turns)
    try:
        reply = await who.next_turn(list(turns))
    except Exception as exc:  # a participant failing ends this episode only
        return Step(None, StopReason.error, f"{role} {who.spec}: {type(exc).__name__}: {exc}")
    turn = Turn(
        role=role,
        text=reply.text,
        state=reply.state,
        action=reply.action,
        macro=reply.macro,
        stage=reply.stage,
    )
    turns.append(turn)
    return Step(turn, STOPS[role].get(reply.action) if reply.action else None)


async def run_episode(
    customer: Participant, agent: Participant, *, max_turns: int
) -> EpisodeResult:
    """Alternate customer and agent until a typed stop; errors end the episode, not the run."""
    turns: list[Turn] = []
    while True:
        speakers: tuple[tuple[Role, Participant], ...] = (("customer", customer), ("agent", agent))
        for role, who in speakers:
            done = await step(turns, role, who, max_turns=max_turns)
            if done.stop is not None:
                return EpisodeResult(turns, done.stop, error=done.error)
