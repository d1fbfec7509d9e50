"""What the pages show, computed from run directories with the library (no HTML here).

The summary and the compare page are `harness.compare` as the terminal prints it; the
matrix is the mean score of each guideline per persona (a t interval within one persona);
a conversation is its transcript with the verdicts per turn from `harness.show`, the
evidence quotes located in the text, and the customer's anger turn by turn.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.catalog import load_persona, read_records
from harness.compare import Comparison
from harness.debrief import outcome_line, shown
from harness.errors import InputError
from harness.models import (
    GuidelineResult,
    RunManifest,
    Scorecard,
    StopReason,
    TranscriptRecord,
    Turn,
)
from harness.reports import footer, grid
from harness.series import Run, agent_labels, build_series, exclusion, label, load_runs
from harness.show import RunView, score_text, verdicts_by_turn
from harness.stats import Estimate, estimate
from harness.store import SCORECARDS, TRANSCRIPTS

# Which verdict colours a highlighted quote cited by several guidelines: the worst one.
VERDICT_RANK = {"violated": 0, "missed": 1, "partial": 2, "met": 3, "unscored": 4, "na": 5}


# ---------------------------------------------------------------- reading a run once


def read_run(path: Path) -> Run | None:
    """The run's scorecards and identity (`harness.series.Run`); None before its first
    conversation has finished (no scorecards file yet)."""
    if not (path / SCORECARDS).exists():
        return None
    return load_runs([path])[0]


def run_view(path: Path, manifest: RunManifest, run: Run | None) -> RunView:
    """The run as `harness.show` reads it, from scorecards already read."""
    records = read_records(path / TRANSCRIPTS) if (path / TRANSCRIPTS).exists() else []
    return RunView(
        root=path,
        manifest=manifest,
        records={r.conversation_id: r for r in records},
        cards={c.conversation_id: c for c in run.cards} if run else {},
    )


@dataclass(frozen=True)
class ComparisonTable:
    """A comparison as the pages show it: the grid, differences named, footer lines."""

    header: list[str]
    body: list[list[str]]
    tail: list[list[str]]
    dims: int
    differences: list[str]
    footer: list[str]


def comparison_table(c: Comparison) -> ComparisonTable:
    """The terminal's grid of a comparison, for a template."""
    header, body, tail = grid(c)
    return ComparisonTable(
        header, body, tail, len(c.dims), [d.describe() for d in c.differences], footer(c)
    )


# ---------------------------------------------------------------- the Runs page


@dataclass(frozen=True)
class AgentScore:
    """One agent's overall score in a run: mean, interval, n."""

    agent: str
    score: Estimate


@dataclass(frozen=True)
class RunFacts:
    """What the Runs page lists about one run."""

    agents: list[str]
    personas: list[str]
    conversations: int
    left_out: int
    scores: list[AgentScore]


def run_facts(cards: list[Scorecard]) -> RunFacts:
    """Agents, personas, counts and each agent's score (intervals clustered by persona)."""
    per_agent: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    left_out = 0
    for card in cards:
        if exclusion(card) is not None or card.score is None:
            left_out += 1
            continue
        per_agent[card.agent][card.persona or "-"].append(card.score)
    agents = list(dict.fromkeys(c.agent for c in cards))
    return RunFacts(
        agents=[label(a) for a in agents],
        personas=sorted({c.persona or "-" for c in cards}),
        conversations=len(cards),
        left_out=left_out,
        scores=[AgentScore(label(a), estimate(per_agent.get(a, {}))) for a in agents],
    )


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Matrix:
    """Guideline x persona means for one agent of a run."""

    agent: str
    agent_spec: str
    personas: list[str]
    guidelines: list[str]
    cells: dict[tuple[str, str], Estimate]


def matrices(run: Run) -> list[Matrix]:
    """One guideline x persona matrix per agent (results only; `na` verdicts left out)."""
    out = []
    for series in build_series([run]):
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        guidelines: list[str] = []
        personas: list[str] = []
        for card in series.results:
            persona = card.persona or "-"
            personas.append(persona)
            for result in card.results:
                guidelines.append(result.guideline)
                if result.score is not None:
                    values[(result.guideline, persona)].append(result.score)
        spec = series.cards[0].agent if series.cards else series.agent
        out.append(
            Matrix(
                agent=series.agent,
                agent_spec=spec,
                personas=list(dict.fromkeys(personas)),
                guidelines=list(dict.fromkeys(guidelines)),
                cells={key: estimate({key[1]: vs}) for key, vs in values.items()},
            )
        )
    return out


