"""`run`, `eval`, `grade` and `compare`: simulate, grade recorded conversations, compare."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import err_console, fail, out_console, user_errors
from harness.cli.options import (
    AgentOptionOpt,
    ApiBase,
    CompareByOpt,
    Concurrency,
    Difficulty,
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
    Retries,
    RubricOpt,
    Stream,
    Timeout,
    build_settings,
    spoken,
)
from harness.cli.output import print_estimate, print_summary, progress_bar
from harness.errors import UsageError
from harness.models import RunKind, RunSettings


def execute_run(
    settings: RunSettings, out: Path | None, name: str, kind: RunKind, resume: bool
) -> Path:
    """Start (or resume) a run, show progress, print the summary; the run directory."""
    from harness.runs import default_out, execute, first_error, start_run

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
    if manifest.errors:
        err_console.print(
            f"[yellow]{manifest.errors} conversation(s) ended with an error, e.g.: "
            f"{first_error(out)}[/yellow]",
            highlight=False,
            soft_wrap=True,
        )
    return out


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
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per persona x agent (0..N-1).")] = 1,
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
            seeds=list(range(seeds)),
            max_turns=max_turns,
            difficulty=difficulty,
            system_prompt=str(system_prompt) if system_prompt else None,
            temperature=temperature,
        )
        if dry_run:
            print_estimate(settings)
            return
        execute_run(settings, out, "run", "run", resume)


def eval_suite(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<name>.yaml) or path.")],
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-<name>)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Finish an interrupted run in --out.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Conversations at once.")] = 4,
) -> None:
    """Run a named eval suite (a persona x agent x seed matrix) and compare its agents."""
    from harness.catalog import load_suite
    from harness.compare import compare_runs
    from harness.reports import render

    with user_errors():
        loaded, _ = load_suite(suite)
        settings = build_settings(
            personas=["all"] if loaded.personas == "all" else loaded.personas,
            agents=loaded.agents,
            judges=[loaded.judge, *loaded.judges],
            model=ModelOptions(concurrency=concurrency),
            customer=loaded.customer,
            rubric=loaded.rubric,
            seeds=loaded.seed_list(),
            max_turns=loaded.max_turns,
            difficulty=loaded.difficulty,
        )
        path = execute_run(settings, out, loaded.name, "eval", resume)
        out_console.print(render(compare_runs([path], by=loaded.compare_by), "table"))


def grade(
    file: Annotated[Path, typer.Argument(help="Transcript JSONL (turns or OpenAI messages).")],
    rubric: RubricOpt = "default",
    judge: JudgeSpecs = ["rules"],  # noqa: B006  (Typer reads list defaults)
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-grade-<file>).")
    ] = None,
    api_base: ApiBase = None,
    timeout: Timeout = 60.0,
    retries: Retries = 4,
    no_cache: NoCache = False,
    stream: Stream = False,
) -> None:
    """Grade recorded conversations; one scorecard per JSONL line."""
    from harness.batch import model_settings
    from harness.runs import default_out, grade_file

    with user_errors():
        settings = build_settings(
            personas=[],
            agents=[],
            judges=judge,
            model=ModelOptions(
                api_base=api_base,
                timeout=timeout,
                retries=retries,
                no_cache=no_cache,
                stream=stream,
            ),
            rubric=rubric,
            seeds=[],
        )
        out = out or default_out(f"grade-{file.stem}")
        with progress_bar(f"grade {file.name}") as update:
            _, count = grade_file(
                file,
                out,
                rubric_ref=settings.rubric,
                judge_spec=settings.judge,
                panel=settings.judges,
                settings=model_settings(settings),
                on_done=update,
            )
        print_summary(out)
        out_console.print(f"graded {count} conversation(s)")


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
                f"[yellow]warning:[/yellow] {difference.describe()}",
                highlight=False,
                soft_wrap=True,
            )
        rendered = render(comparison, format)
    if isinstance(rendered, str):
        sys.stdout.write(rendered)
    else:
        out_console.print(rendered)
