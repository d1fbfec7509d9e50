"""From a finished conversation to its two stored lines: the transcript record and the
scorecard (every judge's verdicts, the weighted score, the outcome and the usage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.catalog import load_rubric
from harness.judging import Case, Judge, JudgeContext, make_judge, weighted_score
from harness.models import (
    GuidelineResult,
    Outcome,
    RoleUsage,
    Rubric,
    RunSettings,
    Scorecard,
    StopReason,
    TranscriptRecord,
    Turn,
)

if TYPE_CHECKING:
    from harness.llm import Gateway


@dataclass(frozen=True)
class Labels:
    """Who and what a conversation was: the fields both stored lines carry."""

    run_id: str
    conversation_id: str
    persona: str | None
    agent: str
    customer: str
    seed: int | None
    difficulty: int | None = None


@dataclass
class Grading:
    """The judges of a run: the primary judge scores, the panel adds verdicts to compare."""

    judge: Judge
    panel: list[Judge]
    rubric: Rubric


def grading_for(
    rubric: str,
    judge: str,
    panel: list[str],
    gateway: Gateway | None,
    *,
    batch: str = "guideline",
) -> Grading:
    """Fresh judges for one conversation, built from their specs."""
    loaded, _ = load_rubric(rubric)
    context = JudgeContext(gateway=gateway, batch="section" if batch == "section" else "guideline")
    return Grading(
        make_judge(judge, context), [make_judge(spec, context) for spec in panel], loaded
    )


def run_grading(settings: RunSettings, gateway: Gateway | None) -> Grading:
    """The judges a run's settings name."""
    return grading_for(
        settings.rubric, settings.judge, settings.judges, gateway, batch=settings.judge_batch
    )


def outcome_for(
    turns: list[Turn], stop: StopReason, *, resolved: bool, csat: int | None
) -> Outcome:
    """Outcome block of a scorecard from the transcript's recorded customer states."""
    anger = [t.state.anger for t in turns if t.role == "customer" and t.state]
    calmed = next(
        (i for i, t in enumerate(turns) if t.role == "customer" and t.state and t.state.anger <= 3),
        None,
    )
    states = [t.state for t in turns if t.state]
    return Outcome(
        stop_reason=stop,
        resolved=resolved,
        turns=len(turns),
        anger=anger or None,
        csat=csat,
        calmed_at_turn=calmed,
        real_issue_revealed=any(s.real_issue_revealed for s in states) if states else None,
        policy_breach=states[-1].policy_breach if states else [],
    )


def resolved(case: Case, stop: StopReason) -> bool:
    """Whether the conversation reached a resolution: the customer's typed action in a
    simulation; for an imported transcript, the graders' reading of its words."""
    if stop == StopReason.resolved:
        return True
    return stop == StopReason.imported and case.view().resolved


def not_a_result(case: Case, stop: StopReason) -> list[str]:
    """Why a conversation cannot be scored at all: `error` (it broke off with an error) and
    `no_agent_turn` (the agent never said anything); empty for a gradable conversation."""
    flags = []
    if stop == StopReason.error:
        flags.append("error")
    if not any(t.role == "agent" and t.text.strip() for t in case.turns):
        flags.append("no_agent_turn")
    return flags


async def scorecard(
    case: Case,
    stop: StopReason,
    labels: Labels,
    grading: Grading,
    *,
    csat: int | None,
    usage: dict[str, RoleUsage] | None = None,
    sim_faults: list[str] | None = None,
) -> Scorecard:
    """Grade one conversation with every judge and build its scorecard.

    A conversation that is not a result is not graded and carries `score: null` with its
    `flags`: it ended in an error, or the agent never spoke. One whose verdicts are all
    unscored (the judge failed) is flagged `unscored`, also with no score."""
    rubric = grading.rubric
    flags = not_a_result(case, stop)
    results: list[GuidelineResult] = []
    panel: dict[str, list[GuidelineResult]] = {}
    if not flags:
        results = await grading.judge.agrade(case, rubric)
        panel = {j.spec: await j.agrade(case, rubric) for j in grading.panel}
        unscored = any(r.verdict == "unscored" for r in results)
        if unscored and all(r.verdict in ("unscored", "na") for r in results):
            flags = ["unscored"]
    outcome = outcome_for(
        case.turns, stop, resolved=resolved(case, stop), csat=None if flags else csat
    )
    if sim_faults:
        outcome = outcome.model_copy(update={"sim_fault": True, "sim_faults": sim_faults})
    return Scorecard(
        run_id=labels.run_id,
        conversation_id=labels.conversation_id,
        persona=case.persona.id if case.persona else None,
        agent=labels.agent,
        customer=labels.customer,
        judge=grading.judge.spec,
        rubric=f"{rubric.id}@{rubric.version}",
        seed=labels.seed,
        difficulty=labels.difficulty,
        outcome=outcome,
        results=results,
        score=None if flags else weighted_score(results, rubric),
        flags=flags,
        usage={
            role: u.model_copy(update={"cost_usd": round(u.cost_usd, 8)})
            for role, u in (usage or {}).items()
            if u.calls
        },
        panel=panel,
    )


async def contained_scorecard(
    case: Case,
    stop: StopReason,
    labels: Labels,
    grading: Grading,
    *,
    csat: int | None,
    usage: dict[str, RoleUsage] | None = None,
    sim_faults: list[str] | None = None,
) -> tuple[StopReason, Scorecard, str | None]:
    """`scorecard`, with a grader or judge failure contained to this conversation: it then
    ends in an error (no score, retried by --resume) and the batch goes on. Returns the
    stop reason, the scorecard and the grading error, if any."""
    try:
        card = await scorecard(
            case, stop, labels, grading, csat=csat, usage=usage, sim_faults=sim_faults
        )
    except Exception as exc:  # any grader bug or bad pattern: recorded, never the whole batch
        error = f"grading failed: {type(exc).__name__}: {exc}"
        card = await scorecard(
            case, StopReason.error, labels, grading, csat=None, usage=usage, sim_faults=sim_faults
        )
        return StopReason.error, card, error
    return stop, card, None


def transcript_record(
    case: Case,
    stop: StopReason,
    labels: Labels,
    *,
    error: str | None = None,
    sim_faults: list[str] | None = None,
    coaching: dict[str, int] | None = None,
) -> TranscriptRecord:
    """The transcripts.jsonl line of one conversation."""
    return TranscriptRecord(
        run_id=labels.run_id,
        conversation_id=labels.conversation_id,
        persona=labels.persona,
        agent=labels.agent,
        customer=labels.customer,
        seed=labels.seed,
        difficulty=labels.difficulty,
        context=dict(case.context),
        turns=case.turns,
        stop_reason=stop,
        error=error,
        sim_faults=sim_faults or [],
        coaching=coaching,
    )
