"""The scripted customer's lines: paraphrase pools per situation, never said twice.

A situation (`harness.models.SITUATIONS`) has the persona's own lines first and the shared
lines of `personas/common/reactions.yaml` behind them as more ways to say the same thing.
`LinePicker` draws from them with the conversation's seeded stream and never hands out a
line it has handed out before in the conversation: when both pools of a situation are used
up it moves to the situation's nearest neighbour (`NEIGHBOURS`), so a customer rephrases
instead of repeating itself.

Before a line is used it is checked against the agent's reply it answers:

- a quoted phrase in the line ("'I understand' is easy to type") must be words the agent
  wrote, so the customer never quotes the agent saying what it did not say;
- a line with the `{issue}` or `{desired_outcome}` slot is not used to answer an offer
  (it would read as the customer not having heard it), nor when the agent's reply already
  names most of the slot's words; a `{customer_name}` line only answers a reply that
  mentions a name.
"""

from __future__ import annotations

import random
import re

from harness import signals as sig
from harness.models import Persona, ReactionLines

# Where a situation goes for more wording when its own pools are used up.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "short": ("detail",),
    "detail": ("vent",),
    "calm_down": ("angrier",),
    "blame": ("angrier",),
    "bare_understand": ("angrier",),
    "robotic_apology": ("angrier",),
    "policy_only": ("refused_no_alt", "angrier"),
    "vague_timeline": ("angrier",),
    "repeat_ask": ("angrier",),
    "premature_fix": ("vent",),
    "reject_offer": ("haggle", "vent"),
    "haggle": ("reject_offer",),
    "accept": ("thanks",),
    "demand_manager": ("demand_again",),
    "demand_again": ("demand_manager",),
    "insult": ("angrier",),
    "behaviour_named": ("insult",),
    "boundary_push": ("insult",),
    "boundary_ack": ("calmer",),
    "refused_no_alt": ("policy_only", "angrier"),
    "refused_with_alt": ("calmer",),
    "playback_confirm": ("short",),
    "give_id": ("no_id",),
    "no_id": ("repeat_ask",),
    "thanks": ("calmer",),
    "calmer": ("less_angry",),
    "less_angry": ("vent",),
    "give_chance": ("calmer",),
    "accept_forbidden": ("accept",),
    "leave": ("angrier",),
    "angrier": ("vent",),
    "vent": ("angrier",),
}
_QUOTED = re.compile(r"(?<![A-Za-z])['‘\"](.+?)['’\"](?![A-Za-z])")
_SLOTTED = ("{issue}", "{desired_outcome}")


def slots(persona: Persona) -> dict[str, str]:
    """The values a line's `{slot}` placeholders are filled with."""
    return {
        "issue": persona.issue,
        "customer_name": persona.customer_name,
        "desired_outcome": persona.desired_outcome,
        **{k: str(v) for k, v in persona.context.items()},
        "fact": "{fact}",  # filled by the customer with the fact asked for (give_id)
    }


def fill(persona: Persona, line: str) -> str:
    """A line with its slots filled from the persona."""
    try:
        return line.format_map(slots(persona))
    except (KeyError, ValueError, IndexError) as exc:
        raise ValueError(f"persona {persona.id}: bad slot in line {line!r}: {exc}") from exc


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$£€]+", text.lower().replace("’", "'")))


def quotes_fit(line: str, agent_text: str) -> bool:
    """Every phrase the line quotes is something the agent wrote."""
    said = _words(agent_text)
    return all(_words(q) in said for q in _QUOTED.findall(line))


def slots_fit(persona: Persona, line: str, agent_text: str, *, answering_offer: bool) -> bool:
    """A slot-filled line is not an answer to an offer, nor to a reply that already says it."""
    if "{customer_name}" in line and "name" not in agent_text.lower():
        return False  # "It's {customer_name}" answers a question about the name only
    used = [s for s in _SLOTTED if s in line]
    if not used:
        return True
    if answering_offer:
        return False
    said = sig.content_stems(agent_text)
    for slot in used:
        wanted = sig.content_stems(slots(persona)[slot.strip("{}")])
        if wanted and len(wanted & said) * 2 >= len(wanted):
            return False
    return True


def pool(persona: Persona, reactions: ReactionLines, situation: str) -> list[str]:
    """The persona's lines of a situation, then the shared ones (no duplicates)."""
    own = persona.lines.get(situation, [])
    return list(dict.fromkeys([*own, *reactions.reactions.get(situation, [])]))


class LinePicker:
    """Seeded choice of fresh, fitting lines for one conversation."""

    def __init__(self, persona: Persona, reactions: ReactionLines, rng: random.Random) -> None:
        self.persona = persona
        self.reactions = reactions
        self.rng = rng
        self.used: list[str] = []

    def pick(self, situation: str, agent_text: str = "", *, answering_offer: bool = False) -> str:
        """A line for the situation (or its neighbours) not said before in this conversation."""
        seen: set[str] = set()
        queue = [situation]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            fitting = [
                line
                for line in pool(self.persona, self.reactions, current)
                if fill(self.persona, line) not in self.used
                and quotes_fit(line, agent_text)
                and slots_fit(self.persona, line, agent_text, answering_offer=answering_offer)
            ]
            own = [line for line in fitting if line in self.persona.lines.get(current, [])]
            choices = own or fitting
            if choices:
                return self._take(choices[self.rng.randrange(len(choices))])
            queue += NEIGHBOURS.get(current, ())
        # every line of every neighbour said: the one said longest ago
        options = pool(self.persona, self.reactions, situation)
        filled = [fill(self.persona, o) for o in options]
        oldest = min(filled, key=lambda f: self.used.index(f) if f in self.used else -1)
        self.used.remove(oldest)
        self.used.append(oldest)
        return oldest

    def _take(self, line: str) -> str:
        text = fill(self.persona, line)
        self.used.append(text)
        return text

    def said(self, text: str) -> None:
        """Record a line said outside the pools (the complaint, the reveal)."""
        self.used.append(text)


def situations_in(text: str, persona: Persona, reactions: ReactionLines) -> set[str]:
    """Which situations' lines a customer message is made of ('reveal' for the reveal)."""
    found: set[str] = set()
    names = {*reactions.reactions, *persona.lines}
    for situation in names:
        for line in pool(persona, reactions, situation):
            filled = re.escape(fill(persona, line)).replace(re.escape("{fact}"), ".+?")
            if re.search(filled, text):
                found.add(situation)
                break
    if fill(persona, persona.hidden_issue.reveal_line) in text:
        found.add("reveal")
    return found
