"""How far two careful human labellings of the same conversations agree, beside the rules.

    .venv/bin/python benchmarks/label_agreement.py            # docs/label-agreement.md
    .venv/bin/python benchmarks/label_agreement.py --no-md --show 10

A grader cannot be expected to agree with one labeller more than a second careful labeller
does: that agreement is the ceiling its macro-F1 is read against. Each
`benchmarks/labelled/second/*.labels.jsonl` file is a second, blind labelling (`{"id",
"guideline", "verdict"}` per line) of conversations that already carry a first labelling
in a labelled part (found by id in any part, so moving a file between parts changes
nothing). The second labeller saw only the transcript, `GUIDELINES.md` and the catalogue
conventions, never the first labels or the graders.

Per guideline it reports, with the metric of `grader_accuracy.py` (bF1: mean of the
positive- and negative-class F1 where both sides say the guideline applies; macro-F1 over
guidelines with support): first vs second labelling, rules vs first, rules vs second, and
applicability agreement. bF1 is symmetric, so "vs" has no direction. A measurement: exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, fmt, md_table, provenance, shown_path, text_table, write_doc  # noqa: E402
from benchmarks.grader_accuracy import (  # noqa: E402
    NEGATIVE,
    POSITIVE,
    GuidelineStats,
    grade,
    parts,
    personas_for,
    read_labelled,
    read_labels,
    summary,
)
from harness.catalog import load_rubric  # noqa: E402
from harness.judges import RulesJudge  # noqa: E402
from harness.models import Conversation  # noqa: E402

SECOND = ROOT / "benchmarks" / "labelled" / "second"
VERDICTS = POSITIVE | NEGATIVE | {"na"}
Labels = dict[str, dict[str, str]]  # conversation id -> guideline -> verdict


def compare(first: Labels, second: Labels, ids: list[str]) -> dict[str, GuidelineStats]:
    """Per-guideline agreement of two labellings over the conversations both label."""
    stats = {g: GuidelineStats() for g in ids}
    for cid in sorted(set(first) & set(second)):
        for g in ids:
            a, b = first[cid].get(g), second[cid].get(g)
            if a not in VERDICTS or b not in VERDICTS:
                continue
            stats[g].add(a, b)
    return stats


def rules_labels(conversations: list[Conversation]) -> Labels:
    """The rule judge's verdicts, graded as `toughtalk grade` grades an import."""
    rubric, _ = load_rubric("default")
    judge = RulesJudge()
    personas = personas_for(conversations, [])
    out: Labels = {}
    for conv in conversations:
        out[conv.id] = {r.guideline: r.verdict for r in grade(judge, rubric, conv, personas)}
    return out


def first_labelling(wanted: set[str]) -> tuple[list[Conversation], dict[str, str]]:
    """The labelled conversations with these ids, and the part each was found in."""
    found: list[Conversation] = []
    where: dict[str, str] = {}
    for name, files in parts().items():
        if name == "independent-dev":
            continue
        for path, labels in files:
            for conv in read_labelled(path, labels)[0]:
                if conv.id in wanted and conv.id not in where:
                    found.append(conv)
                    where[conv.id] = f"{name} ({path.name})"
    return found, where


HEADERS = ["guideline", "n", "1st vs 2nd", "rules vs 1st", "rules vs 2nd", "appl. 1st vs 2nd"]


def table_rows(
    ids: list[str], pairs: list[dict[str, GuidelineStats]]
) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """One row per guideline and the macro summaries of each comparison."""
    human, first, second = pairs
    rows = [
        [
            g,
            human[g].quality.n,
            human[g].quality.balanced_f1,
            first[g].quality.balanced_f1,
            second[g].quality.balanced_f1,
            human[g].applicability.accuracy,
        ]
        for g in ids
    ]
    return rows, [summary(p) for p in pairs]


def main(argv: list[str] | None = None) -> int:
    """Score every second labelling against the first and against the rules."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--second", type=Path, action="append", help="second-labels JSONL")
    parser.add_argument("--show", type=int, default=0, help="list N item disagreements")
    parser.add_argument("--md", type=Path, default=DOCS / "label-agreement.md")
    parser.add_argument("--no-md", action="store_true", help="do not write the report")
    args = parser.parse_args(argv)
    files = args.second or sorted(SECOND.glob("*.labels.jsonl"))
    if not files:
        print(f"no second labellings in {shown_path(SECOND)}", file=sys.stderr)
        return 1
    second: Labels = {}
    for path in files:
        second.update(read_labels(path))
    conversations, where = first_labelling(set(second))
    missing = sorted(set(second) - set(where))
    if missing:
        print(f"{len(missing)} second-labelled id(s) not in any labelled part: {missing[:5]}")
    first: Labels = {c.id: dict(c.labels or {}) for c in conversations}
    rules = rules_labels(conversations)
    ids = [g.id for g in load_rubric("default")[0].guidelines]
    pairs = [compare(first, second, ids), compare(rules, first, ids), compare(rules, second, ids)]
    rows, totals = table_rows(ids, pairs)
    macro = ["macro-F1", "", *[t["macro_f1"] for t in totals], totals[0]["applicability_accuracy"]]
    below = ["below 0.80", "", *[len(t["below_080"]) for t in totals], ""]
    print(f"{len(conversations)} conversations labelled twice ({len(files)} file(s))\n")
    print(text_table(HEADERS, [*rows, macro, below]))
    disagreements = Counter(
        (g, a, b)
        for g, s in pairs[0].items()
        for (a, b), n in s.confusion.items()
        for _ in range(n)
        if a != b
    )
    if args.show:
        print("\nmost frequent first/second disagreements (guideline, first, second):")
        for (g, a, b), n in disagreements.most_common(args.show):
            print(f"  {n:3d}  {g:30s} {a:>8s} -> {b}")
    if not args.no_md:
        parts_seen = sorted(Counter(v.split(" (")[0] for v in where.values()).items())
        lines = [
            "# How far two human labellings agree (the ceiling for the graders)",
            "",
            *provenance(),
            "",
            "A second careful trainer labelled the same conversations blind (transcript, "
            "`GUIDELINES.md` and the catalogue conventions only; never the first labels or "
            "the graders). Their agreement with the first labelling is what a grader can "
            "reasonably be expected to reach; the rules are shown against both labellings. "
            "Metric as in `docs/grader-accuracy.md` (bF1 per guideline, macro-F1 over "
            "guidelines with support; symmetric).",
            "",
            f"- conversations: {len(conversations)} ("
            + ", ".join(f"{n} in {p}" for p, n in parts_seen)
            + ")",
            "- second labellings: " + ", ".join(f"`{shown_path(f)}`" for f in files),
            "",
            md_table(HEADERS, [[*r[:2], *(fmt(x) for x in r[2:])] for r in [*rows, macro, below]]),
        ]
        write_doc(args.md, "\n".join(lines))
        print(f"\nwrote {shown_path(args.md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
