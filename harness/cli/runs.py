"""`run`, `eval`, `grade` and `compare`: simulate, grade recorded conversations, compare."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import err_console, fail, out_console, user_errors
from harness.cli.options import (
    AgentOptionOpt,
    AllowErrors,
    ApiBase,
    CompareByOpt,
    Concurrency,
    Difficulty,
    ExecutorOpt,
    HeaderOpt,
    HttpAgentOptions,
    HttpFormatOpt,
    HttpModelOpt,
    HttpRetriesOpt,
    HttpTimeoutOpt,
    JudgeBatchOpt,
    JudgeSpecs,
    MaxIntensity,
    ModelOptions,
    NoCache,
    RayAddressOpt,
    Retries,
    RubricOpt,
    Seeds,
    Stream,
    SuiteSeeds,
    Timeout,
    build_settings,
    one_of,
    seed_range,
    spoken,
)
from harness.cli.output import print_estimate, print_summary, progress_bar
from harness.errors import UsageError
from harness.models import Executor, RunKind, RunSettings


def execute_run(
    settings: RunSettings,
    out: Path | None,
    name: str,
    kind: RunKind,
    resume: bool,
    allow_errors: int = 0,
) -> Path:
    """Start (or resume) a run, show progress, print the summary; the run directory.
    Exits 1 (results kept) when more than `allow_errors` conversations failed."""
    from harness.runs import default_out, execute, start_run

    if resume and out is None:
        raise UsageError("--resume needs --out DIR (the run to finish)")
    out = out or default_out(name)
    store, manifest, todo = start_run(settings, out, name=name, kind=kind, resume=resume)
    if resume:
        err_console.print(f"resuming {out}: {len(todo)} conversation(s) left")
    try:
        with progress_bar(name) as update:
            manifest = execute(store, manifest, todo, update)
    except KeyboardInterrupt:
        raise fail(
            f"interrupted; finished conversations are kept in {out}. Finish with: "
            f"--out {out} --resume",
            130,
        ) from None
    print_summary(out)
    check_failures(out, manifest.errors, manifest.conversations, allow_errors, resume_hint=True)
    return out


def check_failures(
    out: Path, failed: int, total: int, allowed: int, *, resume_hint: bool = False
) -> None:
    """Report failed conversations; exit 1 when there are more than `allowed`."""
    from harness.runs import first_error

    if not failed:
        return
    what = (
        f"{failed} of {total} conversation(s) failed and have no score (left out of every "
        f"mean), e.g.: {first_error(out)}"
    )
    if failed <= allowed:
        err_console.print(what, style="yellow", highlight=False, soft_wrap=True)
        return
    fix = f"fix the cause and finish with --out {out} --resume" if resume_hint else "fix the cause"
    raise fail(f"{what}. Results are kept in {out}; {fix}, or accept them with --allow-errors N")


def run(
    agent: Annotated[
        list[str],
        typer.Option(
            help="Agent spec, repeatable: macros:PATH (e.g. "
            "macros:evals/macros/seed-playbook.yaml) or model:ID (any litellm id: "
            "openai/gpt-4o-mini, ollama_chat/llama3.1, local/smollm2) or http:URL (a "
            "chatbot over HTTP; see --http-format and --header), or a plugin's kind."
        ),
    ],
    persona: Annotated[str, typer.Option(help="Persona id(s), comma-separated, or 'all'.")] = "all",
    customer: Annotated[
        str,
        typer.Option(
            help="Simulated customer: scripted (deterministic) or model:ID (an LLM plays it)."
        ),
    ] = "scripted",
    judge: JudgeSpecs = ["rules"],  # noqa: B006  (Typer reads list defaults)
    rubric: RubricOpt = "default",
    seeds: Seeds = 1,
    difficulty: Difficulty = None,
    max_intensity: MaxIntensity = None,
    max_turns: Annotated[int, typer.Option(min=2, help="Turn limit per conversation.")] = 20,
    concurrency: Concurrency = 4,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-run).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Finish an interrupted run in --out.")] = False,
    system_prompt: Annotated[
        Path | None, typer.Option(help="The bot's system prompt under test (model:ID agents).")
    ] = None,
    temperature: Annotated[float, typer.Option(min=0, max=2, help="Agent/customer models.")] = 0.7,
    api_base: ApiBase = None,
    timeout: Timeout = 60.0,
    retries: Retries = 4,
    no_cache: NoCache = False,
    stream: Stream = False,
    judge_batch: JudgeBatchOpt = "guideline",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate model calls, tokens and cost; run nothing.")
    ] = False,
    http_format: HttpFormatOpt = "openai",
    header: HeaderOpt = None,
    http_timeout: HttpTimeoutOpt = 30.0,
    http_retries: HttpRetriesOpt = 2,
    http_model: HttpModelOpt = None,
    agent_option: AgentOptionOpt = None,
    allow_errors: AllowErrors = 0,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Simulate conversations (personas x agents x seeds), grade them, write scorecards.

    Examples:

      toughtalk run --persona late-gift,manager-now --agent macros:evals/macros/seed-playbook.yaml --seeds 3

      toughtalk run --persona all --agent model:openai/gpt-4o-mini --system-prompt bot.txt --dry-run
    """  # noqa: E501
    with user_errors():
        settings = build_settings(
            personas=[persona] if persona == "all" else persona.split(","),
            agents=agent,
            judges=judge,
            model=ModelOptions(concurrency, api_base, timeout, retries, no_cache, stream),
            http=HttpAgentOptions(http_format, header, http_timeout, http_retries, http_model),
            agent_option=agent_option,
            judge_batch=judge_batch,
            max_intensity=max_intensity,
            customer=customer,
            rubric=rubric,
            seeds=seed_range(seeds),
            max_turns=max_turns,
            difficulty=difficulty,
            system_prompt=str(system_prompt) if system_prompt else None,
            temperature=temperature,
            executor=one_of("--executor", executor, Executor),
            ray_address=ray_address,
        )
        if dry_run:
            print_estimate(settings)
            return
        execute_run(settings, out, "run", "run", resume, allow_errors)


