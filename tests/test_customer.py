"""The scripted customer: deterministic, and reacting to what the agent does."""

from __future__ import annotations

import asyncio

import pytest

from harness.agents.macros import MacroAgent
from harness.catalog import all_personas, load_macros, load_persona, load_reactions
from harness.customers.scripted import ScriptedCustomer
from harness.episode import CaseBrief, run_episode
from harness.models import StopReason, Turn

PLAYBOOK = "evals/macros/seed-playbook.yaml"
ANTI = "evals/macros/anti-patterns.yaml"


def _customer(persona_id: str, seed: int = 0, difficulty: int | None = None) -> ScriptedCustomer:
    persona, _ = load_persona(persona_id)
    return ScriptedCustomer(persona, load_reactions(), seed=seed, difficulty=difficulty)


def _episode(persona_id: str, library: str, seed: int = 0, difficulty: int | None = None):
    persona, _ = load_persona(persona_id)
    customer = _customer(persona_id, seed, difficulty)
    agent = MacroAgent(load_macros(library)[0], CaseBrief.from_persona(persona), library)
    return asyncio.run(run_episode(customer, agent, max_turns=20)), customer


def _react(persona_id: str, agent_text: str) -> tuple[float, float, str]:
    """Anger before and after one agent reply, and the customer's answer."""
    customer = _customer(persona_id)
    opening = asyncio.run(customer.next_turn([]))
    transcript = [
        Turn(role="customer", text=opening.text, state=opening.state),
        Turn(role="agent", text=agent_text),
    ]
    reply = asyncio.run(customer.next_turn(transcript))
    assert opening.state and reply.state
    return opening.state.anger, reply.state.anger, reply.text


def test_same_seed_same_transcript_byte_for_byte() -> None:
    first, _ = _episode("late-gift", PLAYBOOK, seed=3)
    second, _ = _episode("late-gift", PLAYBOOK, seed=3)
    assert [t.model_dump_json() for t in first.turns] == [t.model_dump_json() for t in second.turns]


def test_seeds_vary_wording_and_the_playbook_still_resolves_late_gift() -> None:
    # seeds also draw the customer's temperament (tests/test_seed_variation.py); at the
    # persona's own difficulty every one of these is still a customer the playbook wins over
    texts = set()
    outcomes = set()
    for seed in range(4):
        result, _ = _episode("late-gift", PLAYBOOK, seed=seed)
        texts.add(" ".join(t.text for t in result.turns if t.role == "customer"))
        outcomes.add(result.stop_reason)
    assert len(texts) > 1
    assert outcomes == {StopReason.resolved}


@pytest.mark.parametrize(
    ("agent_text", "direction"),
    [
        ("Please calm down, I can't help you while you're like this.", "up"),
        ("That's our policy.", "up"),
        ("That's the warehouse's fault, not ours.", "up"),
        ("I understand.", "up"),
        (
            "It sounds really stressful, and I can hear how frustrated you are. Let's sort this "
            "out together.",
            "down",
        ),
    ],
)
def test_reactions_move_anger(agent_text: str, direction: str) -> None:
    before, after, _ = _react("late-gift", agent_text)
    assert (after > before) if direction == "up" else (after < before)


def test_calm_down_is_answered_in_words() -> None:
    _, _, text = _react("late-gift", "Please calm down.")
    persona, _ = load_persona("late-gift")
    lines = load_reactions().reactions["calm_down"] + persona.lines.get("calm_down", [])
    assert any(line in text for line in lines)


def test_open_question_reveals_hidden_issue_closed_gets_a_word() -> None:
    customer = _customer("late-gift")
    opening = asyncio.run(customer.next_turn([]))
    warm = (
        "I can hear how frustrating this is, and I'm sorry we let you down. Let's sort it "
        "together. Can you walk me through what's at stake for you?"
    )
    reply = asyncio.run(
        customer.next_turn(
            [Turn(role="customer", text=opening.text), Turn(role="agent", text=warm)]
        )
    )
    assert reply.state and reply.state.real_issue_revealed
    closed = _customer("late-gift")
    opening = asyncio.run(closed.next_turn([]))
    short = asyncio.run(
        closed.next_turn(
            [
                Turn(role="customer", text=opening.text),
                Turn(role="agent", text="Did you check the porch?"),
            ]
        )
    )
    assert short.state and not short.state.real_issue_revealed
    assert len(short.text.split()) < len(reply.text.split())


def test_forbidden_offer_is_accepted_and_recorded_as_breach() -> None:
    persona, _ = load_persona("social-threat")
    customer = _customer("social-threat")
    opening = asyncio.run(customer.next_turn([]))
    forbidden = persona.policy.forbids[0]
    reply = asyncio.run(
        customer.next_turn(
            [
                Turn(role="customer", text=opening.text),
                Turn(role="agent", text=f"Fine, I'll {forbidden.text}."),
            ]
        )
    )
    assert reply.action == "accept_forbidden"
    assert reply.state and forbidden.id in reply.state.policy_breach


def test_difficulty_changes_start_and_patience() -> None:
    easy, hard = _customer("late-gift", difficulty=1), _customer("late-gift", difficulty=5)
    assert easy.mind.anger < hard.mind.anger
    assert easy.patience > hard.patience


@pytest.mark.parametrize("persona", [p.id for p, _ in all_personas()])
def test_every_persona_separates_playbook_from_anti_patterns(persona: str) -> None:
    good, good_customer = _episode(persona, PLAYBOOK)
    bad, bad_customer = _episode(persona, ANTI)
    assert good.stop_reason != StopReason.error, good.error
    assert bad.stop_reason != StopReason.error, bad.error
    assert good_customer.mind.anger < bad_customer.mind.anger
    good_csat = good_customer.satisfaction(good.stop_reason == StopReason.resolved)
    bad_csat = bad_customer.satisfaction(bad.stop_reason == StopReason.resolved)
    assert good_csat >= bad_csat
    if good.stop_reason == StopReason.resolved:
        assert good_csat > bad_csat


def test_abusive_persona_sees_the_whole_ladder_before_the_end() -> None:
    result, _ = _episode("abusive-insults", PLAYBOOK)
    assert result.stop_reason == StopReason.agent_ended
    macros = [t.macro for t in result.turns if t.role == "agent"]
    rungs = [m for m in macros if m and m.startswith("abuse-")]
    assert rungs == ["abuse-redirect", "abuse-name", "abuse-boundary", "abuse-end"]


def test_inflaming_moves_without_their_own_line_still_get_an_answer() -> None:
    # Stacked questions inflame but have no dedicated line; the manager branch must cope.
    before, after, text = _react("manager-now", "What happened? Why now? When did it start?")
    assert after >= before and text.strip()
