"""Dry runs: rough model calls, tokens and cost per role before anything is called."""

from __future__ import annotations

from dataclasses import dataclass

from harness.catalog import load_rubric
from harness.llm import estimate_cost
from harness.models import RunSettings
from harness.plan import plan
from harness.registry import parse_spec

PROMPT_TOKENS = {"agent": 700, "customer": 900, "judge": 900}
COMPLETION_TOKENS = {"agent": 90, "customer": 110, "judge": 80}
TURN_TOKENS = 60
# Share of guidelines that reach the model: those that apply (model) / that rules defer.
JUDGE_SHARE = {"model": 0.6, "hybrid": 0.3}


@dataclass(frozen=True)
class RoleEstimate:
    """Estimated calls, tokens and cost of one model role."""

    role: str
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def estimate(settings: RunSettings, *, graded: int | None = None) -> tuple[int, list[RoleEstimate]]:
    """The number of conversations and the estimate per model role of a run; with `graded`,
    of grading that many recorded conversations (judges only)."""
    jobs = plan(settings)[0] if graded is None else []
    count = len(jobs) if graded is None else graded
    rubric, _ = load_rubric(settings.rubric)
    replies = settings.max_turns // 2
    history = TURN_TOKENS * settings.max_turns // 2  # mean transcript length per call
    roles: list[tuple[str, str, int]] = []
    for spec in dict.fromkeys(settings.agents):
        agent = parse_spec(spec)
        if agent.kind == "model":
            count = sum(1 for j in jobs if j.agent == spec)
            roles.append(("agent", agent.arg, count * replies))
    customer = parse_spec(settings.customer)
    if customer.kind == "model" and jobs:
        roles.append(("customer", customer.arg, len(jobs) * replies))
    sections = len({g.section for g in rubric.guidelines})
    for spec in (settings.judge, *settings.judges):
        judge = parse_spec(spec)
        if judge.kind in JUDGE_SHARE:
            share = JUDGE_SHARE[judge.kind]
            per = sections if settings.judge_batch == "section" else len(rubric.guidelines) * share
            roles.append(("judge", judge.arg, int(count * per)))
    rows = []
    for role, model, calls in roles:
        prompt = calls * (PROMPT_TOKENS[role] + history)
        completion = calls * COMPLETION_TOKENS[role]
        cost = estimate_cost(model, prompt, completion)
        rows.append(RoleEstimate(role, model, calls, prompt, completion, cost))
    return count, rows
