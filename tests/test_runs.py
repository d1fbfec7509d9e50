"""Batch runs: manifest, JSONL outputs, evidence, interrupt/resume and determinism."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_macros, load_persona, load_rubric, reactions_path
from harness.errors import UsageError
from harness.models import RunManifest, Scorecard, TranscriptRecord
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS, execute, start_run
from tests.conftest import AGENTS, PERSONAS, read_jsonl, small_settings

SCORE_OF = {"met": 1.0, "partial": 0.5, "missed": 0.0, "violated": 0.0}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["conversation_id"]: r for r in rows}


def _interrupt_after(count: int) -> Callable[[int, int], None]:
    """An on_done callback that presses Ctrl-C after `count` finished conversations."""

    def on_done(done: int, total: int) -> None:
        if done == count:
            raise KeyboardInterrupt

    return on_done


def _run(out: Path, **overrides: Any) -> RunManifest:
    store, manifest, todo = start_run(
        small_settings(**overrides), out, name="t", kind="run", resume=False
    )
    return execute(store, manifest, todo)


# ---------------------------------------------------------------- a finished run


def test_manifest(finished_run: Path) -> None:
    raw = json.loads((finished_run / MANIFEST).read_text(encoding="utf-8"))
    manifest = RunManifest.model_validate(raw)
    assert manifest.status == "finished"
    assert manifest.kind == "run"
    assert manifest.finished is not None
    assert manifest.conversations == 8
    assert manifest.errors == 0
    assert "git_sha" in raw
    assert manifest.settings == small_settings()

    used = [load_rubric("default")[1], reactions_path()]
    used += [load_persona(p)[1] for p in PERSONAS]
    used += [load_macros(a.removeprefix("macros:"))[1] for a in AGENTS]
    files = {str(Path(k).resolve()): v for k, v in manifest.files.items()}
    for path in used:
        assert files.get(str(path.resolve())) == _sha256(path), path


def test_one_line_per_job(finished_run: Path) -> None:
    expected = sorted(itertools.product(PERSONAS, AGENTS, [0, 1]))
    for name in (TRANSCRIPTS, SCORECARDS):
        rows = read_jsonl(finished_run / name)
        assert sorted((r["persona"], r["agent"], r["seed"]) for r in rows) == expected, name
        assert len({r["conversation_id"] for r in rows}) == len(rows) == 8
    transcripts = _by_id(read_jsonl(finished_run / TRANSCRIPTS))
    scorecards = _by_id(read_jsonl(finished_run / SCORECARDS))
    assert set(transcripts) == set(scorecards)
    for cid, card in scorecards.items():
        TranscriptRecord.model_validate(transcripts[cid])
        Scorecard.model_validate(card)
        assert card["run_id"] == transcripts[cid]["run_id"]
        assert card["outcome"]["turns"] == len(transcripts[cid]["turns"])
        assert card["outcome"]["stop_reason"] == transcripts[cid]["stop_reason"]


def test_evidence_quotes_are_exact_substrings(finished_run: Path) -> None:
    transcripts = _by_id(read_jsonl(finished_run / TRANSCRIPTS))
    quotes = 0
    for card in read_jsonl(finished_run / SCORECARDS):
        turns = transcripts[card["conversation_id"]]["turns"]
        for result in card["results"]:
            for evidence in result["evidence"]:
                assert 0 <= evidence["turn"] < len(turns)
                assert evidence["quote"], result
                assert evidence["quote"] in turns[evidence["turn"]]["text"], (
                    card["conversation_id"],
                    result["guideline"],
                    evidence,
                )
                quotes += 1
    assert quotes > 0  # the check above actually looked at something


def test_scorecard_shape(finished_run: Path) -> None:
    rubric, _ = load_rubric("default")
    for card in read_jsonl(finished_run / SCORECARDS):
        for key in (
            "schema_version",
            "run_id",
            "conversation_id",
            "persona",
            "agent",
            "customer",
            "judge",
            "seed",
            "outcome",
            "results",
            "score",
        ):
            assert key in card, key
        assert card["customer"] == "scripted"
        assert card["judge"] == "rules"
        for key in ("stop_reason", "resolved", "turns", "anger", "csat"):
            assert key in card["outcome"], key
        assert card["outcome"]["resolved"] == (card["outcome"]["stop_reason"] == "resolved")
        assert [r["guideline"] for r in card["results"]] == [g.id for g in rubric.guidelines]
        for result in card["results"]:
            assert set(result) >= {
                "guideline",
                "verdict",
                "score",
                "evidence",
                "rationale",
                "grader",
            }
            if result["verdict"] == "na":
                assert result["score"] is None, result
            else:
                assert result["score"] == SCORE_OF[result["verdict"]], result
        applicable = [r for r in card["results"] if r["score"] is not None]
        assert (card["score"] is None) == (not applicable)
        if applicable:
            assert 0.0 <= card["score"] <= 1.0


def test_playbook_beats_anti_patterns(finished_run: Path) -> None:
    cards = read_jsonl(finished_run / SCORECARDS)
    for persona in PERSONAS:
        good = [c for c in cards if c["persona"] == persona and c["agent"] == AGENTS[0]]
        bad = [c for c in cards if c["persona"] == persona and c["agent"] == AGENTS[1]]
        assert min(c["score"] for c in good) > max(c["score"] for c in bad), persona


# ---------------------------------------------------------------- interrupt and resume


def _assert_complete(out: Path) -> None:
    settings = small_settings()
    expected = len(settings.personas) * len(settings.agents) * len(settings.seeds)
    for name in (TRANSCRIPTS, SCORECARDS):
        ids = [r["conversation_id"] for r in read_jsonl(out / name)]
        assert len(ids) == len(set(ids)) == expected, name
    assert {r["conversation_id"] for r in read_jsonl(out / TRANSCRIPTS)} == {
        r["conversation_id"] for r in read_jsonl(out / SCORECARDS)
    }


def _interrupted_run(out: Path, after: int = 3) -> RunManifest:
    store, manifest, todo = start_run(small_settings(), out, name="t", kind="run", resume=False)
    assert len(todo) == 8
    with pytest.raises(KeyboardInterrupt):
        execute(store, manifest, todo, _interrupt_after(after))
    # The interrupted asyncio task is garbage with an unretrieved exception; collect it now so
    # its "Task exception was never retrieved" log (which formats a traceback, calling
    # ast.parse) cannot fire from a GC pass inside pytest's own ast.parse, which trips
    # CPython 3.11's non-reentrant AST recursion counter (python/cpython#106905).
    gc.collect()
    return manifest


def _resume(out: Path) -> tuple[int, RunManifest]:
    store, manifest, todo = start_run(small_settings(), out, name="t", kind="run", resume=True)
    left = len(todo)
    return left, execute(store, manifest, todo)


def test_interrupt_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    started = _interrupted_run(out)
    saved = RunManifest.model_validate_json((out / MANIFEST).read_text(encoding="utf-8"))
    assert saved.status == "interrupted"
    assert saved.conversations == 3
    assert len(read_jsonl(out / SCORECARDS)) == 3
    assert len(read_jsonl(out / TRANSCRIPTS)) == 3

    left, final = _resume(out)
    assert left == 5
    assert final.status == "finished"
    assert final.conversations == 8
    assert final.run_id == started.run_id
    _assert_complete(out)
    assert {r["run_id"] for r in read_jsonl(out / SCORECARDS)} == {started.run_id}


def test_resume_repairs_torn_last_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupted_run(out)
    cards = (out / SCORECARDS).read_text(encoding="utf-8")
    records = (out / TRANSCRIPTS).read_text(encoding="utf-8")
    first_card = cards.splitlines()[0]
    first_record = records.splitlines()[0]
    # a crash in the middle of writing a 4th conversation: full transcript, half a scorecard
    extra_record = first_record.replace("__s0", "__s9").replace("__s1", "__s9")
    with (out / TRANSCRIPTS).open("a", encoding="utf-8") as handle:
        handle.write(extra_record + "\n")
    with (out / SCORECARDS).open("a", encoding="utf-8") as handle:
        handle.write(first_card[: len(first_card) // 2])

    left, final = _resume(out)
    assert left == 5
    assert final.status == "finished"
    _assert_complete(out)
    # every line of both files parses again
    for name in (TRANSCRIPTS, SCORECARDS):
        assert (out / name).read_text(encoding="utf-8").endswith("\n")


def test_resume_drops_orphan_transcript(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupted_run(out, after=2)
    # transcript of a conversation whose scorecard never got written
    lines = (out / TRANSCRIPTS).read_text(encoding="utf-8").splitlines(keepends=True)
    (out / SCORECARDS).write_text(
        "".join((out / SCORECARDS).read_text(encoding="utf-8").splitlines(keepends=True)[:1]),
        encoding="utf-8",
    )
    assert len(lines) == 2
    left, final = _resume(out)
    assert left == 7
    assert final.conversations == 8
    _assert_complete(out)


def test_resume_finished_run_is_a_no_op(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(out)
    before = (out / SCORECARDS).read_bytes()
    left, final = _resume(out)
    assert left == 0
    assert final.status == "finished"
    assert (out / SCORECARDS).read_bytes() == before


def test_resume_with_different_settings_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupted_run(out)
    with pytest.raises(UsageError, match="different settings"):
        start_run(small_settings(seeds=[0, 1, 2]), out, name="t", kind="run", resume=True)
    with pytest.raises(UsageError, match="different settings"):
        start_run(small_settings(agents=AGENTS[:1]), out, name="t", kind="run", resume=True)
    # nothing was touched
    assert len(read_jsonl(out / SCORECARDS)) == 3


def test_resume_without_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nothing to resume"):
        start_run(small_settings(), tmp_path / "empty", name="t", kind="run", resume=True)


def test_new_run_in_existing_run_dir_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupted_run(out)
    before = {name: (out / name).read_bytes() for name in (MANIFEST, SCORECARDS, TRANSCRIPTS)}
    with pytest.raises(UsageError, match="already holds a run"):
        start_run(small_settings(), out, name="t", kind="run", resume=False)
    assert before == {name: (out / name).read_bytes() for name in before}


def test_new_run_in_dir_with_stale_results_is_refused(finished_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    for name in (SCORECARDS, TRANSCRIPTS):
        (out / name).write_bytes((finished_run / name).read_bytes())
    with pytest.raises(UsageError):
        store, manifest, todo = start_run(small_settings(), out, name="t", kind="run", resume=False)
        execute(store, manifest, todo)


# ---------------------------------------------------------------- determinism


def test_same_seed_same_turns(finished_run: Path, tmp_path: Path) -> None:
    _run(tmp_path / "again", concurrency=1)
    first = _by_id(read_jsonl(finished_run / TRANSCRIPTS))
    second = _by_id(read_jsonl(tmp_path / "again" / TRANSCRIPTS))
    assert set(first) == set(second)
    for cid in first:
        assert json.dumps(first[cid]["turns"]) == json.dumps(second[cid]["turns"]), cid
        assert first[cid]["stop_reason"] == second[cid]["stop_reason"]
    cards_a = _by_id(read_jsonl(finished_run / SCORECARDS))
    cards_b = _by_id(read_jsonl(tmp_path / "again" / SCORECARDS))
    for cid in cards_a:
        assert cards_a[cid]["results"] == cards_b[cid]["results"], cid


def test_outputs_match_json_schemas(finished_run: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    checks = [
        (RunManifest, [json.loads((finished_run / MANIFEST).read_text(encoding="utf-8"))]),
        (TranscriptRecord, read_jsonl(finished_run / TRANSCRIPTS)),
        (Scorecard, read_jsonl(finished_run / SCORECARDS)),
    ]
    for model, documents in checks:
        schema = model.model_json_schema()
        for document in documents:
            jsonschema.validate(document, schema)


def test_run_settings_read_the_http_fields_of_older_manifests() -> None:
    from harness.models import RunSettings

    old = {
        "personas": ["late-gift"],
        "agents": ["http:http://127.0.0.1:9/bot"],
        "seeds": [0],
        "http_format": "webhook",
        "http_headers": {"Authorization": "Bearer $BOT_TOKEN"},
        "http_timeout": 5.0,
        "http_retries": None,
        "http_model": None,
    }
    settings = RunSettings.model_validate(old)
    assert settings.agent_options == {
        "http": {
            "format": "webhook",
            "headers": {"Authorization": "Bearer $BOT_TOKEN"},
            "timeout": 5.0,
        }
    }
    unset = {k: (None if k.startswith("http_") else v) for k, v in old.items()}
    assert RunSettings.model_validate(unset).agent_options == {}
    assert "http_format" not in RunSettings.model_validate(old).model_dump()
