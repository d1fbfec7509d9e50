"""Coaching from the graders: `/hint` nudges during a chat and the debrief after it.

Nothing here is canned: a hint is the highest-weight guideline the rule graders currently
mark missed (then partial, then violated) on the transcript so far, worded from the
grader's rationale, the rubric's description of "met" and the guideline's source. The
debrief reads the conversation's scorecard: verdict counts per rubric section, the agent's
best and worst reply (by the evidence the graders quoted from it and how the customer's
anger moved after it), and one thing to keep, start and stop, each tied to a guideline.

Turn numbers shown to people are 1-based (`turn 3` is the third message); scorecard
evidence stores 0-based indices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness.judging import Case
from harness.judging.rules import RulesJudge
from harness.models import (
    GuidelineResult,
    Persona,
    Rubric,
    RubricGuideline,
    Scorecard,
    StopReason,
    Turn,
)

VERDICTS = ("met", "partial", "missed", "violated", "na")
# Which unmet verdict a hint takes up first: what is not done yet, then half done, then wrong.
_HINT_ORDER = {"missed": 0, "partial": 1, "violated": 2}
_VIOLATION_WEIGHT = 1.5  # a violation counts against a reply more than a met guideline for it
_ANGER_WEIGHT = 0.5  # per point of customer anger the reply added (or took away)


def shown(index: int) -> int:
    """The 1-based turn number people see for a 0-based turn index."""
    return index + 1


def clip(text: str, limit: int = 220) -> str:
    """One line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def what_good_looks_like(guideline: RubricGuideline) -> str:
    """The first sentence of the rubric's description (its definition of met)."""
    text = " ".join(guideline.description.split())
    match = re.match(r"(.+?[.!?])\s+(?=[A-Z])", text)
    return match.group(1) if match else text


def _order(rubric: Rubric) -> dict[str, tuple[int, RubricGuideline]]:
    return {g.id: (n, g) for n, g in enumerate(rubric.guidelines)}


def _quote(result: GuidelineResult, turns: list[Turn]) -> tuple[int, str] | None:
    """The first evidence quote from an agent turn: (0-based turn, quote)."""
    for ev in result.evidence:
        if 0 <= ev.turn < len(turns) and turns[ev.turn].role == "agent":
            return ev.turn, ev.quote
    return None


# ---------------------------------------------------------------- hints


@dataclass(frozen=True)
class Hint:
    """One coaching nudge from one guideline's current verdict."""

    guideline: RubricGuideline
    verdict: str
    rationale: str
    turn: int | None = None
    quote: str | None = None

    def lines(self) -> list[str]:
        """The nudge as a few plain lines."""
        g = self.guideline
        lead = {
            "missed": "Not done yet",
            "partial": "Partly there",
            "violated": "Avoid doing this again",
        }[self.verdict]
        said = (
            f' (your turn {shown(self.turn)}: "{clip(self.quote, 120)}")'
            if self.turn is not None and self.quote
            else ""
        )
        return [
            f"{g.title} [{g.id}, {g.section}]",
            f"{lead}: the grader {self.rationale}{said}.",
            f"What good looks like: {what_good_looks_like(g)}",
            f"Source: {g.source}",
        ]


def grade_now(
    turns: list[Turn],
    rubric: Rubric,
    *,
    context: Mapping[str, Any],
    persona: Persona | None,
    stop_reason: StopReason | None = None,
) -> list[GuidelineResult]:
    """The rule graders' verdicts on the conversation so far."""
    case = Case(turns=turns, context=context, persona=persona, stop_reason=stop_reason)
    return RulesJudge().grade(case, rubric)


def next_hint(
    results: Iterable[GuidelineResult],
    rubric: Rubric,
    turns: list[Turn],
    given: Iterable[str] = (),
) -> Hint | None:
    """The most useful guideline not yet met (and not hinted before), as a Hint."""
    order = _order(rubric)
    skip = set(given)
    candidates = [r for r in results if r.verdict in _HINT_ORDER and r.guideline not in skip]
    if not candidates:
        return None
    candidates.sort(
        key=lambda r: (
            _HINT_ORDER[r.verdict],
            -order[r.guideline][1].importance,
            order[r.guideline][0],
        )
    )
    best = candidates[0]
    where = _quote(best, turns) if best.verdict != "missed" else None
    return Hint(
        guideline=order[best.guideline][1],
        verdict=best.verdict,
        rationale=_rationale(best.rationale),
        turn=where[0] if where else None,
        quote=where[1] if where else None,
    )


def _rationale(text: str) -> str:
    """Grader rationales read as a clause after 'the grader'."""
    text = text.strip().rstrip(".")
    if text.startswith("looked for"):
        return text + ", and did not find it yet"
    return "found: " + text


# ---------------------------------------------------------------- the debrief


@dataclass(frozen=True)
class SectionRow:
    """Verdict counts for one rubric section."""

    section: str
    counts: dict[str, int]
    missed: list[str]
    violated: list[str]


