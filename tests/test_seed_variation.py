"""Seeds are samples: each draws the scripted customer's temperament within its persona and
difficulty (harness/customers/temperament.py), deterministically."""

from __future__ import annotations

import asyncio
from dataclasses import fields, replace
from itertools import pairwise
from statistics import mean

import pytest

from harness.agents.macros import MacroAgent
from harness.catalog import all_personas, load_macros, load_persona, load_reactions
from harness.customers.scripted import INFLAMING, ScriptedCustomer
from harness.customers.temperament import (
    JITTER,
    LEVEL_RANGE,
    LEVEL_SPREAD,
    SENSITIVITIES,
    Temperament,
    centre,
    draw,
)
from harness.episode import CaseBrief, EpisodeResult, run_episode
from harness.models import Persona, StopReason, Turn
from tests.conftest import REPO
from tests.test_validity import cv

PLAYBOOK = "evals/macros/seed-playbook.yaml"
ANTI = "evals/macros/anti-patterns.yaml"
PERSONAS = [p for p, _ in all_personas()]
LEVELS = range(1, 6)
SEEDS = range(8)
# knob -> True if a higher value makes the customer harder
HARDER_WHEN_HIGHER = {
    "anger": True,
    "trust": False,
    "patience": False,
    "calm_factor": False,
    "heat_factor": True,
    "questions_needed": True,
    "trust_needed": True,
    "accept_at": False,
}


def _episode(
    persona: Persona,
    library: str,
    seed: int,
    difficulty: int | None = None,
    temperament: Temperament | None = None,
) -> tuple[EpisodeResult, ScriptedCustomer]:
    customer = ScriptedCustomer(
        persona, load_reactions(), seed=seed, difficulty=difficulty, temperament=temperament
    )
    agent = MacroAgent(load_macros(library)[0], CaseBrief.from_persona(persona), library)
    return asyncio.run(run_episode(customer, agent, max_turns=20)), customer


def _dump(result: EpisodeResult) -> list[str]:
    return [t.model_dump_json() for t in result.turns]


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("seed", [1, 5])
@pytest.mark.parametrize("library", [PLAYBOOK, ANTI])
def test_same_persona_seed_and_difficulty_same_transcript_byte_for_byte(
    library: str, seed: int
) -> None:
    persona, _ = load_persona("third-contact")
    first, one = _episode(persona, library, seed, difficulty=3)
    second, two = _episode(persona, library, seed, difficulty=3)
    assert _dump(first) == _dump(second)
    assert one.temperament == two.temperament == draw(persona, seed, 3)


def test_seeds_draw_different_temperaments() -> None:
    persona, _ = load_persona("late-gift")
    drawn = {draw(persona, seed, 3) for seed in SEEDS}
    assert len(drawn) == len(SEEDS)


def test_seed_zero_is_the_persona_as_written() -> None:
    for persona in PERSONAS:
        for level in LEVELS:
            assert draw(persona, 0, level) == centre(persona, level)
        written = draw(persona, 0, persona.difficulty)
        emotion, hidden = persona.emotion, persona.hidden_issue
        assert (written.anger, written.trust, written.patience, written.accept_at) == (
            emotion.anger,
            emotion.trust,
            emotion.patience,
            emotion.accept_at,
        )
        assert (written.questions_needed, written.trust_needed) == (
            hidden.open_questions_needed,
            hidden.trust_needed,
        )
        assert (written.calm_factor, written.heat_factor, written.level) == (
            1.0,
            1.0,
            persona.difficulty,
        )
        assert not (written.pushes_back or written.walks_away or written.sensitive_to)


def test_a_given_temperament_replaces_the_drawn_one_but_not_the_wording() -> None:
    persona, _ = load_persona("late-gift")
    as_written = centre(persona, 3)
    drawn, _ = _episode(persona, PLAYBOOK, 4, difficulty=3)
    given, customer = _episode(persona, PLAYBOOK, 4, difficulty=3, temperament=as_written)
    assert customer.temperament == as_written
    assert customer.patience == as_written.patience
    assert _dump(given) != _dump(drawn)
    # the seed still picks the wording: same temperament, other seed, other words
    other, _ = _episode(persona, PLAYBOOK, 5, difficulty=3, temperament=as_written)
    assert [t.text for t in other.turns] != [t.text for t in given.turns]


# ---------------------------------------------------------------- bounds and ordering


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_traits_stay_within_bounds(persona: Persona) -> None:
    for level in LEVELS:
        easiest = centre(persona, level - LEVEL_SPREAD)
        hardest = centre(persona, level + LEVEL_SPREAD)
        for seed in range(1, 41):
            mood = draw(persona, seed, level)
            assert level - LEVEL_SPREAD <= mood.level <= level + LEVEL_SPREAD
            assert LEVEL_RANGE[0] <= mood.level <= LEVEL_RANGE[1]
            for knob in HARDER_WHEN_HIGHER:
                value = getattr(mood, knob)
                ends = (getattr(easiest, knob), getattr(hardest, knob))
                slack = JITTER[knob] + 0.01
                assert min(ends) - slack <= value <= max(ends) + slack, (seed, level, knob)
            assert 0 <= mood.anger <= 10 and 0 <= mood.trust <= 10
            assert mood.patience >= 2 and mood.questions_needed >= 0
            assert abs(mood.manager_at - persona.manager.at_anger) <= JITTER["manager_at"]
            assert mood.abuse_persists == centre(persona, level).abuse_persists
            assert mood.sensitive_to in SENSITIVITIES
            assert mood.sensitive_to not in persona.emotion.triggers
            if persona.manager.demands != "when_angry":
                assert not mood.walks_away


