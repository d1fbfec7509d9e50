"""`--executor ray`: conversations as Ray tasks, for when one machine is not enough.

Each task simulates (or grades) one conversation in a Ray worker with its own model
gateway and returns its two stored lines; the driver alone writes the run directory, in the
order tasks finish, so the append-only store, resume and the identity checks work exactly
as with the local executor, and the verdicts are the same. At most `window` tasks are in
flight, so a huge input is never submitted at once.

`--ray-address auto` (or `ray://host:10001`) joins an existing cluster, whose workers need
toughtalk installed; without it a local Ray instance is started for the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from harness.errors import UsageError
from harness.models import Conversation, RunSettings, Scorecard, TranscriptRecord
from harness.plan import Job

Progress = Callable[[int, int], None]
Lines = tuple[str, str]  # (transcript record JSON, scorecard JSON)
INSTALL = "pip install 'toughtalk[ray]'"


def ray_module() -> Any:
    """Ray, imported on first use; a one-line error when the extra is missing."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray: {INSTALL}") from None
    return ray


def connect(address: str | None) -> Any:
    """Join the cluster at `address`, or start a local Ray instance."""
    ray = ray_module()
    if not ray.is_initialized():
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray instance"
            raise UsageError(f"cannot start or join {where}: {exc}") from exc
    return ray


def _simulate(job: Job, settings_json: str, run_id: str, prompt: str | None) -> Lines:
    """One job in a Ray worker: (transcript record, scorecard) as JSON."""
    from harness.batch import gateway_for, simulate

    settings = RunSettings.model_validate_json(settings_json)
    _, record, card = asyncio.run(simulate(job, settings, run_id, gateway_for(settings), prompt))
    return record.model_dump_json(), card.model_dump_json()


def _grade(conversation_json: str, grading: dict[str, Any], run_id: str) -> Lines:
    """One recorded conversation in a Ray worker: (transcript record, scorecard) as JSON."""
    from harness.batch import grade_one
    from harness.catalog import load_persona
    from harness.llm import Gateway
    from harness.scoring import grading_for

    conversation = Conversation.model_validate_json(conversation_json)
    persona = load_persona(conversation.persona)[0] if conversation.persona else None
    gateway = Gateway(grading["model"])

    def judges(scope: Gateway) -> Any:
        return grading_for(
            grading["rubric"], grading["judge"], grading["panel"], scope, batch=grading["batch"]
        )

    card, record = asyncio.run(grade_one(conversation, persona, run_id, gateway, judges))
    return record.model_dump_json(), card.model_dump_json()


def run_jobs(
    jobs: list[Job],
    settings: RunSettings,
    store: Any,
    run_id: str,
    on_done: Progress,
    *,
    prompt: str | None,
    address: str | None,
) -> None:
    """Simulate every job as a Ray task; the driver appends each finished conversation."""
    ray = connect(address)
    task = ray.remote(_simulate)
    body = settings.model_dump_json()
    submit = (lambda job=job: task.remote(job, body, run_id, prompt) for job in jobs)
    _drain(ray, submit, store, len(jobs), on_done, window=_window(ray, settings.concurrency))


def grade_conversations(
    conversations: Iterable[Conversation],
    grading: dict[str, Any],
    store: Any,
    run_id: str,
    on_done: Progress,
    *,
    total: int,
    concurrency: int,
    address: str | None,
) -> None:
    """Grade recorded conversations as Ray tasks, streaming the input."""
    ray = connect(address)
    task = ray.remote(_grade)
    shared = ray.put(grading)
    submit = (
        lambda conv=conv: task.remote(conv.model_dump_json(by_alias=True), shared, run_id)
        for conv in conversations
    )
    _drain(ray, submit, store, total, on_done, window=_window(ray, concurrency))


def _window(ray: Any, concurrency: int) -> int:
    """Tasks in flight: enough to keep every cluster CPU busy, and at least `concurrency`."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(concurrency, 2 * cpus)


def _drain(
    ray: Any,
    submits: Iterator[Callable[[], Any]],
    store: Any,
    total: int,
    on_done: Progress,
    *,
    window: int,
) -> None:
    """Keep `window` tasks in flight; append each result as it arrives."""
    inflight: list[Any] = []
    done = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < window:
                nxt = next(submits, None)
                if nxt is None:
                    exhausted = True
                else:
                    inflight.append(nxt())
            if not inflight:
                return
            ready, inflight = ray.wait(inflight, num_returns=1)
            record, card = ray.get(ready[0])
            store.append(
                TranscriptRecord.model_validate_json(record), Scorecard.model_validate_json(card)
            )
            done += 1
            on_done(done, total)
    except BaseException:
        for ref in inflight:
            ray.cancel(ref, force=True)
        raise
