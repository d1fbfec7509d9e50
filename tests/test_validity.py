"""Customer validity, fast: every persona at difficulty 1 and 5 with 2 seeds must tell the seed
playbook from the anti-patterns (the full matrix is benchmarks/customer_validity.py)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from types import ModuleType

import pytest

from harness.agents.macros import MacroAgent
from harness.catalog import all_personas, load_macros, load_persona, load_reactions
from harness.customers.scripted import ScriptedCustomer
from harness.episode import CaseBrief, run_episode
from harness.models import StopReason
from tests.conftest import REPO

PERSONAS = [p.id for p, _ in all_personas()]
LEVELS = (1, 5)
SEEDS = (0, 1)


def _benchmark() -> ModuleType:
    name = "customer_validity_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "benchmarks" / "customer_validity.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


cv = _benchmark()


@pytest.fixture(scope="module")
def rows() -> list:
    """16 personas x 2 agents x difficulty 1 and 5 x 2 seeds = 128 graded conversations."""
    return cv.collect(("all",), LEVELS, SEEDS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_playbook_separates_from_anti_patterns(rows: list, persona: str) -> None:
    verdict = cv.judge_persona(rows, persona, abusive=persona in cv.abusive_personas())
    assert verdict.passed, verdict.line()


def test_difficulty_makes_the_playbook_work_harder(rows: list) -> None:
    ok, line = cv.judge_trend(rows)
    assert ok, line


def test_abusive_caller_is_ended_only_after_the_whole_ladder(rows: list) -> None:
    for persona in cv.abusive_personas():
        good = [r for r in rows if r.persona == persona and r.agent == cv.GOOD]
        bad = [r for r in rows if r.persona == persona and r.agent == cv.BAD]
        hard = [r for r in good if r.difficulty == 5]
        assert {r.stop_reason for r in hard} == {StopReason.agent_ended}
        assert all(r.ladder == "met" and r.ends_professionally == "met" for r in hard)
        # at difficulty 1 the caller backs off after the boundary and the case gets solved
        assert all(r.resolved for r in good if r.difficulty == 1)
        # an instant hang-up skips the ladder and leaves the caller angrier and less satisfied
        assert all(r.ladder == "violated" for r in bad)
        for level in LEVELS:
            g = cv.Stats.of([r for r in good if r.difficulty == level])
            b = cv.Stats.of([r for r in bad if r.difficulty == level])
            assert g.final_anger < b.final_anger and g.csat > b.csat


def test_seeds_change_wording_and_some_endings(rows: list) -> None:
    effects = cv.seed_effects(rows)
    assert effects["varied"] >= effects["talky"] * 0.8
    # each seed draws the customer's temperament, so two seeds can end differently
    assert 0 < effects["endings_vary"] < effects["cells"]


@pytest.mark.parametrize("difficulty", LEVELS)
def test_same_seed_same_transcript_at_every_difficulty(difficulty: int) -> None:
    library = "evals/macros/seed-playbook.yaml"
    for persona_id in ("abusive-insults", "manager-now", "late-gift"):
        persona, _ = load_persona(persona_id)
        runs = []
        for _ in range(2):
            customer = ScriptedCustomer(persona, load_reactions(), seed=1, difficulty=difficulty)
            agent = MacroAgent(load_macros(library)[0], CaseBrief.from_persona(persona), library)
            result = asyncio.run(run_episode(customer, agent, max_turns=20))
            runs.append([t.model_dump_json() for t in result.turns])
        assert runs[0] == runs[1]
