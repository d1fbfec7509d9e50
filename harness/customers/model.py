"""The `model:ID` customer: an LLM plays a persona and reports its state every turn.

After each agent message the model returns JSON: its next line plus its updated state
(anger 0-10, wants_manager, resolved, leaving), so emotion trajectories are comparable with
the scripted customer. Fidelity guards catch a hostile persona gone soft, a premature end,
a restart or role flip, and a leaked hidden goal: the turn is regenerated once, and if it
still fails the episode is flagged `sim_fault` (compare can exclude it).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from harness import signals as sig
from harness.customers import CustomerContext
from harness.episode import Reply
from harness.graders.base import offer_hits
from harness.llm import Gateway, parse_json_object
from harness.models import CustomerState, Persona, Turn
from harness.registry import CUSTOMERS, model_arg


class CustomerMove(BaseModel):
    """What the customer model must return each turn."""

    reply: str = Field(min_length=1)
    anger: float = Field(ge=0, le=10)
    wants_manager: bool = False
    resolved: bool = False
    leaving: bool = False


MOVE_SCHEMA = CustomerMove.model_json_schema()


def persona_prompt(persona: Persona, difficulty: int) -> str:
    """Everything the model needs to stay in character, as a system prompt."""
    policy = persona.policy
    return "\n".join(
        [
            f"You are role-playing {persona.customer_name}, a customer contacting support "
            f"by {persona.channel}. Stay in character; you are NOT the agent and never help "
            "the agent.",
            f"Your complaint: {persona.complaint}",
            f"What you really need (keep it to yourself until the agent earns your trust with "
            f"open questions and empathy): {persona.hidden_issue.summary}",
            f"When it comes out, say something like: {persona.hidden_issue.reveal_line}",
            f"The outcome you want: {persona.desired_outcome}",
            "Offers you would accept once you feel heard: "
            + "; ".join(o.text for o in policy.allows),
            "Things you push for but the company should refuse: "
            + ("; ".join(o.text for o in policy.forbids) or "none"),
            f"Start anger {persona.emotion.anger}/10 (difficulty {difficulty}/5). Get angrier when "
            "told to calm down, blamed, given a bare 'I understand', a canned apology, 'that's our "
            "policy' or a vague 'soon'; calm down when your feeling is named, the agent owns it, "
            "plays your problem back and offers concrete options.",
            f"Abuse: {persona.abuse.level}. Manager: {persona.manager.demands}.",
            "Answer open questions with details and closed questions briefly.",
            'Reply ONLY with JSON: {"reply": "<your next message>", "anger": <0-10>, '
            '"wants_manager": <true|false>, "resolved": <true if you accept a concrete offer>, '
            '"leaving": <true if you give up>}',
        ]
    )


class ModelCustomer:
    """An LLM plays the persona; the gateway counts its usage under the role `customer`."""

    def __init__(
        self,
        persona: Persona,
        model: str,
        gateway: Gateway,
        spec: str,
        *,
        seed: int,
        difficulty: int | None,
        temperature: float = 0.8,
    ) -> None:
        self.persona = persona
        self.model = model
        self.gateway = gateway
        self.spec = spec
        self.seed = seed
        self.temperature = temperature
        self.difficulty = difficulty or persona.difficulty
        self.system = persona_prompt(persona, self.difficulty)
        self.faults: list[str] = []
        self.anger = float(
            min(10, max(0, persona.emotion.anger + self.difficulty - persona.difficulty))
        )
        self.manager_turns = 0

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """The complaint first; then the model's move, checked for fidelity."""
        if not any(t.role == "agent" for t in transcript):
            return Reply(text=self.persona.complaint, state=self._state(False))
        move, problem = await self._move(transcript, attempt=0)
        if problem:
            move, problem = await self._move(transcript, attempt=1, note=problem)
            if problem:
                self.faults.append(problem)
        self.anger = move.anger
        self.manager_turns = self.manager_turns + 1 if move.wants_manager else 0
        action = None
        if move.resolved:
            action = "resolved"
        elif move.leaving:
            action = "leave"
        elif self.manager_turns >= 3:
            action = "manager"
        return Reply(
            text=move.reply,
            action=action,  # type: ignore[arg-type]
            state=self._state(move.wants_manager),
        )

    def satisfaction(self, resolved: bool) -> int:
        """A 1-5 rating from the final anger, like the scripted customer's."""
        return round(max(1.0, min(5.0, 5 - self.anger / 2.5 + (0.75 if resolved else -0.5))))

    async def _move(
        self, transcript: list[Turn], *, attempt: int, note: str = ""
    ) -> tuple[CustomerMove, str]:
        messages = [{"role": "system", "content": self.system}]
        # The model plays the customer: the agent's messages are its "user" input.
        messages += [
            {"role": "assistant" if t.role == "customer" else "user", "content": t.text}
            for t in transcript
        ]
        if note:
            messages.append(
                {
                    "role": "system",
                    "content": f"Your last answer was rejected: "
                    f"{note}. Stay in character and answer with the JSON only.",
                }
            )
        done = await self.gateway.complete(
            role="customer",
            model=self.model,
            messages=messages,
            temperature=self.temperature,
            seed=self.seed * 10 + attempt,
            max_tokens=250,
            schema=MOVE_SCHEMA,
        )
        try:
            move = CustomerMove.model_validate(parse_json_object(done.text))
        except (ValueError, ValidationError) as exc:
            text = done.text.strip() or "..."
            fallback = CustomerMove(reply=text[:1000], anger=self.anger)
            return fallback, f"reply was not the JSON asked for ({str(exc).splitlines()[0]})"
        return move, self._fidelity(move, transcript)

    def _fidelity(self, move: CustomerMove, transcript: list[Turn]) -> str:
        """Why a move breaks character ('' when it is fine)."""
        agent_text = " ".join(t.text for t in transcript if t.role == "agent")
        last_agent = next(t.text for t in reversed(transcript) if t.role == "agent")
        hostile = self.persona.abuse.level == "abusive" or self.persona.emotion.anger >= 8
        calming = (
            sig.names_emotion(last_agent) or sig.playback(last_agent) or sig.ownership(last_agent)
        )
        if hostile and self.anger - move.anger > 5 and not calming:
            return "a hostile persona went soft without any reason"
        if move.resolved and not any(
            offer_hits(o.patterns, o.unless, agent_text)
            for o in (
                *self.persona.policy.allows,
                *self.persona.policy.forbids,
                *self.persona.policy.needs_supervisor,
            )
        ):
            return "accepted a resolution before any concrete offer was made"
        if re.search(
            r"\b(how (can|may) I (help|assist) you|thank you for contacting|as an AI)\b",
            move.reply,
            sig.FLAGS,
        ):
            return "stepped out of the customer role (restart or role flip)"
        asked = any(sig.exploratory_questions(t.text) for t in transcript if t.role == "agent")
        secret = self.persona.hidden_issue.summary
        if not asked and _overlap(secret, move.reply) > 0.6:
            return "revealed the hidden goal before the agent asked"
        return ""

    def _state(self, wants_manager: bool) -> CustomerState:
        return CustomerState(
            anger=round(self.anger, 2),
            trust=0.0,
            wants_manager=wants_manager,
            reactions=list(self.faults[-1:]),
        )


def _overlap(secret: str, reply: str) -> float:
    words = {w for w in re.findall(r"[a-z]{4,}", secret.lower())}
    said = {w for w in re.findall(r"[a-z]{4,}", reply.lower())}
    return len(words & said) / len(words) if words else 0.0


@CUSTOMERS.register(
    "model", summary="an LLM plays the persona (any litellm id)", metavar="ID", models=model_arg
)
def _model(arg: str, options: Any, context: CustomerContext) -> ModelCustomer:
    return ModelCustomer(
        context.persona,
        arg,
        context.gateway or Gateway(),
        f"model:{arg}",
        seed=context.seed,
        difficulty=context.difficulty,
        temperature=context.temperature,
    )
