"""Coaching from the graders: `/hint` nudges during a chat and the debrief after it.

Nothing here is canned. The debrief reads the conversation's scorecard into one ranked list
of evidence (`evidence`): every guideline met, partly met or violated by a quoted reply,
every anger change a reply caused, and every guideline missed. The best and worst moments
and keep / start / stop all come from that one list, so they cannot disagree: a reply that
raised anger or broke a guideline is never hidden behind "no reply hurt the conversation",
and what is kept is never a quote of what is stopped. Quotes are the clause of the reply
that shows the behaviour. At the end the debrief reveals the persona's hidden issue and
whether (and when) it came out, and says which attempt was scored when `/rewind` was used.

A hint is chosen by what is happening now (`situation_now`): a manager demand, a refusal
that is due, an insult just received, a resolution agreed but not yet confirmed. Otherwise
it is the most important guideline still missed (then partly met) that can still be met:
a violated guideline, or one whose window has closed (the opener, empathising first), is
never hinted. Advice uses the case's facts (the customer's name, the offers the policy
allows). Sources are shown by seed title and section (`source_label`), not by file name.

Turn numbers shown to people are 1-based (`turn 3` is the third message) everywhere;
scorecard evidence stores 0-based indices.
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

from harness import signals as sig
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
_VIOLATION_WEIGHT = 1.5  # a violation counts against a reply more than a met guideline for it
_ANGER_WEIGHT = 0.5  # per point of customer anger the reply added (or took away)
_MISSED_WEIGHT = 0.5  # a missed guideline, against no reply in particular

# The five source texts, by the file-name prefix the rubric cites (see ../shared/seeds).
SEED_TITLES: dict[str, str] = {
    "000": "Tough Conversations (training module)",
    "001": "Six Ways to Navigate Challenging Customer Service Conversations",
    "002": "the eight-tip article on tough conversations",
    "003": "the structured service-recovery guide",
    "004": "10 Practical Strategies & Tips for Handling Difficult Customer Conversations",
}
# The eight-tip article's numbered tips, by number (its headings, in short).
_TIPS_002 = {
    "1": "start with empathy",
    "2": "keep your cool",
    "3": "ask questions to find the root",
    "4": "own the mistake",
    "5": "deliver bad news with care",
    "6": "set boundaries",
    "7": "know when to escalate",
    "8": "follow up",
}
_SEED_FILE = re.compile(r"\b(\d{3})_[0-9a-f]{16}\.txt\b")
# Guidelines that can only be met in the first reply (or the first two): once that window
# is past, a hint naming them could not be acted on.
_FIRST_REPLY = frozenset(
    {"open.calm_opener", "defuse.empathize_first", "deesc.no_premature_solution"}
)
_FIRST_TWO_REPLIES = frozenset({"deesc.name_emotion", "deesc.we_language"})
# What each situation calls for, most pressing guideline first.
_SITUATION_GUIDELINES: dict[str, tuple[str, ...]] = {
    "manager_demand": ("escalate.manager_request",),
    "refusal_due": ("no.sandwich", "no.reason_given", "no.holds_boundary"),
    "insult": ("abuse.ladder", "defuse.dont_take_personally"),
    "agreed": ("resolve.teach_back", "resolve.confirm_satisfaction", "close.follow_up"),
}


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


def source_label(source: str) -> str:
    """A rubric source with each seed file named by its title (and the eight-tip article's
    tip by its heading): `Tough Conversations (training module) §1 (Three Golden Rules)`."""

    def title(m: re.Match[str]) -> str:
        name = SEED_TITLES.get(m.group(1), m.group(0))
        # a section named by its heading reads "Title: Heading"; a numbered one "Title §2"
        return name + ":" if re.match(r"\s+[A-Z]", source[m.end() :]) else name

    out = _SEED_FILE.sub(title, source)
    return re.sub(
        r"(eight-tip article on tough conversations) §(\d)",
        lambda m: f"{m.group(1)}, tip {m.group(2)} ({_TIPS_002.get(m.group(2), '?')})",
        out,
    )


def quote_clause(text: str, quote: str) -> str:
    """The clause of `text` that holds `quote` (the quote itself when it spans clauses)."""
    start = text.lower().find(quote.lower())
    if start < 0:
        return quote
    end = start + len(quote)
    before = list(
        re.finditer(r"[,;:.!?()\n]|\s[-–—]\s|\b(but|and then|although|though)\b", text[:start])
    )
    begin = before[-1].end() if before else 0
    after = re.search(r"[,;:.!?()\n]|\s[-–—]\s|\b(but|although|though)\b", text[end:])
    finish = end + after.start() if after else len(text)
    clause = text[begin:finish].strip(" ,;:-–—")
    return clause if quote.lower() in clause.lower() else quote


def _order(rubric: Rubric) -> dict[str, tuple[int, RubricGuideline]]:
    return {g.id: (n, g) for n, g in enumerate(rubric.guidelines)}


def _quote(result: GuidelineResult, turns: list[Turn]) -> tuple[int, str] | None:
    """The first evidence quote from an agent turn, widened to its clause: (turn, clause)."""
    for ev in result.evidence:
        if 0 <= ev.turn < len(turns) and turns[ev.turn].role == "agent":
            return ev.turn, quote_clause(turns[ev.turn].text, ev.quote)
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
    situation: str | None = None
    advice: str | None = None

    def lines(self) -> list[str]:
        """The nudge as a few plain lines."""
        g = self.guideline
        lead = {
            "missed": "Not done yet",
            "partial": "Partly there",
            "violated": "Avoid doing this again",
            "na": "Due now",
        }.get(self.verdict, "Due now")
        said = (
            f' (your turn {shown(self.turn)}: "{clip(self.quote, 120)}")'
            if self.turn is not None and self.quote
            else ""
        )
        out = [f"{g.title} [{g.id}, {g.section}]"]
        if self.advice:
            out.append(f"Now: {self.advice}")
        out += [
            f"{lead}: the grader {self.rationale}{said}.",
            f"What good looks like: {what_good_looks_like(g)}",
            f"Source: {source_label(g.source)}",
        ]
        return out


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


def situation_now(turns: list[Turn], persona: Persona | None) -> str | None:
    """What the customer's latest message calls for: `agreed` (a resolution accepted, now to
    confirm), `insult`, `manager_demand`, `refusal_due` (asking for what the policy
    forbids), or None."""
    if not turns or turns[-1].role != "customer":
        return None
    last = turns[-1]
    if last.action in ("accept", "accept_forbidden"):
        return "agreed"
    if sig.abusive(last.text):
        return "insult"
    if sig.asks_manager(last.text):
        return "manager_demand"
    if persona is not None:
        view = Case(turns=turns, context={}, persona=persona).view()
        if len(turns) - 1 in view.forbidden_asks:
            return "refusal_due"
    return None


def situational_advice(situation: str, persona: Persona | None) -> str:
    """The nudge for a situation, in the case's own facts where the persona gives them."""
    name = persona.customer_name.split()[0] if persona else "the customer"
    allowed = [o for o in persona.policy.allows if "manager" not in o.text] if persona else []
    alternative = f'"I can {allowed[0].text}"' if allowed else "a real alternative"
    forbidden = persona.policy.forbids[0] if persona and persona.policy.forbids else None
    if situation == "manager_demand":
        return (
            f"{name} wants a manager. Say that's fair, offer the transfer, ask for a couple "
            "of minutes to help first, and promise the transfer straight away if it goes "
            "nowhere."
        )
    if situation == "refusal_due":
        no = f'"{forbidden.text}"' if forbidden else "what they asked for"
        why = f" ({forbidden.reason})" if forbidden and forbidden.reason else ""
        return (
            f"{name} is asking for {no}, which you may not give. Acknowledge the request, say "
            f"no with the reason{why}, and offer {alternative} in the same reply."
        )
    if situation == "insult":
        return (
            f"{name} has just insulted you. Don't take it personally: acknowledge the "
            "frustration and steer back to the problem; if it goes on, name the behaviour, "
            "then set a boundary (a pause, a manager, email) before you ever end the chat."
        )
    return (
        f"{name} has agreed. Restate the agreed step in one sentence they could repeat "
        '("To confirm, …"), with who does it and by when, and ask whether that works.'
    )


