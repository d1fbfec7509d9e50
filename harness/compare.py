"""Compare scorecards across runs and agents, by guideline, persona or agent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from harness.models import Scorecard
from harness.registry import parse_spec
from harness.store import RunStore


@dataclass
class Comparison:
    """Rows of cells (mean values) under one column per series (run x agent)."""

    by: str
    columns: list[str]
    rows: list[tuple[str, list[float | None], list[int]]]


def label(agent: str) -> str:
    """A short display name for an agent spec (macros:evals/macros/x.yaml -> macros:x)."""
    spec = parse_spec(agent)
    if spec.kind == "macros" and spec.arg:
        return f"macros:{Path(spec.arg).stem}"
    return agent


def _labels(cards: list[tuple[Path, Scorecard]]) -> dict[str, str]:
    """Short labels for agent specs, falling back to the full spec when two would clash."""
    specs = list(dict.fromkeys(c.agent for _, c in cards))
    short = [label(s) for s in specs]
    return {s: (lab if short.count(lab) == 1 else s) for s, lab in zip(specs, short, strict=True)}


def _series(path: Path, card: Scorecard, many_runs: bool, labels: dict[str, str]) -> str:
    name = labels.get(card.agent, card.agent)
    return f"{path.name}/{name}" if many_runs else name


def load(paths: Iterable[Path]) -> list[tuple[Path, Scorecard]]:
    """Every scorecard of every run directory."""
    return [(p, card) for p in paths for card in RunStore(p).load_scorecards()]


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 3) if values else None


def compare_runs(
    paths: list[Path], *, by: str = "guideline", include_sim_faults: bool = False
) -> Comparison:
    """Mean score per guideline/persona/agent for each series, plus outcome rows.

    Conversations whose simulated customer broke character (`sim_fault`) are left out
    unless `include_sim_faults`."""
    cards = [(p, c) for p, c in load(paths) if include_sim_faults or not c.outcome.sim_fault]
    many = len(paths) > 1
    labels = _labels(cards)
    columns = list(dict.fromkeys(_series(p, c, many, labels) for p, c in cards))
    cells: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    order: list[str] = []
    for path, card in cards:
        series = _series(path, card, many, labels)
        if by == "guideline":
            for result in card.results:
                if result.score is not None:
                    cells[result.guideline][series].append(result.score)
                order.append(result.guideline)
        else:
            key = (card.persona or "-") if by == "persona" else labels[card.agent]
            if card.score is not None:
                cells[key][series].append(card.score)
            order.append(key)
    rows = [
        (key, [_avg(cells[key][s]) for s in columns], [len(cells[key][s]) for s in columns])
        for key in dict.fromkeys(order)
    ]
    rows += _outcome_rows(cards, columns, many, labels)
    return Comparison(by=by, columns=columns, rows=rows)


def _outcome_rows(
    cards: list[tuple[Path, Scorecard]], columns: list[str], many: bool, labels: dict[str, str]
) -> list[tuple[str, list[float | None], list[int]]]:
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path, card in cards:
        s = _series(path, card, many, labels)
        if card.score is not None:
            metrics["OVERALL score"][s].append(card.score)
        if card.outcome.anger:
            metrics["final anger (0-10)"][s].append(card.outcome.anger[-1])
        metrics["resolved rate"][s].append(1.0 if card.outcome.resolved else 0.0)
        if card.outcome.csat is not None:
            metrics["csat (1-5)"][s].append(card.outcome.csat)
    return [
        (name, [_avg(values[s]) for s in columns], [len(values[s]) for s in columns])
        for name, values in metrics.items()
    ]


@dataclass(frozen=True)
class AgentSummary:
    """One agent's line of a run summary."""

    agent: str
    conversations: int
    errors: int
    score: float | None
    final_anger: float | None
    resolved: float
    csat: float | None


def summary(paths: list[Path]) -> list[AgentSummary]:
    """Per agent: conversations, errors, mean score, final anger, resolved share, csat."""
    by_agent: dict[str, list[Scorecard]] = defaultdict(list)
    loaded = load(paths)
    labels = _labels(loaded)
    for _, card in loaded:
        by_agent[card.agent].append(card)
    rows: list[AgentSummary] = []
    for agent, cards in by_agent.items():
        scores = [c.score for c in cards if c.score is not None]
        anger = [c.outcome.anger[-1] for c in cards if c.outcome.anger]
        csat = [float(c.outcome.csat) for c in cards if c.outcome.csat is not None]
        rows.append(
            AgentSummary(
                agent=labels[agent],
                conversations=len(cards),
                errors=sum(c.outcome.stop_reason == "error" for c in cards),
                score=_avg(scores),
                final_anger=_avg(anger),
                resolved=sum(c.outcome.resolved for c in cards) / len(cards),
                csat=_avg(csat),
            )
        )
    return rows
