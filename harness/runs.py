"""Batch runs: plan the persona x agent x seed matrix, run it, grade it, and store it.

A run directory holds `run.json` (the manifest), `transcripts.jsonl` and
`scorecards.jsonl`. Both JSONL files are append-only, one line flushed per finished
conversation, so Ctrl-C or a crash loses nothing already finished, and `resume` runs only
what is missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import re
import secrets
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.agents import agent_files, make_agent
from harness.agents.http import HttpOptions
from harness.catalog import (
    data_root,
    file_hash,
    load_rubric,
    reactions_path,
    read_conversations,
    resolve_personas,
)
from harness.customers import make_customer
from harness.episode import CaseBrief, EpisodeResult, run_episode
from harness.errors import InputError, UsageError
from harness.judges import Judge, make_judge, weighted_score
from harness.llm import Gateway, ModelSettings, Usage
from harness.models import (
    Conversation,
    Outcome,
    Persona,
    RoleUsage,
    Rubric,
    RunKind,
    RunManifest,
    RunSettings,
    Scorecard,
    StopReason,
    TranscriptRecord,
    Turn,
)

TRANSCRIPTS = "transcripts.jsonl"
SCORECARDS = "scorecards.jsonl"
MANIFEST = "run.json"


def now() -> str:
    """UTC timestamp for manifests."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def default_out(name: str) -> Path:
    """results/<timestamp>-<name>."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{stamp}-{slug(name)}"


def new_run_id(name: str) -> str:
    """A unique run id: name, UTC time and a random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{slug(name)}-{stamp}-{secrets.token_hex(3)}"


def slug(text: str) -> str:
    """A file-name-safe version of a spec."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "run"


def git_sha() -> str | None:
    """The checkout's commit, if the harness runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=data_root(),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


# ---------------------------------------------------------------- the store


