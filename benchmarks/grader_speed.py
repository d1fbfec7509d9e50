"""How fast the rule judge grades: conversations per second on one core, 10-turn conversations.

    .venv/bin/python benchmarks/grader_speed.py
    .venv/bin/python benchmarks/grader_speed.py --seconds 5 --turns 10 --top 10

Conversations are the devset's (or `--file`'s), cycled to exactly `--turns` turns (a short
conversation is repeated from its start, so the text stays real). Without a labelled file
the Twitter support dialogs from the shared data are used. Each round grades the whole set
with `RulesJudge().grade` (the default rubric, stop reason `imported`) until at least
`--seconds` have passed, timed with `time.perf_counter`; the best of `--rounds` rounds is
reported (the median too). Then every grader is timed alone, on a fresh `GradeInput` per
conversation (so it pays for the shared facts it needs), to show the expensive ones.
Writes docs/grader-speed.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    DOCS,
    fmt,
    md_table,
    provenance,
    shown_path,
    text_table,
    write_doc,
)
from harness.catalog import load_rubric, parse_conversation  # noqa: E402
from harness.errors import InputError  # noqa: E402
from harness.graders import REGISTRY, GradeInput  # noqa: E402
from harness.judges import RulesJudge  # noqa: E402
from harness.models import Conversation, StopReason, Turn  # noqa: E402
from harness.signals import start_conversation  # noqa: E402

DEVSET = ROOT / "benchmarks" / "devset.jsonl"


def load_conversations(path: Path) -> list[Conversation]:
    """Every parseable conversation of a transcript JSONL (bad lines skipped)."""
    out = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    out.append(parse_conversation(line, path, number))
                except InputError:
                    continue
    return out


def twitter_conversations() -> list[Conversation]:
    """Fallback: the Twitter support dialogs from the shared data, as conversations."""
    from benchmarks.datasets import load_twcs, twcs_to_conversation

    return [twcs_to_conversation(d) for d in load_twcs()]


def cycle_to(turns: list[Turn], length: int) -> list[Turn]:
    """Exactly `length` turns: truncated, or repeated from the start (state/actions dropped)."""
    plain = [Turn(role=t.role, text=t.text) for t in turns]
    return [plain[i % len(plain)] for i in range(length)]


def time_rounds(work, seconds: float, rounds: int) -> list[tuple[int, float]]:
    """(items, elapsed) per round; each round repeats `work()` until `seconds` have passed."""
    out = []
    for _ in range(rounds):
        items = 0
        start = time.perf_counter()
        while True:
            items += work()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        out.append((items, elapsed))
    return out


def pin_one_core() -> str:
    """Pin this process to one CPU where the OS allows it."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity); single-threaded"


def profile(work, top: int) -> None:
    """cProfile one pass of `work`, then time every regex pattern `signals.find` runs."""
    import cProfile
    import pstats

    from harness import signals

    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    print(f"\nprofile of one pass (top {top} by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)

    # Which patterns cost the most: wrap signals.find for one pass (restored afterwards).
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}
    original = signals.find

    def timed_find(patterns, text):  # type: ignore[no-untyped-def]
        patterns = list(patterns)
        for pattern in patterns:
            start = time.perf_counter()
            for _ in signals.engine.rx(pattern).finditer(text):
                pass
            spent[pattern] = spent.get(pattern, 0.0) + time.perf_counter() - start
            calls[pattern] = calls.get(pattern, 0) + 1
        return original(patterns, text)

    signals.find = timed_find
    try:
        work()
    finally:
        signals.find = original
    total = sum(spent.values())
    rows = [
        [pattern[:70], calls[pattern], f"{1e3 * t:,.1f}", f"{100 * t / total:.1f}%"]
        for pattern, t in sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    ]
    print(f"regex patterns by time in signals.find over one pass ({1e3 * total:,.0f} ms in all):")
    print(text_table(["pattern", "calls", "ms", "share"], rows))


