"""`toughtalk progress --name NAME`: a trainee's chats over time."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness.catalog import load_persona
from harness.chat import ChatSession
from harness.cli import app
from harness.progress import history, section_trend, still_missed

EMPATHY = "I can hear how frustrating this is, Priya. Let's sort it out together."
PLAYBACK = (
    "So the telescope is Arjun's birthday present and it has to be there tomorrow, "
    "did I get that right?"
)


def _chat(results: Path, name: str, agent: str, replies: list[str]) -> None:
    persona, path = load_persona("late-gift")
    with ChatSession(persona, path, agent=agent) as chat:
        chat.open()
        for reply in replies:
            if chat.stop is None:
                chat.answer(reply)
        chat.save(results / name)


def test_progress_lists_one_trainees_chats_oldest_first(tmp_path: Path) -> None:
    _chat(tmp_path, "1-chat", "human:ana", ["ok, what is your order number?"])
    _chat(tmp_path, "2-chat", "human:ana", [EMPATHY, PLAYBACK])
    _chat(tmp_path, "3-chat", "human:bo", [EMPATHY])
    practices = history("ana", tmp_path)
    assert [p.run_dir.name for p in practices] == ["1-chat", "2-chat"]
    first, latest = practices
    assert first.score is not None and latest.score is not None
    assert latest.score > first.score
    trend = section_trend(practices)
    assert trend["De-escalation"][1] is not None
    assert trend["De-escalation"][1] > (trend["De-escalation"][0] or 0)
    missed = still_missed(practices)
    assert "deesc.name_emotion" not in missed  # met in the latest chat
    assert "defuse.options" in missed  # never offered options

    shown = CliRunner().invoke(app, ["progress", "--name", "ana", "--results", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    assert "Practice history of ana" in shown.output and "late-gift" in shown.output
    assert "Still to show" in shown.output and "defuse.options" in shown.output
    nobody = CliRunner().invoke(app, ["progress", "--name", "zed", "--results", str(tmp_path)])
    assert nobody.exit_code == 0 and "No chats by zed" in nobody.output
    missing = CliRunner().invoke(app, ["progress", "--name", "ana", "--results", "/no/such"])
    assert missing.exit_code == 1
