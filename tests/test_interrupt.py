"""A real Ctrl-C (SIGINT) in the middle of a run keeps what finished; --resume completes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import interrupt_after, read_jsonl
from tests.fake_openai import FakeOpenAI, Scripted


@pytest.mark.slow
def test_sigint_mid_run_keeps_results_and_resume_finishes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "TOUGHTALK_CACHE": str(tmp_path / "cache"), "OPENAI_API_KEY": "x"}
    with FakeOpenAI(
        lambda body: Scripted("I can overnight a replacement by noon tomorrow.", delay=0.15)
    ) as server:
        args = [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "--persona",
            "late-gift,wrong-model,discontinued",
            "--agent",
            "model:openai/fake",
            "--seeds",
            "5",
            "--concurrency",
            "2",
            "--max-turns",
            "6",
            "--api-base",
            server.base,
            "--out",
            str(out),
        ]
        scorecards = out / "scorecards.jsonl"
        err = interrupt_after(args, env, scorecards, 1)
        assert "interrupted" in err and "--resume" in err
        assert "Traceback" not in err
        kept = read_jsonl(scorecards)
        assert 1 <= len(kept) < 15
        resumed = subprocess.run(
            [*args, "--resume"], env=env, capture_output=True, text=True, timeout=120
        )
    assert resumed.returncode == 0, resumed.stderr
    cards = read_jsonl(scorecards)
    ids = [c["conversation_id"] for c in cards]
    assert len(ids) == 15 and len(set(ids)) == 15
    assert {c["conversation_id"] for c in kept} <= set(ids)
    records = read_jsonl(out / "transcripts.jsonl")
    assert sorted(r["conversation_id"] for r in records) == sorted(ids)
