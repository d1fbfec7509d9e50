"""What the agent's reply did, as one move the customer must answer.

The scripted customer and `benchmarks/customer_realism.py` read a reply the same way, with
the detectors the graders use (`harness.signals`, `harness.graders.base.offer_hits`), so a
"did the customer answer what the agent did?" check cannot drift from what the customer
reacts to. One move per reply, the highest of:

- `manager_offer`: the customer asked for a manager and the reply offers the transfer, asks
  for a chance or promises the transfer if it goes nowhere;
- `offer`: the reply puts one of the persona's offers on the table (allowed, forbidden or
  needing a supervisor), not inside a refusal;
- `boundary`: the customer's last message was abusive and the reply sets a boundary;
- `names_behaviour`: the same, and the reply names the behaviour (the ladder's second rung);
- `redirect`: the same, and the reply acknowledges and steers back to the problem (the
  first rung);
- `refusal`: the reply says no (a refusal or "that's our policy");
- `question`: the reply asks the customer something (rhetorical questions do not count).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness import signals as sig
from harness.graders.base import offer_hits
from harness.models import Offer, Persona, Turn

MOVES = (
    "manager_offer",
    "offer",
    "boundary",
    "names_behaviour",
    "redirect",
    "refusal",
    "question",
)


def last_customer_text(transcript: Sequence[Turn]) -> str:
    """The customer's latest message ('' before the first)."""
    return next((t.text for t in reversed(transcript) if t.role == "customer"), "")


def handles_manager_ask(text: str) -> tuple[bool, bool]:
    """(offers the transfer, asks for a chance or promises the transfer if unsatisfied)."""
    offered = bool(sig.find(sig.TRANSFER_OFFER, text))
    chance = bool(sig.find(sig.ASK_CHANCE, text) or sig.find(sig.PROMISE_TRANSFER, text))
    return offered, chance


def offers_in(text: str, persona: Persona) -> list[Offer]:
    """The persona's offers the reply puts on the table (a forbidden one named inside a
    refusal does not count)."""
    policy = persona.policy
    found: list[Offer] = []
    for offer in [*policy.allows, *policy.needs_supervisor]:
        if offer_hits(offer.patterns, offer.unless, text):
            found.append(offer)
    for offer in policy.forbids:
        hits = offer_hits(offer.patterns, offer.unless, text)
        if any(not sig.refusals(sig.sentence_of(text, h).text) for h in hits):
            found.append(offer)
    return found


def refuses(text: str) -> bool:
    """The reply says no (and does not end the conversation)."""
    return bool(sig.refusals(text) or sig.policy_only(text)) and not sig.ends_conversation(text)


def real_questions(text: str) -> bool:
    """The reply asks the customer something it means to have answered."""
    rhetorical = {h.start for h in sig.rhetorical_questions(text)}
    return any(q.start not in rhetorical for q in sig.questions(text))


def agent_move(text: str, transcript: Sequence[Turn], persona: Persona) -> str | None:
    """The one move of `MOVES` the reply makes (see the module docstring), or None."""
    before = last_customer_text(transcript)
    if sig.asks_manager(before) and any(handles_manager_ask(text)):
        return "manager_offer"
    if offers_in(text, persona):
        return "offer"
    if sig.abusive(before) and sig.ladder_rung(text) == 3:
        return "boundary"
    if sig.abusive(before) and sig.ladder_rung(text) == 2:
        return "names_behaviour"
    if sig.abusive(before) and sig.ladder_rung(text) == 1:
        return "redirect"
    if refuses(text):
        return "refusal"
    if real_questions(text):
        return "question"
    return None
