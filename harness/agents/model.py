"""The `model:ID` agent: an LLM answers the customer, given the bot's prompt and the case."""

from __future__ import annotations

import re
from typing import Any

from harness.agents import AgentContext
from harness.episode import Action, CaseBrief, Reply
from harness.llm import Gateway
from harness.models import Turn
from harness.registry import AGENTS, model_arg

DEFAULT_PROMPT = """You are a customer-service agent talking with a customer.
Be calm, specific and honest: name how the customer feels, own the problem, ask open
questions to find what really matters, summarise it back, offer two or three concrete
options within the policy, say no with a reason and an alternative when the policy forbids
something, and confirm the next step with a time. Keep replies short (2-5 sentences)."""

CONTROL = """
Write only your next message to the customer. If you must end the conversation (for
example after repeated abuse), finish your message with [END]. If you hand the customer to
a manager now, finish your message with [TRANSFER]."""


def case_block(brief: CaseBrief | None) -> str:
    """The case as the agent may see it (never the customer's hidden issue)."""
    if brief is None:
        return ""
    facts = "\n".join(f"- {k}: {v}" for k, v in brief.context.items())
    lines = [
        "\nCase file (facts you already have; do not ask the customer for them):",
        f"- customer: {brief.customer_name}",
        f"- issue: {brief.issue}",
        f"- channel: {brief.channel}",
        facts,
        "You may offer:",
        *(f"- {o.text}" for o in brief.allowed),
    ]
    if brief.forbidden:
        lines += ["You must not offer:", *(f"- {o.text} ({o.reason})" for o in brief.forbidden)]
    if brief.needs_supervisor:
        lines += [
            "Needs a supervisor's approval (escalate, do not promise):",
            *(f"- {o.text}" for o in brief.needs_supervisor),
        ]
    if brief.role == "manager":
        lines.append(
            "You are the support manager taking over after a colleague ended the "
            "previous conversation."
        )
    return "\n".join(lines)


class ModelAgent:
    """An LLM plays the agent; the gateway counts its usage under the role `agent`."""

    def __init__(
        self,
        model: str,
        gateway: Gateway,
        brief: CaseBrief | None,
        spec: str,
        *,
        system_prompt: str | None = None,
        seed: int = 0,
        temperature: float = 0.7,
    ) -> None:
        self.model = model
        self.gateway = gateway
        self.brief = brief
        self.spec = spec
        self.seed = seed
        self.temperature = temperature
        self.system = (system_prompt or DEFAULT_PROMPT).strip() + "\n" + case_block(brief) + CONTROL

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """Ask the model for the next agent message."""
        messages = [{"role": "system", "content": self.system}]
        messages += [
            {"role": "user" if t.role == "customer" else "assistant", "content": t.text}
            for t in transcript
        ]
        done = await self.gateway.complete(
            role="agent",
            model=self.model,
            messages=messages,
            temperature=self.temperature,
            seed=self.seed,
            max_tokens=250,
        )
        text = done.text.strip()
        action: Action | None = None
        if re.search(r"\[END\]\s*$", text):
            action = "end"
        elif re.search(r"\[TRANSFER\]\s*$", text):
            action = "transfer"
        text = re.sub(r"\s*\[(END|TRANSFER)\]\s*", " ", text).strip()
        return Reply(text=text or "(no reply)", action=action)


@AGENTS.register(
    "model",
    summary="an LLM answers (any litellm id: openai/gpt-4o-mini, ollama_chat/llama3.1, "
    "local/smollm2); see --system-prompt",
    metavar="ID",
    models=model_arg,
)
def _model(arg: str, options: Any, context: AgentContext) -> ModelAgent:
    return ModelAgent(
        arg,
        context.gateway or Gateway(),
        context.brief,
        f"model:{arg}",
        system_prompt=context.system_prompt,
        seed=context.seed,
        temperature=context.temperature,
    )
