"""`grade` is a batch like `run`: bounded concurrency (and concurrent judge calls inside a
conversation), a streamed input, Ctrl-C kept and `--resume` finishing with exactly one
scorecard per conversation, a dry run, and the judge options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.conftest import interrupt_after, read_jsonl
from tests.fake_openai import FakeOpenAI, Scripted

VERDICT = json.dumps({"verdict": "missed", "evidence": [], "rationale": "not done"})


def _transcripts(path: Path, count: int) -> Path:
    rows = []
    for n in range(count):
        rows.append(
            {
                "id": f"c{n:04d}",
                "persona": "late-gift" if n % 2 else None,
                "turns": [
                    {"role": "customer", "text": "My parcel is a week late and I'm furious."},
                    {"role": "agent", "text": f"I'm sorry, that's frustrating. Reply {n}."},
                ],
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class InFlight:
    """A scripted reply that records how many requests the server held at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Scripted:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return Scripted(VERDICT)


def test_grade_runs_conversations_and_judge_calls_concurrently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    source = _transcripts(tmp_path / "t.jsonl", 6)
    script = InFlight(0.05)
    with FakeOpenAI(script) as server:
        result = CliRunner().invoke(
            app,
            [
                "grade",
                str(source),
                "--judge",
                "model:openai/fake",
                "--api-base",
                server.base,
                "--concurrency",
                "8",
                "--out",
                str(tmp_path / "g"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(tmp_path / "g" / "scorecards.jsonl")) == 6
    assert script.peak >= 4  # many calls in flight, not one guideline at a time


def test_grade_section_batching_is_one_call_per_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    source = _transcripts(tmp_path / "t.jsonl", 1)
    seen: list[dict[str, Any]] = []

    def script(body: dict[str, Any]) -> Scripted:
        seen.append(body)
        return Scripted("{}")  # no entry: the section's guidelines are unscored

    with FakeOpenAI(script) as server:
        CliRunner().invoke(
            app,
            [
                "grade",
                str(source),
                "--judge",
                "hybrid:openai/fake",
                "--judge-batch",
                "section",
                "--api-base",
                server.base,
                "--out",
                str(tmp_path / "g"),
                "--allow-errors",
                "1",
            ],
        )
    system = [b["messages"][0]["content"] for b in seen]
    assert system and all("SEVERAL guidelines" in text for text in system)


def test_grade_dry_run_checks_the_file_and_writes_nothing(tmp_path: Path) -> None:
    source = _transcripts(tmp_path / "t.jsonl", 5)
    out = tmp_path / "g"
    result = CliRunner().invoke(
        app,
        [
            "grade",
            str(source),
            "--judge",
            "model:openai/gpt-4o-mini",
            "--dry-run",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 conversation(s)" in result.output and "judge" in result.output
    assert not out.exists()


def test_grade_resume_refuses_another_judge_and_finishes_the_same(tmp_path: Path) -> None:
    source = _transcripts(tmp_path / "t.jsonl", 4)
    out = tmp_path / "g"
    assert CliRunner().invoke(app, ["grade", str(source), "--out", str(out)]).exit_code == 0
    lines = (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "scorecards.jsonl").write_text("".join(lines[:2]), encoding="utf-8")
    other = CliRunner().invoke(
        app,
        [
            "grade",
            str(source),
            "--out",
            str(out),
            "--resume",
            "--judge",
            "rules",
            "--judge",
            "rules",
        ],
    )
    assert other.exit_code == 1 and "another file, rubric or judge" in other.output
    again = CliRunner().invoke(app, ["grade", str(source), "--out", str(out), "--resume"])
    assert again.exit_code == 0, again.output
    ids = [c["conversation_id"] for c in read_jsonl(out / "scorecards.jsonl")]
    assert sorted(ids) == [f"c{n:04d}" for n in range(4)]


@pytest.mark.slow
def test_sigint_mid_grade_keeps_results_and_resume_gives_one_scorecard_each(
    tmp_path: Path,
) -> None:
    source = _transcripts(tmp_path / "t.jsonl", 40)
    out = tmp_path / "g"
    env = {**os.environ, "TOUGHTALK_CACHE": str(tmp_path / "cache"), "OPENAI_API_KEY": "x"}
    with FakeOpenAI(lambda body: Scripted(VERDICT, delay=0.02)) as server:
        args = [
            sys.executable,
            "-m",
            "harness.cli",
            "grade",
            str(source),
            "--judge",
            "model:openai/fake",
            "--api-base",
            server.base,
            "--concurrency",
            "4",
            "--out",
            str(out),
        ]
        cards = out / "scorecards.jsonl"
        err = interrupt_after(args, env, cards, 5)
        assert "--resume" in err
        kept = len(read_jsonl(cards))
        assert 5 <= kept < 40
        resumed = subprocess.run(
            [*args, "--resume"], env=env, capture_output=True, text=True, timeout=120
        )
        assert resumed.returncode == 0, resumed.stderr
    ids = [c["conversation_id"] for c in read_jsonl(cards)]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert len(read_jsonl(out / "transcripts.jsonl")) == 40
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["status"] == "finished"


def test_a_judge_outage_exits_non_zero_and_resume_scores_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    source = _transcripts(tmp_path / "t.jsonl", 3)
    out = tmp_path / "g"
    args = ["grade", str(source), "--judge", "model:openai/fake", "--out", str(out)]
    with FakeOpenAI(lambda body: Scripted(status=503)) as down:
        first = CliRunner().invoke(app, [*args, "--api-base", down.base, "--retries", "0"])
    assert first.exit_code == 1, first.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) == 3 and all(c["flags"] == ["unscored"] and c["score"] is None for c in cards)
    with FakeOpenAI(lambda body: Scripted(VERDICT)) as back:
        second = CliRunner().invoke(app, [*args, "--api-base", back.base, "--resume"])
    assert second.exit_code == 0, second.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) == 3 and all(c["score"] is not None and not c["flags"] for c in cards)
