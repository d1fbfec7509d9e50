"""One writer per run directory, and a resume that only continues the same run: both
files agree, the inputs have not changed, repeated lines are counted once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from harness.cli import app
from harness.store import RunStore
from tests.conftest import read_jsonl

PLAYBOOK = "macros:evals/macros/seed-playbook.yaml"
ROOT = Path(__file__).resolve().parents[1]


def _run(out: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app, ["run", "--persona", "late-gift", "--agent", PLAYBOOK, "--out", str(out), *extra]
    )


def test_a_second_writer_is_refused_at_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from harness.store import RunStore; "
            "RunStore(Path(sys.argv[1])).lock(); print('locked', flush=True); time.sleep(30)",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = _run(out, "--seeds", "2")
        assert time.monotonic() - started < 20  # refused, not waiting for the lock
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert f"pid {holder.pid}" in result.output
    assert not (out / "scorecards.jsonl").exists()
    # once the other writer is gone, the directory is free again
    assert _run(out).exit_code == 0


def test_resume_reruns_a_conversation_whose_transcript_line_was_lost(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run(out, "--seeds", "3").exit_code == 0
    lines = (out / "transcripts.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "transcripts.jsonl").write_text("".join(lines[:1]), encoding="utf-8")
    result = _run(out, "--seeds", "3", "--resume")
    assert result.exit_code == 0, result.output
    assert "2 conversation(s) left" in " ".join(result.output.split())
    cards, records = read_jsonl(out / "scorecards.jsonl"), read_jsonl(out / "transcripts.jsonl")
    assert len(cards) == len(records) == 3
    assert {c["conversation_id"] for c in cards} == {r["conversation_id"] for r in records}


def test_resume_refuses_an_edited_persona_file(tmp_path: Path) -> None:
    persona = tmp_path / "late-gift.yaml"
    persona.write_text((ROOT / "personas" / "late-gift.yaml").read_text(encoding="utf-8"))
    out = tmp_path / "run"
    args = ["run", "--persona", str(persona), "--agent", PLAYBOOK, "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    persona.write_text(persona.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--resume"])
    assert result.exit_code == 1
    assert "late-gift.yaml changed since the run started" in result.output


def test_repeated_scorecard_lines_count_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run(out, "--seeds", "2").exit_code == 0
    first = (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()[0]
    with (out / "scorecards.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(first + "\n")
    store = RunStore(out)
    cards = store.load_scorecards()
    assert len(cards) == 2 and store.duplicates == 1
    assert json.loads(first)["conversation_id"] in {c.conversation_id for c in cards}


def test_compare_counts_a_repeated_conversation_once_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run(out, "--seeds", "2").exit_code == 0
    first = (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()[0]
    with (out / "scorecards.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(first + "\n")
    result = CliRunner().invoke(app, ["compare", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("1 repeated scorecard line" in note for note in data["notes"])
    assert data["columns"][0]["conversations"] == 2
