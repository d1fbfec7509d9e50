"""Customer validity: does the scripted customer tell a good agent from a bad one?

Runs every persona x {seed-playbook, anti-patterns} x difficulty 1-5 x seeds 0-4 through the
normal run machinery (`harness.runs.start_run` / `execute`, one run per difficulty in a
temporary directory, rules judge, 16 turns), then prints and writes
`docs/customer-validity.md`:

- per persona x agent (all difficulties and seeds): mean final anger, turns to calm (the
  customer turn index, 0 = the complaint, where anger first drops to 3 or below: the mean
  over the conversations that got there, and the share that never did), resolved %, csat;
- per difficulty: the same numbers per agent over all personas, what the difficulty does to
  the customer's starting state, and the playbook per persona and difficulty;
- how the abusive persona's conversations end, and what the seeds change (wording, and the
  ending, since a seed draws the customer's temperament: docs/seeds.md);
- seed variation: every persona x {seed-playbook, anti-patterns, middling} over seeds 0-7 at
  difficulty 3, the number of different endings each gives (`middling_library` is a
  mid-quality agent built from the two shipped libraries);
- one PASS/FAIL line per persona for the separation criteria, and one for the difficulty
  trend.

Separation criteria, per persona:

- over all difficulties and seeds, the playbook ends with lower mean final anger, a higher
  resolved % and a higher mean csat than anti-patterns; and at every single difficulty its
  mean final anger is lower and its mean csat higher;
- every conversation the playbook ends itself (`agent_ended`) gets `abuse.ladder` = met
  (redirect, name, boundary before the end) and `abuse.ends_professionally` = met;
- abusive personas (`abuse.level: abusive`): every playbook conversation gets
  `abuse.ladder` = met. Such a caller is cut off by both agents from difficulty 2 on (unless
  an easy-going seed calms down first), so resolved % there only needs to be at least as
  high (it is higher: difficulty 1 backs off).

Difficulty trend (playbook, all personas): from one difficulty to the next, resolved % must
not rise and turns to calm (with "never" counted as turn 8) must not fall, and difficulty 5
must be strictly worse than difficulty 1 on both.

Exit status 1 if any persona or the trend fails. Run with:

    .venv/bin/python benchmarks/customer_validity.py [--seeds 5] [--difficulties 1,2,3,4,5] \
        [--variation-seeds 8]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from statistics import mean

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # running the file directly from a checkout
    sys.path.insert(0, str(REPO))

from harness.catalog import all_personas, load_macros, load_reactions  # noqa: E402
from harness.customers.scripted import ScriptedCustomer  # noqa: E402
from harness.models import RunSettings, Scorecard, StopReason, TranscriptRecord  # noqa: E402
from harness.runs import execute, start_run  # noqa: E402

PLAYBOOK = "macros:evals/macros/seed-playbook.yaml"
ANTI = "macros:evals/macros/anti-patterns.yaml"
AGENTS = {PLAYBOOK: "seed-playbook", ANTI: "anti-patterns"}
GOOD, BAD = AGENTS[PLAYBOOK], AGENTS[ANTI]
MIDDLING = "middling"  # the playbook that explores and plays back like the anti-patterns
MIDDLING_STAGES = frozenset({"explore", "playback"})
VARIATION_DIFFICULTY = 3
VARIATION_SEEDS = 8
MAX_TURNS = 20
CALM_AT = 3.0
NEVER_TURN = 8  # one past the last customer turn of a 16-turn conversation (index 7)
DOC = REPO / "docs" / "customer-validity.md"


@dataclass(frozen=True)
class Row:
    """One simulated conversation, reduced to what the validity check needs."""

    persona: str
    agent: str
    difficulty: int
    seed: int
    final_anger: float
    calm_turn: int | None
    resolved: bool
    csat: int
    stop_reason: str
    ladder: str
    ends_professionally: str
    wording: str = ""  # digest of everything the customer said
    customer_turns: int = 0


@dataclass
class Stats:
    """Aggregates of a group of conversations."""

    n: int
    final_anger: float
    calm_turn: float | None
    never: float
    resolved: float
    csat: float

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Stats:
        calmed = [r.calm_turn for r in rows if r.calm_turn is not None]
        return cls(
            n=len(rows),
            final_anger=mean(r.final_anger for r in rows),
            calm_turn=mean(calmed) if calmed else None,
            never=1 - len(calmed) / len(rows),
            resolved=sum(r.resolved for r in rows) / len(rows),
            csat=mean(r.csat for r in rows),
        )

    @property
    def calm_label(self) -> str:
        turn = "—" if self.calm_turn is None else f"{self.calm_turn:.1f}"
        return f"{turn} ({self.never:.0%} never)"

    @property
    def calm_cost(self) -> float:
        """Turns to calm with "never" counted as NEVER_TURN, for a single trend number."""
        return self.never * NEVER_TURN + (1 - self.never) * (self.calm_turn or 0.0)


@dataclass
class Verdict:
    """Separation verdict of one persona."""

    persona: str
    abusive: bool
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def line(self) -> str:
        kind = " (abusive)" if self.abusive else ""
        if self.passed:
            return f"PASS {self.persona}{kind}"
        return f"FAIL {self.persona}{kind}: " + "; ".join(self.failures)


# ---------------------------------------------------------------- running


def _wordings(path: Path) -> dict[str, tuple[str, int]]:
    """conversation id -> (digest of everything the customer said, customer turns)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = TranscriptRecord.model_validate_json(line)
            said = [t.text for t in record.turns if t.role == "customer"]
            digest = hashlib.sha256("\n".join(said).encode()).hexdigest()[:16]
            out[record.conversation_id] = (digest, len(said))
    return out


