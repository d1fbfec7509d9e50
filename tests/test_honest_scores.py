"""Scores that mean what they say: credit for what the agent did, deductions for what it must
not do, no score at all for conversations that are not results, and runs that cannot work
failing before their first conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.judging import weighted_score
from harness.models import VERDICT_SCORE, GuidelineResult, Rubric
from harness.providers.litellm import LiteLLMProvider
from tests.conftest import read_jsonl
from tests.fake_openai import FakeOpenAI, Scripted

COMPLAINT = "My order never arrived and it was a birthday present. This is ridiculous!"


def _rubric(**extra: dict[str, Any]) -> Rubric:
    """Two credit guidelines (weights 2 and 1), a deduction (0.2) and an auto-fail; `extra`
    overrides fields per guideline id (None deletes one)."""
    base = {"title": "t", "section": "s", "source": "x", "description": "d", "applies": "a"}
    guidelines = [
        {"id": "a.credit_big", "weight": 2.0, "grader": "rules:a", **base},
        {"id": "a.credit_small", "grader": "rules:b", **base},
        {"id": "a.dont", "scoring": "deduction", "penalty": 0.2, "grader": "rules:c", **base},
        {"id": "a.never", "scoring": "auto_fail", "grader": "rules:d", **base},
    ]
    for g in guidelines:
        g.update(extra.get(str(g["id"]), {}))
        for key in [k for k, v in g.items() if v is None]:
            del g[key]
    return Rubric.model_validate({"id": "r", "version": 1, "title": "t", "guidelines": guidelines})


def _result(guideline: str, verdict: str) -> GuidelineResult:
    return GuidelineResult(
        guideline=guideline,
        verdict=verdict,  # type: ignore[arg-type]
        score=VERDICT_SCORE[verdict],
        rationale="r",
        grader="test",
    )


def _score(**verdicts: str) -> float | None:
    results = [_result(g.replace("__", "."), v) for g, v in verdicts.items()]
    return weighted_score(results, _rubric())


def test_credit_is_a_weighted_mean_of_what_the_agent_did() -> None:
    assert _score(a__credit_big="met", a__credit_small="missed") == pytest.approx(2 / 3, abs=1e-4)
    assert _score(a__credit_big="partial", a__credit_small="met") == pytest.approx(2 / 3, abs=1e-4)


def test_a_dont_that_was_kept_earns_nothing_and_one_broken_costs_its_penalty() -> None:
    # Keeping every "don't" adds nothing to an agent that did nothing else.
    assert _score(a__credit_big="missed", a__credit_small="missed", a__dont="met") == 0.0
    assert _score(a__credit_big="met", a__credit_small="met", a__dont="met") == 1.0
    assert _score(a__credit_big="met", a__credit_small="met", a__dont="violated") == 0.8
    assert _score(a__credit_big="met", a__credit_small="met", a__dont="partial") == 0.9
    # Deductions never push the score below zero.
    assert _score(a__credit_big="missed", a__credit_small="met", a__dont="violated") == 0.1333
    assert _score(a__credit_big="missed", a__credit_small="missed", a__dont="violated") == 0.0


def test_an_auto_fail_violation_zeroes_the_conversation() -> None:
    assert _score(a__credit_big="met", a__credit_small="met", a__never="violated") == 0.0
    assert _score(a__credit_big="met", a__credit_small="met", a__never="met") == 1.0


def test_no_credit_guideline_scored_means_no_score() -> None:
    assert _score(a__dont="violated") is None
    assert _score(a__credit_big="na", a__credit_small="unscored", a__dont="met") is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"a.credit_big": {"penalty": 0.3}}, "penalty applies to deduction"),
        ({"a.dont": {"weight": 2.0}}, "weight applies to credit"),
        (
            {
                "a.credit_big": {"scoring": "deduction", "weight": None},
                "a.credit_small": {"scoring": "deduction"},
            },
            "at least one credit guideline",
        ),
    ],
)
def test_rubric_rejects_fields_that_do_not_fit_the_scoring(
    extra: dict[str, dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _rubric(**extra)


def test_default_rubric_scores_every_dont_as_a_deduction() -> None:
    from harness.catalog import load_rubric

    rubric, _ = load_rubric("default")
    deductions = {g.id for g in rubric.guidelines if g.scoring != "credit"}
    assert {"deesc.no_calm_down", "deesc.no_blame_passing", "resolve.no_repeat_asks"} <= deductions
    assert "abuse.distinguish" in deductions and "deesc.name_emotion" not in deductions


# ------------------------------------------------------------------ agents that do nothing


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _do_nothing_turns(replies: list[str]) -> list[dict[str, str]]:
    turns = [{"role": "customer", "text": COMPLAINT}]
    for reply in replies:
        turns += [
            {"role": "agent", "text": reply},
            {"role": "customer", "text": "That's it? Are you even listening to me?"},
        ]
    return turns


def test_graded_do_nothing_transcripts_score_at_most_015_or_nothing(tmp_path: Path) -> None:
    rows = [
        {"id": "silent", "persona": "late-gift", "turns": _do_nothing_turns([])},
        {"id": "ok", "persona": "late-gift", "turns": _do_nothing_turns(["Ok.", "Yes.", "Ok."])},
        {"id": "hold", "persona": "wrong-model", "turns": _do_nothing_turns(["Please hold."])},
        {"id": "yes", "turns": _do_nothing_turns(["Yes.", "Yes."])},
    ]
    source = _write_jsonl(tmp_path / "nothing.jsonl", rows)
    out = tmp_path / "graded"
    result = CliRunner().invoke(app, ["grade", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cards = {c["conversation_id"]: c for c in read_jsonl(out / "scorecards.jsonl")}
    assert cards["silent"]["score"] is None and cards["silent"]["flags"] == ["no_agent_turn"]
    assert cards["silent"]["results"] == []
    for conv in ("ok", "hold", "yes"):
        assert cards[conv]["score"] is not None and cards[conv]["score"] <= 0.15, conv
        assert cards[conv]["flags"] == []


def test_simulated_agent_that_only_acknowledges_scores_at_most_015(tmp_path: Path) -> None:
    library = tmp_path / "do-nothing.yaml"
    library.write_text(
        "id: do-nothing\nversion: 1\ndescription: acknowledges and says nothing else\n"
        "macros:\n"
        "  - {id: ok, text: 'Ok.', stages: [any]}\n"
        "  - {id: 'yes', text: 'Yes.', stages: [any]}\n"
        "  - {id: hold, text: 'Please hold.', stages: [any]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", "--persona", "all", "--agent", f"macros:{library}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) >= 10
    scores = [c["score"] for c in cards]
    assert all(s is not None and s <= 0.15 for s in scores), scores


# ------------------------------------------------------------------ errors are not results


def test_a_dead_bot_exits_non_zero_with_no_scores_and_allow_errors_accepts_it(
    tmp_path: Path,
) -> None:
    args = ["run", "--persona", "late-gift", "--agent", "http:http://127.0.0.1:9/chat"]
    out = tmp_path / "dead"
    result = CliRunner().invoke(app, [*args, "--seeds", "2", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "2 of 2 conversation(s) failed" in result.output and "--allow-errors" in result.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) == 2
    assert all(c["score"] is None and "error" in c["flags"] for c in cards)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["errors"]) == ("failed", 2)

    tolerated = CliRunner().invoke(
        app, [*args, "--seeds", "2", "--out", str(tmp_path / "ok"), "--allow-errors", "2"]
    )
    assert tolerated.exit_code == 0, tolerated.output
    assert "failed and have no score" in tolerated.output


def test_missing_api_key_fails_before_the_first_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    source = _write_jsonl(
        tmp_path / "one.jsonl", [{"id": "c", "turns": _do_nothing_turns(["Ok."])}]
    )
    out = tmp_path / "graded"
    result = CliRunner().invoke(
        app, ["grade", str(source), "--judge", "model:openai/gpt-4o-mini", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no API key; set OPENAI_API_KEY" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()  # nothing started, nothing to clean up

    run_out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--persona",
            "late-gift",
            "--agent",
            "model:openai/gpt-4o-mini",
            "--out",
            str(run_out),
        ],
    )
    assert result.exit_code == 1 and "OPENAI_API_KEY" in result.output
    assert not run_out.exists()


def test_unknown_model_id_fails_before_the_first_conversation(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["run", "--persona", "late-gift", "--agent", "model:no-such-model-xyz", "--out", str(out)],
    )
    assert result.exit_code == 1
    assert "no-such-model-xyz: unknown model id" in result.output
    assert not out.exists()


def test_missing_credentials_reported_as_a_server_error_are_not_retried() -> None:
    provider = LiteLLMProvider()

    class InternalServerError(Exception):
        pass

    missing = InternalServerError("OpenAIException - Missing credentials. Please pass an api_key")
    assert not provider.retryable(missing)
    assert provider.retryable(InternalServerError("upstream overloaded"))


def test_a_local_server_needs_no_real_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    source = _write_jsonl(
        tmp_path / "one.jsonl", [{"id": "c", "turns": _do_nothing_turns(["Ok."])}]
    )
    verdict = json.dumps({"verdict": "missed", "evidence": [], "rationale": "nothing said"})
    with FakeOpenAI(lambda body: Scripted(verdict)) as server:
        result = CliRunner().invoke(
            app,
            [
                "grade",
                str(source),
                "--judge",
                "model:openai/fake-model",
                "--api-base",
                server.base,
                "--out",
                str(tmp_path / "g"),
            ],
        )
    assert result.exit_code == 0, result.output


def test_a_judge_that_cannot_produce_verdicts_leaves_the_conversation_unscored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    source = _write_jsonl(
        tmp_path / "one.jsonl",
        [{"id": "c", "persona": "late-gift", "turns": _do_nothing_turns(["Ok."])}],
    )
    out = tmp_path / "g"
    with FakeOpenAI(lambda body: Scripted("I would rather not say.")) as server:
        result = CliRunner().invoke(
            app,
            [
                "grade",
                str(source),
                "--judge",
                "model:openai/fake-model",
                "--api-base",
                server.base,
                "--retries",
                "0",
                "--out",
                str(out),
            ],
        )
    assert result.exit_code == 1, result.output
    (card,) = read_jsonl(out / "scorecards.jsonl")
    assert card["score"] is None and card["flags"] == ["unscored"]
    assert "no verdict could be produced" in result.output
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["errors"] == 1


def test_a_grader_that_crashes_ends_only_its_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.graders.base import REGISTRY

    original = REGISTRY["deesc.name_emotion"]

    def flaky(g: Any) -> Any:
        if g.persona is not None and g.persona.id == "late-gift":
            raise ValueError("bad pattern in a persona file")
        return original(g)

    monkeypatch.setitem(REGISTRY, "deesc.name_emotion", flaky)
    out = tmp_path / "run"
    agent = "macros:evals/macros/seed-playbook.yaml"
    result = CliRunner().invoke(
        app, ["run", "--persona", "late-gift,wrong-model", "--agent", agent, "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "grading failed: ValueError: bad pattern" in result.output
    cards = {c["persona"]: c for c in read_jsonl(out / "scorecards.jsonl")}
    assert cards["late-gift"]["score"] is None and cards["late-gift"]["flags"] == ["error"]
    assert cards["wrong-model"]["score"] is not None and cards["wrong-model"]["flags"] == []
    records = {r["persona"]: r for r in read_jsonl(out / "transcripts.jsonl")}
    assert records["late-gift"]["stop_reason"] == "error"
    assert records["late-gift"]["error"].startswith("grading failed")
