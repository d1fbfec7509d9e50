"""Check a labelled conversation file: one JSON object per line, every guideline labelled.

    python benchmarks/labelled/check.py benchmarks/labelled/heldout-a.jsonl

Prints one line per problem (file:line: message) and a summary of verdicts per guideline;
exits 1 when there is any problem. Needs only the standard library.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve()
GUIDELINES = HERE.parents[2].parent / "shared" / "GUIDELINES.md"
VERDICTS = {"met", "partial", "missed", "violated", "na"}
ROLES = {"customer", "agent"}
TOP_KEYS = {"id", "context", "turns", "labels", "meta"}


def guideline_ids() -> list[str]:
    """Guideline ids from the rubric table of GUIDELINES.md (or the default rubric)."""
    if GUIDELINES.exists():
        text = GUIDELINES.read_text(encoding="utf-8")
        return re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", text, re.M)
    rubric = HERE.parents[2] / "rubrics" / "default.yaml"
    return re.findall(r"^\s*- id: ([a-z]+\.[a-z_]+)", rubric.read_text(encoding="utf-8"), re.M)


def check(path: Path) -> int:
    """Check one file; return the number of problems."""
    ids = guideline_ids()
    problems = 0
    seen: set[str] = set()
    counts: dict[str, Counter[str]] = {g: Counter() for g in ids}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{where}: not JSON ({exc})")
            problems += 1
            continue
        extra = set(row) - TOP_KEYS
        if extra:
            print(f"{where}: unknown keys {sorted(extra)}")
            problems += 1
        cid = row.get("id")
        if not isinstance(cid, str) or not cid:
            print(f"{where}: missing id")
            problems += 1
        elif cid in seen:
            print(f"{where}: duplicate id {cid}")
            problems += 1
        seen.add(str(cid))
        if not isinstance(row.get("context"), dict) or not row["context"].get("customer_name"):
            print(f"{where}: context must be an object with customer_name")
            problems += 1
        turns = row.get("turns")
        if not isinstance(turns, list) or len(turns) < 2:
            print(f"{where}: turns must be a list of at least 2")
            problems += 1
            turns = []
        for t, turn in enumerate(turns):
            if not isinstance(turn, dict) or set(turn) != {"role", "text"}:
                print(f"{where}: turn {t} must be exactly {{role, text}}")
                problems += 1
            elif turn["role"] not in ROLES or not str(turn["text"]).strip():
                print(f"{where}: turn {t} has role {turn['role']!r} or empty text")
                problems += 1
        if not any(isinstance(x, dict) and x.get("role") == "agent" for x in turns):
            print(f"{where}: no agent turn")
            problems += 1
        labels = row.get("labels")
        if not isinstance(labels, dict):
            print(f"{where}: labels must be an object")
            problems += 1
            continue
        missing = [g for g in ids if g not in labels]
        unknown = [g for g in labels if g not in ids]
        bad = {g: v for g, v in labels.items() if v not in VERDICTS}
        for name, value in (("missing", missing), ("unknown", unknown), ("bad verdicts", bad)):
            if value:
                print(f"{where}: {name} labels: {value}")
                problems += 1
        for g in ids:
            if labels.get(g) in VERDICTS:
                counts[g][labels[g]] += 1
    print(f"{path}: {len(seen)} conversations, {problems} problem(s)")
    for g in ids:
        row = " ".join(f"{v}={counts[g][v]}" for v in sorted(VERDICTS) if counts[g][v])
        print(f"  {g:30s} {row}")
    return problems


if __name__ == "__main__":
    total = sum(check(Path(p)) for p in sys.argv[1:])
    sys.exit(1 if total else 0)
