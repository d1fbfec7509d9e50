"""`toughtalk progress --name NAME`: one trainee's practice history over time.

Reads every chat run directory under a results folder (`run.json` kind `chat`, agent
`human:<name>`), oldest first, and reduces each conversation to its score, a 0-1 score per
rubric section (the mean of the applicable guidelines' verdict scores), and the guidelines
it missed or broke. `still_missed` is what the trainee has not yet shown: the guidelines
whose most recent applicable verdict is missed, partial or violated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.catalog import load_rubric
from harness.chat import trainee_spec
from harness.errors import UsageError
from harness.models import Rubric, Scorecard
from harness.store import RunStore

NOT_YET = ("missed", "partial", "violated")


@dataclass(frozen=True)
class Practice:
    """One practised conversation of the trainee."""

    started: str
    run_dir: Path
    persona: str
    difficulty: int | None
    score: float | None
    stop_reason: str
    sections: dict[str, float | None]
    verdicts: dict[str, str]


def _section_scores(card: Scorecard, rubric: Rubric) -> dict[str, float | None]:
    section = {g.id: g.section for g in rubric.guidelines}
    values: dict[str, list[float]] = {g.section: [] for g in rubric.guidelines}
    for r in card.results:
        if r.guideline in section and r.score is not None:
            values[section[r.guideline]].append(r.score)
    return {s: (sum(v) / len(v) if v else None) for s, v in values.items()}


def history(name: str, results: Path, rubric_ref: str = "default") -> list[Practice]:
    """Every chat of trainee `name` under `results`, oldest first."""
    if not results.is_dir():
        raise UsageError(f"{results}: no such results folder (pass --results DIR)")
    agent = trainee_spec(name)
    rubric, _ = load_rubric(rubric_ref)
    found: list[Practice] = []
    for run_json in sorted(results.glob("*/run.json")):
        store = RunStore(run_json.parent)
        manifest = store.read_manifest()
        if manifest is None or manifest.kind != "chat":
            continue
        for card in store.load_scorecards():
            if card.agent != agent:
                continue
            found.append(
                Practice(
                    started=manifest.started,
                    run_dir=run_json.parent,
                    persona=card.persona or "?",
                    difficulty=card.difficulty,
                    score=card.score,
                    stop_reason=card.outcome.stop_reason.value,
                    sections=_section_scores(card, rubric),
                    verdicts={r.guideline: r.verdict for r in card.results},
                )
            )
    found.sort(key=lambda p: p.started)
    return found


def still_missed(practices: list[Practice]) -> list[str]:
    """Guidelines whose most recent applicable verdict is not met (in rubric order)."""
    latest: dict[str, str] = {}
    for practice in practices:
        for guideline, verdict in practice.verdicts.items():
            if verdict in ("met", *NOT_YET):
                latest[guideline] = verdict
    return [g for g, v in latest.items() if v in NOT_YET]


def section_trend(practices: list[Practice]) -> dict[str, tuple[float | None, float | None]]:
    """Per section: the first and the latest score the trainee got in it."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for practice in practices:
        for section, value in practice.sections.items():
            if value is None:
                out.setdefault(section, (None, None))
                continue
            first, _ = out.get(section, (None, None))
            out[section] = (value if first is None else first, value)
    return out
