"""Harness overhead per model call and batch throughput against a local server.

A scripted OpenAI-compatible server on 127.0.0.1 answers every call after a fixed latency
(default 200 ms). The model agent talks to the scripted customer through litellm, with the
rule judge, for a batch of conversations at concurrency 1, 8 and 32. Reports conversations
per minute, the ideal latency-bound rate, their ratio, and the harness overhead per call.

Run: .venv/bin/python benchmarks/llm_throughput.py [--latency 0.2] [--conversations 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, provenance, write_doc  # noqa: E402
from harness.models import RunSettings  # noqa: E402
from harness.runs import execute, start_run  # noqa: E402
from tests.fake_openai import FakeOpenAI, Scripted  # noqa: E402

REPLY = (
    "I'm sorry we let you down. I can overnight a replacement telescope at no charge so "
    "it reaches you by noon tomorrow."
)


def measure(
    server: FakeOpenAI, concurrency: int, conversations: int, max_turns: int, root: Path
) -> dict[str, Any]:
    """Run one batch; return timings."""
    settings = RunSettings(
        personas=["late-gift"],
        agents=["model:openai/bench"],
        seeds=list(range(conversations)),
        concurrency=concurrency,
        max_turns=max_turns,
        api_base=server.base,
        cache=False,
        retries=0,
    )
    out = root / f"c{concurrency}"
    before = len(server.requests)
    store, manifest, todo = start_run(settings, out, name="bench", kind="run", resume=False)
    start = time.perf_counter()
    manifest = execute(store, manifest, todo)
    elapsed = time.perf_counter() - start
    calls = len(server.requests) - before
    return {
        "concurrency": concurrency,
        "conversations": manifest.conversations,
        "calls": calls,
        "seconds": elapsed,
        "errors": manifest.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--conversations", type=int, default=32)
    parser.add_argument("--max-turns", type=int, default=6)
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeOpenAI(lambda body: Scripted(REPLY, delay=args.latency)) as server,
    ):
        # warm-up: import litellm and open connections outside the timed runs
        measure(server, 1, 1, 2, Path(tmp) / "warm")
        for level in (int(x) for x in args.levels.split(",")):
            rows.append(measure(server, level, args.conversations, args.max_turns, Path(tmp)))
    lines = [
        "| concurrency | conversations | model calls | seconds | conv/min | ideal conv/min | "
        "ratio | overhead per call (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        calls_per_conv = row["calls"] / max(1, row["conversations"])
        waves = -(-row["conversations"] // row["concurrency"])  # ceil
        ideal_seconds = waves * calls_per_conv * args.latency
        rate = 60 * row["conversations"] / row["seconds"]
        ideal = 60 * row["conversations"] / ideal_seconds
        overhead_ms = 1000 * (row["seconds"] - ideal_seconds) / (waves * calls_per_conv)
        lines.append(
            f"| {row['concurrency']} | {row['conversations']} | {row['calls']} | "
            f"{row['seconds']:.2f} | {rate:.1f} | {ideal:.1f} | {rate / ideal:.2f} | "
            f"{overhead_ms:.1f} |"
        )
        if row["errors"]:
            lines.append(f"|  | {row['errors']} errors |  |  |  |  |  |  |")
    table = "\n".join(lines)
    print(table)
    header = "\n".join(["# LLM path throughput", "", *provenance()])
    write_doc(
        DOCS / "llm-throughput.md",
        header
        + (
            f"\n\nScripted OpenAI-compatible server on 127.0.0.1, {args.latency * 1000:.0f} ms per "
            f"call; model agent (litellm) vs scripted customer, rule judge, "
            f"max {args.max_turns} turns; cache off.\n\n"
        )
        + table
        + "\n",
    )


if __name__ == "__main__":
    main()
