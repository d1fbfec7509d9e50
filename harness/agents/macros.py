"""The `macros:PATH` agent: picks a canned reply each turn by conversation stage and cue.

Deterministic: the stage comes from the transcript (abuse, a manager request, an accepted
offer, a forbidden request, then opening → explore → playback → resolve), and among the
macros for that stage whose `when` cues match the customer's last message, the unused one
with the highest priority wins (file order breaks ties).
"""

from __future__ import annotations

import re
import string
from typing import Any

from harness import signals as sig
from harness.agents import AgentContext
from harness.episode import CaseBrief, Reply
from harness.graders.base import offer_hits
from harness.models import Macro, MacroLibrary, Turn
from harness.registry import AGENTS

DEFAULT_SLOTS = {
    "agent_name": "Sam",
    "customer_name": "there",
    "issue": "the problem you raised",
    "option_1": "put the fix in place today",
    "option_2": "refund the amount in question",
    "forbidden": "that",
    "forbidden_reason": "it would not be fair to other customers",
    "supervisor_item": "that",
    "accepted": "put the agreed fix in place",
}


class _Slots(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return DEFAULT_SLOTS.get(key, "the details on your account")


class MacroAgent:
    """Chooses a macro from a library for each turn."""

    def __init__(self, library: MacroLibrary, brief: CaseBrief | None, spec: str) -> None:
        self.library = library
        self.brief = brief
        self.spec = spec

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """The next reply for the conversation so far."""
        stage, refused = self._stage(transcript)
        macro = self._pick(stage, transcript)
        return Reply(
            text=self._fill(macro.text, refused, transcript),
            action=None if macro.action == "reply" else macro.action,
            macro=macro.id,
            stage=stage,
        )

    # ------------------------------------------------------------ stage

    def _stage(self, transcript: list[Turn]) -> tuple[str, str | None]:
        last = transcript[-1].text if transcript else ""
        used = [t.macro for t in transcript if t.role == "agent" and t.macro]
        stages = [self._stage_of(m) for m in used]
        manager = self.brief is not None and self.brief.role == "manager"
        if sig.abusive(last) and (used or not manager):
            rung = sum(1 for t in transcript if t.role == "customer" and sig.abusive(t.text))
            return f"abuse_{min(rung, 4)}", None
        if sig.asks_manager(last) and not manager:
            return "manager_request", None
        accepted = bool(transcript) and transcript[-1].action in ("accept", "accept_forbidden")
        if (
            stages
            and stages[-1] in ("resolve", "refuse", "escalate")
            and (accepted or sig.accepts(last))
        ):
            return "close", None
        if stages and stages[-1] == "close":
            return "close", None
        if not used:
            return "opening", None
        limit = self._pending_limit(transcript)
        if limit is not None:
            return limit
        if self._unused("explore", used) and "playback" not in stages:
            return "explore", None
        if "playback" not in stages:
            return "playback", None
        return "resolve", None

    def _unused(self, stage: str, used: list[str]) -> bool:
        """Whether the library still has a macro for this stage that was not used yet."""
        return any(stage in m.stages and m.id not in used for m in self.library.macros)

    def _stage_of(self, macro_id: str) -> str:
        macro = next((m for m in self.library.macros if m.id == macro_id), None)
        return macro.stages[0] if macro else "any"

    def _pending_limit(self, transcript: list[Turn]) -> tuple[str, str] | None:
        """("refuse" | "escalate", offer id) for a request past a policy limit that the
        agent has not answered since the customer last made it."""
        if self.brief is None:
            return None
        for turn in reversed(transcript):
            if (
                turn.role == "agent"
                and turn.macro
                and self._stage_of(turn.macro) in ("refuse", "escalate")
            ):
                return None
            if turn.role != "customer":
                continue
            for stage, limits in (
                ("refuse", self.brief.forbidden),
                ("escalate", self.brief.needs_supervisor),
            ):
                for offer in limits:
                    if offer_hits(offer.patterns, offer.unless, turn.text):
                        return stage, offer.id
        return None

    def _pick(self, stage: str, transcript: list[Turn]) -> Macro:
        last = transcript[-1].text if transcript else ""
        used = {t.macro for t in transcript if t.role == "agent"}
        order = {m.id: n for n, m in enumerate(self.library.macros)}
        role = self.brief.role if self.brief else "agent"
        for wanted in (stage, "resolve", "any"):
            fits = [
                m
                for m in self.library.macros
                if wanted in m.stages
                and m.role in ("any", role)
                and (not m.when or any(re.search(p, last, re.IGNORECASE) for p in m.when))
            ]
            if fits:
                fits.sort(key=lambda m: (m.id in used, -m.priority, order[m.id]))
                return fits[0]
        raise ValueError(f"macro library {self.library.id!r} has no macro for stage {stage!r}")

    # ------------------------------------------------------------ slots

    def _accepted(self, transcript: list[Turn]) -> str | None:
        """The allowed offer made in the agent's last reply (what the customer accepted)."""
        last_agent = next((t.text for t in reversed(transcript) if t.role == "agent"), "")
        assert self.brief is not None
        for offer in self.brief.allowed:
            if offer_hits(offer.patterns, offer.unless, last_agent):
                return offer.text
        return None

    def _fill(self, text: str, refused: str | None, transcript: list[Turn]) -> str:
        slots = _Slots()
        brief = self.brief
        if brief is not None:
            slots.update({k: str(v) for k, v in brief.context.items()})
            slots["customer_name"] = brief.customer_name.split()[0]
            slots["issue"] = brief.issue
            for n, offer in enumerate(brief.allowed[:3], 1):
                slots[f"option_{n}"] = offer.text
            slots["accepted"] = self._accepted(transcript) or slots["option_1"]
            if brief.needs_supervisor:
                slots["supervisor_item"] = brief.needs_supervisor[0].text
            limits = {o.id: o for o in (*brief.forbidden, *brief.needs_supervisor)}
            chosen = limits.get(refused or "") or (brief.forbidden[0] if brief.forbidden else None)
            if chosen is not None:
                slots["forbidden"] = chosen.text
                slots["forbidden_reason"] = chosen.reason or DEFAULT_SLOTS["forbidden_reason"]
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        for name in fields:
            slots.setdefault(name, slots[name])
        return text.format_map(slots)


def _library_files(arg: str) -> list[str]:
    from harness.catalog import load_macros

    return [str(load_macros(arg)[1])]


@AGENTS.register(
    "macros",
    summary="a library of reply macros (e.g. macros:evals/macros/seed-playbook.yaml)",
    metavar="PATH",
    files=_library_files,
)
def _macros(arg: str, options: Any, context: AgentContext) -> MacroAgent:
    from harness.catalog import load_macros

    library, _ = load_macros(arg)
    return MacroAgent(library, context.brief, f"macros:{arg}")
