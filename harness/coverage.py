"""Macro coverage of a run: for every `macros:PATH` agent, where its library had no fitting
macro (the agent fell back), which macros it sent more than once in one conversation, and
which guidelines each macro's replies fail.

A fallback is an agent turn whose recorded `stage` is not among the stages of the macro it
sent (the agent tried the stage, then `resolve`, then `any`). A macro fails a guideline when
a missed or violated verdict quotes a reply made with it. Reads a run directory only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.catalog import file_hash, load_macros
from harness.debrief import clip
from harness.errors import InputError
from harness.models import MacroLibrary, Scorecard, TranscriptRecord
from harness.registry import parse_spec
from harness.show import RunView

FAILING = ("missed", "violated")


@dataclass(frozen=True)
class Gap:
    """One turn where the library had no macro for the stage the agent was in."""

    stage: str
    fallback: str
    persona: str | None
    archetype: str | None
    conversation_id: str
    turn: int
    cue: str


@dataclass
class MacroUse:
    """How one macro did over the run."""

    macro: str
    stages: list[str]
    sent: int = 0
    conversations: int = 0
    repeated_in: int = 0
    fails: Counter[str] = field(default_factory=Counter)


@dataclass
class Coverage:
    """The coverage report of one macro agent."""

    agent: str
    library: MacroLibrary
    conversations: int
    uses: list[MacroUse]
    gaps: list[Gap]
    repeats: list[tuple[str, str, int]]
    unattributed: Counter[str]
    unrecorded: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def unused(self) -> list[str]:
        """Macros of the library that were never sent."""
        return [u.macro for u in self.uses if not u.sent]


def _library(agent: str, run: RunView) -> tuple[MacroLibrary, list[str]]:
    """The agent's macro library and a warning when it changed since the run."""
    library, path = load_macros(parse_spec(agent).arg)
    recorded = next(
        (digest for name, digest in run.manifest.files.items() if Path(name).resolve() == path),
        None,
    )
    if recorded is not None and recorded != file_hash(path):
        return library, [f"{path} changed since the run (sha256 differs from run.json)"]
    return library, []


def _archetypes(records: list[TranscriptRecord]) -> dict[str, str]:
    from harness.catalog import load_persona

    out: dict[str, str] = {}
    for persona in sorted({r.persona for r in records if r.persona}):
        try:
            out[persona] = load_persona(persona)[0].archetype
        except InputError:
            out[persona] = "unknown (persona not found)"  # its conversations still count
    return out


def _agent_coverage(agent: str, records: list[TranscriptRecord], run: RunView) -> Coverage:
    library, warnings = _library(agent, run)
    stages = {m.id: list(m.stages) for m in library.macros}
    uses = {m.id: MacroUse(m.id, list(m.stages)) for m in library.macros}
    archetypes = _archetypes(records)
    gaps: list[Gap] = []
    repeats: list[tuple[str, str, int]] = []
    unattributed: Counter[str] = Counter()
    unrecorded = 0
    for record in records:
        sent: Counter[str] = Counter()
        for index, turn in enumerate(record.turns):
            if turn.role != "agent" or not turn.macro:
                continue
            sent[turn.macro] += 1
            use = uses.setdefault(turn.macro, MacroUse(turn.macro, ["(not in the library)"]))
            use.sent += 1
            if turn.stage is None:
                unrecorded += 1
            elif turn.stage not in stages.get(turn.macro, []):
                cue = next(
                    (t.text for t in reversed(record.turns[:index]) if t.role == "customer"), ""
                )
                persona = record.persona
                gaps.append(
                    Gap(
                        turn.stage,
                        turn.macro,
                        persona,
                        archetypes.get(persona or ""),
                        record.conversation_id,
                        index,
                        cue,
                    )
                )
        for macro, times in sent.items():
            uses[macro].conversations += 1
            if times > 1:
                uses[macro].repeated_in += 1
                repeats.append((record.conversation_id, macro, times))
        card = run.cards.get(record.conversation_id)
        if card is not None:
            _attribute(card, record, uses, unattributed)
    return Coverage(
        agent=agent,
        library=library,
        conversations=len(records),
        uses=list(uses.values()),
        gaps=gaps,
        repeats=repeats,
        unattributed=unattributed,
        unrecorded=unrecorded,
        warnings=warnings,
    )