def next_hint(
    results: Iterable[GuidelineResult],
    rubric: Rubric,
    turns: list[Turn],
    given: Iterable[str] = (),
    *,
    persona: Persona | None = None,
) -> Hint | None:
    """The nudge for now: the situation's guideline if one is due, else the most important
    guideline still missed (then partly met) that can still be met; none hinted twice."""
    order = _order(rubric)
    skip = set(given)
    by_id = {r.guideline: r for r in results if r.guideline in order}
    situation = situation_now(turns, persona)
    for gid in _SITUATION_GUIDELINES.get(situation or "", ()):
        found = by_id.get(gid)
        if gid in skip or found is None or found.verdict not in ("missed", "partial", "na"):
            continue
        return Hint(
            guideline=order[gid][1],
            verdict=found.verdict,
            rationale=_rationale(found.rationale),
            situation=situation,
            advice=situational_advice(situation or "", persona),
        )
    replies = sum(t.role == "agent" for t in turns)
    closed = set(_FIRST_REPLY if replies >= 1 else ()) | set(
        _FIRST_TWO_REPLIES if replies >= 2 else ()
    )
    candidates = [
        r
        for r in by_id.values()
        if r.verdict in ("missed", "partial") and r.guideline not in skip | closed
    ]
    if not candidates:
        return None
    candidates.sort(
        key=lambda r: (
            r.verdict != "missed",
            -order[r.guideline][1].importance,
            order[r.guideline][0],
        )
    )
    best = candidates[0]
    where = _quote(best, turns) if best.verdict == "partial" else None
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
        return text if "found" in text else text + ", and did not find it yet"
    return "found: " + text


