"""Structured output on the embedded model: how often a tiny model breaks format, with and
without the JSON Schema the gateway now sends (a llama.cpp grammar for `local/`).

Judge: the LLM judge grades labelled conversations on the rubric's first section (one call
per guideline); the share of applicable guidelines left `unscored` (no valid verdict after
one retry). Customer: the LLM customer plays personas against the playbook macros; the share
of customer turns whose reply was not the JSON asked for (even after one regeneration: the
customer then falls back to a plain reply and flags it), and of conversations flagged.

Run: .venv/bin/python benchmarks/structured_output.py [--conversations 4] [--model local/smollm2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DOCS, provenance, write_doc  # noqa: E402
from harness.agents import AgentContext, make_agent  # noqa: E402
from harness.catalog import load_persona, load_rubric, read_conversations  # noqa: E402
from harness.customers import make_customer  # noqa: E402
from harness.episode import CaseBrief, run_episode  # noqa: E402
from harness.judging import Case  # noqa: E402
from harness.judging.model import ModelJudge  # noqa: E402
from harness.llm import Gateway, ModelSettings  # noqa: E402
from harness.models import StopReason  # noqa: E402

PERSONAS = ["late-gift", "wrong-model", "manager-now", "overdraft-billing"]


def judge_unscored(model: str, structured: bool, count: int) -> tuple[int, int]:
    """(unscored, applicable) verdicts of the LLM judge on `count` labelled conversations."""
    full, _ = load_rubric("default")
    first = full.guidelines[0].section  # one section keeps a tiny CPU model's run short
    rubric = full.model_copy(
        update={"guidelines": [g for g in full.guidelines if g.section == first]}
    )
    gateway = Gateway(ModelSettings(cache_dir=None, structured=structured))
    judge = ModelJudge(model=model, gateway=gateway, spec=f"model:{model}")
    unscored = applicable = 0
    for _, conversation in list(read_conversations(ROOT / "benchmarks" / "devset.jsonl"))[:count]:
        case = Case(
            turns=conversation.turns, context=conversation.context, stop_reason=StopReason.imported
        )
        results = asyncio.run(judge.agrade(case, rubric))
        applicable += sum(r.verdict != "na" for r in results)
        unscored += sum(r.verdict == "unscored" for r in results)
    return unscored, applicable


def customer_faults(model: str, structured: bool, count: int) -> tuple[int, int, int, int]:
    """(turns not in format, customer turns, conversations flagged, conversations)."""
    broken = turns = flagged = 0
    personas = [load_persona(ref)[0] for ref in PERSONAS[:count]]
    for persona in personas:
        gateway = Gateway(ModelSettings(cache_dir=None, structured=structured))
        customer = make_customer(
            f"model:{model}", persona, seed=0, difficulty=None, gateway=gateway
        )
        agent = make_agent(
            "macros:evals/macros/seed-playbook.yaml",
            AgentContext(brief=CaseBrief.from_persona(persona)),
        )
        result = asyncio.run(run_episode(customer, agent, max_turns=6))
        turns += sum(t.role == "customer" for t in result.turns)
        faults = list(customer.faults)
        broken += sum("json" in f.lower() or "format" in f.lower() for f in faults)
        flagged += bool(faults)
    return broken, turns, flagged, len(personas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2")
    parser.add_argument("--conversations", type=int, default=4)
    args = parser.parse_args()
    lines = [
        "| role | measure | without schema | with schema |",
        "|---|---|---|---|",
    ]
    judged = {}
    for flag in (False, True):
        judged[flag] = judge_unscored(args.model, flag, args.conversations)
        print(f"judge, schema {flag}: {judged[flag]}", flush=True)
    lines.append(
        "| judge | unscored verdicts / applicable | "
        + " | ".join(f"{u}/{a} ({u / max(1, a):.0%})" for u, a in (judged[False], judged[True]))
        + " |"
    )
    played = {}
    for flag in (False, True):
        played[flag] = customer_faults(args.model, flag, args.conversations)
        print(f"customer, schema {flag}: {played[flag]}", flush=True)
    lines.append(
        "| customer | turns not in the JSON format / customer turns | "
        + " | ".join(
            f"{b}/{t} ({b / max(1, t):.0%})" for b, t, _, _ in (played[False], played[True])
        )
        + " |"
    )
    lines.append(
        "| customer | conversations flagged sim_fault | "
        + " | ".join(f"{f}/{n}" for _, _, f, n in (played[False], played[True]))
        + " |"
    )
    table = "\n".join(lines)
    print(table)
    write_doc(
        DOCS / "structured-output.md",
        "\n".join(["# Structured output on the embedded model", "", *provenance()])
        + f"\n\nModel `{args.model}`. Judge: one call per guideline of the rubric's first "
        f"section, on the first {args.conversations} conversations of "
        "`benchmarks/devset.jsonl`. Customer: the LLM customer against the seed-playbook "
        f"macros on {args.conversations} personas, at most 6 turns. 'With schema' sends each "
        "role's pydantic model as a JSON Schema (a llama.cpp "
        "grammar here); 'without' relies on the prompt and one parse-and-retry.\n\n" + table + "\n",
    )


if __name__ == "__main__":
    main()
