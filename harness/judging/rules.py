"""The `rules` judge: the registered rule graders, deterministic, no model, no network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import signals
from harness.errors import UsageError
from harness.graders.base import GradeInput
from harness.judging.base import Case, JudgeContext, verify_evidence
from harness.models import VERDICT_SCORE, Evidence, GuidelineResult, Rubric, RubricGuideline
from harness.registry import GRADERS, JUDGES


@dataclass
class RulesJudge:
    """Deterministic rule graders (no model, no network)."""

    spec: str = "rules"
    semantic: bool = False  # combine three detectors with the embedding classifiers

    def grade(self, case: Case, rubric: Rubric) -> list[GuidelineResult]:
        """Run the registered grader of every rubric guideline."""
        with signals.semantic_layer(self.semantic):
            signals.start_conversation(t.text for t in case.turns if t.role == "agent")
            view = case.view()
            return [self.result(view, g) for g in rubric.guidelines]

    async def agrade(self, case: Case, rubric: Rubric) -> list[GuidelineResult]:
        """`grade`, for callers that await every judge."""
        return self.grade(case, rubric)

    @staticmethod
    def result(view: GradeInput, guideline: RubricGuideline) -> GuidelineResult:
        """One guideline's result from its rule grader, quotes verified."""
        name = guideline.grader.removeprefix("rules:")
        found = GRADERS.find(name)
        if found is None:
            raise UsageError(f"no rule grader {guideline.grader!r} for {guideline.id}")
        finding = found(view)
        quotes = [Evidence(turn=q.turn, quote=q.hit.text) for q in finding.evidence]
        evidence, rejected = verify_evidence(view.turns, quotes)
        if rejected:
            raise AssertionError(f"grader {name} produced a quote not in an agent turn")
        return GuidelineResult(
            guideline=guideline.id,
            verdict=finding.verdict,
            score=VERDICT_SCORE[finding.verdict],
            evidence=evidence,
            rationale=finding.rationale,
            grader=f"rules:{name}",
        )


@JUDGES.register("rules", summary="the rule graders (deterministic, offline)", arg="none")
def _rules(arg: str, options: Any, context: JudgeContext) -> RulesJudge:
    return RulesJudge()
