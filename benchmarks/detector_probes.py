"""Single detectors on blind-written, labelled single messages, next to keyword baselines.

    .venv/bin/python benchmarks/detector_probes.py            # writes docs/detector-probes.md
    .venv/bin/python benchmarks/detector_probes.py --examples 10 --part tuning --no-md

The probe sets in `benchmarks/labelled/probes/` were written by helpers who saw only
GUIDELINES.md and the seeds, never the detectors:

  abuse-messages*.jsonl  customer messages to a human agent or a chatbot, abusive or not
                         (insults, threats, sexual harassment, slurs, swearing at the agent
                         vs frustration, criticism, swearing at the situation, pressure)
  feeling-replies*.jsonl agent replies that do or do not name the customer's feeling
                         (hypothetical, advice, the agent's own, a third party's, judgemental)

The first file of each probe is split once by id: even numbers are the tuning part (read
its errors with `--examples`), odd numbers the check part, which no pattern was changed
for; the later files (`-3`, `-4`) join the tuning part. The second file (`-2`), written by
another helper in another style, is the fresh part: never tuned on. A detector that does
not beat its keyword rule is a bug.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    DOCS,
    PRF_HEADERS,
    Counts,
    clip,
    md_table,
    prf_row,
    provenance,
    text_table,
    write_doc,
)
from harness import signals as sig  # noqa: E402

PROBES = ROOT / "benchmarks" / "labelled" / "probes"


@dataclass(frozen=True)
class Item:
    """One labelled message: its id number, the text to detect on, the truth and its kind."""

    number: int
    text: str
    truth: bool
    kind: str
    before: str = ""  # what the other person said first (for reply probes)


def kw(pattern: str) -> Callable[[Item], bool]:
    """A one-line keyword rule: the regex occurs anywhere in the text (case-insensitive)."""
    rx = re.compile(pattern, re.IGNORECASE)
    return lambda item: bool(rx.search(item.text))


@dataclass(frozen=True)
class Probe:
    """A probe set: its file, how a line becomes an item, and the detectors to score."""

    name: str
    files: tuple[str, ...]  # split into tuning/check by id; fresh; then more tuning files
    read: Callable[[dict[str, Any]], Item]
    detectors: list[tuple[str, Callable[[Item], bool]]]


def _number(raw: dict[str, Any]) -> int:
    digits = re.findall(r"\d+", str(raw["id"]))
    if not digits:
        raise ValueError(f"id {raw['id']!r} has no number")
    return int(digits[-1])


def _abuse_item(raw: dict[str, Any]) -> Item:
    return Item(_number(raw), raw["text"], bool(raw["abusive"]), raw.get("kind", ""))


def _feeling_item(raw: dict[str, Any]) -> Item:
    return Item(
        _number(raw),
        raw["reply"],
        bool(raw["names_feeling"]),
        raw.get("kind", ""),
        raw.get("customer", ""),
    )


FLAG_ALL: tuple[str, Callable[[Item], bool]] = ("baseline: flag everything", lambda _: True)

PROBE_SETS = [
    Probe(
        "abuse toward the agent or a chatbot",
        (
            "abuse-messages.jsonl",
            "abuse-messages-2.jsonl",
            "abuse-messages-3.jsonl",
            "abuse-messages-4.jsonl",
        ),
        _abuse_item,
        [
            ("abusive (the abuse.* graders' detector)", lambda i: bool(sig.abusive(i.text))),
            (
                "baseline: insult / swear-word list",
                kw(
                    r"\b(idiot|stupid|dumb|moron|fuck\w*|f\*+k|shit\w*|bitch\w*|bastard|"
                    r"asshole|cunt|retard\w*|useless|kill|die|stfu|kys)\b"
                ),
            ),
            FLAG_ALL,
        ],
    ),
    Probe(
        "agent names the customer's feeling",
        (
            "feeling-replies.jsonl",
            "feeling-replies-2.jsonl",
            "feeling-replies-3.jsonl",
            "feeling-replies-4.jsonl",
        ),
        _feeling_item,
        [
            (
                "names_emotion (the deesc.name_emotion grader's detector)",
                lambda i: bool(sig.names_emotion(i.text)),
            ),
            ("baseline: 'feel' in text", kw(r"\bfeel")),
            (
                "baseline: emotion-word list",
                kw(
                    r"\b(feel\w*|frustrat\w*|upset\w*|worr\w*|angry|anger|annoy\w*|stress\w*|"
                    r"anxious|sad|disappoint\w*|scared|afraid)\b"
                ),
            ),
            FLAG_ALL,
        ],
    ),
]


def load(path: Path, read: Callable[[dict[str, Any]], Item]) -> list[Item]:
    """A probe file's items; a bad line is one clear error naming file and line."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                items.append(read(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path}:{number}: {type(exc).__name__}: {exc}") from exc
    return items


