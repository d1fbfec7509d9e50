"""toughtalk's command line: a thin Typer app over the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import __version__
from harness.errors import ToughtalkError, UsageError
from harness.models import RunKind

app = typer.Typer(
    name="toughtalk",
    help=(
        "Practise and measure the hardest customer-service conversations.\n\n"
        "Pair a simulated customer (persona) with an agent, grade every reply against the "
        "service guidelines, and compare runs. Start with:  toughtalk eval demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
personas_app = typer.Typer(help="List and show the simulated customers.", no_args_is_help=True)
rubrics_app = typer.Typer(help="List and show the grading rubrics.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")
app.add_typer(rubrics_app, name="rubrics")

out_console = Console()
err_console = Console(stderr=True)
STATE: dict[str, bool] = {"debug": False}


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our errors into one line and an exit code (a traceback only with --debug)."""
    try:
        yield
    except ToughtalkError as exc:
        if STATE["debug"]:
            raise
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


def _version(value: bool) -> None:
    if value:
        out_console.print(f"toughtalk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
) -> None:
    """Practise and measure the hardest customer-service conversations."""
    STATE["debug"] = debug


# ---------------------------------------------------------------- personas and rubrics


@personas_app.command("list")
def personas_list() -> None:
    """List the built-in personas with archetype, channel and difficulty."""
    from harness.catalog import all_personas

    with user_errors():
        table = Table("id", "archetype", "channel", "difficulty", "title")
        for persona, _ in all_personas():
            table.add_row(
                persona.id,
                persona.archetype,
                persona.channel,
                str(persona.difficulty),
                persona.title,
            )
        out_console.print(table)


