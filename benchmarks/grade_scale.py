"""Grading at scale: wall time and peak memory of `toughtalk grade` (rule judge) on
generated transcript files of growing size, each in its own process (start-up and the
closing summary included).

The input is streamed and scorecards are appended as they are made, so the grading itself
holds one conversation per worker; what grows with the run is the closing summary, which
keeps one light scorecard (no per-guideline verdicts) per conversation.

Run: .venv/bin/python benchmarks/grade_scale.py [--sizes 2000,20000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, provenance, write_doc  # noqa: E402

CUSTOMER = [
    "My parcel is a week late and nobody answers my emails.",
    "You charged me twice this month. Fix it now.",
    "This is the third time I'm calling about the same broken router!",
    "I want to speak to a manager, you clearly can't help.",
]
AGENT = [
    "I'm sorry, that sounds really frustrating. Let's sort it out together.",
    "Could you tell me a bit more about what happened when you called?",
    "I'll refund the second charge today and email you the receipt by 5pm.",
    "Calm down, please. That's our policy.",
]
MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.stderr.write(done.stderr[-2000:])
    sys.exit(done.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def write_transcripts(path: Path, count: int, seed: int = 0) -> Path:
    """`count` varied 6-turn conversations, written line by line."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            turns = []
            for _ in range(3):
                turns.append({"role": "customer", "text": rng.choice(CUSTOMER)})
                turns.append({"role": "agent", "text": rng.choice(AGENT)})
            row = {"id": f"c{n:07d}", "context": {"order_id": f"A-{n}"}, "turns": turns}
            handle.write(json.dumps(row) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            source = write_transcripts(Path(tmp) / f"t{size}.jsonl", size)
            out = Path(tmp) / f"g{size}"
            command = [sys.executable, "-m", "harness.cli", "grade", str(source)]
            command += ["--concurrency", str(args.concurrency), "--out", str(out)]
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", MEASURE, *command],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=False,
            )
            seconds = time.perf_counter() - start
            if done.returncode:
                raise SystemExit(f"grade of {size} failed: {done.stderr[-1000:]}")
            peak_mb = int(done.stdout.strip().splitlines()[-1]) / 1024
            lines = sum(1 for _ in (out / "scorecards.jsonl").open(encoding="utf-8"))
            input_mb = source.stat().st_size / 1e6
            rows.append((size, lines, input_mb, seconds, size / seconds, peak_mb))
            print(f"{size}: {seconds:.1f} s, {peak_mb:.0f} MB", flush=True)
    lines_md = [
        "| conversations | scorecards | input (MB) | seconds | conversations/s | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for size, cards, input_mb, seconds, rate, peak in rows:
        lines_md.append(
            f"| {size} | {cards} | {input_mb:.1f} | {seconds:.1f} | {rate:.0f} | {peak:.0f} |"
        )
    table = "\n".join(lines_md)
    print(table)
    header = "\n".join(["# Grading at scale", "", *provenance()])
    write_doc(
        DOCS / "grade-scale.md",
        header + "\n\n`toughtalk grade FILE` with the rule judge, each size in its own process "
        "(start-up and the closing summary included); peak RSS of that process. The input "
        "is read lazily and every scorecard is appended as it is made; the closing summary "
        "keeps one light scorecard (no per-guideline verdicts) per conversation.\n\n"
        + table
        + "\n",
    )


if __name__ == "__main__":
    main()
