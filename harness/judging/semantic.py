"""The `semantic` judge: the rule graders with the semantic layer on (the [embed] extra).

Feelings, playback and open questions count a rule hit or a confident hit of a sentence-
embedding classifier (`harness.embeddings`); every other guideline is graded as `rules`
grades it. Without the extra the judge is refused before anything runs.
"""

from __future__ import annotations

from typing import Any

from harness import embeddings
from harness.errors import UsageError
from harness.judging.base import JudgeContext
from harness.judging.rules import RulesJudge
from harness.registry import JUDGES


@JUDGES.register(
    "semantic",
    summary="the rule graders plus embedding classifiers for feelings, playback and open "
    "questions (needs the [embed] extra)",
    arg="none",
)
def _semantic(arg: str, options: Any, context: JudgeContext) -> RulesJudge:
    if not embeddings.available():
        raise UsageError(f"--judge semantic: {embeddings.MISSING_EXTRA}")
    return RulesJudge(spec="semantic", semantic=True)