@personas_app.command("show")
def personas_show(persona: Annotated[str, typer.Argument(help="Persona id or YAML path.")]) -> None:
    """Show one persona as YAML (what the agent sees and what it hides)."""
    import yaml

    from harness.catalog import load_persona

    with user_errors():
        loaded, path = load_persona(persona)
        out_console.print(f"# {path}", highlight=False)
        out_console.print(
            yaml.safe_dump(loaded.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
            highlight=False,
        )


@rubrics_app.command("list")
def rubrics_list() -> None:
    """List the built-in rubrics."""
    from harness.catalog import load_rubric, rubric_paths

    with user_errors():
        table = Table("id", "version", "guidelines", "title")
        for path in rubric_paths():
            rubric, _ = load_rubric(str(path))
            table.add_row(rubric.id, str(rubric.version), str(len(rubric.guidelines)), rubric.title)
        out_console.print(table)


@rubrics_app.command("show")
def rubrics_show(
    rubric: Annotated[str, typer.Argument(help="Rubric id or YAML path.")] = "default",
) -> None:
    """Show a rubric's guidelines, weights, sources and graders."""
    from harness.catalog import load_rubric

    with user_errors():
        loaded, _ = load_rubric(rubric)
        table = Table("guideline", "weight", "applies", "source", title=loaded.title)
        for g in loaded.guidelines:
            table.add_row(g.id, f"{g.weight:g}", g.applies, g.source)
        out_console.print(table)


# ---------------------------------------------------------------- validate and schema


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or folders: personas, rubrics, macro libraries, suites, transcript JSONL."
        ),
    ],
) -> None:
    """Check files; print `file:line: message` for every problem and exit 1 if any."""
    from harness.catalog import validate_paths

    with user_errors():
        count, problems = validate_paths(paths)
    for problem in problems:
        err_console.print(problem, highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out_console.print(f"{count} file(s) valid")


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Folder for the JSON Schema files.")] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every file format toughtalk reads or writes."""
    from harness.models import SCHEMAS

    out.mkdir(parents=True, exist_ok=True)
    for name, model in SCHEMAS.items():
        (out / f"{name}.schema.json").write_text(
            json.dumps(model.model_json_schema(), indent=2) + "\n", encoding="utf-8"
        )
    out_console.print(f"wrote {len(SCHEMAS)} schemas to {out}")


# ---------------------------------------------------------------- run, eval, grade


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar; yields the callback the library calls per conversation."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def _run_settings(**kwargs: Any) -> Any:
    from pydantic import ValidationError

    from harness.models import RunSettings

    try:
        return RunSettings(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"--{first['loc'][0]}: {first['msg']}") from exc


def _execute(settings: Any, out: Path | None, name: str, kind: RunKind, resume: bool) -> Path:
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
    _print_summary(out)
    if manifest.errors:
        from harness.runs import first_error

        err_console.print(
            f"[yellow]{manifest.errors} conversation(s) ended with an error, e.g.: "
            f"{first_error(out)}[/yellow]",
            highlight=False,
            soft_wrap=True,
        )
    return out


def _print_summary(out: Path) -> None:
    from harness.compare import summary_rows
    from harness.runs import RunStore

    table = Table(
        "agent",
        "conversations",
        "score",
        "final anger",
        "resolved",
        "csat",
        title=f"Summary: {out}",
    )
    for row in summary_rows([out]):
        table.add_row(*row)
    out_console.print(table)
    manifest = RunStore(out).read_manifest()
    if manifest is not None and manifest.usage:
        usage = Table(
            "role",
            "calls",
            "cached",
            "prompt tokens",
            "completion tokens",
            "cost (USD)",
            title="Model usage",
        )
        for role, u in manifest.usage.items():
            usage.add_row(
                role,
                str(u.calls),
                str(u.cached_calls),
                str(u.prompt_tokens),
                str(u.completion_tokens),
                f"{u.cost_usd:.4f}",
            )
        out_console.print(usage)
    if manifest is not None and manifest.agreement:
        for pair, kappas in manifest.agreement.items():
            agree = Table("guideline", "Cohen's kappa", title=f"Judge agreement: {pair}")
            for guideline, kappa in kappas.items():
                agree.add_row(guideline, "-" if kappa is None else f"{kappa:.2f}")
            out_console.print(agree)
    out_console.print(f"results: {out}", highlight=False)


# Options shared by every command that may call a model.
ApiBase = Annotated[
    str | None,
    typer.Option(
        "--api-base", help="OpenAI-compatible server for openai/... models (or OPENAI_API_BASE)."
    ),
]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds per model call.")]
Retries = Annotated[
    int,
    typer.Option(
        min=0, max=10, help="Retries per model call on 429/5xx/timeouts (backoff with jitter)."
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Skip the disk response cache.")]
Stream = Annotated[bool, typer.Option("--stream", help="Stream model replies.")]
JudgeSpecs = Annotated[
    list[str],
    typer.Option(
        "--judge",
        help="rules | model:ID | hybrid:ID; repeat to add judges whose agreement "
        "(Cohen's kappa per guideline) lands in run.json.",
    ),
]


@app.command()
def run(
    agent: Annotated[
        list[str],
        typer.Option(
            help="Agent spec, repeatable: macros:PATH (e.g. "
            "macros:evals/macros/seed-playbook.yaml) or model:ID (any litellm id: "
            "openai/gpt-4o-mini, ollama_chat/llama3.1, local/smollm2) or http:URL (a "
            "chatbot over HTTP; see --http-format and --header)."
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
    rubric: Annotated[str, typer.Option(help="Rubric id or path.")] = "default",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per persona x agent (0..N-1).")] = 1,
    difficulty: Annotated[
        int | None, typer.Option(min=1, max=5, help="1-5; default: each persona's own level.")
    ] = None,
    max_turns: Annotated[int, typer.Option(min=2, help="Turn limit per conversation.")] = 20,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Conversations (and model calls) at once.")
    ] = 4,
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
    judge_batch: Annotated[
        str,
        typer.Option(
            help="LLM judges: 'guideline' (one call each) or 'section' (one call per rubric "
            "section)."
        ),
    ] = "guideline",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate model calls, tokens and cost; run nothing.")
    ] = False,
    http_format: HttpFormatOpt = "openai",
    header: HeaderOpt = None,
    http_timeout: HttpTimeoutOpt = 30.0,
    http_retries: HttpRetriesOpt = 2,
    http_model: HttpModelOpt = None,
) -> None:
    """Simulate conversations (personas x agents x seeds), grade them, write scorecards.

    Examples:

      toughtalk run --persona late-gift,manager-now --agent macros:evals/macros/seed-playbook.yaml --seeds 3

      toughtalk run --persona all --agent model:openai/gpt-4o-mini --system-prompt bot.txt --dry-run
    """  # noqa: E501
    with user_errors():
        settings = _run_settings(
            personas=[persona] if persona == "all" else persona.split(","),
            agents=agent,
            customer=customer,
            judge=judge[0],
            judges=judge[1:],
            judge_batch=judge_batch,
            rubric=rubric,
            seeds=list(range(seeds)),
            max_turns=max_turns,
            difficulty=difficulty,
            concurrency=concurrency,
            api_base=api_base,
            timeout=timeout,
            retries=retries,
            cache=not no_cache,
            stream=stream,
            system_prompt=str(system_prompt) if system_prompt else None,
            temperature=temperature,
            **_http_settings(agent, http_format, header, http_timeout, http_retries, http_model),
        )
        if dry_run:
            _print_estimate(settings)
            return
        _execute(settings, out, "run", "run", resume)


def _print_estimate(settings: Any) -> None:
    from harness.runs import estimate

    table = Table(
        "role",
        "model",
        "calls",
        "prompt tokens",
        "completion tokens",
        "cost (USD)",
        title="Dry run: estimate (no model was called)",
    )
    conversations, rows = estimate(settings)
    for row in rows:
        table.add_row(*row)
    out_console.print(table)
    out_console.print(f"{conversations} conversation(s)")


@app.command("eval")
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
    from harness.compare import compare_runs, render

    with user_errors():
        loaded, _ = load_suite(suite)
        settings = _run_settings(
            personas=["all"] if loaded.personas == "all" else loaded.personas,
            agents=loaded.agents,
            customer=loaded.customer,
            judge=loaded.judge,
            rubric=loaded.rubric,
            seeds=loaded.seed_list(),
            max_turns=loaded.max_turns,
            difficulty=loaded.difficulty,
            concurrency=concurrency,
        )
        path = _execute(settings, out, loaded.name, "eval", resume)
        out_console.print(render(compare_runs([path], by=loaded.compare_by), "table"))


@app.command()
def grade(
    file: Annotated[Path, typer.Argument(help="Transcript JSONL (turns or OpenAI messages).")],
    rubric: Annotated[str, typer.Option(help="Rubric id or path.")] = "default",
    judge: Annotated[str, typer.Option(help="Judge: rules.")] = "rules",
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-grade-<file>).")
    ] = None,
) -> None:
    """Grade recorded conversations; one scorecard per JSONL line."""
    from harness.runs import default_out, grade_file

    with user_errors():
        out = out or default_out(f"grade-{file.stem}")
        with progress_bar(f"grade {file.name}") as update:
            _, count = grade_file(file, out, rubric_ref=rubric, judge_spec=judge, on_done=update)
        _print_summary(out)
        out_console.print(f"graded {count} conversation(s)")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    by: Annotated[str, typer.Option(help="guideline | persona | agent")] = "guideline",
    format: Annotated[
        str, typer.Option("--format", help="table | markdown | csv | json")
    ] = "table",
) -> None:
    """Compare runs side by side: mean score per guideline, persona or agent."""
    from harness.compare import compare_runs, render

    with user_errors():
        if by not in ("guideline", "persona", "agent"):
            raise UsageError("--by must be guideline, persona or agent")
        if format not in ("table", "markdown", "csv", "json"):
            raise UsageError("--format must be table, markdown, csv or json")
        rendered = render(compare_runs(runs, by=by), format)
    if isinstance(rendered, str):
        sys.stdout.write(rendered)
    else:
        out_console.print(rendered)


