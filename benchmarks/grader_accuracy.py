"""How well the rule graders agree with human verdicts on a labelled conversation set.

    .venv/bin/python benchmarks/grader_accuracy.py                  # benchmarks/devset.jsonl
    .venv/bin/python benchmarks/grader_accuracy.py --show-errors 30 --guideline defuse.playback
    .venv/bin/python benchmarks/grader_accuracy.py --file held-out.jsonl --json

Input: transcript-import JSONL (native or OpenAI shape) whose lines carry
`labels: {guideline_id: verdict}`. Every conversation is graded exactly as `toughtalk grade`
grades it (RulesJudge, the default rubric, stop reason `imported`, persona resolved when the
line names one).

Per guideline:
- quality: positive = met|partial, negative = missed|violated, counted only where BOTH the
  human and the grader say the guideline applies; precision, recall, F1 of "positive";
  `exact` is exact 4-way verdict agreement on the same items.
- applicability: agreement of "na" vs "applies" over every labelled item, with the two kinds
  of disagreement counted.
Macro-F1 averages F1 over guidelines with any quality support. A measurement: exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    DOCS,
    Counts,
    clip,
    fmt,
    md_table,
    provenance,
    shown_path,
    text_table,
    write_doc,
)
from harness.catalog import load_persona, load_rubric, parse_conversation  # noqa: E402
from harness.errors import InputError  # noqa: E402
from harness.judges import RulesJudge  # noqa: E402
from harness.models import Conversation, GuidelineResult, Persona, StopReason  # noqa: E402

DEVSET = ROOT / "benchmarks" / "devset.jsonl"
POSITIVE = {"met", "partial"}
NEGATIVE = {"missed", "violated"}
ORDINAL = {"met": 3, "partial": 2, "missed": 1, "violated": 0}


@dataclass
class Disagreement:
    """One item where the human and the grader differ."""

    conversation: str
    guideline: str
    human: str
    grader: str
    rationale: str
    evidence: list[tuple[int, str]]
    agent_turns: list[tuple[int, str]] = field(default_factory=list, repr=False)

    @property
    def severity(self) -> float:
        """Bigger is worse: polarity flips first, then na disputes, then shades."""
        if "na" in (self.human, self.grader):
            return 2.5
        distance = abs(ORDINAL[self.human] - ORDINAL[self.grader])
        flip = (self.human in POSITIVE) != (self.grader in POSITIVE)
        return distance + (1 if flip else 0)


@dataclass
class GuidelineStats:
    """Agreement counts for one guideline."""

    quality: Counts = field(default_factory=Counts)
    exact: int = 0
    applicability: Counts = field(default_factory=Counts)  # positive = applies
    labelled: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def row(self, guideline: str) -> list[Any]:
        """A table row."""
        q, a = self.quality, self.applicability
        return [
            guideline,
            q.n,
            q.positives,
            q.negatives,
            q.precision,
            q.recall,
            q.f1,
            self.exact / q.n if q.n else None,
            a.accuracy,
            a.fn,  # human applies, grader na
            a.fp,  # human na, grader applies
        ]


HEADERS = [
    "guideline",
    "n",
    "pos",
    "neg",
    "P",
    "R",
    "F1",
    "exact",
    "appl.acc",
    "h→g:na",
    "h:na→g",
]


# ---------------------------------------------------------------- reading and grading


def read_labelled(path: Path) -> tuple[list[Conversation], list[str]]:
    """Labelled conversations of a JSONL file, with problems reported instead of raised."""
    conversations: list[Conversation] = []
    problems: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                conv = parse_conversation(line, path, number)
            except InputError as exc:
                problems.append(str(exc))
                continue
            if conv.id in seen:
                problems.append(f"{path}:{number}: duplicate id {conv.id!r}, skipped")
                continue
            seen.add(conv.id)
            if not conv.labels:
                problems.append(f"{path}:{number}: {conv.id!r} has no labels, skipped")
                continue
            conversations.append(conv)
    return conversations, problems


def personas_for(conversations: list[Conversation], problems: list[str]) -> dict[str, Persona]:
    """Resolve the persona each conversation names (as `toughtalk grade` does)."""
    out: dict[str, Persona] = {}
    for ref in sorted({c.persona for c in conversations if c.persona}):
        try:
            out[ref] = load_persona(ref)[0]
        except Exception as exc:  # an unknown persona: grade from the text alone
            problems.append(f"persona {ref!r} not found ({exc}); graded without it")
    return out


def evaluate(
    conversations: list[Conversation], personas: dict[str, Persona], problems: list[str]
) -> tuple[dict[str, GuidelineStats], list[Disagreement], list[str], int]:
    """Grade every conversation; collect per-guideline stats and the disagreements."""
    rubric, _ = load_rubric("default")
    ids = [g.id for g in rubric.guidelines]
    judge = RulesJudge()
    stats = {gid: GuidelineStats() for gid in ids}
    errors: list[Disagreement] = []
    unknown: Counter[str] = Counter()
    graded = 0
    for conv in conversations:
        try:
            results = judge.grade(
                conv.turns,
                rubric,
                context=conv.context,
                persona=personas.get(conv.persona or ""),
                stop_reason=StopReason.imported,
            )
        except Exception as exc:  # keep measuring the rest
            problems.append(f"{conv.id}: grading failed: {type(exc).__name__}: {exc}")
            continue
        graded += 1
        by_id: dict[str, GuidelineResult] = {r.guideline: r for r in results}
        labels = conv.labels or {}
        for gid in labels:
            if gid not in by_id:
                unknown[gid] += 1
        for gid in ids:
            human = labels.get(gid)
            if human is None:
                continue
            result = by_id[gid]
            grader = result.verdict
            s = stats[gid]
            s.labelled += 1
            s.confusion[(human, grader)] += 1
            s.applicability.add(human != "na", grader != "na")
            if human != "na" and grader != "na":
                s.quality.add(human in POSITIVE, grader in POSITIVE)
                s.exact += human == grader
            if human != grader:
                errors.append(
                    Disagreement(
                        conv.id,
                        gid,
                        human,
                        grader,
                        result.rationale,
                        [(e.turn, e.quote) for e in result.evidence],
                        [(i, t.text) for i, t in enumerate(conv.turns) if t.role == "agent"],
                    )
                )
    for gid, count in sorted(unknown.items()):
        problems.append(f"labels name {gid!r} ({count}x), not in the default rubric; ignored")
    return stats, errors, ids, graded


def summary(stats: dict[str, GuidelineStats]) -> dict[str, Any]:
    """Macro-F1 (guidelines with quality support), micro-F1 and overall applicability."""
    scored = [s.quality.f1 for s in stats.values() if s.quality.n and s.quality.f1 is not None]
    micro = Counts()
    appl = Counts()
    exact = 0
    for s in stats.values():
        for name in ("tp", "fp", "fn", "tn"):
            setattr(micro, name, getattr(micro, name) + getattr(s.quality, name))
            setattr(appl, name, getattr(appl, name) + getattr(s.applicability, name))
        exact += s.exact
    return {
        "macro_f1": sum(scored) / len(scored) if scored else None,
        "guidelines_scored": len(scored),
        "guidelines_skipped": [g for g, s in stats.items() if not s.quality.n],
        "micro_f1": micro.f1,
        "micro_precision": micro.precision,
        "micro_recall": micro.recall,
        "exact": exact / micro.n if micro.n else None,
        "applicability_accuracy": appl.accuracy,
        "items_quality": micro.n,
        "items_labelled": appl.n,
    }


# ---------------------------------------------------------------- output


def worst(errors: list[Disagreement]) -> list[Disagreement]:
    """Most severe first, taking turns between guidelines so one does not fill the list."""
    ordered = sorted(errors, key=lambda e: (-e.severity, e.guideline, e.conversation))
    seen: Counter[tuple[float, str]] = Counter()
    ranked = []
    for e in ordered:
        seen[(e.severity, e.guideline)] += 1
        ranked.append((-e.severity, seen[(e.severity, e.guideline)], e.guideline, e))
    return [item[-1] for item in sorted(ranked, key=lambda r: r[:3])]


def error_lines(errors: list[Disagreement], show_turns: bool = False) -> list[str]:
    """The disagreement list for the terminal (optionally with the agent's turns)."""
    out = []
    for e in errors:
        out.append(
            f"[{e.severity:.1f}] {e.conversation}  {e.guideline}  human={e.human}  "
            f"grader={e.grader}"
        )
        out.append(f"      rationale: {e.rationale}")
        for turn, quote in e.evidence[:2]:
            out.append(f"      evidence t{turn}: {clip(quote, 140)!r}")
        if show_turns:
            for turn, text in e.agent_turns:
                out.append(f"      agent t{turn}: {clip(text, 220)}")
    return out


def confusion_table(stats: GuidelineStats) -> str:
    """Human (rows) x grader (columns) verdict counts for one guideline."""
    verdicts = ["met", "partial", "missed", "violated", "na"]
    rows = [[f"human {h}", *[stats.confusion.get((h, g), 0) for g in verdicts]] for h in verdicts]
    return text_table(["", *[f"g:{v}" for v in verdicts]], rows)


def markdown(
    source: Path,
    conversations: int,
    graded: int,
    stats: dict[str, GuidelineStats],
    ids: list[str],
    totals: dict[str, Any],
    problems: list[str],
) -> str:
    """docs/grader-accuracy.md."""
    lines = [
        "# Rule-grader accuracy against human labels",
        "",
        f"Labelled set: `{shown_path(source)}` ({conversations} labelled conversations, "
        f"{graded} graded). Judge: `rules`, rubric `default`, stop reason `imported`.",
        "",
        *provenance(),
        "",
        f"**Macro-F1: {fmt(totals['macro_f1'])}** over {totals['guidelines_scored']} "
        f"guidelines with support · micro-F1 {fmt(totals['micro_f1'])} "
        f"(P {fmt(totals['micro_precision'])}, R {fmt(totals['micro_recall'])}) · "
        f"exact verdict agreement {fmt(totals['exact'])} · "
        f"applicability accuracy {fmt(totals['applicability_accuracy'])} "
        f"over {totals['items_labelled']} labelled items.",
        "",
        "Positive = `met`/`partial`, negative = `missed`/`violated`; P/R/F1 and `exact` "
        "(4-way verdict agreement) only on items where both human and grader say the "
        "guideline applies (`n`, of which `pos`/`neg` by the human). F1 is 1.0 when "
        "neither side has a positive. `appl.acc`: agreement on na vs applies over all "
        "labelled items; `h→g:na` = human says it applies, grader says na; `h:na→g` = "
        "human says na, grader grades it.",
        "",
        md_table(HEADERS, [stats[g].row(g) for g in ids]),
    ]
    if totals["guidelines_skipped"]:
        skipped = ", ".join(f"`{g}`" for g in totals["guidelines_skipped"])
        lines += ["", f"Not in the macro-F1 (no item where both say it applies): {skipped}."]
    if problems:
        lines += ["", "Input problems:", "", *[f"- {p}" for p in problems[:20]]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; always returns 0 (a measurement, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEVSET, help="labelled JSONL to score")
    parser.add_argument(
        "--show-errors", type=int, default=15, metavar="N", help="worst disagreements to list"
    )
    parser.add_argument("--guideline", help="only list disagreements on this guideline id")
    parser.add_argument(
        "--turns", action="store_true", help="print the agent's turns under each disagreement"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--md",
        type=Path,
        help="markdown report (default docs/grader-accuracy.md for the devset, "
        "docs/grader-accuracy-<stem>.md for other files)",
    )
    parser.add_argument("--no-md", action="store_true", help="do not write the markdown report")
    args = parser.parse_args(argv)

    source: Path = args.file
    if not source.is_file():
        print(
            f"grader_accuracy: no labelled set at {source}.\n"
            "  Expected transcript-import JSONL with `labels: {guideline_id: verdict}` per "
            "line (benchmarks/devset.jsonl is being written); pass another with --file.",
            file=sys.stderr,
        )
        return 0

    conversations, problems = read_labelled(source)
    personas = personas_for(conversations, problems)
    stats, errors, ids, graded = evaluate(conversations, personas, problems)
    totals = summary(stats)

    if args.guideline and args.guideline not in stats:
        problems.append(f"--guideline {args.guideline!r} is not a default-rubric id")
    shown = worst([e for e in errors if not args.guideline or e.guideline == args.guideline])
    shown = shown[: max(args.show_errors, 0)]

    if args.json:
        payload = {
            "file": str(source),
            "conversations": len(conversations),
            "graded": graded,
            "summary": totals,
            "guidelines": {
                g: dict(zip(HEADERS[1:], stats[g].row(g)[1:], strict=True)) for g in ids
            },
            "disagreements": [
                {k: v for k, v in e.__dict__.items() if k != "agent_turns"}
                | {"severity": e.severity}
                for e in shown
            ],
            "problems": problems,
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(f"{source}: {len(conversations)} labelled conversations, {graded} graded\n")
        print(text_table(HEADERS, [stats[g].row(g) for g in ids]))
        print(
            f"\nmacro-F1 {fmt(totals['macro_f1'])} over {totals['guidelines_scored']} guidelines"
            f" · micro-F1 {fmt(totals['micro_f1'])} · exact {fmt(totals['exact'])}"
            f" · applicability accuracy {fmt(totals['applicability_accuracy'])}"
        )
        if totals["guidelines_skipped"]:
            print("no quality support: " + ", ".join(totals["guidelines_skipped"]))
        if args.guideline in stats:
            print(f"\n{args.guideline}: human (rows) vs grader (columns)")
            print(confusion_table(stats[args.guideline]))
        if shown:
            label = f" on {args.guideline}" if args.guideline else ""
            print(f"\nworst {len(shown)} of {len(errors)} disagreements{label}:")
            print("\n".join(error_lines(shown, args.turns)))
        for p in problems:
            print(f"note: {p}", file=sys.stderr)

    if not args.no_md:
        default_md = (
            DOCS / "grader-accuracy.md"
            if source.resolve() == DEVSET.resolve()
            else DOCS / f"grader-accuracy-{source.stem}.md"
        )
        path = write_doc(
            args.md or default_md,
            markdown(source, len(conversations), graded, stats, ids, totals, problems),
        )
        if not args.json:
            print(f"\nwrote {shown_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
