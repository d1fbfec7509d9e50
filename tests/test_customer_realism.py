"""The scripted customer answers what the agent did: offers, questions, refusals, boundaries
and manager demands in kind, never quoting words the agent did not write, never repeating a
line, never calmed by a reply that also inflames; and the realism benchmark in reduced form."""

from __future__ import annotations

import asyncio
import re

import pytest

from benchmarks import customer_realism as realism
from harness.catalog import all_personas, load_persona, load_reactions
from harness.customers.pools import quotes_fit, situations_in, slots_fit
from harness.customers.scripted import MAX_CALM, ScriptedCustomer
from harness.models import Persona, Turn
from harness.plan import cap_abuse

PERSONAS = [p.id for p, _ in all_personas()]
EMPATHY = (
    "I can hear how frustrating and stressful this has been, and I'm so sorry we let you "
    "down. That's on us, and we'll sort it out together."
)


def _talk(
    persona: Persona | str, replies: list[str], *, seed: int = 0, difficulty: int | None = None
) -> list[Turn]:
    """The whole conversation: the complaint, then each reply and the customer's answer."""
    if isinstance(persona, str):
        persona, _ = load_persona(persona)
    customer = ScriptedCustomer(persona, load_reactions(), seed=seed, difficulty=difficulty)
    turns: list[Turn] = []
    for reply in [None, *replies]:
        if reply is not None:
            turns.append(Turn(role="agent", text=reply))
        said = asyncio.run(customer.next_turn(turns))
        turns.append(Turn(role="customer", text=said.text, state=said.state, action=said.action))
        if said.action in ("manager", "leave"):
            break
    return turns


def _situations(persona_id: str, text: str) -> set[str]:
    persona, _ = load_persona(persona_id)
    return situations_in(text, persona, load_reactions())


def test_reduced_realism_benchmark_meets_its_targets() -> None:
    tally = realism.collect(
        ["manager-now", "abusive-insults", "late-gift", "big-refund"], seeds=range(2)
    )
    figures = realism.figures(tally)
    assert tally.customer_turns > 100
    assert figures.repeat_rate == 0, tally
    assert figures.contingency >= realism.CONTINGENCY_TARGET, tally.misses
    assert figures.agreement >= realism.AGREEMENT_TARGET, tally.disagreements
    assert figures.worst_inflame >= 0
    assert figures.passed


def test_offering_the_transfer_and_asking_for_a_chance_gets_the_chance() -> None:
    turns = _talk(
        "manager-now",
        [
            "I can transfer you to my manager right now if you'd like. Could I have two "
            "minutes to try to sort this first?"
        ],
    )
    last = turns[-1]
    assert last.action is None
    assert last.state is not None and not last.state.wants_manager
    assert "manager_respected" in last.state.reactions
    assert "give_chance" in _situations("manager-now", last.text)


def test_an_ignored_manager_demand_is_repeated_sharper_and_acted_on_only_at_acts_after() -> None:
    persona, _ = load_persona("manager-now")
    assert persona.manager.acts_after == 3
    stall = ["What seems to be the problem today?"] * 6
    turns = _talk(persona, stall)
    customer = [t for t in turns if t.role == "customer"]
    # the complaint is the demand; two ignored replies get it repeated, the third gets action
    assert [t.action for t in customer] == [None, None, None, "manager"]
    assert "demand_again" in _situations("manager-now", customer[1].text)
    assert customer[2].state and customer[1].state
    assert customer[2].state.anger > customer[1].state.anger
    # the rule is persona data: a customer who acts on the first ignored reply
    impatient = persona.model_copy(
        update={"manager": persona.manager.model_copy(update={"acts_after": 1})}
    )
    assert _talk(impatient, stall)[-1].action == "manager"


def test_offering_only_the_transfer_counts_half_so_the_customer_waits_for_it() -> None:
    turns = _talk("manager-now", ["I can transfer you to my manager."] * 5)
    actions = [t.action for t in turns if t.role == "customer"]
    # 0.5 per reply: acted on only after the sixth half-hearted reply, never before
    assert "manager" not in actions