def test_sensitivities_are_inflaming_behaviours() -> None:
    assert set(SENSITIVITIES) <= set(INFLAMING)


def test_a_seed_gets_no_easier_as_the_difficulty_rises() -> None:
    """The draws depend on persona and seed only, so each knob moves with the difficulty."""
    for persona in PERSONAS:
        for seed in range(1, 21):
            moods = [draw(persona, seed, level) for level in LEVELS]
            for easier, harder in pairwise(moods):
                assert harder.level >= easier.level
                for knob, up in HARDER_WHEN_HIGHER.items():
                    low, high = getattr(easier, knob), getattr(harder, knob)
                    assert (high >= low) if up else (high <= low), (persona.id, seed, knob)
                assert harder.needs_reveal >= easier.needs_reveal
                assert harder.pushes_back >= easier.pushes_back
                assert (harder.walks_away, harder.sensitive_to, harder.manager_at) == (
                    easier.walks_away,
                    easier.sensitive_to,
                    easier.manager_at,
                )


def test_difficulty_order_holds_on_average_over_seeds() -> None:
    def average(knob: str, level: int) -> float:
        return mean(float(getattr(draw(p, s, level), knob)) for p in PERSONAS for s in SEEDS)

    for knob, up in (("anger", True), ("patience", False), ("accept_at", False)):
        means = [average(knob, level) for level in LEVELS]
        steps = list(pairwise(means))
        assert all((b > a) if up else (b < a) for a, b in steps), (knob, means)


# ---------------------------------------------------------------- the traits at work


def test_a_sceptic_turns_down_the_first_good_offer_once() -> None:
    persona, _ = load_persona("late-gift")
    plain, _ = _episode(persona, PLAYBOOK, 0, difficulty=2)
    sceptic_mood = replace(centre(persona, 2), pushes_back=True)
    sceptic, _ = _episode(persona, PLAYBOOK, 0, difficulty=2, temperament=sceptic_mood)
    first_offer = next(i for i, t in enumerate(plain.turns) if t.macro == "resolve-options")
    assert plain.turns[first_offer + 1].action == "accept"
    assert sceptic.turns[first_offer].macro == "resolve-options"
    assert sceptic.turns[first_offer + 1].action is None
    assert [t.action for t in sceptic.turns].count("accept") == 1
    assert plain.stop_reason == sceptic.stop_reason == StopReason.resolved
    assert len(sceptic.turns) > len(plain.turns)


def test_a_walker_leaves_where_the_persona_asks_for_a_manager() -> None:
    persona, _ = load_persona("late-gift")
    assert persona.manager.demands == "when_angry"
    escalates, _ = _episode(persona, ANTI, 0)
    walker = replace(centre(persona, persona.difficulty), walks_away=True)
    walks, customer = _episode(persona, ANTI, 0, temperament=walker)
    assert escalates.stop_reason == StopReason.escalated
    assert walks.stop_reason == StopReason.customer_left
    assert not customer.mind.wants_manager


def test_an_extra_sensitivity_hits_twice_as_hard() -> None:
    persona, _ = load_persona("wrong-model")  # starts at anger 5 and never asks for a manager
    assert "bare_understand" not in persona.emotion.triggers
    mood = centre(persona, persona.difficulty)
    rises = []
    for given in (mood, replace(mood, sensitive_to="bare_understand")):
        customer = ScriptedCustomer(persona, load_reactions(), seed=0, temperament=given)
        opening = asyncio.run(customer.next_turn([]))
        reply = asyncio.run(
            customer.next_turn(
                [Turn(role="customer", text=opening.text), Turn(role="agent", text="I understand.")]
            )
        )
        assert reply.state is not None
        rises.append(reply.state.anger - mood.anger)
    assert rises[1] == pytest.approx(2 * rises[0])


def test_temperament_fields_are_documented_in_the_docs() -> None:
    doc = (REPO / "docs" / "seeds.md").read_text(encoding="utf-8")
    missing = [f.name for f in fields(Temperament) if f"`{f.name}`" not in doc]
    assert not missing, f"docs/seeds.md does not explain {missing}"


# ---------------------------------------------------------------- the target: seeds as samples


@pytest.fixture(scope="module")
def variation() -> list:
    """16 personas x (playbook, anti-patterns, middling) x seeds 0-7 at difficulty 3."""
    return cv.collect(
        ("all",),
        [cv.VARIATION_DIFFICULTY],
        range(cv.VARIATION_SEEDS),
        agents=(cv.GOOD, cv.BAD, cv.MIDDLING),
    )


def test_eight_seeds_give_more_than_one_ending_on_most_personas(variation: list) -> None:
    varied = cv.varied_personas(variation)
    half = len(PERSONAS) / 2
    assert max(varied[cv.GOOD], varied[cv.BAD]) > half, varied
    assert varied[cv.MIDDLING] > half, varied


def test_the_agents_keep_their_order_over_the_seeds(variation: list) -> None:
    def resolved(agent: str) -> float:
        return mean(r.resolved for r in variation if r.agent == agent)

    def anger(agent: str) -> float:
        return mean(r.final_anger for r in variation if r.agent == agent)

    assert resolved(cv.GOOD) > resolved(cv.MIDDLING) > resolved(cv.BAD)
    assert anger(cv.GOOD) < anger(cv.MIDDLING) < anger(cv.BAD)
