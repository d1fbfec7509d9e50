"""How well the rule graders agree with human verdicts on labelled conversation sets.

    .venv/bin/python benchmarks/grader_accuracy.py            # every part, docs/grader-accuracy.md
    .venv/bin/python benchmarks/grader_accuracy.py --part held-out --show-errors 0
    .venv/bin/python benchmarks/grader_accuracy.py --file my.jsonl --guideline defuse.playback
    .venv/bin/python benchmarks/grader_accuracy.py --file t.jsonl --labels labels.jsonl --json

Parts (each a list of files; `--part` picks one):
- tuning: `benchmarks/devset.jsonl` (written beside the graders) and
  `benchmarks/labelled/tuning-*.jsonl` (written blind to them). Rules may be changed
  because of what these show.
- held-out: `benchmarks/labelled/heldout-*.jsonl`, written in a separate pass by writers
  who never saw the graders or the tuning part. Never change a rule because of an item
  here; it is only measured.
- fresh: `benchmarks/labelled/fresh-*.jsonl`, the newest blind-written set, kept from the
  last round of fixes (graded before and after it), then moved into the tuning part.
- independent-dev: `../shared/data/independent-dev` (or `$TOUGHTALK_DATA`), written and
  labelled outside the project; read at run time, never copied.

Input: transcript-import JSONL (native or OpenAI shape) whose lines carry
`labels: {guideline_id: verdict}`, or a separate labels file of `{"id", "guideline",
"verdict"}` lines (`--labels`). Every conversation is graded exactly as `toughtalk grade`
grades it (RulesJudge, the default rubric, stop reason `imported`).

Per guideline, positive = met|partial, negative = missed|violated, counted only where BOTH
the human and the grader say the guideline applies: F1 of each class, and `bF1`, their mean
(the metric of the labelled sets; macro-F1 is the mean of bF1 over guidelines). `pF1` is
the positive-class F1 alone (the figure earlier reports gave). Applicability (na vs
applies) is scored separately over every labelled item. A measurement: exits 0.
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
from benchmarks.datasets import data_root  # noqa: E402
from harness.catalog import load_persona, load_rubric, parse_conversation  # noqa: E402
from harness.errors import InputError  # noqa: E402
from harness.judges import RulesJudge  # noqa: E402
from harness.models import (  # noqa: E402
    Conversation,
    GuidelineResult,
    Persona,
    Rubric,
    StopReason,
)

DEVSET = ROOT / "benchmarks" / "devset.jsonl"
LABELLED = ROOT / "benchmarks" / "labelled"


def parts() -> dict[str, list[tuple[Path, Path | None]]]:
    """The named labelled parts: (transcripts, separate labels file or None) per file."""
    found: dict[str, list[tuple[Path, Path | None]]] = {
        "tuning": [(DEVSET, None)] + [(f, None) for f in sorted(LABELLED.glob("tuning-*.jsonl"))],
        "held-out": [(f, None) for f in sorted(LABELLED.glob("heldout-*.jsonl"))],
        # The newest blind-written set: graded before and after a round of fixes that never
        # saw it, then moved into the tuning part for the next round.
        "fresh": [(f, None) for f in sorted(LABELLED.glob("fresh-*.jsonl"))],
    }
    independent = data_root() / "independent-dev"
    if (independent / "transcripts.jsonl").is_file():
        found["independent-dev"] = [
            (independent / "transcripts.jsonl", independent / "labels.jsonl")
        ]
    return {name: files for name, files in found.items() if files}


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

    def add(self, human: str, grader: str) -> None:
        """Count one labelled item: applicability always, quality where both apply."""
        self.labelled += 1
        self.confusion[(human, grader)] += 1
        self.applicability.add(human != "na", grader != "na")
        if human != "na" and grader != "na":
            self.quality.add(human in POSITIVE, grader in POSITIVE)
            self.exact += human == grader

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
            q.f1_negative,
            q.balanced_f1,
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
    "pF1",
    "nF1",
    "bF1",
    "exact",
    "appl.acc",
    "h→g:na",
    "h:na→g",
]


# ---------------------------------------------------------------- reading and grading


def read_labels(path: Path) -> dict[str, dict[str, str]]:
    """A separate labels file: `{"id", "guideline", "verdict"}` per line."""
    out: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                out.setdefault(row["id"], {})[row["guideline"]] = row["verdict"]
    return out


def read_labelled(
    path: Path, labels_path: Path | None = None
) -> tuple[list[Conversation], list[str]]:
    """Labelled conversations of a JSONL file, with problems reported instead of raised."""
    conversations: list[Conversation] = []
    problems: list[str] = []
    labels = read_labels(labels_path) if labels_path else {}
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
            if conv.id in labels:
                conv = conv.model_copy(update={"labels": labels[conv.id]})
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


def grade(
    judge: RulesJudge, rubric: Rubric, conv: Conversation, personas: dict[str, Persona]
) -> list[GuidelineResult]:
    """One conversation graded as `toughtalk grade` grades an import."""
    return judge.grade(
        conv.turns,
        rubric,
        context=conv.context,
        persona=personas.get(conv.persona or ""),
        stop_reason=StopReason.imported,
    )


def evaluate(
    conversations: list[Conversation],
    personas: dict[str, Persona],
    problems: list[str],
    semantic: bool = False,
) -> tuple[dict[str, GuidelineStats], list[Disagreement], list[str], int]:
    """Grade every conversation; collect per-guideline stats and the disagreements."""
    rubric, _ = load_rubric("default")
    ids = [g.id for g in rubric.guidelines]
    judge = RulesJudge(semantic=semantic)
    stats = {gid: GuidelineStats() for gid in ids}
    errors: list[Disagreement] = []
    unknown: Counter[str] = Counter()
    graded = 0
    for conv in conversations:
        try:
            results = grade(judge, rubric, conv, personas)
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
            stats[gid].add(human, grader)
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
    scored = [
        s.quality.balanced_f1
        for s in stats.values()
        if s.quality.n and s.quality.balanced_f1 is not None
    ]
    positive = [s.quality.f1 for s in stats.values() if s.quality.n and s.quality.f1 is not None]
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
        "macro_positive_f1": sum(positive) / len(positive) if positive else None,
        "below_080": sorted(
            g
            for g, s in stats.items()
            if s.quality.n and s.quality.balanced_f1 is not None and s.quality.balanced_f1 < 0.8
        ),
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


@dataclass
class PartResult:
    """One labelled part, graded."""

    name: str
    files: list[Path]
    conversations: int
    graded: int
    stats: dict[str, GuidelineStats]
    errors: list[Disagreement]
    ids: list[str]
    totals: dict[str, Any]
    problems: list[str]


def run_part(
    name: str, files: list[tuple[Path, Path | None]], semantic: bool = False
) -> PartResult:
    """Read and grade every file of one part."""
    conversations: list[Conversation] = []
    problems: list[str] = []
    for path, labels in files:
        found, issues = read_labelled(path, labels)
        conversations += found
        problems += issues
    personas = personas_for(conversations, problems)
    stats, errors, ids, graded = evaluate(conversations, personas, problems, semantic)
    return PartResult(
        name,
        [f for f, _ in files],
        len(conversations),
        graded,
        stats,
        errors,
        ids,
        summary(stats),
        problems,
    )


SUMMARY_HEADERS = ["part", "conversations", "macro-F1", "pF1 macro", "appl.acc", "below 0.80"]


def summary_row(part: PartResult) -> list[Any]:
    """One line of the parts table."""
    t = part.totals
    return [
        part.name,
        part.conversations,
        t["macro_f1"],
        t["macro_positive_f1"],
        t["applicability_accuracy"],
        len(t["below_080"]),
    ]


def markdown(results: list[PartResult], semantic: bool = False) -> str:
    """docs/grader-accuracy.md: the parts side by side, then each part's table."""
    ids = results[0].ids
    judge = (
        "`rules` combined with the semantic layer (embedding classifiers for feelings, "
        "playback and open questions; the `[embed]` extra). Command: "
        "`.venv/bin/python benchmarks/grader_accuracy.py --semantic`."
        if semantic
        else "`rules`. Command: `.venv/bin/python benchmarks/grader_accuracy.py`."
    )
    lines = [
        "# Grader accuracy against human labels"
        + (" (rules + semantic layer)" if semantic else ""),
        "",
        f"Judge: {judge} Rubric `default`, stop reason `imported` (what `toughtalk grade` does).",
        "",
        *provenance(),
        "",
        "Positive = `met`/`partial`, negative = `missed`/`violated`, scored only where both "
        "the human and the grader say the guideline applies. `bF1` = mean of the positive- "
        "and negative-class F1 (the labelled sets' own metric); **macro-F1** = mean bF1 over "
        "guidelines with support. `pF1` = positive-class F1 alone (what earlier reports "
        "gave; it flatters a grader that says `met` too often). `appl.acc` = agreement on "
        "na vs applies over all labelled items.",
        "",
        "- **tuning**: `benchmarks/devset.jsonl` (88, written beside the graders) and "
        "`benchmarks/labelled/tuning-*.jsonl` (written blind to the graders); rules may "
        "change because of these.",
        "- **held-out**: `benchmarks/labelled/heldout-*.jsonl`, written in a separate pass "
        "by writers who never saw the graders or the tuning part; only measured, never "
        "tuned on.",
        "- **fresh**: `benchmarks/labelled/fresh-*.jsonl`, the newest blind-written set, "
        "kept away from the last round of fixes (graded before and after it); it joins the "
        "tuning part in the next round.",
        "- **independent-dev**: `../shared/data/independent-dev`, written and labelled "
        "outside the project (read at run time, never copied).",
        "",
        md_table(SUMMARY_HEADERS, [summary_row(r) for r in results]),
        "",
        "## bF1 per guideline",
        "",
        md_table(
            ["guideline", *[f"{r.name} (n)" for r in results]],
            [
                [
                    g,
                    *[
                        f"{fmt(r.stats[g].quality.balanced_f1)} ({r.stats[g].quality.n})"
                        for r in results
                    ],
                ]
                for g in ids
            ],
        ),
    ]
    for r in results:
        lines += [
            "",
            f"## {r.name}: {r.conversations} conversations",
            "",
            "Files: " + ", ".join(f"`{shown_path(f)}`" for f in r.files),
            "",
            md_table(HEADERS, [r.stats[g].row(g) for g in ids]),
        ]
        if r.totals["below_080"]:
            lines += ["", "Below 0.80: " + ", ".join(f"`{g}`" for g in r.totals["below_080"])]
        if r.problems:
            lines += ["", "Input problems:", "", *[f"- {p}" for p in r.problems[:20]]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point; always returns 0 (a measurement, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--file", type=Path, action="append", help="labelled JSONL to score (repeatable)"
    )
    parser.add_argument("--labels", type=Path, help="separate labels file for --file")
    parser.add_argument("--part", action="append", help="only these parts (default: all)")
    parser.add_argument(
        "--show-errors", type=int, default=15, metavar="N", help="worst disagreements to list"
    )
    parser.add_argument("--guideline", help="only list disagreements on this guideline id")
    parser.add_argument(
        "--turns", action="store_true", help="print the agent's turns under each disagreement"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--md", type=Path, help="markdown report (default docs/grader-accuracy.md)")
    parser.add_argument("--no-md", action="store_true", help="do not write the markdown report")
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="combine the rules with the embedding classifiers (the [embed] extra); the "
        "report goes to docs/grader-accuracy-semantic.md",
    )
    args = parser.parse_args(argv)
    if args.semantic:
        from harness import embeddings

        if not embeddings.available():  # one line, before any work
            raise SystemExit(f"grader_accuracy: {embeddings.MISSING_EXTRA}")

    if args.file:
        missing = [f for f in args.file if not f.is_file()]
        if missing:
            print(f"grader_accuracy: no labelled set at {missing[0]}", file=sys.stderr)
            return 0
        chosen = {"file": [(f, args.labels) for f in args.file]}
    else:
        available = parts()
        chosen = {k: v for k, v in available.items() if not args.part or k in args.part}
    results = [run_part(name, files, args.semantic) for name, files in chosen.items()]

    if args.json:
        payload = {
            r.name: {
                "files": [str(f) for f in r.files],
                "conversations": r.conversations,
                "graded": r.graded,
                "summary": r.totals,
                "guidelines": {
                    g: dict(zip(HEADERS[1:], r.stats[g].row(g)[1:], strict=True)) for g in r.ids
                },
                "problems": r.problems,
            }
            for r in results
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        for r in results:
            print(f"\n== {r.name}: {r.conversations} labelled conversations, {r.graded} graded\n")
            print(text_table(HEADERS, [r.stats[g].row(g) for g in r.ids]))
            shown = worst(
                [e for e in r.errors if not args.guideline or e.guideline == args.guideline]
            )[: max(args.show_errors, 0)]
            if args.guideline in r.stats:
                print(f"\n{args.guideline}: human (rows) vs grader (columns)")
                print(confusion_table(r.stats[args.guideline]))
            if shown:
                print(f"\nworst {len(shown)} of {len(r.errors)} disagreements:")
                print("\n".join(error_lines(shown, args.turns)))
            for problem in r.problems:
                print(f"note: {problem}", file=sys.stderr)
        print()
        print(text_table(SUMMARY_HEADERS, [summary_row(r) for r in results]))

    if not args.no_md and not args.file:
        default = DOCS / ("grader-accuracy-semantic.md" if args.semantic else "grader-accuracy.md")
        path = write_doc(args.md or default, markdown(results, semantic=args.semantic))
        if not args.json:
            print(f"\nwrote {shown_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
