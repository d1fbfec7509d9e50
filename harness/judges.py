"""Compatibility names for code written before `harness.judging` (benchmarks).

New code imports from `harness.judging`; this module only keeps the old call shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.judging import Case, weighted_score
from harness.judging.rules import RulesJudge as _RulesJudge
from harness.models import GuidelineResult, Persona, Rubric, StopReason, Turn

__all__ = ["RulesJudge", "weighted_score"]


@dataclass
class RulesJudge:
    """The rule judge with the keyword signature of `grade(turns, rubric, *, context, ...)`.

    `semantic=True` is the `semantic` judge: the rules with the embedding classifiers on.
    """

    semantic: bool = False

    @property
    def spec(self) -> str:
        """The judge spec this stands for."""
        return "semantic" if self.semantic else "rules"

    def grade(
        self,
        turns: list[Turn],
        rubric: Rubric,
        *,
        context: Mapping[str, Any],
        persona: Persona | None,
        stop_reason: StopReason | None,
    ) -> list[GuidelineResult]:
        """Grade every guideline of the rubric with the rule graders."""
        case = Case(turns=turns, context=context, persona=persona, stop_reason=stop_reason)
        return _RulesJudge(spec=self.spec, semantic=self.semantic).grade(case, rubric)
