"""`toughtalk chat`: the engine, hints, the debrief, saving, and the terminal end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

from harness import signals as sig
from harness.catalog import load_persona
from harness.chat import (
    DEFAULT_WORDS,
    ChatOptions,
    ChatSession,
    mask_abuse,
    meter,
    run_chat,
    trainee_spec,
)
from harness.compare import compare_runs
from harness.debrief import build_debrief, debrief_lines, source_label
from harness.errors import UsageError
from harness.models import RunManifest, Scorecard, TranscriptRecord
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS
from tests.conftest import read_jsonl

OPENING_BAD = "ok, what is your order number?"
EMPATHY = "I can hear how frustrating this is, Priya. Let's sort it out together."
EXPLORE = "What would a good result look like for you?"
PLAYBACK = (
    "So the telescope is Arjun's birthday present and it has to be there tomorrow, "
    "did I get that right?"
)
OFFER = (
    "I can overnight a replacement telescope at no charge so it reaches you by noon tomorrow. "
    "Would that work?"
)


@pytest.fixture
def session() -> Iterator[ChatSession]:
    persona, path = load_persona("late-gift")
    with ChatSession(persona, path, agent="human:test") as chat:
        yield chat


def _texts(chat: ChatSession) -> list[tuple[str, str]]:
    return [(t.role, t.text) for t in chat.turns]


# ---------------------------------------------------------------- the engine


def test_rewind_replays_the_scripted_customer_exactly(session: ChatSession) -> None:
    session.open()
    for reply in (OPENING_BAD, EMPATHY, EXPLORE):
        session.answer(reply)
    before = [t.model_copy() for t in session.turns]
    assert len(before) == 7
    kept, changed = session.rewind(4)  # my second reply: drop it and everything after
    assert (kept, changed) == (3, False)
    assert session.turns == before[:3]  # customer turns replayed identically, states too
    session.answer(EMPATHY)
    session.answer(EXPLORE)
    assert session.turns == before  # same replies, same customer, byte for byte
    kept, _ = session.rewind(3)  # a customer turn is kept: answer it again
    assert kept == 3
    session.answer("Please calm down.")
    assert session.turns[4].text != before[4].text  # a different reply, a different reaction
    assert session.turns[4].state.anger > before[4].state.anger
    with pytest.raises(UsageError, match="from 1 to"):
        session.rewind(99)


def test_hints_come_from_the_graders(session: ChatSession) -> None:
    session.open()
    session.answer(OPENING_BAD)
    results = {r.guideline: r for r in session.results_now()}
    first = session.hint()
    assert first is not None
    assert first.guideline.id == "deesc.name_emotion"
    assert results["deesc.name_emotion"].verdict == "missed"
    text = "\n".join(first.lines())
    assert results["deesc.name_emotion"].rationale.rstrip(".") in text  # the grader's words
    assert source_label(first.guideline.source) in text  # by seed title, not file hash
    assert "Tough Conversations" in text and ".txt" not in text
    assert first.guideline.section in text
    # a second /hint moves on; naming the feeling takes it off the list for good
    second = session.hint()
    assert second is not None and second.guideline.id != "deesc.name_emotion"
    session.answer(EMPATHY)
    later = [session.hint() for _ in range(3)]
    ids = [h.guideline.id for h in later if h]
    assert "deesc.name_emotion" not in ids
    assert "deesc.we_language" not in ids  # "Let's" is collaborative framing: met now
    assert len(set(ids)) == len(ids)


def test_hints_never_name_a_guideline_that_can_no_longer_be_met(session: ChatSession) -> None:
    session.open()
    session.answer(EMPATHY)
    session.answer("Calm down, please. What is your order number?")
    hints = []
    while (hint := session.hint()) is not None:
        hints.append(hint)
    ids = {h.guideline.id for h in hints}
    assert hints and len(ids) == len(hints)
    # violated, or its window is past (the opener, the first two replies)
    assert not ids & {
        "deesc.no_calm_down",
        "resolve.no_repeat_asks",
        "open.calm_opener",
        "defuse.empathize_first",
        "deesc.no_premature_solution",
        "deesc.we_language",
        "deesc.name_emotion",
    }
    assert {h.verdict for h in hints} <= {"missed", "partial"}


def test_hints_follow_the_situation_and_use_the_case_facts() -> None:
    persona, path = load_persona("manager-now")
    with ChatSession(persona, path) as chat:
        chat.open()  # "Put me through to a manager"
        hint = chat.hint()
        assert hint is not None and hint.situation == "manager_demand"
        assert hint.guideline.id == "escalate.manager_request"
        assert hint.advice and "Victor wants a manager" in hint.advice
    persona, path = load_persona("late-gift")
    with ChatSession(persona, path) as chat:
        chat.open()
        for reply in (EMPATHY, EXPLORE, PLAYBACK, OFFER):
            if chat.stop is None:
                chat.answer(reply)
        assert chat.turns[-1].action == "accept"
        hint = chat.hint()
        assert hint is not None and hint.situation == "agreed"
        assert hint.guideline.id == "resolve.teach_back"
        assert "Priya has agreed" in "\n".join(hint.lines())


def test_max_intensity_caps_abuse() -> None:
    persona, path = load_persona("abusive-insults")
    levels = {}
    for cap in (None, "none"):
        with ChatSession(persona, path, max_intensity=cap) as chat:
            chat.open()
            for _ in range(3):
                if chat.stop is None:
                    chat.answer("What happened with the engineer visit?")
            levels[cap] = [t.state.abuse_level for t in chat.turns if t.state]
            assert chat.settings().max_intensity == cap
    assert max(levels[None]) >= 1
    assert max(levels["none"]) == 0


def test_mask_abuse_and_meter() -> None:
    masked = mask_abuse("You're useless, you clown. I'll sue you.")
    assert masked == "You're u******, you c****. I'll sue you."
    assert not sig.abusive(masked.replace("I'll sue you", ""))
    assert mask_abuse("Where is my parcel?") == "Where is my parcel?"
    # every insult of an abusive message; ordinary words, and insult words that insult
    # nobody, stay readable
    assert mask_abuse("You're useless. Genuinely useless.") == "You're u******. Genuinely u******."
    assert mask_abuse("The tracking page is useless.") == "The tracking page is useless."
    assert mask_abuse("I feel so stupid for not checking.") == "I feel so stupid for not checking."
    assert meter(6.0, 7.5) == "anger ██████░░░░ 6/10 ▼1.5"
    assert meter(10, None) == "anger ██████████ 10/10"
    assert trainee_spec(None) == "human:trainee"
    assert trainee_spec(" Ana Lima ") == "human:Ana-Lima"


# ---------------------------------------------------------------- debrief and saving


def test_save_writes_a_normal_run_and_a_specific_debrief(
    session: ChatSession, tmp_path: Path, finished_run: Path
) -> None:
    session.open()
    for reply in (OPENING_BAD, EMPATHY, EXPLORE, PLAYBACK, OFFER):
        if session.stop is None:
            session.answer(reply)
    session.answer("Calm down, it's only a parcel.", "end")
    out = tmp_path / "chat"
    card, debrief = session.save(out)

    manifest = RunManifest.model_validate_json((out / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest.kind, manifest.status, manifest.conversations) == ("chat", "finished", 1)
    assert manifest.settings is not None and manifest.settings.agents == ["human:test"]
    (record,) = [TranscriptRecord.model_validate(r) for r in read_jsonl(out / TRANSCRIPTS)]
    (saved,) = [Scorecard.model_validate(c) for c in read_jsonl(out / SCORECARDS)]
    assert saved == card
    assert record.agent == card.agent == "human:test"
    assert record.stop_reason == card.outcome.stop_reason == "agent_ended"
    assert [t.text for t in record.turns] == [t.text for t in session.turns]
    assert record.conversation_id == card.conversation_id == "late-gift__human-test__d-__s0"

    # the debrief is about what was written: quotes, turn numbers, guideline ids, sources
    assert debrief.best is not None and debrief.worst is not None
    agent_turns = [i for i, t in enumerate(session.turns) if t.role == "agent"]
    assert {debrief.best.turn, debrief.worst.turn} <= set(agent_turns)
    assert debrief.worst.text in (OPENING_BAD, "Calm down, it's only a parcel.")
    assert debrief.stop is not None and debrief.stop.guideline.id == "deesc.no_calm_down"
    assert debrief.stop.turn == len(session.turns) - 1
    assert debrief.keep is not None and debrief.keep.verdict == "met"
    assert debrief.start is not None and debrief.start.verdict in ("missed", "partial")
    text = "\n".join(debrief_lines(debrief))
    assert f'turn {len(session.turns)}: "Calm down' in text
    assert source_label(debrief.stop.guideline.source) in text
    assert "_916580366bc0879c" not in text  # seed titles, never hashed file names
    # one evidence list: the stop quote's reply is the worst moment or a worse one
    assert debrief.worst.score <= 0
    assert debrief.keep.quote != debrief.stop.quote
    assert "The hidden issue:" in text and "birthday" in text
    sections = {row.section for row in debrief.sections}
    assert {"De-escalation", "D.E.F.U.S.E.", "Opening and close"} <= sections
    total = sum(sum(row.counts.values()) for row in debrief.sections)
    assert total == len(card.results)

    # the same files compare side by side with a bot run
    comparison = compare_runs([finished_run, out], by="agent")
    assert any(c.endswith("/human:test") for c in comparison.columns)
    assert any("macros:seed-playbook" in c for c in comparison.columns)

    with pytest.raises(UsageError, match="already holds a run"):
        session.save(out)


def test_debrief_differs_with_what_was_written(tmp_path: Path) -> None:
    persona, path = load_persona("late-gift")
    lines = []
    for n, replies in enumerate(
        ([EMPATHY, EXPLORE, PLAYBACK, OFFER], [OPENING_BAD, "That's our policy.", OFFER])
    ):
        with ChatSession(persona, path) as chat:
            chat.open()
            for reply in replies:
                if chat.stop is None:
                    chat.answer(reply)
            card, _ = chat.save(tmp_path / str(n))
            lines.append(debrief_lines(build_debrief(card, chat.turns, chat.rubric)))
    good, bad = ("\n".join(x) for x in lines)
    assert good != bad
    assert "Let's sort it out together" in good
    assert "That's our policy" in bad or OPENING_BAD in bad


# ---------------------------------------------------------------- the terminal


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "chat", *args]


def test_piped_stdin(tmp_path: Path) -> None:
    out = tmp_path / "piped"
    script = "\n".join([EMPATHY, "/hint", EXPLORE, "/end Thanks Priya, I'll email you a recap."])
    done = subprocess.run(
        _cli("--persona", "late-gift", "--name", "pipe", "--out", str(out)),
        input=script + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"[2] you> {EMPATHY}" in done.stdout  # piped lines are echoed
    assert "Hint" in done.stdout
    assert "Debrief" in done.stdout
    (card,) = read_jsonl(out / SCORECARDS)
    assert card["agent"] == "human:pipe"
    (record,) = read_jsonl(out / TRANSCRIPTS)
    assert [t["text"] for t in record["turns"] if t["role"] == "agent"] == [
        EMPATHY,
        EXPLORE,
        "Thanks Priya, I'll email you a recap.",
    ]
    assert record["turns"][-1]["action"] == "end"
    assert record["coaching"]["hints"] >= 1 and record["coaching"]["rewinds"] == 0


def test_quit_saves_nothing_and_end_of_input_saves_the_chat(tmp_path: Path) -> None:
    def chat(script: str, out: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _cli("--persona", "late-gift", "--out", str(out)),
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = chat("/quit\n", tmp_path / "q")
    assert done.returncode == 0, done.stderr
    assert "nothing saved" in done.stdout
    assert not (tmp_path / "q").exists()
    done = chat(EMPATHY + "\n", tmp_path / "eof")  # the pipe closes after one reply
    assert done.returncode == 0, done.stderr
    assert "End of input: saving" in done.stdout and "Debrief" in done.stdout
    (record,) = read_jsonl(tmp_path / "eof" / TRANSCRIPTS)
    assert [t["text"] for t in record["turns"] if t["role"] == "agent"] == [EMPATHY]


def test_bare_end_closes_with_a_default_line(tmp_path: Path) -> None:
    done = subprocess.run(
        _cli("--persona", "late-gift", "--out", str(tmp_path / "end")),
        input=f"{EMPATHY}\n/end\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (record,) = read_jsonl(tmp_path / "end" / TRANSCRIPTS)
    last = record["turns"][-1]
    assert (last["role"], last["action"]) == ("agent", "end")
    assert last["text"] == DEFAULT_WORDS["end"]


def test_option_errors(tmp_path: Path) -> None:
    for args, message in (
        (("--persona", "late-gift", "--random"), "not both"),
        (("--max-intensity", "extreme"), "--max-intensity"),
        (("--persona", "no-such-persona"), "no-such-persona"),
    ):
        done = subprocess.run(
            _cli(*args), input="", capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 1, (args, done.stdout)
        assert done.stderr.startswith("error:") and message in done.stderr, done.stderr


def test_pseudo_terminal_end_to_end(tmp_path: Path) -> None:
    """A real pty: case file, several turns, /hint, /rewind, /end, files written."""
    out = tmp_path / "pty"
    env = {**os.environ, "COLUMNS": "200", "LINES": "60", "TERM": "xterm"}
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "harness.cli",
            "chat",
            "--persona",
            "late-gift",
            "--meter",
            "--name",
            "pty",
            "--out",
            str(out),
        ],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=15,
        dimensions=(60, 200),
    )
    try:
        child.expect("Priya Raman")
        child.expect("Policy limits")
        child.expect(r"\[1\] Priya: ")
        child.expect("anger ")
        child.expect(r"\[2\] you> ")
        child.sendline(OPENING_BAD)
        child.expect(r"\[3\] Priya: ")
        child.expect("(second time|asking me again|already told you)")  # a repeat ask
        child.expect(r"\[4\] you> ")
        child.sendline("/hint")
        child.expect("Hint")
        child.expect("deesc.name_emotion")
        child.expect(r"\[4\] you> ")
        child.sendline("Let me check the tracking for you.")
        child.expect(r"\[5\] Priya: ")
        child.expect(r"\[6\] you> ")
        child.sendline("/rewind 4")
        child.expect("Rewound")
        child.expect(r"\[3\] Priya: ")
        child.expect(r"\[4\] you> ")
        child.sendline(EMPATHY)
        child.expect(r"\[5\] Priya: ")
        child.expect(r"\[6\] you> ")
        child.sendline(EXPLORE)
        child.expect("birthday")
        child.expect(r"\[8\] you> ")
        child.sendline("/end Thanks Priya, I'll email you a recap within the hour.")
        child.expect("You ended the conversation")
        child.expect("Debrief")
        child.expect("Best moment")
        child.expect("saved: ")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest["kind"], manifest["status"]) == ("chat", "finished")
    (record,) = read_jsonl(out / TRANSCRIPTS)
    agent = [t["text"] for t in record["turns"] if t["role"] == "agent"]
    assert agent == [
        OPENING_BAD,
        EMPATHY,
        EXPLORE,
        "Thanks Priya, I'll email you a recap within the hour.",
    ]  # the rewound reply is gone
    assert record["agent"] == "human:pty"
    assert record["stop_reason"] == "agent_ended"
    (card,) = read_jsonl(out / SCORECARDS)
    assert card["conversation_id"] == record["conversation_id"]
    assert len(card["results"]) == 35
    assert [s["anger"] for s in (t["state"] for t in record["turns"]) if s] == card["outcome"][
        "anger"
    ]


def test_run_chat_in_process_offers_rewind_after_customer_leaves(tmp_path: Path) -> None:
    bad = iter(["Calm down.", "That's our policy."] * 10)
    after_rewind = iter([EMPATHY, "/end Goodbye."])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        if "/rewind N to try again" in prompt:
            return "/rewind 2"
        if any("/rewind N to try again" in p for p in prompts):
            return next(after_rewind)
        return next(bad)

    out = run_chat(
        ChatOptions(persona="late-gift", out=tmp_path / "left"),
        Console(file=open(os.devnull, "w"), width=120),  # noqa: SIM115
        read,
    )
    assert out == tmp_path / "left"
    (record,) = read_jsonl(out / TRANSCRIPTS)
    agent = [t["text"] for t in record["turns"] if t["role"] == "agent"]
    assert agent == [EMPATHY, "Goodbye."]
    assert record["stop_reason"] == "agent_ended"
