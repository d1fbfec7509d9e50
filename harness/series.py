"""The series `compare` puts side by side (one per run x agent), which scorecards count as
results, and the paired units (persona, seed, difficulty) that match conversations across
series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.identity import run_identity
from harness.models import RunIdentity, Scorecard, StopReason
from harness.registry import parse_spec
from harness.store import RunStore

Unit = tuple[str, str]  # (persona, seed and difficulty, or the conversation id)


def label(agent: str) -> str:
    """A short display name for an agent spec (macros:evals/macros/x.yaml -> macros:x)."""
    spec = parse_spec(agent)
    if spec.kind == "macros" and spec.arg:
        return f"macros:{Path(spec.arg).stem}"
    return agent


def agent_labels(agents: list[str]) -> dict[str, str]:
    """Short labels for agent specs, falling back to the full spec when two would clash."""
    specs = list(dict.fromkeys(agents))
    short = [label(s) for s in specs]
    return {s: (lab if short.count(lab) == 1 else s) for s, lab in zip(specs, short, strict=True)}


def exclusion(card: Scorecard, include_sim_faults: bool = False) -> str | None:
    """Why a scorecard is not a result (left out of every mean), or None when it is one:
    an error stop, a flag (error, no_agent_turn, unscored), no score, or a simulated
    customer that broke character (unless `include_sim_faults`)."""
    if card.outcome.stop_reason == StopReason.error or "error" in card.flags:
        return "error"
    if card.flags:
        return card.flags[0]
    if card.score is None:
        return "no score"
    if card.outcome.sim_fault and not include_sim_faults:
        return "sim_fault"
    return None


def unit_of(card: Scorecard) -> Unit:
    """The paired unit of a conversation: the same persona, seed and difficulty in two series
    is the same trial; imported conversations (no seed) pair by conversation id."""
    persona = card.persona or "-"
    if card.seed is None:
        return persona, f"id:{card.conversation_id}"
    return persona, f"seed {card.seed}, difficulty {card.difficulty or '-'}"


@dataclass(frozen=True)
class Run:
    """One run directory's scorecards and identity, under a short label."""

    path: Path
    label: str
    cards: list[Scorecard]
    identity: RunIdentity
    duplicates: int = 0  # repeated scorecard lines of one conversation, counted once


@dataclass(frozen=True)
class Series:
    """One column: the conversations of one agent in one run."""

    name: str
    run: Run
    agent: str
    cards: list[Scorecard]
    results: list[Scorecard] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)


def load_runs(paths: list[Path], *, light: bool = False) -> list[Run]:
    """Every run directory's scorecards and identity; labels are directory names, or the
    paths given when two names clash (`#2` for a directory given a second time). `light`:
    without per-guideline verdicts (for rows by persona or agent; far less memory)."""
    names = [p.name for p in paths]
    labels = [
        name if names.count(name) == 1 else str(p) for name, p in zip(names, paths, strict=True)
    ]
    runs = []
    for n, path in enumerate(paths):
        store = RunStore(path)
        cards = store.load_scorecards(light=light)
        repeat = labels[:n].count(labels[n])  # the same directory given twice
        label_ = f"{labels[n]}#{repeat + 1}" if repeat else labels[n]
        identity = run_identity(store.read_manifest(), cards)
        runs.append(Run(path, label_, cards, identity, store.duplicates))
    return runs


def build_series(runs: list[Run], *, include_sim_faults: bool = False) -> list[Series]:
    """One series per run x agent, in the order they appear; `run/agent` names when there
    are several runs."""
    labels = agent_labels([c.agent for run in runs for c in run.cards])
    found: list[Series] = []
    for run in runs:
        for agent in dict.fromkeys(c.agent for c in run.cards):
            cards = [c for c in run.cards if c.agent == agent]
            reasons = [exclusion(c, include_sim_faults) for c in cards]
            name = labels[agent] if len(runs) == 1 else f"{run.label}/{labels[agent]}"
            found.append(
                Series(
                    name=name,
                    run=run,
                    agent=labels[agent],
                    cards=cards,
                    results=[c for c, r in zip(cards, reasons, strict=True) if r is None],
                    excluded=dict(Counter(r for r in reasons if r is not None)),
                )
            )
    return found