# ---------------------------------------------------------------- the evidence list


@dataclass(frozen=True)
class Item:
    """One piece of evidence: a verdict on a guideline (quoted from a reply when it can be),
    or an anger change a reply caused. `value` > 0 helped, < 0 hurt."""

    kind: str  # met | partial | violated | missed | anger
    value: float
    turn: int | None = None
    quote: str | None = None
    guideline: RubricGuideline | None = None
    rationale: str = ""
    note: str = ""


def evidence(card: Scorecard, turns: list[Turn], rubric: Rubric) -> list[Item]:
    """Every piece of evidence of the conversation, most telling first."""
    order = _order(rubric)
    items: list[Item] = []
    for r in card.results:
        if r.guideline not in order or r.verdict not in ("met", "partial", "violated", "missed"):
            continue
        g = order[r.guideline][1]
        where = _quote(r, turns)
        value = {
            "met": g.importance,
            "partial": 0.5 * g.importance,
            "violated": -_VIOLATION_WEIGHT * g.importance,
            "missed": -_MISSED_WEIGHT * g.importance,
        }[r.verdict]
        if r.verdict == "missed":
            where = None  # nothing in a reply shows what was not done
        items.append(
            Item(
                r.verdict,
                value,
                turn=where[0] if where else None,
                quote=where[1] if where else None,
                guideline=g,
                rationale=r.rationale,
                note=f"{r.verdict} {g.id}",
            )
        )
    for i, turn in enumerate(turns):
        if turn.role != "agent":
            continue
        before, after = anger_before(turns, i), _anger_after(turns, i)
        if before is not None and after is not None and abs(after - before) >= 0.01:
            items.append(
                Item(
                    "anger",
                    -_ANGER_WEIGHT * (after - before),
                    turn=i,
                    note=f"customer anger {before:g} → {after:g}",
                )
            )
    rank = {g.id: n for n, g in enumerate(rubric.guidelines)}
    items.sort(
        key=lambda it: (-abs(it.value), rank.get(it.guideline.id if it.guideline else "", 99))
    )
    return items


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
    """One agent reply and the evidence items about it."""

    turn: int
    text: str
    score: float
    notes: list[str]


@dataclass(frozen=True)
class Advice:
    """Keep, start or stop: one guideline, with the clause the agent wrote where it applies."""

    kind: str
    guideline: RubricGuideline
    verdict: str
    detail: str
    turn: int | None = None
    quote: str | None = None


@dataclass(frozen=True)
class Reveal:
    """The persona's hidden issue, and whether (and at which turn) it came out."""

    summary: str
    found_at: int | None


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
    items: list[Item]
    reveal: Reveal | None = None
    attempts: int = 1


def build_debrief(
    card: Scorecard,
    turns: list[Turn],
    rubric: Rubric,
    *,
    persona: Persona | None = None,
    attempts: int = 1,
) -> Debrief:
    """Read a scorecard (and its transcript) into a debrief built on one evidence list."""
    order = _order(rubric)
    known = [r for r in card.results if r.guideline in order]
    items = evidence(card, turns, rubric)
    best, worst = _best_and_worst(items, turns)
    stop = _advice("stop", next((i for i in items if i.kind == "violated"), None))
    stopped = {(stop.turn, stop.quote)} if stop else set()
    keep_item = next(
        (
            i
            for i in items
            if i.kind == "met"
            and i.quote
            and (i.turn, i.quote) not in stopped
            and not _overlaps(i, items)
        ),
        None,
    ) or next((i for i in items if i.kind == "met" and not _overlaps(i, items)), None)
    start_item = next((i for i in items if i.kind == "missed"), None) or next(
        (i for i in items if i.kind == "partial"), None
    )
    return Debrief(
        card=card,
        sections=_sections(known, rubric),
        best=best,
        worst=worst,
        keep=_advice("keep", keep_item),
        start=_advice("start", start_item),
        stop=stop,
        items=items,
        reveal=_reveal(persona, turns, card),
        attempts=attempts,
    )


def _overlaps(item: Item, items: list[Item]) -> bool:
    """A met clause that is also the clause of a violation (never 'keep' what to stop)."""
    if item.quote is None:
        return False
    return any(
        other.kind == "violated"
        and other.turn == item.turn
        and other.quote
        and (other.quote.lower() in item.quote.lower() or item.quote.lower() in other.quote.lower())
        for other in items
    )


