"""Runs from start to finish: plan, open the run directory, execute, finish.

`start_run` + `execute` serve `run` and `eval` (and resume); `grade_file` grades recorded
transcripts; `regrade_run` grades a finished run's transcripts again into a new run. The
layers below: `plan` (jobs), `store` (the run directory), `batch` (the executor),
`scoring` (the stored lines), `estimate` (dry runs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.batch import Progress, gateway_for, grade_conversations, regrade_records, run_jobs
from harness.catalog import file_hash, load_rubric, read_conversations
from harness.errors import UsageError
from harness.judging import JudgeContext, make_judge
from harness.llm import Gateway, ModelSettings
from harness.models import Conversation, RunKind, RunManifest, RunSettings
from harness.plan import Job, changed_identity, personas_for, plan
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
        asyncio.run(run_jobs(todo, settings, store, manifest.run_id, on_done))
        return store.finish(manifest)
    except (KeyboardInterrupt, asyncio.CancelledError):
        store.interrupt(manifest)
        raise
    finally:
        store.unlock()  # already done by finish/interrupt; here for anything else


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
    _, rubric_path = load_rubric(rubric_ref)
    gateway = Gateway(settings or ModelSettings())
    make_judge(judge_spec, JudgeContext(gateway=gateway))  # fail fast on a bad judge spec
    check_models(gateway, run_models(judges=[judge_spec, *(panel or [])]))
    conversations: list[Conversation] = [c for _, c in read_conversations(source)]
    store = RunStore(out)
    name = f"grade-{source.stem}"
    files = {str(source): file_hash(source), str(rubric_path): file_hash(rubric_path)}
    manifest = store.create(new_manifest(name=name, kind="grade", source=str(source), files=files))

    def judges(scope: Gateway) -> Grading:
        return grading_for(rubric_ref, judge_spec, panel or [], scope)

    try:
        asyncio.run(
            grade_conversations(
                conversations,
                personas_for(conversations),
                store,
                manifest.run_id,
                gateway,
                judges,
                on_done,
            )
        )
        return store.finish(manifest), len(conversations)
    finally:
        store.unlock()


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
