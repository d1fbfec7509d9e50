"""The debrief reads one ranked evidence list, so its parts cannot contradict each other."""

from __future__ import annotations

from pathlib import Path

from harness.catalog import load_persona
from harness.chat import ChatSession
from harness.debrief import Debrief, debrief_lines, quote_clause, source_label


def _played(tmp_path: Path, persona_id: str, replies: list[str]) -> Debrief:
    persona, path = load_persona(persona_id)
    chat = ChatSession(persona, path)
    chat.open()
    for reply in replies:
        if chat.stop is None:
            chat.answer(reply)
    _, debrief = chat.save(tmp_path / persona_id)
    chat.close()
    return debrief


def test_a_reply_that_raised_anger_is_never_hidden_behind_no_reply_hurt(tmp_path: Path) -> None:
    debrief = _played(
        tmp_path,
        "late-gift",
        [
            "I can hear how stressful this is, Priya. Let's sort it out together.",
            "Relax, it's not that big a deal. As I said, it's the courier's fault.",
        ],
    )
    assert debrief.stop is not None and debrief.worst is not None
    text = "\n".join(debrief_lines(debrief))
    assert "no reply hurt" not in text
    # the worst moment is the reply with the most evidence against it: the one stopped
    assert debrief.worst.turn == debrief.stop.turn == 3
    assert "customer anger" in " ".join(debrief.worst.notes)
    assert debrief.best is not None and debrief.best.turn == 1
    assert debrief.keep is not None and debrief.keep.turn != debrief.stop.turn
    assert "_916580366bc0879c" not in text and "Tough Conversations" in text


def test_keep_never_quotes_what_a_violation_quotes(tmp_path: Path) -> None:
    debrief = _played(
        tmp_path,
        "abusive-insults",
        [
            "Calm down. I will have to end this call if you keep shouting at me.",
            "I'm sorry, Clive, that's on us. Let me book the engineer for you.",
        ],
    )
    assert debrief.keep is None or debrief.keep.quote != "I will have"
    for item in debrief.items:
        if item.kind == "met" and item.quote:
            assert "end this call" not in item.quote, item


def test_the_hidden_issue_is_revealed_at_the_end_whether_found_or_not(tmp_path: Path) -> None:
    found = _played(
        tmp_path / "a",
        "late-gift",
        ["I can hear how stressful this is, Priya. What would a good result look like for you?"],
    )
    missed = _played(tmp_path / "b", "late-gift", ["Please hold while I check."])
    assert found.reveal is not None and found.reveal.found_at is not None
    assert missed.reveal is not None and missed.reveal.found_at is None
    text = "\n".join(debrief_lines(missed))
    assert "The hidden issue:" in text and "Arjun" in text and "never came out" in text


def test_quotes_are_the_clause_and_sources_read_as_titles() -> None:
    text = "Calm down. I will have to end this call if you keep shouting, okay?"
    assert quote_clause(text, "I will have") == "I will have to end this call if you keep shouting"
    assert quote_clause(text, "nowhere") == "nowhere"
    label = source_label("001_ca3ede52cc0e4d41.txt Own the issue; 002_b50feab669c426af.txt §7")
    assert label == (
        "Six Ways to Navigate Challenging Customer Service Conversations: Own the issue; "
        "the eight-tip article on tough conversations, tip 7 (know when to escalate)"
    )