def eval_suite(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<name>.yaml) or path.")],
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-<name>)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Finish an interrupted run in --out.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Conversations at once.")] = 4,
    allow_errors: AllowErrors = 0,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    persona: Annotated[
        str | None,
        typer.Option(help="Instead of the suite's personas: id(s), comma-separated, or 'all'."),
    ] = None,
    seeds: SuiteSeeds = None,
    difficulty: Annotated[
        int | None, typer.Option(min=1, max=5, help="Instead of the suite's difficulty: 1-5.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate model calls, tokens and cost; run nothing.")
    ] = False,
) -> None:
    """Run a named eval suite (a persona x agent x seed matrix) and compare its agents.

    Agents are specs or {spec, <the kind's options>} mappings: docs/regrading-and-show.md.

    Examples:

      toughtalk eval demo

      toughtalk eval evals/my-bots.yaml --persona late-gift --seeds 1 --dry-run
    """
    from harness.catalog import check_suite, load_suite
    from harness.compare import compare_runs
    from harness.reports import render

    with user_errors():
        loaded, path = load_suite(suite)
        agents = check_suite(path, loaded)
        personas = loaded.personas if persona is None else persona.split(",")
        settings = build_settings(
            personas=["all"] if personas == "all" else personas,
            agents=agents.specs,
            judges=[loaded.judge, *loaded.judges],
            model=ModelOptions(concurrency=concurrency),
            agent_options=agents.agent_options,
            judge_batch=loaded.judge_batch,
            customer=loaded.customer,
            rubric=loaded.rubric,
            seeds=loaded.seed_list() if seeds is None else seed_range(seeds),
            max_turns=loaded.max_turns,
            difficulty=loaded.difficulty if difficulty is None else difficulty,
            system_prompt=agents.system_prompt,
            executor=one_of("--executor", executor, Executor),
            ray_address=ray_address,
        )
        if dry_run:
            print_estimate(settings)
            return
        path = execute_run(settings, out, loaded.name, "eval", resume, allow_errors)
        out_console.print(render(compare_runs([path], by=loaded.compare_by), "table"))


