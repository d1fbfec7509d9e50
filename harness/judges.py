"""Judges turn a conversation into per-guideline results and a weighted score.

`rules` (the default) runs the registered rule graders; `model:ID` and `hybrid:ID` are the
LLM judges in `harness.llm_judge`. Every judge has `agrade` (async).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from harness import signals
from harness.errors import UsageError
from harness.graders import REGISTRY, GradeInput
from harness.models import (
    VERDICT_SCORE,
    Evidence,
    GuidelineResult,
    Persona,
    Rubric,
    RubricGuideline,
    StopReason,
    Turn,
)

if TYPE_CHECKING:
    from harness.llm import Gateway


class Judge(Protocol):
    """Anything that grades one conversation against a rubric."""

    spec: str

    async def agrade(
        self,
        turns: list[Turn],
        rubric: Rubric,
        *,
        context: Mapping[str, Any],
        persona: Persona | None,
        stop_reason: StopReason | None,
    ) -> list[GuidelineResult]:
        """Grade every guideline of the rubric."""
        ...


def verified_evidence(turns: list[Turn], evidence: list[Evidence]) -> tuple[list[Evidence], int]:
    """Keep only quotes that are exact substrings of the cited turn; count the dropped ones."""
    kept = [
        e
        for e in evidence
        if 0 <= e.turn < len(turns) and e.quote and e.quote in turns[e.turn].text
    ]
    return kept, len(evidence) - len(kept)


@dataclass
class RulesJudge:
    """Deterministic rule graders (no model, no network)."""

    spec: str = "rules"

    def grade(
        self,
        turns: list[Turn],
        rubric: Rubric,
        *,
        context: Mapping[str, Any],
        persona: Persona | None,
        stop_reason: StopReason | None,
    ) -> list[GuidelineResult]:
        """Run the registered grader of every rubric guideline."""
        signals.start_conversation(t.text for t in turns if t.role == "agent")
        view = GradeInput(turns=turns, context=context, persona=persona, stop_reason=stop_reason)
        return [self.result(view, turns, g) for g in rubric.guidelines]

    async def agrade(
        self,
        turns: list[Turn],
        rubric: Rubric,
        *,
        context: Mapping[str, Any],
        persona: Persona | None,
        stop_reason: StopReason | None,
    ) -> list[GuidelineResult]:
        """`grade`, for callers that await every judge."""
        return self.grade(turns, rubric, context=context, persona=persona, stop_reason=stop_reason)

    @staticmethod
    def result(view: GradeInput, turns: list[Turn], guideline: RubricGuideline) -> GuidelineResult:
        """One guideline's result from its rule grader, quotes verified."""
        name = guideline.grader.removeprefix("rules:")
        found = REGISTRY[name](view)
        evidence = [Evidence(turn=q.turn, quote=q.hit.text) for q in found.evidence]
        evidence, dropped = verified_evidence(turns, evidence)
        if dropped:
            raise AssertionError(f"grader {name} produced a quote not in the transcript")
        return GuidelineResult(
            guideline=guideline.id,
            verdict=found.verdict,
            score=VERDICT_SCORE[found.verdict],
            evidence=evidence,
            rationale=found.rationale,
            grader=f"rules:{name}",
        )


def weighted_score(results: list[GuidelineResult], rubric: Rubric) -> float | None:
    """Weighted mean of scores over applicable guidelines (None when nothing applied)."""
    weights = {g.id: g.weight for g in rubric.guidelines}
    total = sum(weights[r.guideline] for r in results if r.score is not None)
    if not total:
        return None
    value = sum(weights[r.guideline] * r.score for r in results if r.score is not None)
    return round(value / total, 4)


def make_judge(
    spec: str, gateway: Gateway | None = None, *, seed: int = 0, batch: str = "guideline"
) -> Judge:
    """Build a judge from its spec: `rules`, `model:ID` or `hybrid:ID`."""
    if spec == "rules":
        return RulesJudge()
    kind, _, model = spec.partition(":")
    if kind in ("model", "hybrid") and model:
        from harness.llm import Gateway
        from harness.llm_judge import HybridJudge, ModelJudge

        cls = ModelJudge if kind == "model" else HybridJudge
        return cls(
            model=model,
            gateway=gateway or Gateway(),
            spec=spec,
            seed=seed,
            batch="section" if batch == "section" else "guideline",
        )
    raise UsageError(f"unknown judge {spec!r}; use rules, model:ID or hybrid:ID")