# ---------------------------------------------------------------- conversation lists


@dataclass(frozen=True)
class ConversationRow:
    """One line of a run's conversation list."""

    id: str
    persona: str
    agent: str
    seed: str
    difficulty: str
    stop: str
    score: str
    left_out: str | None
    verdict: str | None  # of the guideline filtered on
    guideline_score: float | None


@dataclass(frozen=True)
class ListFilter:
    """Which conversations of a run to list."""

    persona: str = ""
    agent: str = ""
    guideline: str = ""
    stop: str = ""


def conversation_rows(cards: list[Scorecard], wanted: ListFilter) -> list[ConversationRow]:
    """The run's finished conversations (those with a scorecard) that pass the filter;
    with a guideline, worst first."""
    rows = []
    labels = agent_labels([c.agent for c in cards])
    for card in cards:
        agent = labels[card.agent]
        stop = card.outcome.stop_reason.value
        if wanted.persona and (card.persona or "-") != wanted.persona:
            continue
        if wanted.agent and wanted.agent not in (agent, card.agent):
            continue
        if wanted.stop and stop != wanted.stop:
            continue
        result = _result(card, wanted.guideline) if wanted.guideline else None
        if wanted.guideline and result is None:
            continue
        rows.append(
            ConversationRow(
                id=card.conversation_id,
                persona=card.persona or "-",
                agent=agent,
                seed="-" if card.seed is None else str(card.seed),
                difficulty="-" if card.difficulty is None else str(card.difficulty),
                stop=stop,
                score=score_text(card),
                left_out=exclusion(card),
                verdict=result.verdict if result else None,
                guideline_score=result.score if result else None,
            )
        )
    if wanted.guideline:
        rows.sort(key=lambda r: (r.guideline_score is None, r.guideline_score or 0.0))
    return rows


def list_options(cards: list[Scorecard]) -> dict[str, list[str]]:
    """The values a run's conversation list can be filtered on."""
    labels = agent_labels([c.agent for c in cards])
    return {
        "personas": sorted({c.persona or "-" for c in cards}),
        "agents": list(dict.fromkeys(labels[c.agent] for c in cards)),
        "guidelines": list(dict.fromkeys(r.guideline for c in cards for r in c.results)),
        "stops": [s.value for s in StopReason if any(c.outcome.stop_reason == s for c in cards)],
    }


def _result(card: Scorecard | None, guideline: str) -> GuidelineResult | None:
    if card is None:
        return None
    return next((r for r in card.results if r.guideline == guideline), None)


# ---------------------------------------------------------------- one conversation


@dataclass(frozen=True)
class Segment:
    """A stretch of a turn's text; `marks` names the verdicts quoting it (none: plain)."""

    text: str
    marks: tuple[str, ...] = ()
    verdict: str | None = None  # the worst verdict quoting it, for its colour


@dataclass(frozen=True)
class Cited:
    """A verdict whose evidence quotes this turn."""

    guideline: str
    verdict: str
    quote: str
    located: bool  # whether the quote was found in the turn's text


@dataclass(frozen=True)
class TurnView:
    """One message, its text cut into highlighted segments, and the verdicts quoting it."""

    number: int
    role: str
    segments: list[Segment]
    cited: list[Cited]
    anger: float | None
    extras: list[str]


@dataclass
class ConversationView:
    """Everything the Conversation page shows about one conversation."""

    id: str
    record: TranscriptRecord | None
    card: Scorecard | None
    turns: list[TurnView]
    unquoted: list[GuidelineResult]
    not_applicable: list[str]
    anger: list[tuple[int, float]]
    hidden_issue: str | None
    issue_found: bool | None
    sim_faults: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outcome: str = ""
    score: str = ""