def _attribute(
    card: Scorecard,
    record: TranscriptRecord,
    uses: dict[str, MacroUse],
    unattributed: Counter[str],
) -> None:
    """Count each failing verdict against the macros of the replies its evidence quotes."""
    turns = record.turns
    for result in card.results:
        if result.verdict not in FAILING:
            continue
        macros = {
            turns[ev.turn].macro
            for ev in result.evidence
            if 0 <= ev.turn < len(turns) and turns[ev.turn].role == "agent" and turns[ev.turn].macro
        }
        for macro in sorted(m for m in macros if m):
            uses[macro].fails[result.guideline] += 1
        if not macros:
            unattributed[result.guideline] += 1


def macro_coverage(run: RunView) -> list[Coverage]:
    """One coverage report per `macros:` agent of the run (an InputError when none is)."""
    agents = list(
        dict.fromkeys(r.agent for r in run.records.values() if parse_spec(r.agent).kind == "macros")
    )
    if not agents:
        raise InputError(
            run.root, "no macros: agent in this run; coverage is about macro libraries"
        )
    return [
        _agent_coverage(agent, [r for r in run.records.values() if r.agent == agent], run)
        for agent in agents
    ]


# ---------------------------------------------------------------- display


def _fails(counts: Counter[str], limit: int = 4) -> str:
    top = [f"{g} ×{n}" for g, n in counts.most_common(limit)]
    more = len(counts) - limit
    return ", ".join(top) + (f" (+{more} more)" if more > 0 else "") if top else "-"


def coverage_view(report: Coverage) -> RenderableType:
    """Rich tables: stages with no fitting macro, macros and the guidelines they fail,
    repeats, then notes (unused macros, failures no reply can be blamed for)."""
    from harness.compare import label

    parts: list[RenderableType] = [
        Text(
            f"{label(report.agent)} ({report.library.id}@{report.library.version}) · "
            f"{report.conversations} conversation(s)",
            style="bold",
        )
    ]
    parts += [Text(f"warning: {w}", style="yellow") for w in report.warnings]
    gaps: dict[tuple[str, str], list[Gap]] = {}
    for gap in report.gaps:
        gaps.setdefault((gap.stage, gap.archetype or "-"), []).append(gap)
    if gaps:
        table = Table(
            "stage",
            "situation (persona archetype)",
            "turns",
            "fell back to",
            "e.g. customer said",
            title="No fitting macro",
        )
        for (stage, archetype), found in sorted(gaps.items(), key=lambda kv: -len(kv[1])):
            personas = ", ".join(sorted({g.persona or "-" for g in found}))
            fallbacks = ", ".join(
                f"{m} ×{n}" for m, n in Counter(g.fallback for g in found).items()
            )
            table.add_row(
                stage,
                f"{archetype} ({personas})",
                str(len(found)),
                fallbacks,
                clip(found[0].cue, 90),
            )
        parts.append(table)
    else:
        parts.append(Text("No fitting macro: none (every stage had one)", style="green"))
    table = Table(
        "macro", "stages", "sent", "conversations", "repeated in", "fails", title="Macros"
    )
    for use in sorted(report.uses, key=lambda u: (-sum(u.fails.values()), -u.sent, u.macro)):
        if use.sent:
            table.add_row(
                use.macro,
                ", ".join(use.stages),
                str(use.sent),
                str(use.conversations),
                str(use.repeated_in),
                _fails(use.fails),
            )
    parts.append(table)
    if report.repeats:
        worst = sorted(report.repeats, key=lambda r: -r[2])[:5]
        parts.append(
            Text(
                "Sent repeatedly: "
                + "; ".join(f"{macro} ×{times} in {cid}" for cid, macro, times in worst),
                style="yellow",
            )
        )
    if report.unused:
        parts.append(Text("Never sent: " + ", ".join(report.unused), style="dim"))
    if report.unattributed:
        parts.append(
            Text(
                "Failed with no quoted reply (not blamed on a macro): "
                + _fails(report.unattributed, 6),
                style="dim",
            )
        )
    if report.unrecorded:
        parts.append(
            Text(
                f"{report.unrecorded} turn(s) carry no recorded stage (a run from before stages "
                "were recorded): their fallbacks are unknown",
                style="yellow",
            )
        )
    return Group(*parts)
