"""Planning a run: the persona x agent x seed jobs, the persona transforms they need, the
content hashes of every file the run reads, and which settings may change on resume."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from harness.agents import AgentContext, agent_files, make_agent
from harness.catalog import file_hash, load_rubric, reactions_path, resolve_personas
from harness.errors import UsageError
from harness.models import AbuseLevel, Conversation, Persona, RunSettings
from harness.scoring import Labels
from harness.store import slug

ABUSE_LEVELS: tuple[str, ...] = get_args(AbuseLevel)

MAX_JOBS = 1_000_000  # conversations in one run

# How a run reaches its models may change between sessions; what it runs may not.
OPERATIONAL = {
    "concurrency",
    "api_base",
    "timeout",
    "retries",
    "cache",
    "stream",
    "executor",
    "ray_address",
}


@dataclass(frozen=True)
class Job:
    """One conversation to simulate."""

    persona: Persona
    agent: str
    seed: int
    difficulty: int | None

    @property
    def conversation_id(self) -> str:
        """Stable id of this (persona, agent, difficulty, seed)."""
        level = f"d{self.difficulty}" if self.difficulty else "d-"
        return f"{self.persona.id}__{slug(self.agent)}__{level}__s{self.seed}"

    @property
    def level(self) -> int:
        """The difficulty the customer plays at (the run's, else the persona's own)."""
        return self.difficulty or self.persona.difficulty

    def labels(self, run_id: str, customer: str) -> Labels:
        """The identity fields of this job's stored lines."""
        return Labels(
            run_id=run_id,
            conversation_id=self.conversation_id,
            persona=self.persona.id,
            agent=self.agent,
            customer=customer,
            seed=self.seed,
            difficulty=self.level,
        )


def cap_abuse(persona: Persona, cap: str | None) -> Persona:
    """The persona with its abuse level capped (none < rude < abusive); None: as written."""
    level = persona.abuse.level
    if cap is None or ABUSE_LEVELS.index(level) <= ABUSE_LEVELS.index(cap):
        return persona
    return persona.model_copy(update={"abuse": persona.abuse.model_copy(update={"level": cap})})


def plan(settings: RunSettings) -> tuple[list[Job], dict[str, str]]:
    """Every job of a run and the content hashes of every file it reads."""
    personas = resolve_personas(settings.personas)
    if not personas:
        raise UsageError("no personas selected (--persona, or the suite's personas)")
    count = len(personas) * len(settings.agents) * len(settings.seeds)
    if count > MAX_JOBS:
        raise UsageError(
            f"{count:,} conversations ({len(personas)} personas x {len(settings.agents)} agents "
            f"x {len(settings.seeds)} seeds) is more than one run takes ({MAX_JOBS:,}); "
            "split it into several runs"
        )
    _, rubric_path = load_rubric(settings.rubric)
    files = {
        str(rubric_path): file_hash(rubric_path),
        str(reactions_path()): file_hash(reactions_path()),
    }
    for _, persona_path in personas:
        files[str(persona_path)] = file_hash(persona_path)
    for spec in settings.agents:
        make_agent(spec, AgentContext(), options=settings.agent_options)  # fail fast
        for agent_file in agent_files(spec):
            files[agent_file] = file_hash(Path(agent_file))
    jobs = [
        Job(cap_abuse(persona, settings.max_intensity), agent, seed, settings.difficulty)
        for persona, _ in personas
        for agent in settings.agents
        for seed in settings.seeds
    ]
    ids = [j.conversation_id for j in jobs]
    if len(set(ids)) != len(ids):
        raise UsageError("two jobs share a conversation id; give each agent a distinct spec")
    return jobs, files


def changed_identity(old: RunSettings | None, new: RunSettings) -> list[str]:
    """The settings that make `new` a different run from `old` (empty: the same run)."""
    if old is None:
        return ["kind of run"]
    a, b = old.model_dump(), new.model_dump()
    return [k for k in a if k not in OPERATIONAL and a[k] != b.get(k)]


def personas_for(conversations: Iterable[Conversation]) -> dict[str, Persona]:
    """The personas that imported conversations name, by id."""
    refs = sorted({c.persona for c in conversations if c.persona})
    return {p.id: p for p, _ in resolve_personas(refs)} if refs else {}
