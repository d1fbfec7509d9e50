"""`toughtalk show`: a run's conversations as a list, or one conversation turn by turn with
the verdicts whose evidence quotes each agent reply.

Reads a run directory (run.json, transcripts.jsonl, scorecards.jsonl) and never writes it.
Turn numbers shown are 1-based, like the debrief's; evidence stores 0-based indices.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.catalog import read_records
from harness.compare import label
from harness.debrief import clip, outcome_line, shown
from harness.errors import InputError, UsageError
from harness.models import Evidence, GuidelineResult, RunManifest, Scorecard, TranscriptRecord
from harness.store import MANIFEST, SCORECARDS, TRANSCRIPTS, RunStore

VERDICT_STYLE = {
    "met": "green",
    "partial": "yellow",
    "missed": "dark_orange",
    "violated": "bold red",
    "na": "dim",
    "unscored": "magenta",
}


@dataclass
class RunView:
    """A run directory read for display: transcripts and scorecards by conversation id."""

    root: Path
    manifest: RunManifest
    records: dict[str, TranscriptRecord]
    cards: dict[str, Scorecard]


def load_run(root: Path) -> RunView:
    """Read a run directory; an unknown or incomplete one is an InputError naming it."""
    store = RunStore(root)
    if not root.is_dir():
        raise InputError(root, "no such run directory")
    manifest = store.read_manifest()
    if manifest is None:
        raise InputError(root, f"not a run directory (no {MANIFEST})")
    records = read_records(root / TRANSCRIPTS) if (root / TRANSCRIPTS).exists() else []
    cards = store.load_scorecards() if (root / SCORECARDS).exists() else []
    return RunView(
        root=root,
        manifest=manifest,
        records={r.conversation_id: r for r in records},
        cards={c.conversation_id: c for c in cards},
    )


def is_result(card: Scorecard) -> bool:
    """Whether a scorecard counts as a result (not errored, flagged or without a score)."""
    return card.score is not None and card.outcome.stop_reason != "error" and not card.flags


def find_conversation(run: RunView, ref: str) -> str:
    """The conversation id that `ref` names exactly or as a unique prefix; a UsageError
    that suggests close ids otherwise."""
    ids = list(dict.fromkeys([*run.records, *run.cards]))
    if ref in ids:
        return ref
    matches = [i for i in ids if i.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown_ids = ", ".join(matches[:5]) + (
            f" (+{len(matches) - 5} more)" if len(matches) > 5 else ""
        )
        raise UsageError(
            f"{ref!r} matches {len(matches)} conversations in {run.root}: {shown_ids}; "
            "give more of the id"
        )
    close = close_ids(ref, ids)
    hint = (
        f"; did you mean {', '.join(close)}?"
        if close
        else f"; `toughtalk show {run.root}` lists them"
    )
    raise UsageError(f"no conversation {ref!r} in {run.root}{hint}")


def close_ids(ref: str, ids: list[str], n: int = 3) -> list[str]:
    """The ids most like `ref`, whole or by their start (ids are long, refs often short)."""

    def likeness(cid: str) -> float:
        whole = difflib.SequenceMatcher(None, ref, cid).ratio()
        start = difflib.SequenceMatcher(None, ref, cid[: len(ref)]).ratio()
        return max(whole, start)

    ranked = sorted(ids, key=lambda cid: (-likeness(cid), cid))
    return [cid for cid in ranked[:n] if likeness(cid) >= 0.6]


# ---------------------------------------------------------------- the list


def score_text(card: Scorecard | None) -> str:
    """The score, `-` without one, and the flags that explain a missing score."""
    if card is None:
        return "no scorecard"
    value = "-" if card.score is None else f"{card.score:.2f}"
    return f"{value} ({', '.join(card.flags)})" if card.flags else value


def conversation_table(run: RunView) -> Table:
    """One row per conversation: id, persona, agent, seed, stop reason, score."""
    table = Table(
        "conversation", "persona", "agent", "seed", "stop reason", "score", title=f"Run: {run.root}"
    )
    for cid, record in run.records.items():
        card = run.cards.get(cid)
        stop = record.stop_reason.value
        table.add_row(
            cid,
            record.persona or "-",
            label(record.agent),
            "-" if record.seed is None else str(record.seed),
            Text(stop, style="red" if stop == "error" else ""),
            score_text(card),
        )
    return table


def list_footer(run: RunView) -> str:
    """How many conversations there are and how many of them are results."""
    cards = list(run.cards.values())
    results = sum(is_result(c) for c in cards)
    return (
        f"{len(run.records)} conversation(s), {results} with a score "
        f"({len(cards) - results} left out of means); show one: toughtalk show {run.root} ID"
    )


# ---------------------------------------------------------------- one conversation


def verdicts_by_turn(
    card: Scorecard,
) -> tuple[dict[int, list[tuple[GuidelineResult, Evidence]]], list[GuidelineResult]]:
    """The verdicts whose evidence points at each turn (0-based), and those with none."""
    by_turn: dict[int, list[tuple[GuidelineResult, Evidence]]] = {}
    without: list[GuidelineResult] = []
    for result in card.results:
        if not result.evidence:
            without.append(result)
        for ev in result.evidence:
            by_turn.setdefault(ev.turn, []).append((result, ev))
    return by_turn, without


def _verdict(result: GuidelineResult) -> Text:
    return Text(result.verdict, style=VERDICT_STYLE.get(result.verdict, ""))


def conversation_view(run: RunView, cid: str) -> RenderableType:
    """The transcript turn by turn with the verdicts quoting each agent reply, then the
    verdicts with no evidence, the outcome and the score."""
    record = run.records.get(cid)
    card = run.cards.get(cid)
    parts: list[RenderableType] = []
    head = Text(cid, style="bold")
    if record is not None:
        seed = "-" if record.seed is None else str(record.seed)
        head.append(
            f"  persona {record.persona or '-'} · agent {label(record.agent)} · "
            f"customer {record.customer} · seed {seed}",
            style="dim",
        )
    parts.append(head)
    by_turn, without = verdicts_by_turn(card) if card else ({}, [])
    for index, turn in enumerate(record.turns if record else []):
        who = Text(
            f"{shown(index):>3} {turn.role:<8} ", style="cyan" if turn.role == "agent" else ""
        )
        who.append(turn.text)
        extras = [x for x in (turn.macro and f"macro {turn.macro}", turn.action) if x]
        if turn.state is not None:
            extras.append(f"anger {turn.state.anger:g}")
        if extras:
            who.append(f"  [{' · '.join(extras)}]", style="dim")
        parts.append(who)
        for result, ev in by_turn.get(index, []):
            line = Text("      ")
            line.append(result.guideline, style="bold")
            line.append(" ")
            line.append_text(_verdict(result))
            line.append(f'  "{clip(ev.quote, 160)}"', style="italic")
            parts.append(line)
    if record is not None and record.error:
        parts.append(Text(f"error: {record.error}", style="red"))
    if card is None:
        parts.append(
            Text("no scorecard for this conversation (the run was interrupted?)", style="yellow")
        )
        return Group(*parts)
    scored = [r for r in without if r.verdict != "na"]
    if scored:
        table = Table("guideline", "verdict", "rationale", title="Verdicts with no evidence")
        for result in scored:
            table.add_row(result.guideline, _verdict(result), clip(result.rationale, 160))
        parts.append(table)
    not_applicable = [r.guideline for r in without if r.verdict == "na"]
    if not_applicable:
        parts.append(Text("n/a: " + ", ".join(not_applicable), style="dim"))
    parts.append(Text("Outcome: " + outcome_line(card), style="bold"))
    o = card.outcome
    facts = [f"resolved {'yes' if o.resolved else 'no'}", f"{o.turns} turns"]
    if o.calmed_at_turn is not None:
        facts.append(f"calm from turn {shown(o.calmed_at_turn)}")
    if o.policy_breach:
        facts.append("policy breach: " + ", ".join(o.policy_breach))
    if card.flags:
        facts.append("left out of means: " + ", ".join(card.flags))
    parts.append(Text(" · ".join(facts)))
    parts.append(Text(f"Score: {score_text(card)} ({card.judge}, {card.rubric})", style="bold"))
    return Group(*parts)