# ---------------------------------------------------------------- chat and HTTP agents

HttpFormatOpt = Annotated[
    str,
    typer.Option(
        help="http:URL agents: openai (chat-completions, whole history each turn) or webhook "
        '(POST {conversation_id, messages, context} -> {"reply", "end"?, "transfer"?}).'
    ),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        help="http:URL agents, repeatable: 'Name: value'; $VAR / ${VAR} come from the "
        "environment when the run starts (only the template is stored). Secret headers "
        "(Authorization, *token*, *key*) must use a variable.",
    ),
]
HttpTimeoutOpt = Annotated[
    float, typer.Option(min=0.01, help="http:URL agents: seconds per attempt of one turn.")
]
HttpRetriesOpt = Annotated[
    int, typer.Option(min=0, max=10, help="http:URL agents: retries on 5xx, timeouts.")
]
HttpModelOpt = Annotated[
    str | None, typer.Option(help="http:URL openai: the 'model' field to send.")
]


def _http_settings(
    agents: list[str],
    http_format: str,
    headers: list[str] | None,
    timeout: float,
    retries: int,
    model: str | None,
) -> dict[str, Any]:
    """RunSettings fields for http:URL agents (none when no agent is an HTTP bot)."""
    from harness.agents.http import FORMATS, parse_header

    if not any(a.startswith("http:") for a in agents):
        if headers:
            raise UsageError("--header is for http:URL agents; no --agent is one")
        return {}
    if http_format not in FORMATS:
        raise UsageError("--http-format must be openai or webhook")
    parsed = dict(parse_header(raw) for raw in headers or [])
    return {
        "http_format": http_format,
        "http_headers": parsed or None,
        "http_timeout": timeout,
        "http_retries": retries,
        "http_model": model,
    }


