"""`toughtalk chat` in a real pseudo-terminal, played as a trainee would: a manager demand
answered with the transfer and a request for a chance, an abusive caller through the whole
ladder, and a chat ended by the end of input that is saved with its rewind branches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect

from harness.models import TranscriptRecord
from harness.runs import SCORECARDS, TRANSCRIPTS
from tests.conftest import read_jsonl


def _spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": "200", "LINES": "60", "TERM": "xterm"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "harness.cli", "chat", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(60, 200),
    )


def _finish(child: pexpect.spawn, *, debrief_seen: bool = False) -> None:
    if not debrief_seen:
        child.expect("Debrief")
    child.expect("The hidden issue:")
    child.expect("saved: ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_manager_demand_offered_the_transfer_and_a_chance_gives_the_chance(
    tmp_path: Path,
) -> None:
    out = tmp_path / "manager"
    child = _spawn(tmp_path, "--persona", "manager-now", "--out", str(out))
    try:
        child.expect(r"\[1\] Victor: Put me through to a manager")
        child.expect(r"\[2\] you> ")
        child.sendline(
            "That's fair, Victor. I can transfer you to my manager right now. Could I have "
            "two minutes to try to sort this first?"
        )
        child.expect(r"\[3\] Victor: ")
        child.expect(r"\[4\] you> ")
        said = child.before
        child.sendline("I can hear how frustrating that bill is. What happened on the trip?")
        child.expect(r"\[5\] Victor: ")
        child.expect(r"\[6\] you> ")
        child.sendline("/end")
        _finish(child)
    finally:
        child.close()
    # the chance was given (a persona line of give_chance), and nobody escalated
    assert "Two minutes" in said or "Go on then" in said, said
    (record,) = [TranscriptRecord.model_validate(r) for r in read_jsonl(out / TRANSCRIPTS)]
    assert record.stop_reason == "agent_ended"
    assert all(t.action != "manager" for t in record.turns)
    states = [t.state for t in record.turns if t.state]
    assert states[1].wants_manager is False and "manager_respected" in states[1].reactions


def test_abusive_caller_through_the_whole_ladder(tmp_path: Path) -> None:
    out = tmp_path / "ladder"
    child = _spawn(tmp_path, "--persona", "abusive-insults", "--difficulty", "4", "--out", str(out))
    rungs = [
        "I do want to help you, Clive. Let's focus on getting the engineer booked.",
        "I can tell how angry you are, but the name-calling needs to stop so we can fix this.",
        "If the insults continue I will end this call. I can put you through to my manager "
        "or we can carry on by email.",
    ]
    try:
        child.expect(r"\[1\] Clive: ")
        for n, reply in enumerate(rungs):
            child.expect(rf"\[{2 * n + 2}\] you> ")
            child.sendline(reply)
            child.expect(rf"\[{2 * n + 3}\] Clive: ")
        child.expect(r"\[8\] you> ")
        child.sendline(
            "/end I'm ending this call now because of the insults. You can call back or email "
            "us at any time and we'll pick up the engineer booking."
        )
        child.expect("You ended the conversation")
        _finish(child)
    finally:
        child.close()
    (record,) = [TranscriptRecord.model_validate(r) for r in read_jsonl(out / TRANSCRIPTS)]
    customer = [t for t in record.turns if t.role == "customer"]
    # the caller answered every rung, and went on insulting (masked on screen) until the end
    assert all(t.state and t.state.abuse_level >= 1 for t in customer[1:])
    assert len({t.text for t in customer}) == len(customer)
    (card,) = read_jsonl(out / SCORECARDS)
    verdicts = {r["guideline"]: r["verdict"] for r in card["results"]}
    assert verdicts["abuse.ladder"] == "met"
    assert verdicts["abuse.ends_professionally"] == "met"


def test_end_of_input_saves_the_chat_with_its_rewind_branches(tmp_path: Path) -> None:
    out = tmp_path / "eof"
    child = _spawn(tmp_path, "--persona", "late-gift", "--out", str(out))
    first = "ok, what is your order number?"
    better = "I can hear how stressful this is, Priya. Let's sort it out together."
    try:
        child.expect(r"\[2\] you> ")
        child.sendline(first)
        child.expect(r"\[4\] you> ")
        child.sendline("/rewind 2")
        child.expect("Rewound")
        child.expect(r"\[2\] you> ")
        child.sendline(better)
        child.expect(r"\[4\] you> ")
        child.sendeof()  # Ctrl-D
        child.expect("End of input: saving")
        child.expect("Debrief")
        child.expect("the last of 2 attempts")
        _finish(child, debrief_seen=True)
    finally:
        child.close()
    (record,) = [TranscriptRecord.model_validate(r) for r in read_jsonl(out / TRANSCRIPTS)]
    assert [t.text for t in record.turns if t.role == "agent"] == [better]
    (attempt,) = record.attempts
    assert attempt.rewound_to == 1
    assert [t.text for t in attempt.turns if t.role == "agent"] == [first]
    assert record.coaching == {"hints": 0, "rewinds": 1}


def test_a_missing_model_key_fails_before_the_case_card(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "chat",
            "--persona",
            "late-gift",
            "--customer",
            "model:openai/gpt-4o-mini",
            "--out",
            str(tmp_path / "key"),
        ],
        input="Hello\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert "OPENAI_API_KEY" in done.stderr
    assert "Case:" not in done.stdout and "Priya" not in done.stdout
    assert not (tmp_path / "key").exists()