def _advice(kind: str, item: Item | None) -> Advice | None:
    if item is None or item.guideline is None:
        return None
    detail = item.rationale
    if kind == "start":
        detail = f"{item.rationale.rstrip('.')}. {what_good_looks_like(item.guideline)}"
    return Advice(kind, item.guideline, item.kind, detail, turn=item.turn, quote=item.quote)


def _best_and_worst(items: list[Item], turns: list[Turn]) -> tuple[Moment | None, Moment | None]:
    """The reply with the most evidence against it (if any hurt) and the one with the most
    for it (another reply, if any helped): both read from the same evidence list."""
    good: dict[int, float] = {}
    bad: dict[int, float] = {}
    notes: dict[int, list[str]] = {}
    for item in items:
        if item.turn is None:
            continue
        side = good if item.value > 0 else bad
        side[item.turn] = side.get(item.turn, 0.0) + item.value
        notes.setdefault(item.turn, []).append(item.note)

    def moment(turn: int) -> Moment:
        total = good.get(turn, 0.0) + bad.get(turn, 0.0)
        return Moment(turn, turns[turn].text, round(total, 3), notes[turn])

    worst_turn = min(bad, key=lambda t: (bad[t], t), default=None)
    others = {t: v for t, v in good.items() if t != worst_turn}
    best_turn = max(others, key=lambda t: (others[t], -t), default=None)
    return (
        moment(best_turn) if best_turn is not None else None,
        moment(worst_turn) if worst_turn is not None else None,
    )


def _reveal(persona: Persona | None, turns: list[Turn], card: Scorecard) -> Reveal | None:
    if persona is None:
        return None
    found = next(
        (i for i, t in enumerate(turns) if t.state is not None and t.state.real_issue_revealed),
        None,
    )
    if found is None and card.outcome.real_issue_revealed:
        found = len(turns) - 1
    return Reveal(" ".join(persona.hidden_issue.summary.split()), found)


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


def anger_before(turns: list[Turn], index: int) -> float | None:
    """The customer's anger just before turn `index`."""
    for turn in reversed(turns[:index]):
        if turn.role == "customer" and turn.state is not None:
            return turn.state.anger
    return None


def _anger_after(turns: list[Turn], index: int) -> float | None:
    for turn in turns[index + 1 :]:
        if turn.role == "customer":
            return turn.state.anger if turn.state is not None else None
    return None


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
    return (
        f"{label}: {g.title} [{g.id}] - {advice.detail.rstrip('.')}.{said} "
        f"(source: {source_label(g.source)})"
    )


def _moment_line(moment: Moment | None, label: str, other: Moment | None = None) -> str:
    if moment is None:
        if label == "Best":
            none = "no other reply helped" if other is not None else "no reply stood out"
        else:
            none = "no reply hurt the conversation"
        return f"{label} moment: {none}."
    notes = moment.notes[:4] + ([f"{len(moment.notes) - 4} more"] if len(moment.notes) > 4 else [])
    why = "; ".join(notes) or "no grader evidence"
    return f'{label} moment, turn {shown(moment.turn)}: "{clip(moment.text)}" ({why})'


def reveal_line(debrief: Debrief) -> str | None:
    """What the customer was really dealing with, and whether it came out."""
    reveal = debrief.reveal
    if reveal is None:
        return None
    found = (
        f"It came out at turn {shown(reveal.found_at)}."
        if reveal.found_at is not None
        else "It never came out: open questions and a playback are what bring it out."
    )
    return f"The hidden issue: {reveal.summary} {found}"


def attempts_line(debrief: Debrief) -> str | None:
    """Which attempt was scored, when /rewind made several."""
    if debrief.attempts <= 1:
        return None
    return (
        f"Scored: the final attempt of {debrief.attempts} (every attempt is kept in "
        "transcripts.jsonl)."
    )


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
        _moment_line(debrief.best, "Best", debrief.worst),
        _moment_line(debrief.worst, "Worst"),
        "",
        _advice_line(debrief.keep, "keep"),
        _advice_line(debrief.start, "start"),
        _advice_line(debrief.stop, "stop"),
    ]
    tail = [line for line in (reveal_line(debrief), attempts_line(debrief)) if line]
    return lines + (["", *tail] if tail else [])


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
    """Print the debrief with Rich: the section table, moments, keep/start/stop, the reveal."""
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
        Text(_moment_line(debrief.best, "Best", debrief.worst), style="green"),
        Text(_moment_line(debrief.worst, "Worst"), style="red"),
        Text(""),
        Text(_advice_line(debrief.keep, "keep")),
        Text(_advice_line(debrief.start, "start")),
        Text(_advice_line(debrief.stop, "stop")),
    ]
    tail = [line for line in (reveal_line(debrief), attempts_line(debrief)) if line]
    if tail:
        body += [Text("")] + [Text(line, style="cyan") for line in tail]
    console.print(Panel(Group(*body), title="Debrief", expand=True))