@app.command()
def chat(
    persona: Annotated[
        str | None, typer.Option(help="Persona id or path (default: a random one).")
    ] = None,
    random_persona: Annotated[
        bool, typer.Option("--random", help="Play a random persona.")
    ] = False,
    difficulty: Annotated[
        int | None, typer.Option(min=1, max=5, help="1-5; default: the persona's own level.")
    ] = None,
    customer: Annotated[str, typer.Option(help="scripted or model:ID.")] = "scripted",
    judge: Annotated[str, typer.Option(help="Judge for the final scorecard.")] = "rules",
    rubric: Annotated[str, typer.Option(help="Rubric id or path.")] = "default",
    seed: Annotated[int, typer.Option(help="Customer seed (same seed, same customer).")] = 0,
    name: Annotated[
        str | None, typer.Option(help="Your name; recorded as agent human:<name>.")
    ] = None,
    meter: Annotated[bool, typer.Option(help="Show the customer's anger after each turn.")] = False,
    raw: Annotated[bool, typer.Option(help="Show insults unmasked.")] = False,
    max_intensity: Annotated[
        str | None,
        typer.Option(help="Cap how abusive the customer may get: none, rude or abusive."),
    ] = None,
    max_turns: Annotated[int, typer.Option(min=2, help="Turn limit.")] = 24,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-chat-<persona>).")
    ] = None,
) -> None:
    """Play the agent yourself against a simulated customer, then read your debrief.

    In the chat: /hint, /rewind N, /end MESSAGE, /transfer MESSAGE, /quit, /help.
    Lines can be piped in (echo ... | toughtalk chat --persona late-gift).

    Example: toughtalk chat --persona late-gift --meter --name ana
    """
    from harness.chat import ChatOptions, run_chat

    with user_errors():
        if max_intensity not in (None, "none", "rude", "abusive"):
            raise UsageError("--max-intensity must be none, rude or abusive")
        options = ChatOptions(
            persona=persona,
            random=random_persona,
            difficulty=difficulty,
            customer=customer,
            judge=judge,
            rubric=rubric,
            seed=seed,
            name=name,
            meter=meter,
            raw=raw,
            max_intensity=max_intensity,
            max_turns=max_turns,
            out=out,
        )
        run_chat(options, out_console)


if __name__ == "__main__":  # pragma: no cover
    app()