class RunStore:
    """Append-only JSONL files and the manifest of one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.transcripts = root / TRANSCRIPTS
        self.scorecards = root / SCORECARDS
        self.manifest_path = root / MANIFEST

    def read_manifest(self) -> RunManifest | None:
        """The existing manifest, if any."""
        if not self.manifest_path.exists():
            return None
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(self.manifest_path, f"not a valid run manifest: {exc}") from exc

    def write_manifest(self, manifest: RunManifest) -> None:
        """Write run.json atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.manifest_path)

    def finished_ids(self, *, retry_errors: bool = False) -> set[str]:
        """Conversation ids with a scorecard; repairs a torn last line and orphan transcripts.

        With `retry_errors`, conversations that ended in an error are dropped from both files
        so that they run again."""
        cards = self._repair(self.scorecards)
        if retry_errors:
            kept_cards = [c for c in cards if c["outcome"]["stop_reason"] != "error"]
            if len(kept_cards) != len(cards):
                self._rewrite(self.scorecards, kept_cards)
            cards = kept_cards
        ids = {card["conversation_id"] for card in cards}
        records = self._repair(self.transcripts)
        kept = [r for r in records if r["conversation_id"] in ids]
        if len(kept) != len(records):
            self._rewrite(self.transcripts, kept)
        return ids

    @staticmethod
    def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)

    @staticmethod
    def _repair(path: Path) -> list[dict[str, Any]]:
        """Parse a JSONL file, dropping (and truncating away) a torn last line."""
        if not path.exists():
            return []
        rows: list[dict[str, Any]] = []
        good = 0
        raw = path.read_bytes()
        for number, line in enumerate(raw.splitlines(keepends=True), 1):
            if not line.endswith(b"\n"):
                break
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(path, f"corrupt line: {exc.msg}", number) from exc
            good += len(line)
        if good < len(raw):
            with path.open("r+b") as handle:
                handle.truncate(good)
        return rows

    def append(self, transcript: TranscriptRecord, scorecard: Scorecard) -> None:
        """Append one finished conversation (transcript first, then its scorecard)."""
        for path, record in ((self.transcripts, transcript), (self.scorecards, scorecard)):
            with path.open("a", encoding="utf-8") as handle:
                handle.write(record.model_dump_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    def load_scorecards(self) -> list[Scorecard]:
        """Every scorecard of the run."""
        if not self.scorecards.exists():
            raise InputError(self.root, f"no {SCORECARDS} here; is this a run directory?")
        cards = []
        with self.scorecards.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    cards.append(Scorecard.model_validate_json(line))
                except ValueError as exc:
                    raise InputError(
                        self.scorecards, f"not a scorecard: {exc}".splitlines()[0], number
                    ) from exc
        return cards


# ---------------------------------------------------------------- scoring


def outcome_for(
    turns: list[Turn], stop: StopReason, *, resolved: bool, csat: int | None
) -> Outcome:
    """Outcome block of a scorecard from the transcript's recorded customer states."""
    anger = [t.state.anger for t in turns if t.role == "customer" and t.state]
    calmed = next(
        (i for i, t in enumerate(turns) if t.role == "customer" and t.state and t.state.anger <= 3),
        None,
    )
    states = [t.state for t in turns if t.state]
    return Outcome(
        stop_reason=stop,
        resolved=resolved,
        turns=len(turns),
        anger=anger or None,
        csat=csat,
        calmed_at_turn=calmed,
        real_issue_revealed=any(s.real_issue_revealed for s in states) if states else None,
        policy_breach=states[-1].policy_breach if states else [],
    )


@dataclass
class Grading:
    """The judges of a run: the primary judge scores, the panel adds verdicts to compare."""

    judge: Judge
    panel: list[Judge]
    rubric: Rubric


async def scorecard(
    *,
    run_id: str,
    conversation_id: str,
    persona: Persona | None,
    turns: list[Turn],
    context: Mapping[str, Any],
    stop: StopReason,
    agent: str,
    customer: str,
    grading: Grading,
    seed: int | None,
    difficulty: int | None,
    csat: int | None,
    usage: dict[str, Usage] | None = None,
    sim_faults: list[str] | None = None,
) -> Scorecard:
    """Grade one conversation (with every judge) and build its scorecard."""
    rubric = grading.rubric
    results = await grading.judge.agrade(
        turns, rubric, context=context, persona=persona, stop_reason=stop
    )
    panel = {
        j.spec: await j.agrade(turns, rubric, context=context, persona=persona, stop_reason=stop)
        for j in grading.panel
    }
    roles = dict(usage or {})
    for judge in (grading.judge, *grading.panel):
        judge_usage = getattr(judge, "usage", None)
        if judge_usage is not None:
            roles.setdefault("judge", Usage()).add(judge_usage)
    resolved = stop == StopReason.resolved or (
        stop == StopReason.imported and _resolved_from_text(turns, context)
    )
    outcome = outcome_for(turns, stop, resolved=resolved, csat=csat)
    if sim_faults:
        outcome = outcome.model_copy(update={"sim_fault": True, "sim_faults": sim_faults})
    return Scorecard(
        run_id=run_id,
        conversation_id=conversation_id,
        persona=persona.id if persona else None,
        agent=agent,
        customer=customer,
        judge=grading.judge.spec,
        rubric=f"{rubric.id}@{rubric.version}",
        seed=seed,
        difficulty=difficulty,
        outcome=outcome,
        results=results,
        score=weighted_score(results, rubric),
        usage={role: RoleUsage(**u.as_dict()) for role, u in roles.items() if u.calls},
        panel=panel,
    )


def _resolved_from_text(turns: list[Turn], context: Mapping[str, Any]) -> bool:
    from harness.graders import GradeInput

    return GradeInput(turns=turns, context=context).resolved


# ---------------------------------------------------------------- simulated runs


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


ABUSE_LEVELS = ("none", "rude", "abusive")


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
        raise UsageError("no personas selected")
    _, rubric_path = load_rubric(settings.rubric)
    files = {
        str(rubric_path): file_hash(rubric_path),
        str(reactions_path()): file_hash(reactions_path()),
    }
    for _, persona_path in personas:
        files[str(persona_path)] = file_hash(persona_path)
    for spec in settings.agents:
        make_agent(spec, None, http=HttpOptions.from_settings(settings))  # fail fast
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


Progress = Callable[[int, int], None]


def gateway_for(settings: RunSettings) -> Gateway:
    """The model gateway a run's LLM roles share."""
    cache = Path(os.environ.get("TOUGHTALK_CACHE", ".toughtalk-cache")) if settings.cache else None
    return Gateway(
        ModelSettings(
            api_base=settings.api_base,
            timeout=settings.timeout,
            max_retries=settings.retries,
            concurrency=settings.concurrency,
            cache_dir=cache,
            stream=settings.stream,
        )
    )


def grading_for(settings: RunSettings, gateway: Gateway) -> Grading:
    """Fresh judges (per conversation, so usage is per conversation)."""
    rubric, _ = load_rubric(settings.rubric)
    batch = settings.judge_batch
    return Grading(
        make_judge(settings.judge, gateway, batch=batch),
        [make_judge(spec, gateway, batch=batch) for spec in settings.judges],
        rubric,
    )


def _system_prompt(settings: RunSettings) -> str | None:
    if settings.system_prompt is None:
        return None
    path = Path(settings.system_prompt)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read the system prompt: {exc.strerror}") from exc


async def _run_jobs(
    jobs: list[Job],
    settings: RunSettings,
    store: RunStore,
    run_id: str,
    on_done: Progress,
) -> int:
    semaphore = asyncio.Semaphore(settings.concurrency)
    gateway = gateway_for(settings)
    prompt = _system_prompt(settings)
    errors = 0
    done = 0
    lock = asyncio.Lock()

    async def one(job: Job) -> None:
        nonlocal errors, done
        async with semaphore:
            customer = make_customer(
                settings.customer,
                job.persona,
                seed=job.seed,
                difficulty=job.difficulty,
                gateway=gateway,
                temperature=settings.temperature,
            )
            brief = CaseBrief.from_persona(job.persona)
            agent = make_agent(
                job.agent,
                brief,
                gateway=gateway,
                system_prompt=prompt,
                seed=job.seed,
                temperature=settings.temperature,
                http=HttpOptions.from_settings(settings),
                conversation_id=job.conversation_id,
            )
            result: EpisodeResult = await run_episode(customer, agent, max_turns=settings.max_turns)
            csat = customer.satisfaction(result.stop_reason == StopReason.resolved)
            usage: dict[str, Usage] = {}
            for role, who in (("agent", agent), ("customer", customer)):
                used = getattr(who, "usage", None)
                if isinstance(used, Usage):
                    usage[role] = used
            faults = list(getattr(customer, "faults", []))
            level = job.difficulty or job.persona.difficulty
            record = TranscriptRecord(
                run_id=run_id,
                conversation_id=job.conversation_id,
                persona=job.persona.id,
                agent=job.agent,
                customer=settings.customer,
                seed=job.seed,
                difficulty=level,
                context=brief.visible_context(),
                turns=result.turns,
                stop_reason=result.stop_reason,
                error=result.error,
                sim_faults=faults,
            )
            card = await scorecard(
                run_id=run_id,
                conversation_id=job.conversation_id,
                persona=job.persona,
                turns=result.turns,
                context=brief.visible_context(),
                stop=result.stop_reason,
                agent=job.agent,
                customer=settings.customer,
                grading=grading_for(settings, gateway),
                seed=job.seed,
                difficulty=level,
                csat=csat,
                usage=usage,
                sim_faults=faults,
            )
            async with lock:
                store.append(record, card)
                errors += result.stop_reason == StopReason.error
                done += 1
                on_done(done, len(jobs))

    await asyncio.gather(*(one(job) for job in jobs))
    return errors


# How a run reaches its models may change between sessions; what it runs may not.
OPERATIONAL = {"concurrency", "api_base", "timeout", "retries", "cache", "stream"}


def _changed_identity(old: RunSettings | None, new: RunSettings) -> list[str]:
    if old is None:
        return ["kind of run"]
    a, b = old.model_dump(), new.model_dump()
    return [k for k in a if k not in OPERATIONAL and a[k] != b.get(k)]


def start_run(
    settings: RunSettings, out: Path, *, name: str, kind: RunKind, resume: bool
) -> tuple[RunStore, RunManifest, list[Job]]:
    """Create (or reopen with resume) a run directory; return the jobs still to do."""
    store = RunStore(out)
    existing = store.read_manifest()
    jobs, files = plan(settings)
    if not resume and (existing or store.scorecards.exists() or store.transcripts.exists()):
        raise UsageError(
            f"{out} already holds a run; pass --resume to finish it or pick another --out"
        )
    if existing and resume:
        changed = _changed_identity(existing.settings, settings)
        if changed:
            raise UsageError(
                f"{out}: the run was started with different settings ({', '.join(changed)}); "
                "resume "
                "with the same options or pick another --out"
            )
        finished = store.finished_ids(retry_errors=True)
        todo = [j for j in jobs if j.conversation_id not in finished]
        manifest = existing.model_copy(
            update={"status": "running", "files": files, "errors": 0, "settings": settings}
        )
    else:
        if resume and not existing:
            raise UsageError(f"{out}: nothing to resume (no {MANIFEST})")
        out.mkdir(parents=True, exist_ok=True)
        manifest = RunManifest(
            run_id=new_run_id(name),
            name=name,
            kind=kind,
            harness_version=__version__,
            git_sha=git_sha(),
            python=platform.python_version(),
            settings=settings,
            files=files,
            started=now(),
        )
        todo = jobs
    store.write_manifest(manifest)
    return store, manifest, todo


def execute(
    store: RunStore,
    manifest: RunManifest,
    todo: list[Job],
    on_done: Progress = lambda done, total: None,
) -> RunManifest:
    """Run the remaining jobs; mark the manifest finished (or interrupted on Ctrl-C)."""
    settings = manifest.settings
    if settings is None:
        raise UsageError(f"{store.root}: not a simulation run (no settings in run.json)")
    try:
        errors = asyncio.run(_run_jobs(todo, settings, store, manifest.run_id, on_done))
    except (KeyboardInterrupt, asyncio.CancelledError):
        manifest = manifest.model_copy(
            update={
                "status": "interrupted",
                "conversations": len(store.finished_ids()),
            }
        )
        store.write_manifest(manifest)
        raise
    cards = store.load_scorecards()
    manifest = manifest.model_copy(
        update={
            "status": "finished",
            "finished": now(),
            "conversations": len(cards),
            "errors": manifest.errors + errors,
            "usage": summed_usage(cards),
            "agreement": judge_agreement(cards),
        }
    )
    store.write_manifest(manifest)
    return manifest


def summed_usage(cards: list[Scorecard]) -> dict[str, RoleUsage]:
    """Usage per role over every scorecard of a run."""
    totals: dict[str, Usage] = {}
    for card in cards:
        for role, u in card.usage.items():
            totals.setdefault(role, Usage()).add(Usage(**u.model_dump()))
    return {role: RoleUsage(**u.as_dict()) for role, u in totals.items()}


def judge_agreement(cards: list[Scorecard]) -> dict[str, dict[str, float | None]]:
    """Per guideline: Cohen's kappa between the primary judge and each panel judge, and
    Krippendorff's alpha over all judges."""
    from harness.agreement import cohen_kappa, krippendorff_alpha

    if not cards or not cards[0].panel:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    specs = list(cards[0].panel)
    for spec in specs:
        pairs: dict[str, tuple[list[str], list[str]]] = {}
        for card in cards:
            other = {r.guideline: r.verdict for r in card.panel.get(spec, [])}
            for r in card.results:
                if r.guideline in other:
                    a, b = pairs.setdefault(r.guideline, ([], []))
                    a.append(r.verdict)
                    b.append(other[r.guideline])
        out[f"{cards[0].judge} vs {spec} (Cohen's kappa)"] = {
            g: cohen_kappa(a, b) for g, (a, b) in pairs.items()
        }
    units: dict[str, list[list[str | None]]] = {}
    for card in cards:
        panel = {spec: {r.guideline: r.verdict for r in card.panel.get(spec, [])} for spec in specs}
        for r in card.results:
            labels = [r.verdict, *(panel[s].get(r.guideline) for s in specs)]
            units.setdefault(r.guideline, []).append(
                [v if v != "unscored" else None for v in labels]
            )
    out["all judges (Krippendorff's alpha)"] = {g: krippendorff_alpha(u) for g, u in units.items()}
    return out


# ---------------------------------------------------------------- grading imported transcripts


def grade_file(
    source: Path,
    out: Path,
    *,
    rubric_ref: str,
    judge_spec: str,
    panel: list[str] | None = None,
    settings: ModelSettings | None = None,
    on_done: Progress = lambda done, total: None,
) -> tuple[RunManifest, int]:
    """Grade every conversation of a transcript JSONL; return the manifest and the count."""
    rubric, rubric_path = load_rubric(rubric_ref)
    gateway = Gateway(settings or ModelSettings())
    make_judge(judge_spec, gateway)  # fail fast on a bad judge spec
    conversations: list[Conversation] = [c for _, c in read_conversations(source)]
    store = RunStore(out)
    if store.read_manifest() is not None or store.scorecards.exists():
        raise UsageError(f"{out} already holds a run; pick another --out")
    name = f"grade-{source.stem}"
    manifest = RunManifest(
        run_id=new_run_id(name),
        name=name,
        kind="grade",
        harness_version=__version__,
        git_sha=git_sha(),
        python=platform.python_version(),
        source=str(source),
        files={str(source): file_hash(source), str(rubric_path): file_hash(rubric_path)},
        started=now(),
    )
    store.write_manifest(manifest)
    personas = _personas_for(conversations)

    async def grade_all() -> None:
        for n, conv in enumerate(conversations, 1):
            grading = Grading(
                make_judge(judge_spec, gateway),
                [make_judge(spec, gateway) for spec in panel or []],
                rubric,
            )
            card = await scorecard(
                run_id=manifest.run_id,
                conversation_id=conv.id,
                persona=personas.get(conv.persona or ""),
                turns=conv.turns,
                context=conv.context,
                stop=StopReason.imported,
                agent="transcript",
                customer="transcript",
                grading=grading,
                seed=None,
                difficulty=None,
                csat=None,
            )
            record = TranscriptRecord(
                run_id=manifest.run_id,
                conversation_id=conv.id,
                persona=conv.persona,
                agent="transcript",
                customer="transcript",
                seed=None,
                context=conv.context,
                turns=conv.turns,
                stop_reason=StopReason.imported,
            )
            store.append(record, card)
            on_done(n, len(conversations))

    asyncio.run(grade_all())
    cards = store.load_scorecards()
    manifest = manifest.model_copy(
        update={
            "status": "finished",
            "finished": now(),
            "conversations": len(cards),
            "usage": summed_usage(cards),
            "agreement": judge_agreement(cards),
        }
    )
    store.write_manifest(manifest)
    return manifest, len(conversations)


def _personas_for(conversations: Iterable[Conversation]) -> dict[str, Persona]:
    refs = sorted({c.persona for c in conversations if c.persona})
    return {p.id: p for p, _ in resolve_personas(refs)} if refs else {}


def first_error(out: Path) -> str:
    """The error message of the first conversation that ended with an error."""
    store = RunStore(out)
    if store.transcripts.exists():
        with store.transcripts.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("error"):
                    return str(record["error"])
    return "(no error message recorded)"


# ---------------------------------------------------------------- dry run

PROMPT_TOKENS = {"agent": 700, "customer": 900, "judge": 900}
COMPLETION_TOKENS = {"agent": 90, "customer": 110, "judge": 80}
TURN_TOKENS = 60


def estimate(settings: RunSettings) -> tuple[int, list[tuple[str, ...]]]:
    """Rough calls, tokens and cost per model role for a run, before running it."""
    from harness.llm import estimate_cost

    jobs, _ = plan(settings)
    rubric, _ = load_rubric(settings.rubric)
    replies = settings.max_turns // 2
    history = TURN_TOKENS * settings.max_turns // 2  # mean transcript length per call
    rows: list[tuple[str, ...]] = []
    roles: list[tuple[str, str, int]] = []
    for spec in dict.fromkeys(settings.agents):
        if spec.startswith("model:"):
            count = sum(1 for j in jobs if j.agent == spec)
            roles.append(("agent", spec[6:], count * replies))
    if settings.customer.startswith("model:"):
        roles.append(("customer", settings.customer[6:], len(jobs) * replies))
    for spec in (settings.judge, *settings.judges):
        kind, _, model = spec.partition(":")
        if kind in ("model", "hybrid"):
            share = 0.6 if kind == "model" else 0.3  # guidelines that apply / that rules defer
            roles.append(("judge", model, int(len(jobs) * len(rubric.guidelines) * share)))
    for role, model, calls in roles:
        prompt = calls * (PROMPT_TOKENS[role] + history)
        completion = calls * COMPLETION_TOKENS[role]
        rows.append(
            (
                role,
                model,
                str(calls),
                str(prompt),
                str(completion),
                f"{estimate_cost(model, prompt, completion):.4f}",
            )
        )
    if not rows:
        rows.append(("-", "no model roles", "0", "0", "0", "0.0000"))
    return len(jobs), rows
