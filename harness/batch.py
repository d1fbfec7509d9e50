"""The executor: run jobs (or grade conversations) with bounded concurrency and append
each finished conversation to the store as soon as it is done."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.agents import AgentContext, make_agent
from harness.catalog import load_persona
from harness.customers import make_customer
from harness.episode import CaseBrief, run_episode
from harness.errors import InputError
from harness.judging import Case
from harness.llm import Gateway, ModelSettings
from harness.models import (
    Conversation,
    Persona,
    RunSettings,
    Scorecard,
    StopReason,
    TranscriptRecord,
)
from harness.plan import Job
from harness.scoring import (
    Grading,
    Labels,
    contained_scorecard,
    run_grading,
    transcript_record,
)
from harness.store import RunStore

Progress = Callable[[int, int], None]


def model_settings(settings: RunSettings) -> ModelSettings:
    """How a run's LLM roles reach their models (`TOUGHTALK_CACHE` moves the cache)."""
    cache = Path(os.environ.get("TOUGHTALK_CACHE", ".toughtalk-cache")) if settings.cache else None
    return ModelSettings(
        api_base=settings.api_base,
        timeout=settings.timeout,
        max_retries=settings.retries,
        concurrency=settings.concurrency,
        cache_dir=cache,
        stream=settings.stream,
    )


def gateway_for(settings: RunSettings) -> Gateway:
    """The model gateway a run's LLM roles share."""
    return Gateway(model_settings(settings))


def system_prompt(settings: RunSettings) -> str | None:
    """The text of the bot's system prompt file under test (model:ID agents), if any."""
    if settings.system_prompt is None:
        return None
    path = Path(settings.system_prompt)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read the system prompt: {exc.strerror}") from exc


async def simulate(
    job: Job, settings: RunSettings, run_id: str, gateway: Gateway, prompt: str | None
) -> tuple[StopReason, TranscriptRecord, Scorecard]:
    """Simulate, grade and return one job's (stop reason, transcript record, scorecard)."""
    scope = gateway.scope()
    customer = make_customer(
        settings.customer,
        job.persona,
        seed=job.seed,
        difficulty=job.difficulty,
        gateway=scope,
        temperature=settings.temperature,
    )
    brief = CaseBrief.from_persona(job.persona)
    agent_context = AgentContext(
        brief=brief,
        gateway=scope,
        system_prompt=prompt,
        seed=job.seed,
        temperature=settings.temperature,
        conversation_id=job.conversation_id,
    )
    agent = make_agent(job.agent, agent_context, options=settings.agent_options)
    result = await run_episode(customer, agent, max_turns=settings.max_turns)
    stop = result.stop_reason
    csat = customer.satisfaction(stop == StopReason.resolved)
    faults = list(customer.faults)
    labels = job.labels(run_id, settings.customer)
    case = Case(
        turns=result.turns, context=brief.visible_context(), persona=job.persona, stop_reason=stop
    )
    stop, card, grading_error = await contained_scorecard(
        case,
        stop,
        labels,
        run_grading(settings, scope),
        csat=csat,
        usage=scope.usage,  # read once every judge has graded
        sim_faults=faults,
    )
    error = result.error or grading_error
    record = transcript_record(case, stop, labels, error=error, sim_faults=faults)
    return stop, record, card


async def run_jobs(
    jobs: list[Job], settings: RunSettings, store: RunStore, run_id: str, on_done: Progress
) -> None:
    """Simulate every job, `settings.concurrency` at a time; one append per conversation."""
    semaphore = asyncio.Semaphore(settings.concurrency)
    gateway = gateway_for(settings)
    prompt = system_prompt(settings)
    done = 0
    lock = asyncio.Lock()

    async def one(job: Job) -> None:
        nonlocal done
        async with semaphore:
            _, record, card = await simulate(job, settings, run_id, gateway, prompt)
            async with lock:
                await asyncio.to_thread(store.append, record, card)  # fsync off the loop
                done += 1
                on_done(done, len(jobs))

    await asyncio.gather(*(one(job) for job in jobs))


async def grade_conversations(
    conversations: Iterable[Conversation],
    store: RunStore,
    run_id: str,
    gateway: Gateway,
    grading: Callable[[Gateway], Grading],
    on_done: Progress,
    *,
    concurrency: int = 4,
    total: int = 0,
) -> None:
    """Grade recorded conversations, `concurrency` at a time (fresh judges for each), one
    append per finished conversation. The input is consumed lazily through a small queue,
    so memory stays constant however many conversations there are; personas are loaded
    the first time a conversation names one."""
    queue: asyncio.Queue[Conversation | None] = asyncio.Queue(maxsize=2 * concurrency)
    personas: dict[str, Persona | None] = {}
    done = 0
    lock = asyncio.Lock()

    async def worker() -> None:
        nonlocal done
        while (conv := await queue.get()) is not None:
            card, record = await grade_one(
                conv, _persona(personas, conv.persona), run_id, gateway, grading
            )
            async with lock:
                await asyncio.to_thread(store.append, record, card)
                done += 1
                on_done(done, total)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        for conv in conversations:
            await queue.put(conv)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()


def _persona(cache: dict[str, Persona | None], ref: str | None) -> Persona | None:
    if not ref:
        return None
    if ref not in cache:
        cache[ref] = load_persona(ref)[0]
    return cache[ref]


async def grade_one(
    conv: Conversation,
    persona: Persona | None,
    run_id: str,
    gateway: Gateway,
    grading: Callable[[Gateway], Grading],
) -> tuple[Scorecard, TranscriptRecord]:
    """One imported conversation's scorecard and transcript record."""
    scope = gateway.scope()
    case = Case(
        turns=conv.turns, context=conv.context, persona=persona, stop_reason=StopReason.imported
    )
    labels = Labels(
        run_id=run_id,
        conversation_id=conv.id,
        persona=conv.persona,
        agent="transcript",
        customer="transcript",
        seed=None,
    )
    stop, card, error = await contained_scorecard(
        case, StopReason.imported, labels, grading(scope), csat=None, usage=scope.usage
    )
    return card, transcript_record(case, stop, labels, error=error)


async def regrade_records(
    records: list[TranscriptRecord],
    personas: dict[str, Persona],
    csat: dict[str, int | None],
    store: RunStore,
    run_id: str,
    settings: RunSettings,
    on_done: Progress,
) -> None:
    """Grade a run's transcript records again, one after another, exactly as `simulate`
    graded them: the recorded turns (with customer states), context, persona, stop reason,
    error and labels; csat is the customer's, read from the source run."""
    gateway = gateway_for(settings)
    for n, record in enumerate(records, 1):
        scope = gateway.scope()
        stop = record.stop_reason
        persona = personas.get(record.persona or "")
        case = Case(turns=record.turns, context=record.context, persona=persona, stop_reason=stop)
        labels = Labels(
            run_id=run_id,
            conversation_id=record.conversation_id,
            persona=record.persona,
            agent=record.agent,
            customer=record.customer,
            seed=record.seed,
            difficulty=record.difficulty,
        )
        faults = list(record.sim_faults)
        stop, card, grading_error = await contained_scorecard(
            case,
            stop,
            labels,
            run_grading(settings, scope),
            csat=csat.get(record.conversation_id),
            usage=scope.usage,
            sim_faults=faults,
        )
        new_record = transcript_record(
            case,
            stop,
            labels,
            error=record.error or grading_error,
            sim_faults=faults,
            coaching=record.coaching,
        )
        await asyncio.to_thread(store.append, new_record, card)
        on_done(n, len(records))
