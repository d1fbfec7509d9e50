"""Runs from start to finish: plan, open the run directory, execute, finish.

`start_run` + `execute` serve `run` and `eval` (and resume); `grade_file` grades recorded
transcripts; `regrade_run` grades a finished run's transcripts again into a new run. The
layers below: `plan` (jobs), `store` (the run directory), `batch` (the executor),
`scoring` (the stored lines), `estimate` (dry runs).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from harness.batch import (
    Progress,
    gateway_for,
    grade_conversations,
    regrade_records,
    run_jobs,
    system_prompt,
)
from harness.catalog import file_hash, load_persona, load_rubric, read_conversations
from harness.errors import InputError, UsageError
from harness.judging import JudgeContext, make_judge
from harness.llm import Gateway, ModelSettings
from harness.models import Executor, JudgeBatch, RunKind, RunManifest, RunSettings
from harness.plan import Job, changed_identity, plan
from harness.preflight import check_models, run_models
from harness.regrade import SourceRun
from harness.scoring import Grading, grading_for
from harness.store import MANIFEST, SCORECARDS, TRANSCRIPTS, RunStore, default_out, new_manifest

__all__ = [
    "MANIFEST",
    "SCORECARDS",
    "TRANSCRIPTS",
    "default_out",
    "execute",
    "first_error",
    "grade_file",
    "regrade_run",
    "start_run",
]


def start_run(
    settings: RunSettings, out: Path, *, name: str, kind: RunKind, resume: bool
) -> tuple[RunStore, RunManifest, list[Job]]:
    """Create (or reopen with resume) a run directory; return the jobs still to do."""
    store = RunStore(out)
    existing = store.read_manifest()
    jobs, files = plan(settings)
    check_models(
        gateway_for(settings),
        run_models(
            agents=settings.agents,
            customer=settings.customer,
            judges=[settings.judge, *settings.judges],
        ),
    )
    if not resume and store.holds_run():
        raise UsageError(
            f"{out} already holds a run; pass --resume to finish it or pick another --out"
        )
    if not resume:
        manifest = store.create(new_manifest(name=name, kind=kind, settings=settings, files=files))
        return store, manifest, jobs
    if existing is None:
        raise UsageError(f"{out}: nothing to resume (no {MANIFEST})")
    changed = changed_identity(existing.settings, settings)
    if changed:
        raise UsageError(
            f"{out}: the run was started with different settings ({', '.join(changed)}); "
            "resume with the same options or pick another --out"
        )
    edited = [path for path, sha in files.items() if existing.files.get(path, sha) != sha]
    if edited:
        raise UsageError(
            f"{out}: {edited[0]} changed since the run started; resuming would mix two "
            "versions in one run: restore the file, or start a new run with another --out"
        )
    manifest, finished = store.reopen(existing, settings, files)
    return store, manifest, [j for j in jobs if j.conversation_id not in finished]


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
        if settings.executor == "ray":
            from harness import ray_executor

            ray_executor.run_jobs(
                todo,
                settings,
                store,
                manifest.run_id,
                on_done,
                prompt=system_prompt(settings),
                address=settings.ray_address,
            )
        else:
            asyncio.run(run_jobs(todo, settings, store, manifest.run_id, on_done))
        return store.finish(manifest)
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.interrupt(manifest)
        raise
    finally:
        store.unlock()  # already done by finish/interrupt; here for anything else


@dataclass(frozen=True)
class GradeSource:
    """A transcript file checked end to end before grading starts: how many conversations
    it holds and the personas they name (resolved), read in constant memory."""

    path: Path
    count: int
    personas: list[str]


def scan_conversations(source: Path) -> GradeSource:
    """Read a transcript JSONL once: every line valid, ids unique, personas known; or the
    first problem as one `InputError` with its line, before anything is written."""
    count = 0
    personas: set[str] = set()
    for _, conversation in read_conversations(source):
        count += 1
        if conversation.persona:
            personas.add(conversation.persona)
    if not count:
        raise InputError(source, "no conversations in the file")
    for ref in sorted(personas):
        load_persona(ref)
    return GradeSource(source, count, sorted(personas))


def grade_file(
    source: Path,
    out: Path,
    *,
    rubric_ref: str,
    judge_spec: str,
    panel: list[str] | None = None,
    settings: ModelSettings | None = None,
    judge_batch: JudgeBatch = "guideline",
    concurrency: int = 4,
    resume: bool = False,
    executor: Executor = "local",
    ray_address: str | None = None,
    on_done: Progress = lambda done, total: None,
) -> tuple[RunManifest, int]:
    """Grade every conversation of a transcript JSONL, `concurrency` at a time, streaming
    the file (in this process, or as Ray tasks); with `resume`, finish a grade run in `out`
    (only what is missing). Returns the manifest and the number of conversations."""
    _, rubric_path = load_rubric(rubric_ref)
    model = settings or ModelSettings()
    gateway = Gateway(replace(model, concurrency=max(model.concurrency, concurrency)))
    make_judge(judge_spec, JudgeContext(gateway=gateway))  # fail fast on a bad judge spec
    check_models(gateway, run_models(judges=[judge_spec, *(panel or [])]))
    scanned = scan_conversations(source)
    store = RunStore(out)
    files = {str(source): file_hash(source), str(rubric_path): file_hash(rubric_path)}
    judges = {"judge": judge_spec, "panel": ",".join(panel or []), "judge_batch": judge_batch}
    manifest, finished = _open_grade_run(store, source, files, judges, resume=resume)

    def grading(scope: Gateway) -> Grading:
        return grading_for(rubric_ref, judge_spec, panel or [], scope, batch=judge_batch)

    todo = (c for _, c in read_conversations(source) if c.id not in finished)
    done_before = len(finished)

    def progress(done: int, total: int) -> None:
        on_done(done_before + done, scanned.count)

    try:
        if executor == "ray":
            from harness import ray_executor

            judges_of = {"rubric": rubric_ref, "judge": judge_spec, "panel": panel or []}
            ray_executor.grade_conversations(
                todo,
                {**judges_of, "batch": judge_batch, "model": gateway.settings},
                store,
                manifest.run_id,
                progress,
                total=scanned.count,
                concurrency=concurrency,
                address=ray_address,
            )
        else:
            asyncio.run(
                grade_conversations(
                    todo,
                    store,
                    manifest.run_id,
                    gateway,
                    grading,
                    progress,
                    concurrency=concurrency,
                    total=scanned.count,
                )
            )
        return store.finish(manifest), scanned.count
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.interrupt(manifest)
        raise
    finally:
        store.unlock()


def _open_grade_run(
    store: RunStore,
    source: Path,
    files: dict[str, str],
    judges: dict[str, str],
    *,
    resume: bool,
) -> tuple[RunManifest, set[str]]:
    """A new grade run in `store`, or (resume) the one already there if it graded the same
    file with the same rubric and judges; the ids already graded."""
    if not resume:
        name = f"grade-{source.stem}"
        manifest = new_manifest(name=name, kind="grade", source=str(source), files=files)
        manifest = manifest.model_copy(update={"grading": judges})
        return store.create(manifest), set()
    existing = store.read_manifest()
    if existing is None or existing.kind != "grade":
        raise UsageError(f"{store.root}: no grade run to resume here (no {MANIFEST} of a grade)")
    if existing.files != files or (existing.grading or judges) != judges:
        raise UsageError(
            f"{store.root}: that run graded another file, rubric or judge; resume with the "
            "same ones or pick another --out"
        )
    store.lock()
    finished = store.finished_ids(retry_errors=True)
    running = existing.model_copy(update={"status": "running", "errors": 0})
    store.write_manifest(running)
    return running, finished


def regrade_run(
    source: SourceRun,
    out: Path,
    settings: RunSettings,
    on_done: Progress = lambda done, total: None,
) -> tuple[RunManifest, int]:
    """Grade a finished run's conversations again with `settings` (the source's, or with a
    new rubric/judge: `regrade_settings`) into a new run directory; the source is only read."""
    if out.resolve() == source.root.resolve():
        raise UsageError(f"{out} is the run being re-graded; pick another --out")
    _, rubric_path = load_rubric(settings.rubric)
    make_judge(settings.judge, JudgeContext())  # fail fast on a bad judge spec
    for spec in settings.judges:
        make_judge(spec, JudgeContext())
    check_models(gateway_for(settings), run_models(judges=[settings.judge, *settings.judges]))
    transcripts = source.root / TRANSCRIPTS
    files = {
        str(transcripts): file_hash(transcripts),
        str(rubric_path): file_hash(rubric_path),
        **{str(path): file_hash(path) for path in source.persona_files.values()},
    }
    store = RunStore(out)
    manifest = store.create(
        new_manifest(
            name=f"regrade-{source.manifest.name}",
            kind="grade",
            settings=settings,
            source=str(source.root),
            files=files,
        )
    )
    try:
        asyncio.run(
            regrade_records(
                source.records,
                source.personas,
                source.csat,
                store,
                manifest.run_id,
                settings,
                on_done,
            )
        )
        return store.finish(manifest), len(source.records)
    finally:
        store.unlock()


def first_error(out: Path) -> str:
    """The error message of the first conversation that ended with an error."""
    return RunStore(out).first_error()