def runtime_note() -> str:
    """Which encoder the semantic layer ran on (harness/embedding_runtime.py)."""
    from harness import embeddings

    model = embeddings.embedder()
    if model.runtime == "onnx":
        return (
            "ONNX Runtime, int8 graph built from the packaged weights, one sentence per "
            "forward pass (`TOUGHTALK_EMBED_RUNTIME=torch` for the torch reference)"
        )
    return "torch (sentence-transformers, dynamic int8), batches of 8"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEVSET, help="conversations JSONL")
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation")
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (best is reported)")
    parser.add_argument("--per-grader", type=float, default=0.2, help="seconds per grader")
    parser.add_argument("--top", type=int, default=10, help="slowest graders to list")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also print the top N functions"
    )
    parser.add_argument("--no-md", action="store_true", help="do not write docs/grader-speed.md")
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="rules + the embedding classifiers ([embed] extra); sentence embeddings are not "
        "cached across conversations; writes docs/grader-speed-semantic.md",
    )
    args = parser.parse_args(argv)
    if args.semantic:
        from harness import signals

        signals.use_semantic(True)

    if args.file.is_file():
        source = shown_path(args.file)
        conversations = load_conversations(args.file)
    else:
        print(f"no {args.file}; using the Twitter support dialogs instead", file=sys.stderr)
        source = "twcs_frustration/dprocessed.txt (shared data)"
        conversations = twitter_conversations()
    if not conversations:
        print("grader_speed: no conversations to time", file=sys.stderr)
        return 0

    rubric, _ = load_rubric("default")
    judge = RulesJudge(semantic=args.semantic)
    convs = [(cycle_to(c.turns, args.turns), c.context) for c in conversations]
    pinned = pin_one_core()

    def grade_all() -> int:
        for turns, context in convs:
            judge.grade(
                turns, rubric, context=context, persona=None, stop_reason=StopReason.imported
            )
        return len(convs)

    grade_all()  # warm-up: regex compilation, imports
    rounds = time_rounds(grade_all, args.seconds, args.rounds)
    rates = [items / elapsed for items, elapsed in rounds]
    best, median = max(rates), statistics.median(rates)
    n_guidelines = len(rubric.guidelines)
    us_conv = 1e6 / best
    us_guideline = us_conv / n_guidelines
    total_items = sum(items for items, _ in rounds)
    total_time = sum(elapsed for _, elapsed in rounds)

    # Every grader alone: a fresh GradeInput per conversation, so shared facts are paid for.
    per_grader = []
    for g in rubric.guidelines:
        fn = REGISTRY[g.grader.removeprefix("rules:")]

        def one(fn=fn) -> int:
            for turns, context in convs:
                # as the judge does per conversation: no memo (or embedding) across them
                start_conversation(t.text for t in turns if t.role == "agent")
                fn(GradeInput(turns=turns, context=context, stop_reason=StopReason.imported))
            return len(convs)

        ((items, elapsed),) = time_rounds(one, args.per_grader, 1)
        per_grader.append((g.id, 1e6 * elapsed / items))
    per_grader.sort(key=lambda r: -r[1])
    isolated_sum = sum(us for _, us in per_grader)

    summary_rows = [
        ["conversations per second (best round)", f"{best:,.0f}"],
        ["conversations per second (median round)", f"{median:,.0f}"],
        ["µs per conversation", f"{us_conv:,.0f}"],
        ["µs per guideline (per conversation / guidelines)", f"{us_guideline:,.1f}"],
        ["guidelines", n_guidelines],
        ["turns per conversation", args.turns],
        ["distinct conversations", len(convs)],
        ["conversations graded while timing", f"{total_items:,}"],
        ["seconds timed", f"{total_time:.2f}"],
    ]
    top_rows = [
        [gid, f"{us:,.1f}", f"{100 * us / isolated_sum:.1f}%"] for gid, us in per_grader[: args.top]
    ]
    env = (
        f"Python {platform.python_version()} on {platform.machine()} "
        f"({platform.processor() or platform.system()}), {pinned}"
    )

    print(f"{source}: {len(convs)} conversations cycled to {args.turns} turns; {env}\n")
    print(text_table(["measure", "value"], summary_rows))
    print(
        f"\nslowest graders alone (fresh GradeInput each time; sum of all "
        f"{n_guidelines} alone = {isolated_sum:,.0f} µs vs {us_conv:,.0f} µs together):"
    )
    print(text_table(["guideline", "µs/conv", "share"], top_rows))

    if args.profile:
        profile(grade_all, args.profile)

    if not args.no_md:
        text = "\n".join(
            [
                "# Rule-judge speed" + (" with the semantic layer" if args.semantic else ""),
                "",
                f"Input: `{source}`, {len(convs)} conversations cycled to {args.turns} turns "
                f"each; `RulesJudge().grade` with the default rubric ({n_guidelines} "
                f"guidelines). Timed with `time.perf_counter`, {args.rounds} rounds of at "
                f"least {args.seconds:g} s after a warm-up; one core.",
                "",
                *provenance(),
                f"- machine: {env}",
                *([f"- sentence embeddings: {runtime_note()}"] if args.semantic else []),
                "",
                f"**{best:,.0f} conversations/s** ({us_conv:,.0f} µs per conversation, "
                f"{us_guideline:,.1f} µs per guideline).",
                "",
                md_table(["measure", "value"], summary_rows),
                "",
                "## Slowest graders alone",
                "",
                f"Each grader on a fresh `GradeInput` per conversation, so it pays for the "
                f"shared facts it uses; the sum over all graders alone is "
                f"{fmt(isolated_sum, 0)} µs against {fmt(us_conv, 0)} µs when they share "
                f"one `GradeInput`.",
                "",
                md_table(["guideline", "µs/conv", "share of sum"], top_rows),
            ]
        )
        name = "grader-speed-semantic.md" if args.semantic else "grader-speed.md"
        path = write_doc(DOCS / name, text)
        print(f"\nwrote {shown_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