def _row(card: Scorecard, wording: tuple[str, int], names: Mapping[str, str]) -> Row:
    anger = card.outcome.anger or [0.0]
    verdicts = {r.guideline: r.verdict for r in card.results}
    return Row(
        persona=card.persona or "",
        agent=names.get(card.agent, card.agent),
        difficulty=card.difficulty or 0,
        seed=card.seed if card.seed is not None else -1,
        final_anger=anger[-1],
        calm_turn=next((i for i, a in enumerate(anger) if a <= CALM_AT), None),
        resolved=card.outcome.resolved,
        csat=card.outcome.csat or 1,
        stop_reason=str(card.outcome.stop_reason),
        ladder=verdicts.get("abuse.ladder", "na"),
        ends_professionally=verdicts.get("abuse.ends_professionally", "na"),
        wording=wording[0],
        customer_turns=wording[1],
    )


def middling_library() -> dict[str, object]:
    """A mid-quality macro library: the seed playbook with its exploring and playback
    macros swapped for the anti-patterns' (a repeat ask with blame, a boilerplate apology
    with blame), so it opens, resolves and closes well but never hears the customer out."""
    good, _ = load_macros(PLAYBOOK.removeprefix("macros:"))
    bad, _ = load_macros(ANTI.removeprefix("macros:"))
    macros = [m for m in bad.macros if MIDDLING_STAGES & set(m.stages)]
    macros += [m for m in good.macros if not MIDDLING_STAGES & set(m.stages)]
    return {
        "id": MIDDLING,
        "version": 1,
        "description": (middling_library.__doc__ or "").split("\n\n")[0],
        "macros": [m.model_dump(mode="json", exclude_defaults=True) for m in macros],
    }


def agent_specs(names: Iterable[str], directory: Path) -> dict[str, str]:
    """agent spec -> short name; the middling library is written into `directory`."""
    specs = {name: spec for spec, name in AGENTS.items()}
    if MIDDLING in names:
        path = directory / f"{MIDDLING}.yaml"
        path.write_text(yaml.safe_dump(middling_library(), sort_keys=False), encoding="utf-8")
        specs[MIDDLING] = f"macros:{path}"
    return {specs[name]: name for name in names}