def probe_parts(probe: Probe) -> dict[str, list[Item]]:
    """A probe's three parts. Tuning: the first file's even ids and the files after the
    second (written later to widen it); check: the first file's odd ids; fresh: the second
    file, written by another helper in another style and never tuned on. Missing files are
    left out."""
    split, fresh, *more = (PROBES / f for f in probe.files)
    items = load(split, probe.read)
    parts = {
        "tuning": [i for i in items if i.number % 2 == 0],
        "check": [i for i in items if i.number % 2 == 1],
    }
    for extra in more:
        if extra.is_file():
            parts["tuning"] += load(extra, probe.read)
    if fresh.is_file():
        parts["fresh"] = load(fresh, probe.read)
    return parts


def score(items: list[Item], detector: Callable[[Item], bool]) -> tuple[Counts, list[Item]]:
    """The confusion counts and the items the detector got wrong."""
    counts, wrong = Counts(), []
    for item in items:
        predicted = detector(item)
        counts.add(item.truth, predicted)
        if predicted != item.truth:
            wrong.append(item)
    return counts, wrong


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["tuning", "check", "fresh", "all"], default="all")
    parser.add_argument("--examples", type=int, default=0, help="errors to print (tuning part)")
    parser.add_argument("--no-md", action="store_true", help="do not write docs/detector-probes.md")
    args = parser.parse_args(argv)
    lines = [
        "# Detectors on blind-written labelled messages",
        "",
        *provenance(),
        "",
        "Probe sets in `benchmarks/labelled/probes/`, written by helpers who saw only "
        "GUIDELINES.md and the seeds, never the detectors. The first file of each probe is "
        "split once by id: even = tuning (its errors were read), odd = check (no pattern was "
        "changed for it); the third file (`-3`) joins the tuning part. The second file (`-2`) "
        "was written by another helper in a different style and never tuned on (fresh). "
        "P/R/F1 of the positive class; the detector must beat its one-line keyword rules.",
    ]
    rng = random.Random(0)
    for probe in PROBE_SETS:
        if not (PROBES / probe.files[0]).is_file():
            print(f"detector_probes: no {probe.files[0]}; skipped", file=sys.stderr)
            continue
        for part, subset in probe_parts(probe).items():
            if args.part not in ("all", part):
                continue
            rows = []
            for name, detector in probe.detectors:
                counts, wrong = score(subset, detector)
                rows.append(prf_row(name, counts))
                if args.examples and part == "tuning" and name == probe.detectors[0][0]:
                    print(f"\n[{probe.name} / {part}] {len(wrong)} errors; some:")
                    for item in rng.sample(wrong, min(args.examples, len(wrong))):
                        label = "FN" if item.truth else "FP"
                        print(f"  {label} ({item.kind}) {clip(item.text, 220)!r}")
            title = f"{probe.name}: {part} part ({len(subset)} messages)"
            print(f"\n{title}\n{text_table(PRF_HEADERS, rows)}")
            lines += ["", f"## {title}", "", md_table(PRF_HEADERS, rows)]
    if not args.no_md and args.part == "all":
        print(f"\nwrote {write_doc(DOCS / 'detector-probes.md', chr(10).join(lines))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
