"""Re-grading a finished run: `toughtalk grade RUN_DIR` gives the run-time verdicts back."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.models import RunSettings, Scorecard
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS, execute, start_run
from tests.conftest import AGENTS, read_jsonl, small_settings

WIDE = {"COLUMNS": "250"}


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


def _by_id(run: Path) -> dict[str, dict[str, Any]]:
    return {c["conversation_id"]: c for c in read_jsonl(run / SCORECARDS)}


def _run(settings: RunSettings, out: Path) -> None:
    store, manifest, todo = start_run(settings, out, name=out.name, kind="run", resume=False)
    execute(store, manifest, todo)


def _digests(run: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.iterdir())}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run: 3 personas (one abusive) x both macro libraries x 2 seeds, scripted."""
    out = tmp_path_factory.mktemp("regrade") / "source"
    settings = small_settings(personas=["late-gift", "manager-now", "abusive-insults"])
    store, manifest, todo = start_run(settings, out, name="small", kind="run", resume=False)
    execute(store, manifest, todo)
    return out


def test_regrade_gives_the_run_time_verdicts(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = _digests(source)
    result = _cli("grade", str(source), "--out", "again")
    assert result.exit_code == 0, result.output
    assert "re-graded 12 conversation(s)" in result.output
    original, again = _by_id(source), _by_id(tmp_path / "again")
    assert set(again) == set(original)
    assert {c["agent"] for c in again.values()} == set(AGENTS)
    for cid, card in original.items():
        new = again[cid]
        assert new["run_id"] != card["run_id"]
        for key in ("results", "score", "outcome", "panel", "flags", "persona", "agent"):
            assert new[key] == card[key], (cid, key)
        for key in ("customer", "seed", "difficulty", "judge", "rubric"):
            assert new[key] == card[key], (cid, key)
    assert any(c["outcome"]["csat"] is not None for c in again.values())
    assert {c["outcome"]["resolved"] for c in again.values()} == {True, False}
    records = {r["conversation_id"]: r for r in read_jsonl(source / TRANSCRIPTS)}
    for record in read_jsonl(tmp_path / "again" / TRANSCRIPTS):
        old = records[record["conversation_id"]]
        assert {k: v for k, v in record.items() if k != "run_id"} == {
            k: v for k, v in old.items() if k != "run_id"
        }
    manifest = json.loads((tmp_path / "again" / MANIFEST).read_text())
    assert manifest["kind"] == "grade"
    assert manifest["source"] == str(source)
    assert manifest["name"] == "regrade-small"
    assert manifest["status"] == "finished"
    assert manifest["settings"]["rubric"] == "default"
    assert _digests(source) == before  # the source run is only read


def test_regrade_from_the_transcripts_file(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _cli("grade", str(source / TRANSCRIPTS), "--out", "again")
    assert result.exit_code == 0, result.output
    scores = {k: c["score"] for k, c in _by_id(tmp_path / "again").items()}
    assert scores == {k: c["score"] for k, c in _by_id(source).items()}


def test_regrade_with_a_new_rubric_and_judges(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    rubric = yaml.safe_load((repo / "rubrics" / "default.yaml").read_text(encoding="utf-8"))
    rubric["id"] = "heavy-abuse"
    for guideline in rubric["guidelines"]:
        if guideline["id"].startswith("abuse.") and "penalty" not in guideline:
            guideline["weight"] = 20.0
    (tmp_path / "heavy.yaml").write_text(yaml.safe_dump(rubric), encoding="utf-8")
    before = _digests(source)
    args = ("grade", str(source), "--rubric", "heavy.yaml", "--judge", "rules", "--judge", "rules")
    result = _cli(*args, "--out", "heavy")
    assert result.exit_code == 0, result.output
    original, heavy = _by_id(source), _by_id(tmp_path / "heavy")
    assert all(c["rubric"] == "heavy-abuse@2" for c in heavy.values())
    assert all(heavy[k]["results"] == c["results"] for k, c in original.items())
    assert all(c["panel"]["rules"] == c["results"] for c in heavy.values())
    assert any(heavy[k]["score"] != c["score"] for k, c in original.items())
    manifest = json.loads((tmp_path / "heavy" / MANIFEST).read_text())
    assert manifest["settings"]["rubric"] == "heavy.yaml"
    assert manifest["settings"]["judges"] == ["rules"]
    assert manifest["agreement"]
    assert _digests(source) == before


def test_regrade_refuses_to_write_into_the_source(source: Path) -> None:
    before = _digests(source)
    result = _cli("grade", str(source), "--out", str(source))
    assert result.exit_code == 1
    assert "is the run being re-graded" in result.stderr
    assert _digests(source) == before


def test_regrade_warns_when_a_persona_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    persona = tmp_path / "mine" / "late-gift.yaml"
    persona.write_bytes((repo / "personas" / "late-gift.yaml").read_bytes())
    settings = small_settings(personas=["mine/late-gift.yaml"], agents=AGENTS[:1], seeds=[0])
    _run(settings, tmp_path / "run")
    quiet = _cli("grade", "run", "--out", "same")
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.stderr
    persona.write_text(persona.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    warned = _cli("grade", "run", "--out", "changed")
    assert warned.exit_code == 0, warned.output
    lines = [line for line in warned.stderr.splitlines() if "warning" in line]
    assert len(lines) == 1, warned.stderr
    assert "late-gift" in lines[0] and "changed since the run" in lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_errored_conversations_stay_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bot = f"http:http://127.0.0.1:{_closed_port()}/chat"
    settings = small_settings(
        personas=["late-gift"],
        agents=[bot],
        seeds=[0],
        agent_options={"http": {"retries": 0, "timeout": 1.0}},
    )
    _run(settings, tmp_path / "run")
    result = _cli("grade", "run", "--out", "again")
    assert result.exit_code == 1, result.output  # a failed conversation is not a result
    assert "1 of 1 conversation(s) failed" in result.output
    assert _cli("grade", "run", "--out", "tolerated", "--allow-errors", "1").exit_code == 0
    [record] = read_jsonl(tmp_path / "again" / TRANSCRIPTS)
    [original] = read_jsonl(tmp_path / "run" / TRANSCRIPTS)
    assert record["stop_reason"] == "error"
    assert record["error"] == original["error"] and record["error"]
    [card] = read_jsonl(tmp_path / "again" / SCORECARDS)
    [before] = read_jsonl(tmp_path / "run" / SCORECARDS)
    assert card["outcome"] == before["outcome"]
    assert card["score"] == before["score"] and card["flags"] == before["flags"]
    assert json.loads((tmp_path / "again" / MANIFEST).read_text())["errors"] == 1


def test_regrade_bad_inputs_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = _cli("grade", "empty")
    assert result.exit_code == 1
    assert "empty: not a run directory (no run.json)" in result.stderr
    loose = tmp_path / "loose.jsonl"
    record = {"conversation_id": "c", "stop_reason": "resolved", "turns": []}
    loose.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = _cli("grade", "loose.jsonl", "--out", "x")
    assert result.exit_code == 1
    assert "loose.jsonl:1: a run's own transcript record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_regraded_cards_validate(source: Path, tmp_path: Path) -> None:
    result = _cli("grade", str(source), "--out", str(tmp_path / "v"))
    assert result.exit_code == 0, result.output
    for card in read_jsonl(tmp_path / "v" / SCORECARDS):
        Scorecard.model_validate(card)


def test_an_interrupted_source_is_graded_with_warnings(source: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cut"
    copy.mkdir()
    (copy / MANIFEST).write_bytes((source / MANIFEST).read_bytes())
    lines = (source / TRANSCRIPTS).read_text(encoding="utf-8").splitlines(keepends=True)
    torn = lines[-1][: len(lines[-1]) // 2]
    (copy / TRANSCRIPTS).write_text("".join(lines[:-1]) + torn, encoding="utf-8")
    cards = (source / SCORECARDS).read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / SCORECARDS).write_text("".join(cards[:-2]), encoding="utf-8")
    result = _cli("grade", str(copy), "--out", str(tmp_path / "again"))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stderr
    assert "last line is incomplete" in warnings[0]
    assert "no scorecard in the source" in warnings[1]
    assert len(read_jsonl(tmp_path / "again" / SCORECARDS)) == len(lines) - 1
    assert (copy / TRANSCRIPTS).read_text(encoding="utf-8").endswith(torn)  # left as it was


def test_validate_reads_a_runs_transcripts(source: Path, tmp_path: Path) -> None:
    from harness.catalog import validate_paths

    assert validate_paths([source / TRANSCRIPTS]) == (1, [])
    bad = tmp_path / TRANSCRIPTS
    first = read_jsonl(source / TRANSCRIPTS)[0]
    first["stop_reason"] = "bored"
    bad.write_text(json.dumps(first) + "\n", encoding="utf-8")
    _, problems = validate_paths([bad])
    assert len(problems) == 1 and problems[0].startswith(f"{bad}:1: stop_reason:")