@dataclass(frozen=True)
class Moment:
    """One agent reply, scored by what the graders quoted from it and the anger it caused."""

    turn: int
    text: str
    score: float
    notes: list[str]


@dataclass(frozen=True)
class Advice:
    """Keep, start or stop: one guideline, with what the agent wrote where it applies."""

    kind: str
    guideline: RubricGuideline
    verdict: str
    detail: str
    turn: int | None = None
    quote: str | None = None


@dataclass
class Debrief:
    """Everything the end-of-chat debrief shows."""

    card: Scorecard
    sections: list[SectionRow]
    best: Moment | None
    worst: Moment | None
    keep: Advice | None
    start: Advice | None
    stop: Advice | None


def build_debrief(card: Scorecard, turns: list[Turn], rubric: Rubric) -> Debrief:
    """Read a scorecard (and its transcript) into a debrief."""
    order = _order(rubric)
    known = [r for r in card.results if r.guideline in order]
    best, worst = _best_and_worst(_moments(known, order, turns))
    return Debrief(
        card=card,
        sections=_sections(known, rubric),
        best=best,
        worst=worst,
        keep=_keep(known, order, turns),
        start=_start(known, order),
        stop=_stop(known, order, turns),
    )


def _best_and_worst(moments: list[Moment]) -> tuple[Moment | None, Moment | None]:
    """The highest-scoring reply (if it helped) and the lowest other one (if it hurt)."""
    best = max(moments, key=lambda m: m.score, default=None)
    if best is not None and best.score <= 0:
        best = None
    rest = [m for m in moments if best is None or m.turn != best.turn]
    worst = min(rest, key=lambda m: m.score, default=None)
    if worst is not None and worst.score >= 0:
        worst = None
    return best, worst


def _sections(results: list[GuidelineResult], rubric: Rubric) -> list[SectionRow]:
    by_id = {g.id: g for g in rubric.guidelines}
    rows: dict[str, SectionRow] = {}
    for g in rubric.guidelines:
        rows.setdefault(g.section, SectionRow(g.section, dict.fromkeys(VERDICTS, 0), [], []))
    for r in results:
        row = rows[by_id[r.guideline].section]
        verdict = r.verdict if r.verdict in VERDICTS else "na"
        row.counts[verdict] += 1
        if verdict == "missed":
            row.missed.append(r.guideline)
        elif verdict == "violated":
            row.violated.append(r.guideline)
    return list(rows.values())


def _moments(
    results: list[GuidelineResult],
    order: dict[str, tuple[int, RubricGuideline]],
    turns: list[Turn],
) -> list[Moment]:
    scores: dict[int, float] = {}
    notes: dict[int, list[str]] = {}
    for i, turn in enumerate(turns):
        if turn.role == "agent" and turn.text.strip():
            scores[i] = 0.0
            notes[i] = []
    for r in results:
        weight = order[r.guideline][1].importance
        if r.verdict in ("met", "partial"):
            value = weight * (1.0 if r.verdict == "met" else 0.5)
        elif r.verdict == "violated":
            value = -_VIOLATION_WEIGHT * weight
        else:
            continue
        for index in sorted({e.turn for e in r.evidence if e.turn in scores}):
            scores[index] += value
            notes[index].append(f"{r.verdict} {r.guideline}")
    for i in scores:
        before = anger_before(turns, i)
        after = _anger_after(turns, i)
        if before is not None and after is not None and after != before:
            scores[i] -= _ANGER_WEIGHT * (after - before)
            notes[i].append(f"customer anger {before:g} → {after:g}")
    return [Moment(i, turns[i].text, round(scores[i], 3), notes[i]) for i in sorted(scores)]


def anger_before(turns: list[Turn], index: int) -> float | None:
    for turn in reversed(turns[:index]):
        if turn.role == "customer" and turn.state is not None:
            return turn.state.anger
    return None


def _anger_after(turns: list[Turn], index: int) -> float | None:
    for turn in turns[index + 1 :]:
        if turn.role == "customer":
            return turn.state.anger if turn.state is not None else None
    return None


def _ranked(
    results: list[GuidelineResult],
    order: dict[str, tuple[int, RubricGuideline]],
    verdicts: tuple[str, ...],
) -> list[GuidelineResult]:
    picked = [r for r in results if r.verdict in verdicts]
    picked.sort(key=lambda r: (-order[r.guideline][1].importance, order[r.guideline][0]))
    return picked


def _keep(
    results: list[GuidelineResult],
    order: dict[str, tuple[int, RubricGuideline]],
    turns: list[Turn],
) -> Advice | None:
    met = _ranked(results, order, ("met",))
    quoted = [r for r in met if _quote(r, turns)]
    candidates = quoted or met
    if not candidates:
        return None
    chosen = candidates[0]
    where = _quote(chosen, turns)
    return Advice(
        "keep",
        order[chosen.guideline][1],
        chosen.verdict,
        chosen.rationale,
        turn=where[0] if where else None,
        quote=where[1] if where else None,
    )