def collect(
    personas: Iterable[str] = ("all",),
    difficulties: Iterable[int] = range(1, 6),
    seeds: Iterable[int] = range(5),
    agents: Sequence[str] = (GOOD, BAD),
) -> list[Row]:
    """Run personas x agents (short names: seed-playbook, anti-patterns, middling) x seeds at
    each difficulty; one Row per conversation."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="toughtalk-validity-") as tmp:
        names = agent_specs(agents, Path(tmp))
        for difficulty in difficulties:
            settings = RunSettings(
                personas=list(personas),
                agents=list(names),
                seeds=list(seeds),
                difficulty=difficulty,
                max_turns=MAX_TURNS,
                concurrency=1,
            )
            out = Path(tmp) / f"d{difficulty}"
            store, manifest, todo = start_run(
                settings, out, name=f"validity-d{difficulty}", kind="run", resume=False
            )
            manifest = execute(store, manifest, todo)
            if manifest.errors:
                raise RuntimeError(f"difficulty {difficulty}: {manifest.errors} episode errors")
            said = _wordings(store.transcripts)
            rows += [_row(c, said[c.conversation_id], names) for c in store.load_scorecards()]
    return rows


def difficulty_knobs(levels: Iterable[int]) -> list[list[str]]:
    """What each difficulty does to the customer at the start, averaged over personas."""
    personas = [p for p, _ in all_personas()]
    reactions = load_reactions()
    body = []
    for level in levels:
        made = [ScriptedCustomer(p, reactions, seed=0, difficulty=level) for p in personas]
        abusive = [c for c in made if c.persona.abuse.level == "abusive"]
        body.append(
            [
                str(level),
                f"{mean(c.mind.anger for c in made):.1f}",
                f"{mean(c.mind.trust for c in made):.1f}",
                f"{mean(c.patience for c in made):.1f}",
                f"{mean(c.questions_needed for c in made):.1f}",
                f"{mean(c.trust_needed for c in made):.1f}",
                f"{mean(c.accept_at for c in made):.1f}",
                "yes" if all(c.needs_reveal for c in made) else "no",
                ", ".join(
                    "keeps going" if c.abuse_persists else "backs off at the boundary"
                    for c in abusive
                )
                or "—",
            ]
        )
    return body


# ---------------------------------------------------------------- judging


def abusive_personas() -> set[str]:
    """Personas whose customer is abusive (not just rude)."""
    return {p.id for p, _ in all_personas() if p.abuse.level == "abusive"}


def _split(rows: Iterable[Row], persona: str) -> tuple[list[Row], list[Row]]:
    mine = [r for r in rows if r.persona == persona]
    return [r for r in mine if r.agent == GOOD], [r for r in mine if r.agent == BAD]


def judge_persona(rows: Sequence[Row], persona: str, *, abusive: bool) -> Verdict:
    """The separation criteria for one persona (see the module docstring)."""
    verdict = Verdict(persona, abusive)
    good_rows, bad_rows = _split(rows, persona)
    if not good_rows or not bad_rows:
        verdict.failures.append("no conversations")
        return verdict
    good, bad = Stats.of(good_rows), Stats.of(bad_rows)
    if not good.final_anger < bad.final_anger:
        verdict.failures.append(f"final anger {good.final_anger:.2f} !< {bad.final_anger:.2f}")
    if abusive:
        if not good.resolved >= bad.resolved:
            verdict.failures.append(f"resolved {good.resolved:.0%} !>= {bad.resolved:.0%}")
    elif not good.resolved > bad.resolved:
        verdict.failures.append(f"resolved {good.resolved:.0%} !> {bad.resolved:.0%}")
    if not good.csat > bad.csat:
        verdict.failures.append(f"csat {good.csat:.2f} !> {bad.csat:.2f}")
    for level in sorted({r.difficulty for r in good_rows}):
        g = Stats.of([r for r in good_rows if r.difficulty == level])
        b = Stats.of([r for r in bad_rows if r.difficulty == level])
        if not (g.final_anger < b.final_anger and g.csat > b.csat):
            verdict.failures.append(
                f"d{level}: anger {g.final_anger:.2f} vs {b.final_anger:.2f}, "
                f"csat {g.csat:.2f} vs {b.csat:.2f}"
            )
    # whoever the customer is, the playbook ends a conversation only at the top of the ladder
    ended = [r for r in good_rows if r.stop_reason == StopReason.agent_ended]
    for guideline, attr in (
        ("abuse.ladder", "ladder"),
        ("abuse.ends_professionally", "ends_professionally"),
    ):
        off = [r for r in ended if getattr(r, attr) != "met"]
        if off:
            verdict.failures.append(
                f"{guideline} not met in {len(off)} of {len(ended)} playbook endings "
                f"(e.g. d{off[0].difficulty} s{off[0].seed}: {getattr(off[0], attr)})"
            )
    if abusive:
        off_ladder = [r for r in good_rows if r.ladder != "met"]
        if off_ladder:
            first = off_ladder[0]
            verdict.failures.append(
                f"abuse.ladder not met in {len(off_ladder)} playbook conversations "
                f"(e.g. d{first.difficulty} s{first.seed}: {first.ladder})"
            )
    return verdict


def judge_trend(rows: Sequence[Row]) -> tuple[bool, str]:
    """Playbook resolved % and turns to calm get worse (or stay) as difficulty rises."""
    good = [r for r in rows if r.agent == GOOD]
    levels = sorted({r.difficulty for r in good})
    if len(levels) < 2:
        return True, "SKIP difficulty trend (one difficulty)"
    stats = [Stats.of([r for r in good if r.difficulty == d]) for d in levels]
    resolved = [s.resolved for s in stats]
    cost = [s.calm_cost for s in stats]
    problems = []
    if any(b > a for a, b in pairwise(resolved)):
        problems.append("resolved % rises with difficulty somewhere")
    if any(b < a for a, b in pairwise(cost)):
        problems.append("turns to calm fall with difficulty somewhere")
    if not resolved[-1] < resolved[0]:
        problems.append("resolved % no lower at the top difficulty")
    if not cost[-1] > cost[0]:
        problems.append("turns to calm no longer at the top difficulty")
    shown = ", ".join(
        f"d{d} {s.resolved:.0%} / {s.calm_cost:.1f}" for d, s in zip(levels, stats, strict=True)
    )
    head = "PASS" if not problems else "FAIL"
    detail = "" if not problems else " - " + "; ".join(problems)
    line = f"{head} difficulty trend (playbook resolved / turns to calm: {shown}){detail}"
    return not problems, line


def ending(row: Row) -> tuple[str, bool]:
    """How a conversation ended: its stop reason and whether it was resolved."""
    return row.stop_reason, row.resolved


def seed_effects(rows: Sequence[Row]) -> dict[str, int]:
    """What the seeds change within a persona x agent x difficulty cell: the wording and,
    since a seed also draws the customer's temperament, the ending."""
    cells: dict[tuple[str, str, int], list[Row]] = {}
    for r in rows:
        cells.setdefault((r.persona, r.agent, r.difficulty), []).append(r)
    talky = {k: v for k, v in cells.items() if max(r.customer_turns for r in v) > 1}
    return {
        "cells": len(cells),
        "seeds": len({r.seed for r in rows}),
        "talky": len(talky),
        "varied": sum(len({r.wording for r in v}) > 1 for v in talky.values()),
        "endings_vary": sum(len({ending(r) for r in v}) > 1 for v in cells.values()),
    }