def grade(
    file: Annotated[
        Path,
        typer.Argument(
            help="Transcript JSONL (turns or OpenAI messages), or a run directory (or its "
            "transcripts.jsonl) to re-grade."
        ),
    ],
    rubric: Annotated[
        str | None,
        typer.Option(help="Rubric id or path (default: the run's own; for files: default)."),
    ] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(
            "--judge",
            help="rules | model:ID | hybrid:ID (or a plugin's judge); repeat to add judges "
            "whose agreement (Cohen's kappa per guideline) lands in run.json. Default: the "
            "run's own judges; for files: rules.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="New run directory (default results/<time>-grade-<file>, or "
            "results/<time>-regrade-<run name>); the source is never modified."
        ),
    ] = None,
    api_base: ApiBase = None,
    timeout: Timeout = 60.0,
    retries: Retries = 4,
    no_cache: NoCache = False,
    stream: Stream = False,
    allow_errors: AllowErrors = 0,
    concurrency: Concurrency = 4,
    judge_batch: JudgeBatchOpt = "guideline",
    resume: Annotated[
        bool, typer.Option(help="Finish an interrupted grade run in --out (only what is left).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file, estimate judge calls and cost.")
    ] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Grade recorded conversations, or re-grade a finished run into a new run directory.

    A file is read as it is graded (constant memory), --concurrency conversations at a
    time; Ctrl-C keeps what is graded and --resume finishes it. A run directory is graded
    as it ran, unless --rubric / --judge name new ones.

    Examples:

      toughtalk grade recorded.jsonl --judge model:openai/gpt-4o-mini --concurrency 32

      toughtalk grade recorded.jsonl --out results/week-12 --resume

      toughtalk grade results/20260101-120000-run --judge rules --out results/rules-again
    """
    from harness.batch import model_settings
    from harness.regrade import read_source, regrade_settings, run_dir_of
    from harness.runs import default_out, grade_file, regrade_run, scan_conversations

    model = ModelOptions(
        concurrency=concurrency,
        api_base=api_base,
        timeout=timeout,
        retries=retries,
        no_cache=no_cache,
        stream=stream,
    )
    with user_errors():
        run_dir = run_dir_of(file)
        if run_dir is not None:
            source = read_source(run_dir)
            for warning in source.warnings:
                err_console.print(f"warning: {warning}", style="yellow", highlight=False)
            operational = {k: v for k, v in model.fields().items() if k != "concurrency"}
            settings = regrade_settings(
                source.settings, rubric=rubric, judges=judge, operational=operational
            )
            out = out or default_out(f"regrade-{source.manifest.name}")
            with progress_bar(f"re-grade {run_dir.name}") as update:
                manifest, count = regrade_run(source, out, settings, update)
            print_summary(out)
            out_console.print(f"re-graded {count} conversation(s) of {run_dir}", highlight=False)
            check_failures(out, manifest.errors, manifest.conversations, allow_errors)
            return
        settings = build_settings(
            personas=[],
            agents=[],
            judges=judge or ["rules"],
            model=model,
            rubric=rubric or "default",
            seeds=[],
            judge_batch=judge_batch,
        )
        if dry_run:
            print_estimate(settings, graded=scan_conversations(file).count)
            return
        if resume and out is None:
            raise UsageError("--resume needs --out DIR (the grade run to finish)")
        out = out or default_out(f"grade-{file.stem}")
        try:
            with progress_bar(f"grade {file.name}") as update:
                manifest, count = grade_file(
                    file,
                    out,
                    rubric_ref=settings.rubric,
                    judge_spec=settings.judge,
                    panel=settings.judges,
                    settings=model_settings(settings),
                    judge_batch=settings.judge_batch,
                    concurrency=concurrency,
                    resume=resume,
                    executor=one_of("--executor", executor, Executor),
                    ray_address=ray_address,
                    on_done=update,
                )
        except KeyboardInterrupt:
            raise fail(
                f"interrupted; graded conversations are kept in {out}. Finish with: "
                f"--out {out} --resume",
                130,
            ) from None
        print_summary(out)
        out_console.print(f"graded {count} conversation(s)")
        check_failures(out, manifest.errors, manifest.conversations, allow_errors)


def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    by: CompareByOpt = "guideline",
    format: Annotated[
        str,
        typer.Option("--format", help="table | markdown | csv | json, or a plugin's format"),
    ] = "table",
    baseline: Annotated[
        str | None,
        typer.Option(
            help="The reference for paired differences: a run directory given, or a column "
            "name (default: the first column)."
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Refuse to compare runs that differ in personas, rubric, settings."
        ),
    ] = False,
) -> None:
    """Compare runs side by side: means with 95% intervals per guideline, persona or agent
    (or two: --by guideline,persona), paired differences to the baseline, pass^k."""
    from harness.compare import compare_runs
    from harness.registry import REPORTERS
    from harness.reports import render

    with user_errors():
        if REPORTERS.find(format) is None:
            raise UsageError(f"--format must be {spoken(tuple(REPORTERS.names()))}")
        comparison = compare_runs(runs, by=by, baseline=baseline)
        found = comparison.differences
        if strict and found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise UsageError(f"--strict: {found[0].describe()}{more}")
        for difference in found:
            err_console.print(
                f"warning: {difference.describe()}", style="yellow", highlight=False, soft_wrap=True
            )
        rendered = render(comparison, format)
    if isinstance(rendered, str):
        sys.stdout.write(rendered)
    else:
        out_console.print(rendered)