def _start(
    results: list[GuidelineResult], order: dict[str, tuple[int, RubricGuideline]]
) -> Advice | None:
    chosen = _ranked(results, order, ("missed",)) or _ranked(results, order, ("partial",))
    if not chosen:
        return None
    r = chosen[0]
    g = order[r.guideline][1]
    return Advice("start", g, r.verdict, f"{r.rationale}. {what_good_looks_like(g)}")


def _stop(
    results: list[GuidelineResult],
    order: dict[str, tuple[int, RubricGuideline]],
    turns: list[Turn],
) -> Advice | None:
    violated = _ranked(results, order, ("violated",))
    if not violated:
        return None
    r = violated[0]
    where = _quote(r, turns)
    return Advice(
        "stop",
        order[r.guideline][1],
        r.verdict,
        r.rationale,
        turn=where[0] if where else None,
        quote=where[1] if where else None,
    )


# ---------------------------------------------------------------- rendering


def _advice_line(advice: Advice | None, kind: str) -> str:
    label = kind.capitalize()
    if advice is None:
        empty = {
            "keep": "nothing met yet",
            "start": "nothing missed: every applicable guideline was at least partly met",
            "stop": "nothing to stop: no guideline was violated",
        }[kind]
        return f"{label}: {empty}."
    g = advice.guideline
    said = (
        f' You wrote at turn {shown(advice.turn)}: "{clip(advice.quote, 160)}".'
        if advice.turn is not None and advice.quote
        else ""
    )
    return f"{label}: {g.title} [{g.id}] - {advice.detail.rstrip('.')}.{said} (source: {g.source})"


def _moment_line(moment: Moment | None, label: str) -> str:
    if moment is None:
        none = "no reply stood out" if label == "Best" else "no reply hurt the conversation"
        return f"{label} moment: {none}."
    notes = moment.notes[:4] + ([f"{len(moment.notes) - 4} more"] if len(moment.notes) > 4 else [])
    why = "; ".join(notes) or "no grader evidence"
    return f'{label} moment, turn {shown(moment.turn)}: "{clip(moment.text)}" ({why})'


def debrief_lines(debrief: Debrief) -> list[str]:
    """The debrief as plain text lines (what the README shows)."""
    card = debrief.card
    out = outcome_line(card)
    lines = [f"Debrief: {card.persona} · {card.agent} · {out}", "", "Scorecard by section:"]
    for row in debrief.sections:
        c = row.counts
        lines.append(
            f"  {row.section}: {c['met']} met, {c['partial']} partial, {c['missed']} missed, "
            f"{c['violated']} violated, {c['na']} n/a"
            + (f" - missed {', '.join(row.missed)}" if row.missed else "")
            + (f" - violated {', '.join(row.violated)}" if row.violated else "")
        )
    lines += [
        "",
        _moment_line(debrief.best, "Best"),
        _moment_line(debrief.worst, "Worst"),
        "",
        _advice_line(debrief.keep, "keep"),
        _advice_line(debrief.start, "start"),
        _advice_line(debrief.stop, "stop"),
    ]
    return lines


def outcome_line(card: Scorecard) -> str:
    """Score, stop reason, final anger and satisfaction in one line."""
    o = card.outcome
    parts = [
        "score " + ("-" if card.score is None else f"{card.score:.2f}"),
        f"ended: {o.stop_reason.value}",
    ]
    if o.anger:
        parts.append(f"final anger {o.anger[-1]:g}/10")
    if o.csat is not None:
        parts.append(f"satisfaction {o.csat}/5")
    return " · ".join(parts)


def render_debrief(debrief: Debrief, console: Console, *, extras: str = "") -> None:
    """Print the debrief with Rich: the section table, moments and keep/start/stop."""
    card = debrief.card
    table = Table(title="Scorecard by guideline section")
    table.add_column("section", overflow="fold")
    for verdict in ("met", "partial", "missed", "violated", "n/a"):
        table.add_column(verdict, justify="right")
    for row in debrief.sections:
        c = row.counts
        table.add_row(
            row.section, *(str(c[v]) for v in ("met", "partial", "missed", "violated", "na"))
        )
    violated = [g for row in debrief.sections for g in row.violated]
    missed = [g for row in debrief.sections for g in row.missed]
    head = Text(f"{card.persona} · {card.agent} · {outcome_line(card)}", style="bold")
    if extras:
        head.append(f" · {extras}", style="dim")
    body: list[RenderableType] = [
        head,
        table,
        Text("Violated: " + (", ".join(violated) or "none"), style="red"),
        Text("Missed: " + (", ".join(missed) or "none"), style="yellow"),
        Text(""),
        Text(_moment_line(debrief.best, "Best"), style="green"),
        Text(_moment_line(debrief.worst, "Worst"), style="red"),
        Text(""),
        Text(_advice_line(debrief.keep, "keep")),
        Text(_advice_line(debrief.start, "start")),
        Text(_advice_line(debrief.stop, "stop")),
    ]
    console.print(Panel(Group(*body), title="Debrief", expand=True))
