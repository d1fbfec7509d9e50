"""The Ray executor against the local one: `grade` (rule judge) on generated transcripts, in
this process, then as Ray tasks on a local instance with 1 and 2 worker CPUs; checks that
every verdict is the same and reports wall time and scaling.

Run: .venv/bin/python benchmarks/ray_scale.py [--conversations 3000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, provenance, write_doc  # noqa: E402
from benchmarks.grade_scale import write_transcripts  # noqa: E402
from harness.runs import grade_file  # noqa: E402


def verdicts(out: Path) -> dict[str, Any]:
    """Per conversation: score, flags and (guideline, verdict, evidence) of every result."""
    found = {}
    with (out / "scorecards.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            card = json.loads(line)
            found[card["conversation_id"]] = (
                card["score"],
                card["flags"],
                [(r["guideline"], r["verdict"], r["evidence"]) for r in card["results"]],
            )
    return found


def timed_grade(source: Path, out: Path, executor: str) -> float:
    """Seconds to grade `source` into `out`."""
    start = time.perf_counter()
    grade_file(
        source, out, rubric_ref="default", judge_spec="rules", executor=executor, concurrency=4
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=3000)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    import ray

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        source = write_transcripts(Path(tmp) / "t.jsonl", args.conversations)
        local = timed_grade(source, Path(tmp) / "local", "local")
        reference = verdicts(Path(tmp) / "local")
        rows.append(("local (this process)", "-", local, True))
        for workers in (int(w) for w in args.workers.split(",")):
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            try:
                out = Path(tmp) / f"ray{workers}"
                seconds = timed_grade(source, out, "ray")
            finally:
                ray.shutdown()
            rows.append(
                (f"ray, {workers} worker CPU(s)", str(workers), seconds, verdicts(out) == reference)
            )
            print(rows[-1], flush=True)
    lines = [
        "| executor | workers | seconds | conversations/s | vs local | verdicts identical |",
        "|---|---|---|---|---|---|",
    ]
    for name, workers, seconds, same in rows:
        lines.append(
            f"| {name} | {workers} | {seconds:.1f} | {args.conversations / seconds:.0f} | "
            f"{local / seconds:.2f}x | {'yes' if same else 'NO'} |"
        )
    table = "\n".join(lines)
    print(table)
    write_doc(
        DOCS / "ray-executor.md",
        "\n".join(["# The Ray executor", "", *provenance()])
        + f"\n\n`grade_file` with the rule judge on {args.conversations} generated "
        "conversations (6 turns each): in this process, then as Ray tasks on a local Ray "
        "instance limited to 1 and 2 worker CPUs (start-up of the Ray instance not "
        "included). 'verdicts identical' compares every conversation's score, flags and "
        "(guideline, verdict, evidence) with the local run.\n\n" + table + "\n",
    )


if __name__ == "__main__":
    main()
