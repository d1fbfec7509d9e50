"""Macro coverage (`toughtalk coverage`), recorded stages, and macro slot validation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.agents.macros import DEFAULT_SLOTS, MacroAgent
from harness.catalog import load_persona, validate_paths
from harness.cli import app
from harness.coverage import macro_coverage
from harness.episode import CaseBrief
from harness.models import MACRO_SLOTS, MacroLibrary
from harness.runs import TRANSCRIPTS, execute, start_run
from harness.show import load_run
from tests.conftest import ANTI_PATTERNS, read_jsonl, small_settings

WIDE = {"COLUMNS": "300"}

# A thin library: no explore, playback or manager_request macro (the agent skips explore
# when it has none; playback and a manager request fall back to `resolve`), one resolve
# macro (sent again and again), one close macro.
THIN = {
    "id": "thin",
    "version": 1,
    "description": "too few macros",
    "macros": [
        {
            "id": "thin-open",
            "stages": ["opening"],
            "text": "Hi {customer_name}, I'm {agent_name}. I'm sorry about {issue}.",
        },
        {
            "id": "thin-fix",
            "stages": ["resolve"],
            "text": "I can {option_1} or {option_2}. Which would you prefer?",
        },
        {"id": "thin-close", "stages": ["close"], "text": "Done. Anything else?"},
    ],
}


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture(scope="module")
def thin_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("coverage")
    library = root / "thin.yaml"
    library.write_text(yaml.safe_dump(THIN), encoding="utf-8")
    settings = small_settings(
        personas=["late-gift", "manager-now"], agents=[f"macros:{library}", ANTI_PATTERNS]
    )
    out = root / "run"
    store, manifest, todo = start_run(settings, out, name="thin", kind="run", resume=False)
    execute(store, manifest, todo)
    return out


def test_macro_turns_record_their_stage(thin_run: Path) -> None:
    agent_turns = [
        t for r in read_jsonl(thin_run / TRANSCRIPTS) for t in r["turns"] if t["role"] == "agent"
    ]
    assert agent_turns and all(t["stage"] and t["macro"] for t in agent_turns)
    assert {"opening", "playback"} <= {t["stage"] for t in agent_turns}


def test_fallbacks_repeats_and_failures(thin_run: Path) -> None:
    reports = {r.library.id: r for r in macro_coverage(load_run(thin_run))}
    assert set(reports) == {"thin", "anti-patterns"}
    thin = reports["thin"]
    gap_stages = {g.stage for g in thin.gaps}
    assert {"playback", "manager_request"} <= gap_stages  # no macro for either
    assert "opening" not in gap_stages and "resolve" not in gap_stages
    assert {g.fallback for g in thin.gaps if g.stage == "playback"} == {"thin-fix"}
    assert {g.archetype for g in thin.gaps} <= {"upset", "manager_demanding"}
    assert all(g.cue for g in thin.gaps)
    uses = {u.macro: u for u in thin.uses}
    assert uses["thin-fix"].repeated_in > 0
    assert any(macro == "thin-fix" and times > 1 for _, macro, times in thin.repeats)
    anti = {u.macro: u for u in reports["anti-patterns"].uses}
    assert anti["open-calm-down"].fails["deesc.no_calm_down"] == anti["open-calm-down"].sent
    assert not reports["anti-patterns"].gaps
    assert "resolve-whatever" in reports["anti-patterns"].unused


def test_coverage_command(thin_run: Path) -> None:
    result = _cli("coverage", str(thin_run))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "No fitting macro" in out
    gap_rows = [line for line in out.splitlines() if "playback" in line and "thin-fix" in line]
    assert gap_rows, out
    assert "Sent repeatedly: thin-fix" in out
    assert "deesc.no_calm_down" in out
    assert "No fitting macro: none" in out  # the anti-patterns library covers every stage


def test_coverage_needs_a_macro_agent(tmp_path: Path) -> None:
    bot = "http:http://127.0.0.1:9/chat"
    settings = small_settings(
        personas=["late-gift"],
        agents=[bot],
        seeds=[0],
        agent_options={"http": {"retries": 0, "timeout": 0.5}},
    )
    store, manifest, todo = start_run(settings, tmp_path / "r", name="r", kind="run", resume=False)
    execute(store, manifest, todo)
    result = _cli("coverage", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'r'}: no macros: agent in this run; coverage is about macro libraries"
    ]


# ---------------------------------------------------------------- slots


def test_every_slot_the_agent_fills_is_documented() -> None:
    assert set(DEFAULT_SLOTS) <= set(MACRO_SLOTS)
    persona, _ = load_persona("big-refund")  # 3 allowed offers, a forbidden and a supervisor one
    text = " | ".join(f"{{{name}}}" for name in MACRO_SLOTS)
    library = MacroLibrary.model_validate(
        {
            "id": "all",
            "version": 1,
            "description": "x",
            "macros": [{"id": "a", "stages": ["any"], "text": text}],
        }
    )
    agent = MacroAgent(library, CaseBrief.from_persona(persona), "macros:all")
    reply = asyncio.run(agent.next_turn([]))
    filled = reply.text.split(" | ")
    assert len(filled) == len(MACRO_SLOTS)
    assert "the details on your account" not in filled  # the fallback for unknown slots
    schema = MacroLibrary.model_json_schema()
    described = schema["$defs"]["Macro"]["properties"]["text"]["description"]
    assert all(f"{{{name}}}" in described for name in MACRO_SLOTS)


def test_validate_rejects_an_unknown_slot(tmp_path: Path) -> None:
    library = {
        "id": "typo",
        "version": 1,
        "description": "one unknown slot",
        "macros": [
            {"id": "fine", "stages": ["opening"], "text": "Hi {customer_name}, order {order_id}."},
            {"id": "typo-ref", "stages": ["resolve"], "text": "I found order {order_ref}."},
        ],
    }
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(library, sort_keys=False), encoding="utf-8")
    count, problems = validate_paths([path])
    assert count == 1
    assert len(problems) == 1
    problem = problems[0]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "order_ref" in text)
    assert problem.startswith(f"{path}:{line}: macro 'typo-ref' uses unknown slot {{order_ref}}")
    assert "known slots: agent_name, customer_name, issue" in problem


def test_validate_rejects_broken_braces(tmp_path: Path) -> None:
    library = {
        "id": "braces",
        "version": 1,
        "description": "x",
        "macros": [{"id": "open", "stages": ["opening"], "text": "Hi {customer_name"}],
    }
    path = tmp_path / "braces.yaml"
    path.write_text(yaml.safe_dump(library), encoding="utf-8")
    _, problems = validate_paths([path])
    assert len(problems) == 1 and "macro 'open': broken {slot} braces" in problems[0]


def test_builtin_macro_libraries_use_known_slots(repo: Path) -> None:
    count, problems = validate_paths([repo / "evals" / "macros"])
    assert count >= 2 and problems == []
