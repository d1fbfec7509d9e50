"""What every judge shares: the case it grades, the protocol, evidence checks, the score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.models import (
    Evidence,
    GuidelineResult,
    JudgeBatch,
    Persona,
    Rubric,
    StopReason,
    Turn,
)

if TYPE_CHECKING:
    from harness.graders.base import GradeInput
    from harness.llm import Gateway


@dataclass(frozen=True)
class Case:
    """One conversation to grade: its turns, the case facts the agent had, the persona (for
    simulated runs and imports that name one) and why it stopped."""

    turns: list[Turn]
    context: Mapping[str, Any] = field(default_factory=dict)
    persona: Persona | None = None
    stop_reason: StopReason | None = None

    def view(self) -> GradeInput:
        """The conversation as the rule graders see it."""
        from harness.graders import GradeInput

        return GradeInput(
            turns=self.turns,
            context=self.context,
            persona=self.persona,
            stop_reason=self.stop_reason,
        )


class Judge(Protocol):
    """Anything that grades one conversation against a rubric."""

    spec: str

    async def agrade(self, case: Case, rubric: Rubric) -> list[GuidelineResult]:
        """One result per rubric guideline, in rubric order."""
        ...


@dataclass(frozen=True)
class JudgeContext:
    """What a run gives every judge it builds."""

    gateway: Gateway | None = None
    seed: int = 0
    batch: JudgeBatch = "guideline"


class JudgeFactory(Protocol):
    """Builds a judge of one kind from the spec's argument, its options and the run."""

    def __call__(self, arg: str, options: Any, context: JudgeContext, /) -> Judge: ...


def verify_evidence(
    turns: list[Turn], evidence: list[Evidence]
) -> tuple[list[Evidence], list[Evidence]]:
    """Split quotes into (verified, rejected). A quote is verified when it cites an agent
    turn that exists and is an exact, non-empty substring of that turn's text: evidence is
    always about what the agent said."""
    kept: list[Evidence] = []
    rejected: list[Evidence] = []
    for e in evidence:
        cited = turns[e.turn] if 0 <= e.turn < len(turns) else None
        ok = cited is not None and cited.role == "agent" and bool(e.quote) and e.quote in cited.text
        (kept if ok else rejected).append(e)
    return kept, rejected


def weighted_score(results: list[GuidelineResult], rubric: Rubric) -> float | None:
    """The conversation's 0-1 score, QA-scorecard style: the weighted mean over applicable
    `credit` guidelines (what the agent did), less the penalty of every broken `deduction`
    guideline (half for partial); a violated `auto_fail` guideline makes it 0. A "don't"
    kept earns nothing by itself. None when no credit guideline was scored."""
    by_id = {g.id: g for g in rubric.guidelines}
    scored = [(by_id[r.guideline], r) for r in results if r.score is not None]
    credits = [(g.weight, r.score) for g, r in scored if g.scoring == "credit"]
    total = sum(weight for weight, _ in credits)
    if not total:
        return None
    if any(g.scoring == "auto_fail" and r.verdict == "violated" for g, r in scored):
        return 0.0
    earned = sum(weight * (score or 0.0) for weight, score in credits) / total
    lost = sum(g.penalty * (1 - (r.score or 0.0)) for g, r in scored if g.scoring != "credit")
    return round(max(0.0, earned - lost), 4)
