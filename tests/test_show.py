"""`toughtalk show`: the conversation list and one conversation with its verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import UsageError
from harness.models import Scorecard
from harness.runs import SCORECARDS, TRANSCRIPTS
from harness.show import RunView, find_conversation, is_result, load_run, verdicts_by_turn
from tests.conftest import read_jsonl

WIDE = {"COLUMNS": "400"}


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_list_shows_every_conversation(finished_run: Path) -> None:
    result = _cli("show", str(finished_run))
    assert result.exit_code == 0, result.output
    cards = read_jsonl(finished_run / SCORECARDS)
    for card in cards:
        row = next(line for line in result.output.splitlines() if card["conversation_id"] in line)
        assert card["persona"] in row
        assert f"{card['score']:.2f}" in row
        assert card["outcome"]["stop_reason"] in row
    assert "macros:seed-playbook" in result.output
    assert f"{len(cards)} conversation(s), {len(cards)} with a score" in result.output


def test_one_conversation_turn_by_turn(finished_run: Path) -> None:
    [record] = [r for r in read_jsonl(finished_run / TRANSCRIPTS) if "anti-patterns" in r["agent"]][
        :1
    ]
    cid = record["conversation_id"]
    card = next(c for c in read_jsonl(finished_run / SCORECARDS) if c["conversation_id"] == cid)
    result = _cli("show", str(finished_run), cid)
    assert result.exit_code == 0, result.output
    out = result.output
    for n, turn in enumerate(record["turns"], 1):
        assert f"{n:>3} {turn['role']}" in out
    quoted = [r for r in card["results"] if r["evidence"]]
    assert quoted, "the anti-patterns library is always quoted by some verdict"
    lines = out.splitlines()
    for result_ in quoted:
        ev = result_["evidence"][0]
        turn_line = next(
            i for i, line in enumerate(lines) if line.startswith(f"{ev['turn'] + 1:>3} ")
        )
        next_turn = next(
            (i for i, line in enumerate(lines) if line.startswith(f"{ev['turn'] + 2:>3} ")),
            len(lines),
        )
        under = "\n".join(lines[turn_line:next_turn])
        assert result_["guideline"] in under and result_["verdict"] in under
    no_evidence = [r for r in card["results"] if not r["evidence"] and r["verdict"] != "na"]
    table_at = out.index("Verdicts with no evidence")
    for result_ in no_evidence:
        assert result_["guideline"] in out[table_at:]
    assert f"Score: {card['score']:.2f}" in out
    assert f"ended: {card['outcome']['stop_reason']}" in out


def test_a_unique_prefix_names_the_conversation(finished_run: Path) -> None:
    run = load_run(finished_run)
    with pytest.raises(UsageError, match="matches 4 conversations"):
        find_conversation(run, "late-gift")
    first_seed = RunView(
        run.root,
        run.manifest,
        {k: v for k, v in run.records.items() if k.endswith("s0")},
        {k: v for k, v in run.cards.items() if k.endswith("s0")},
    )
    cid = next(k for k in first_seed.records if "anti-patterns" in k and "late-gift" in k)
    assert find_conversation(first_seed, "late-gift__macros-evals-macros-anti") == cid
    assert find_conversation(first_seed, cid) == cid


def test_unknown_id_suggests_close_ones(finished_run: Path) -> None:
    line = _one_line_error(_cli("show", str(finished_run), "lategift"))
    assert "no conversation 'lategift'" in line
    assert "did you mean late-gift__" in line
    line = _one_line_error(_cli("show", str(finished_run), "zzzz"))
    assert "lists them" in line


def test_unknown_run_dir_is_one_line(tmp_path: Path) -> None:
    line = _one_line_error(_cli("show", str(tmp_path / "nope")))
    assert "no such run directory" in line
    (tmp_path / "empty").mkdir()
    line = _one_line_error(_cli("show", str(tmp_path / "empty")))
    assert "not a run directory (no run.json)" in line


def test_verdicts_by_turn_split_evidence_from_none(finished_run: Path) -> None:
    card = Scorecard.model_validate(read_jsonl(finished_run / SCORECARDS)[0])
    by_turn, without = verdicts_by_turn(card)
    assert {r.guideline for r in without} == {r.guideline for r in card.results if not r.evidence}
    for turn, pairs in by_turn.items():
        assert all(ev.turn == turn for _, ev in pairs)
    quoted = sum(len(r.evidence) for r in card.results)
    assert sum(len(p) for p in by_turn.values()) == quoted


def test_flagged_cards_are_not_results(finished_run: Path) -> None:
    card = Scorecard.model_validate(read_jsonl(finished_run / SCORECARDS)[0])
    assert is_result(card)
    assert not is_result(card.model_copy(update={"score": None, "flags": ["error"]}))
    assert not is_result(card.model_copy(update={"flags": ["unscored"]}))
    errored = card.outcome.model_copy(update={"stop_reason": "error"})
    assert not is_result(card.model_copy(update={"outcome": errored}))
