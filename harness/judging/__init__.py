"""Judges turn a conversation into per-guideline results and a weighted score.

`rules` (the default) runs the registered rule graders (`harness.judging.rules`); `model:ID`
and `hybrid:ID` are the LLM judges (`harness.judging.model`). Every judge takes one `Case`
and a rubric; kinds are registered in `harness.registry.JUDGES` (plugins add their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.judging.base import (
    Case,
    Judge,
    JudgeContext,
    JudgeFactory,
    verify_evidence,
    weighted_score,
)
from harness.registry import JUDGES

__all__ = [
    "Case",
    "Judge",
    "JudgeContext",
    "JudgeFactory",
    "make_judge",
    "verify_evidence",
    "weighted_score",
]


def make_judge(
    spec: str,
    context: JudgeContext | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Judge:
    """Build a judge from its spec (`rules`, `model:ID`, `hybrid:ID` or a plugin's kind);
    `options` maps a kind name to that kind's options."""
    kind, parsed = JUDGES.resolve(spec)
    chosen = JUDGES.options(kind, (options or {}).get(kind.name))
    return kind.factory(parsed.arg, chosen, context or JudgeContext())
