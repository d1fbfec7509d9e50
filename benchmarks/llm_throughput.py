"""How close toughtalk gets to the wire: four clients against one scripted server.

A scripted OpenAI-compatible server on 127.0.0.1 answers every call after a fixed latency
(default 100 ms). Four clients run against it at the same concurrency (default 32), each as
its own process so that start-up counts:

- a raw openai SDK loop (`AsyncOpenAI`, a semaphore, N calls);
- a raw litellm loop (`litellm.acompletion`, the same);
- `toughtalk run --agent model:openai/bench` (model agent vs the scripted customer, rule
  judge, graded and written to a run directory);
- `toughtalk grade --judge model:openai/bench` (LLM judge over recorded conversations).

Efficiency = the latency-bound ideal (calls x latency / concurrency) / wall time, start-up
included. The goals: `run` at least 0.9x and `grade` at least 0.8x the raw SDK's efficiency.

Run: .venv/bin/python benchmarks/llm_throughput.py [--latency 0.1] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, provenance, write_doc  # noqa: E402
from tests.fake_openai import FakeOpenAI, Scripted  # noqa: E402

REPLY = (
    "I'm sorry we let you down. I can overnight a replacement telescope at no charge so "
    "it reaches you by noon tomorrow."
)
SDK, LITELLM = "raw openai SDK loop", "raw litellm loop"
RUN, GRADE = "`toughtalk run --agent model:`", "`toughtalk grade --judge model:`"
VERDICT = json.dumps({"verdict": "missed", "evidence": [], "rationale": "not there"})

OPENAI_LOOP = """
import asyncio, sys
import openai
calls, concurrency, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def main():
    client = openai.AsyncOpenAI(base_url=base, api_key="x", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    async def one(n):
        async with gate:
            await client.chat.completions.create(
                model="bench", messages=[{"role": "user", "content": f"hi {n}"}])
    await asyncio.gather(*(one(n) for n in range(calls)))
asyncio.run(main())
"""
LITELLM_LOOP = """
import asyncio, os, sys
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import litellm
calls, concurrency, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def main():
    gate = asyncio.Semaphore(concurrency)
    async def one(n):
        async with gate:
            await litellm.acompletion(model="openai/bench", api_base=base, api_key="x",
                num_retries=0, messages=[{"role": "user", "content": f"hi {n}"}])
    await asyncio.gather(*(one(n) for n in range(calls)))
asyncio.run(main())
"""


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one process, start-up included; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args[:4]} failed ({done.returncode}): {done.stderr[-800:]}")
    return elapsed


def transcripts(path: Path, count: int) -> Path:
    """`count` short recorded conversations to grade."""
    rows = [
        {
            "id": f"c{n}",
            "turns": [
                {"role": "customer", "text": "My parcel is a week late and I'm furious."},
                {"role": "agent", "text": f"Sorry about that; I'll check order {n} now."},
            ],
        }
        for n in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--conversations", type=int, default=128, help="run: conversations")
    parser.add_argument("--graded", type=int, default=64, help="grade: conversations")
    args = parser.parse_args()
    c, latency = args.concurrency, args.latency
    found: dict[str, tuple[int, float]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeOpenAI(lambda body: _reply(body, latency)) as server,
    ):
        env = {**os.environ, "OPENAI_API_KEY": "bench", "PYTHONPATH": str(ROOT)}
        model = ["--api-base", server.base, "--no-cache", "--retries", "0"]
        tool = [sys.executable, "-m", "harness.cli"]
        run = [*tool, "run", "--persona", "late-gift", "--agent", "model:openai/bench"]
        run += ["--seeds", str(args.conversations), "--max-turns", "6"]
        source = transcripts(Path(tmp) / "t.jsonl", args.graded)
        grade = [*tool, "grade", str(source), "--judge", "model:openai/bench"]
        for name, command in (
            (RUN, [*run, "--concurrency", str(c), *model, "--out", f"{tmp}/run"]),
            (GRADE, [*grade, "--concurrency", str(c), *model, "--out", f"{tmp}/grade"]),
        ):
            before = len(server.requests)
            seconds = timed(command, env)
            found[name] = (len(server.requests) - before, seconds)
        calls = found[RUN][0]
        for name, loop in ((SDK, OPENAI_LOOP), (LITELLM, LITELLM_LOOP)):
            script = Path(tmp) / f"raw_{name.split()[1]}_loop.py"
            script.write_text(loop, encoding="utf-8")
            found[name] = (
                calls,
                timed([sys.executable, str(script), str(calls), str(c), server.base], env),
            )
    rows = [(name, *found[name]) for name in (SDK, LITELLM, RUN, GRADE)]
    efficiency = {name: calls * latency / c / seconds for name, calls, seconds in rows}
    sdk = efficiency[SDK]
    lines = [
        "| client, same stub | model calls | seconds | ideal seconds | efficiency | vs raw SDK |",
        "|---|---|---|---|---|---|",
    ]
    for name, calls, seconds in rows:
        ideal = calls * latency / c
        lines.append(
            f"| {name} | {calls} | {seconds:.2f} | {ideal:.2f} | {efficiency[name]:.2f} | "
            f"{efficiency[name] / sdk:.2f}x |"
        )
    table = "\n".join(lines)
    print(table)
    header = "\n".join(["# LLM path throughput", "", *provenance()])
    write_doc(
        DOCS / "llm-throughput.md",
        header
        + (
            f"\n\nA scripted OpenAI-compatible server on 127.0.0.1 answers every call after "
            f"{latency * 1000:.0f} ms; every client runs at concurrency {c} in its own process "
            "(start-up included), cache off, no retries. `run`: the model agent against the "
            f"scripted customer on {args.conversations} conversations of at most 6 turns, rule "
            f"judge; `grade`: the LLM judge on {args.graded} recorded conversations (one call "
            "per applicable guideline). Efficiency = (calls x latency / concurrency) / wall "
            "time. Goals: `run` at least 0.9x, `grade` at least 0.8x the raw SDK.\n\n"
        )
        + table
        + "\n",
    )


def _reply(body: dict[str, object], latency: float) -> Scripted:
    """The judge's verdict for judge prompts, an agent reply otherwise."""
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    system = str(first.get("content", "")) if isinstance(first, dict) else ""
    return Scripted(VERDICT if "quality assessor" in system else REPLY, delay=latency)


if __name__ == "__main__":
    main()