def highlight(text: str, quotes: Sequence[tuple[str, str, str]]) -> tuple[list[Segment], set[str]]:
    """Cut `text` at every (guideline, verdict, quote) quote it holds; the quotes not found."""
    spans: list[tuple[int, int, str, str]] = []
    missing: set[str] = set()
    for guideline, verdict, quote in quotes:
        start = text.find(quote)
        if start < 0:
            missing.add(quote)
            continue
        spans.append((start, start + len(quote), guideline, verdict))
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    segments = []
    for a, b in itertools.pairwise(cuts):
        covering = [(g, v) for s, e, g, v in spans if s <= a and b <= e]
        verdicts = sorted({v for _, v in covering}, key=lambda v: VERDICT_RANK.get(v, 9))
        marks = tuple(f"{g} {v}" for g, v in covering)
        segments.append(Segment(text[a:b], marks, verdicts[0] if verdicts else None))
    return segments, missing


def _turn_view(index: int, turn: Turn, cited: list[tuple[GuidelineResult, str]]) -> TurnView:
    quotes = [(r.guideline, r.verdict, quote) for r, quote in cited]
    segments, missing = highlight(turn.text, quotes)
    extras = [x for x in (turn.macro and f"macro {turn.macro}", turn.action) if x]
    if turn.state is not None and turn.state.reactions:
        extras.append("reacted to " + ", ".join(turn.state.reactions))
    return TurnView(
        number=shown(index),
        role=turn.role,
        segments=segments,
        cited=[Cited(r.guideline, r.verdict, q, q not in missing) for r, q in cited],
        anger=turn.state.anger if turn.state is not None else None,
        extras=extras,
    )


def hidden_issue(persona_id: str | None) -> str | None:
    """The persona's hidden issue, if the persona is still installed and readable."""
    if not persona_id:
        return None
    try:
        persona, _ = load_persona(persona_id)
    except InputError:
        return None
    return persona.hidden_issue.summary


def conversation(run: RunView, cid: str) -> ConversationView:
    """The Conversation page's view of one conversation of a loaded run."""
    record = run.records.get(cid)
    card = run.cards.get(cid)
    by_turn, without = verdicts_by_turn(card) if card else ({}, [])
    turns = [
        _turn_view(i, t, [(r, ev.quote) for r, ev in by_turn.get(i, [])])
        for i, t in enumerate(record.turns if record else [])
    ]
    anger = [(t.number, t.anger) for t in turns if t.anger is not None]
    problems = []
    if record is not None and record.error:
        problems.append(f"error: {record.error}")
    if card is None:
        problems.append("no scorecard for this conversation (the run was interrupted?)")
    elif card.flags:
        problems.append("left out of every mean: " + ", ".join(card.flags))
    faults = list(record.sim_faults if record else []) or list(
        card.outcome.sim_faults if card else []
    )
    return ConversationView(
        id=cid,
        record=record,
        card=card,
        turns=turns,
        unquoted=[r for r in without if r.verdict != "na"],
        not_applicable=[r.guideline for r in without if r.verdict == "na"],
        anger=anger,
        hidden_issue=hidden_issue(record.persona if record else card.persona if card else None),
        issue_found=card.outcome.real_issue_revealed if card else None,
        sim_faults=faults,
        problems=problems,
        outcome=outcome_line(card) if card else "",
        score=score_text(card),
    )


def anger_svg(points: list[tuple[int, float]], width: int = 420, height: int = 120) -> str:
    """An inline SVG line of anger (0-10) per turn number; only numbers go into it."""
    if not points:
        return ""
    pad = 24
    last = max(n for n, _ in points)
    first = min(n for n, _ in points)
    span = max(1, last - first)

    def x(n: int) -> float:
        return pad + (width - 2 * pad) * (n - first) / span

    def y(a: float) -> float:
        return height - pad - (height - 2 * pad) * max(0.0, min(10.0, a)) / 10

    line = " ".join(f"{x(n):.1f},{y(a):.1f}" for n, a in points)
    dots = "".join(
        f'<circle cx="{x(n):.1f}" cy="{y(a):.1f}" r="3.5">'
        f"<title>turn {n}: anger {a:g}</title></circle>"
        for n, a in points
    )
    grid = "".join(
        f'<line class="grid" x1="{pad}" x2="{width - pad}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
        f'<text x="4" y="{y(v) + 4:.1f}">{v}</text>'
        for v in (0, 5, 10)
    )
    labels = "".join(f'<text x="{x(n) - 4:.1f}" y="{height - 6}">{n}</text>' for n, _ in points)
    return (
        f'<svg class="anger" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="customer anger per turn">{grid}'
        f'<polyline points="{line}"/>{dots}{labels}</svg>'
    )