@pytest.mark.parametrize("persona", PERSONAS)
def test_an_inflaming_move_never_lowers_anger(persona: str) -> None:
    for reply in (
        "Please calm down. " + EMPATHY,
        "Relax, it's not that big a deal.",
        "I understand. " + EMPATHY,
        "That's our policy. " + EMPATHY,
    ):
        turns = _talk(persona, [reply])
        before, after = turns[0].state, turns[-1].state
        assert before is not None and after is not None
        assert after.anger >= before.anger, (reply, before.anger, after.anger)


@pytest.mark.parametrize("persona", PERSONAS)
def test_one_kind_reply_calms_by_at_most_the_cap(persona: str) -> None:
    turns = _talk(cap_abuse(load_persona(persona)[0], "none"), [EMPATHY])
    before, after = turns[0].state, turns[-1].state
    assert before is not None and after is not None
    assert before.anger - after.anger <= MAX_CALM + 1e-9
    if before.anger >= 8:  # a furious customer is not content after one line
        assert "calmer" not in _situations(persona, turns[-1].text)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_customer_line_is_said_twice_even_to_a_stonewalling_agent(persona: str) -> None:
    replies = ["Can you tell me what happened?", "I hear you.", "Is there anything else?"] * 6
    turns = _talk(persona, replies)
    said = [t.text for t in turns if t.role == "customer"]
    sentences = [s for text in said for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
    assert len(set(said)) == len(said)
    assert len(set(sentences)) == len(sentences)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_customer_never_quotes_words_the_agent_did_not_write(persona: str) -> None:
    replies = [
        "sorry about that, let me check",
        "I understand.",
        "We'll get back to you soon.",
        "Sorry for the inconvenience, that's our policy.",
    ]
    turns = _talk(persona, replies)
    for agent, customer in zip(turns[1::2], turns[2::2], strict=False):
        assert quotes_fit(customer.text, agent.text), (agent.text, customer.text)
    assert "Sorry for any inconvenience' is copy" not in " ".join(t.text for t in turns)


def test_a_forbidden_offer_is_accepted_and_recorded_as_a_breach() -> None:
    turns = _talk("manager-now", ["I'll remove the roaming charges entirely, at no cost to you."])
    last = turns[-1]
    assert last.action == "accept_forbidden"
    assert last.state is not None and last.state.policy_breach == ["wipe_charges"]


def test_an_abusive_caller_answers_each_rung_of_the_ladder() -> None:
    redirect = "I want to help, Clive. Let's focus on getting the engineer booked."
    name = "I can tell how angry you are, but the name-calling needs to stop."
    boundary = (
        "If the insults continue I will end this call. I can connect you with my manager "
        "or we can continue by email."
    )
    hard = _talk("abusive-insults", [redirect, name, boundary], difficulty=5)
    assert "insult" in _situations("abusive-insults", hard[2].text)
    assert {"behaviour_named", "insult"} <= _situations("abusive-insults", hard[4].text)
    # from difficulty 2 a caller still this hot pushes against the boundary ...
    assert "boundary_push" in _situations("abusive-insults", hard[6].text)
    # ... and at difficulty 1 complies with it
    easy = _talk("abusive-insults", [boundary], difficulty=1)
    assert "boundary_ack" in _situations("abusive-insults", easy[-1].text)


def test_an_abusive_caller_offered_what_he_wants_answers_the_offer() -> None:
    persona, _ = load_persona("abusive-insults")
    offer = persona.policy.allows[0].text
    turns = _talk(persona, [f"I'm sorry, that's on us. I can {offer}. Would that work?"])
    found = _situations("abusive-insults", turns[-1].text)
    assert found & realism.ANSWERS["offer"], turns[-1].text


def test_slot_filled_lines_are_checked_against_the_agents_reply() -> None:
    persona, _ = load_persona("manager-now")
    imagine = "Imagine dealing with {issue} yourself and then hearing that."
    outcome = "What I care about is {desired_outcome}."
    assert slots_fit(persona, imagine, "Please hold.", answering_offer=False)
    assert not slots_fit(persona, imagine, "I can backdate the pass.", answering_offer=True)
    # a reply that already names the outcome is not told what the customer wants
    said = "I can replace the $212 with the pass price for the three extra days."
    assert not slots_fit(persona, outcome, said, answering_offer=False)
    assert quotes_fit("'I understand' is easy to type.", "I understand.")
    assert not quotes_fit("'Sorry for any inconvenience' is copy and paste.", "sorry about that")