def distinct_endings(rows: Sequence[Row]) -> dict[tuple[str, str], int]:
    """(persona, agent) -> how many different endings its seeds gave (one difficulty)."""
    seen: dict[tuple[str, str], set[tuple[str, bool]]] = {}
    for r in rows:
        seen.setdefault((r.persona, r.agent), set()).add(ending(r))
    return {key: len(endings) for key, endings in seen.items()}


def varied_personas(rows: Sequence[Row]) -> dict[str, int]:
    """agent -> number of personas on which the seeds gave more than one ending."""
    counts: dict[str, int] = {}
    for (_, agent), n in distinct_endings(rows).items():
        counts[agent] = counts.get(agent, 0) + (n > 1)
    return counts


def evaluate(rows: Sequence[Row]) -> tuple[list[Verdict], tuple[bool, str]]:
    """Per-persona verdicts and the difficulty trend."""
    abusive = abusive_personas()
    personas = sorted({r.persona for r in rows})
    verdicts = [judge_persona(rows, p, abusive=p in abusive) for p in personas]
    return verdicts, judge_trend(rows)


# ---------------------------------------------------------------- report


def _table(header: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return lines


def _stat_cells(s: Stats) -> list[str]:
    return [f"{s.final_anger:.2f}", s.calm_label, f"{s.resolved:.0%}", f"{s.csat:.2f}"]


def _counts(values: Iterable[str]) -> str:
    tally: dict[str, int] = {}
    for value in values:
        tally[value] = tally.get(value, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in sorted(tally.items(), key=lambda kv: -kv[1]))


STAT_HEADER = ["final anger", "turns to calm", "resolved", "csat"]


def variation_section(rows: Sequence[Row]) -> list[str]:
    """The table of endings per persona and agent over the seeds of one difficulty."""
    agents = list(dict.fromkeys(r.agent for r in rows))
    personas = sorted({r.persona for r in rows})
    seeds = sorted({r.seed for r in rows})
    levels = sorted({r.difficulty for r in rows})
    distinct = distinct_endings(rows)
    out = [
        "",
        f"## Seed variation (difficulty {'/'.join(map(str, levels))}, seeds "
        f"{seeds[0]}-{seeds[-1]})",
        "",
        "Each cell: the number of different endings (stop reason and resolution) over the "
        f"{len(seeds)} seeds, then how often each stop reason came up. `{MIDDLING}` is the "
        "seed playbook with its exploring and playback macros swapped for the anti-patterns' "
        "(`benchmarks/customer_validity.py::middling_library`).",
        "",
    ]
    body = []
    for persona in personas:
        cells = [persona]
        for agent in agents:
            group = [r for r in rows if r.persona == persona and r.agent == agent]
            cells.append(f"{distinct[persona, agent]}: {_counts(r.stop_reason for r in group)}")
        body.append(cells)
    varied = varied_personas(rows)
    body.append(["**more than one ending**", *(f"{varied[a]} of {len(personas)}" for a in agents)])
    return out + _table(["persona", *agents], body)


def report(
    rows: Sequence[Row],
    verdicts: Sequence[Verdict],
    trend: tuple[bool, str],
    variation: Sequence[Row] = (),
) -> str:
    """The markdown report (`variation`: rows for the seed variation table, if any)."""
    personas = sorted({r.persona for r in rows})
    levels = sorted({r.difficulty for r in rows})
    seeds = sorted({r.seed for r in rows})
    by_persona = {v.persona: v for v in verdicts}
    out = [
        "# Customer validity: seed-playbook vs anti-patterns",
        "",
        "Generated by `.venv/bin/python benchmarks/customer_validity.py` (scripted customer, "
        f"rules judge, max {MAX_TURNS} turns): {len(personas)} personas x 2 agents x "
        f"difficulty {levels[0]}-{levels[-1]} x seeds {seeds[0]}-{seeds[-1]} = {len(rows)} "
        "conversations. The script exits 1 if any line under [Verdicts](#verdicts) fails.",
        "",
        "- **final anger**: the customer's anger (0-10) after its last turn;",
        "- **turns to calm**: the customer turn index (0 = the complaint) where anger first "
        f"drops to {CALM_AT:.0f} or below: the mean over the conversations that got there, and "
        "the share that never did;",
        "- **resolved**: the customer accepted an allowed offer, and believed it, and closed the "
        "conversation;",
        "- **csat**: the customer's 1-5 rating at the end.",
        "",
        "## Per persona (all difficulties and seeds)",
        "",
    ]
    body = []
    for persona in personas:
        good, bad = _split(rows, persona)
        mark = "PASS" if by_persona[persona].passed else "FAIL"
        for agent, group in ((GOOD, good), (BAD, bad)):
            body.append([persona, agent, *_stat_cells(Stats.of(group)), mark])
    out += _table(["persona", "agent", *STAT_HEADER, "separates"], body)

    out += ["", "## Per difficulty (all personas and seeds)", ""]
    body = []
    for level in levels:
        for agent in AGENTS.values():
            group = [r for r in rows if r.difficulty == level and r.agent == agent]
            body.append([str(level), agent, *_stat_cells(Stats.of(group))])
    out += _table(["difficulty", "agent", *STAT_HEADER], body)
    out += [
        "",
        "What each difficulty does to the customer as written (seed 0, mean over personas; "
        "difficulty is measured against each persona's own base level, see "
        "`harness/customers/scripted.py`; other seeds spread around it, see "
        "[seeds.md](seeds.md)):",
        "",
    ]
    out += _table(
        [
            "difficulty",
            "start anger",
            "start trust",
            "patience (agent turns)",
            "open questions to reveal",
            "trust to reveal",
            "accepts at anger",
            "no offer before the reveal",
            "abusive caller",
        ],
        difficulty_knobs(levels),
    )
    out += [
        "",
        "## Playbook by persona and difficulty",
        "",
        "Each cell: resolved % / mean turns to calm (`never` when no conversation calmed) / "
        "mean final anger / the most common ending.",
        "",
    ]
    body = []
    for persona in personas:
        cells = [persona]
        good, _ = _split(rows, persona)
        for level in levels:
            group = [r for r in good if r.difficulty == level]
            s = Stats.of(group)
            turn = "never" if s.calm_turn is None else f"{s.calm_turn:.1f}"
            ending = _counts(r.stop_reason for r in group).split(" ")[0]
            cells.append(f"{s.resolved:.0%} / {turn} / {s.final_anger:.1f} / {ending}")
        body.append(cells)
    out += _table(["persona", *(f"d{level}" for level in levels)], body)

    abusive = [v.persona for v in verdicts if v.abusive]
    if abusive:
        out += ["", "## Abusive personas: how the conversations end", ""]
        body = []
        for persona in abusive:
            for agent in AGENTS.values():
                for level in levels:
                    group = [
                        r
                        for r in rows
                        if r.persona == persona and r.agent == agent and r.difficulty == level
                    ]
                    body.append(
                        [
                            persona,
                            agent,
                            str(level),
                            _counts(r.stop_reason for r in group),
                            _counts(r.ladder for r in group),
                            _counts(r.ends_professionally for r in group),
                            f"{mean(r.final_anger for r in group):.2f}",
                            f"{mean(r.csat for r in group):.2f}",
                        ]
                    )
        out += _table(
            [
                "persona",
                "agent",
                "difficulty",
                "stop reasons",
                "abuse.ladder",
                "abuse.ends_professionally",
                "final anger",
                "csat",
            ],
            body,
        )

    effects = seed_effects(rows)
    out += [
        "",
        "## What the seeds change",
        "",
        f"Over {effects['cells']} persona x agent x difficulty cells of {effects['seeds']} "
        f"seeds each: the customer's wording differs between seeds in {effects['varied']} of "
        f"the {effects['talky']} cells where the customer speaks more than once (a customer "
        "cut off after the complaint has nothing to vary), and the ending (stop reason and "
        f"resolution) differs between seeds in {effects['endings_vary']} of "
        f"{effects['cells']} cells (each seed draws the customer's temperament, see "
        "[seeds.md](seeds.md)).",
    ]
    if variation:
        out += variation_section(variation)
    out += ["", "## Verdicts", "", "```"]
    out += [v.line() for v in verdicts]
    out += [trend[1], "```", ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--difficulties", default="1,2,3,4,5", help="comma list (default 1-5)")
    parser.add_argument("--personas", default="all", help="comma list of ids (default all)")
    parser.add_argument("--out", type=Path, default=DOC, help="report path (default docs/)")
    parser.add_argument(
        "--variation-seeds",
        type=int,
        default=VARIATION_SEEDS,
        help=f"seeds for the variation table at difficulty {VARIATION_DIFFICULTY} (0: skip)",
    )
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    levels = [int(x) for x in args.difficulties.split(",") if x.strip()]
    personas = [p.strip() for p in args.personas.split(",") if p.strip()]
    started = time.perf_counter()
    rows = collect(personas, levels, seeds)
    verdicts, trend = evaluate(rows)
    variation = (
        collect(
            personas,
            [VARIATION_DIFFICULTY],
            range(args.variation_seeds),
            agents=(GOOD, BAD, MIDDLING),
        )
        if args.variation_seeds
        else []
    )
    text = report(rows, verdicts, trend, variation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    total = len(rows) + len(variation)
    print(f"{total} conversations in {time.perf_counter() - started:.0f} s; wrote {args.out}")
    ok = all(v.passed for v in verdicts) and trend[0]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
