"""Options shared by the commands, and the one builder of run settings from them.

Choices come from the models' Literals (`typing.get_args`), so a new value is added in one
place; a wrong value is a one-line error (exit 1) naming the option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from pydantic import ValidationError

from harness.errors import UsageError
from harness.inputs import regular_file
from harness.models import MAX_SEEDS, AbuseLevel, CompareBy, HttpFormat, JudgeBatch, RunSettings
from harness.registry import parse_spec


def spoken(values: tuple[str, ...]) -> str:
    """`a, b or c`."""
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + f" or {values[-1]}"


def one_of(option: str, value: str | None, literal: Any) -> Any:
    """`value`, checked to be None or one of the Literal's values (else a UsageError)."""
    allowed: tuple[str, ...] = get_args(literal)
    if value is not None and value not in allowed:
        raise UsageError(f"{option} must be {spoken(allowed)}")
    return value


def choices(literal: Any) -> str:
    """`a | b | c` for help texts."""
    return " | ".join(get_args(literal))


# ---------------------------------------------------------------- option types

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
ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="local (this process) or ray (conversations as Ray tasks; needs "
        "pip install 'toughtalk[ray]'). Results are the same either way.",
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="--executor ray: a cluster to join ('auto', or ray://HOST:10001); default: "
        "start a local Ray instance.",
    ),
]
AllowErrors = Annotated[
    int,
    typer.Option(
        "--allow-errors",
        min=0,
        metavar="N",
        help="Exit 0 even if up to N conversations fail (errored or unscored). Failed "
        "conversations never count as results: they have no score and are left out of means.",
    ),
]
Concurrency = Annotated[int, typer.Option(min=1, help="Conversations (and model calls) at once.")]
JudgeSpecs = Annotated[
    list[str],
    typer.Option(
        "--judge",
        help="rules | model:ID | hybrid:ID (or a plugin's judge); repeat to add judges whose "
        "agreement (Cohen's kappa per guideline) lands in run.json.",
    ),
]
JudgeBatchOpt = Annotated[
    str,
    typer.Option(
        help=f"LLM judges: {choices(JudgeBatch)} ('guideline': one call each; 'section': one "
        "call per rubric section)."
    ),
]
RubricOpt = Annotated[str, typer.Option(help="Rubric id or path.")]
Seeds = Annotated[
    int, typer.Option(min=1, help=f"Seeds per persona x agent (0..N-1), up to {MAX_SEEDS}.")
]
SuiteSeeds = Annotated[
    int | None, typer.Option(min=1, help="Instead of the suite's seeds: 0..N-1.")
]


def seed_range(count: int) -> list[int]:
    """Seeds 0..count-1 for `--seeds`, refusing more than a run takes before building them."""
    if count > MAX_SEEDS:
        raise UsageError(f"--seeds: at most {MAX_SEEDS} seeds in one run (got {count})")
    return list(range(count))


Difficulty = Annotated[
    int | None, typer.Option(min=1, max=5, help="1-5; default: each persona's own level.")
]
MaxIntensity = Annotated[
    str | None,
    typer.Option(help=f"Cap how abusive the customer may get: {choices(AbuseLevel)}."),
]
CompareByOpt = Annotated[
    str,
    typer.Option(help=f"{choices(CompareBy)}; or two, comma-separated: guideline,persona"),
]
HttpFormatOpt = Annotated[
    str,
    typer.Option(
        help=f"http:URL agents: {choices(HttpFormat)}. openai: chat-completions, whole history "
        'each turn; webhook: POST {conversation_id, messages, context} -> {"reply", "end"?, '
        '"transfer"?}.'
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
AgentOptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--agent-option",
        help="An agent kind's option, repeatable: KIND.KEY=VALUE (VALUE is read as JSON when "
        "it parses, else as text), e.g. --agent-option http.timeout=5 or a plugin's option; "
        "`toughtalk kinds` lists the kinds.",
    ),
]
HttpModelOpt = Annotated[
    str | None, typer.Option(help="http:URL openai: the 'model' field to send.")
]


# ---------------------------------------------------------------- the builder


@dataclass(frozen=True)
class ModelOptions:
    """How a command reaches models (run, eval, grade)."""

    concurrency: int = 4
    api_base: str | None = None
    timeout: float = 60.0
    retries: int = 4
    no_cache: bool = False
    stream: bool = False

    def fields(self) -> dict[str, Any]:
        """As RunSettings fields."""
        return {
            "concurrency": self.concurrency,
            "api_base": self.api_base,
            "timeout": self.timeout,
            "retries": self.retries,
            "cache": not self.no_cache,
            "stream": self.stream,
        }


@dataclass(frozen=True)
class HttpAgentOptions:
    """The http:URL agent's command-line options."""

    format: str = "openai"
    headers: list[str] | None = None
    timeout: float = 30.0
    retries: int = 2
    model: str | None = None

    def agent_options(self, agents: list[str]) -> dict[str, dict[str, Any]]:
        """`agent_options` for the run (none when no agent is an HTTP bot)."""
        if not any(parse_spec(a).kind == "http" for a in agents):
            if self.headers:
                raise UsageError("--header is for http:URL agents; no --agent is one")
            return {}
        from harness.agents.http import parse_header

        one_of("--http-format", self.format, HttpFormat)
        http = {
            "format": self.format,
            "headers": dict(parse_header(raw) for raw in self.headers or []),
            "timeout": self.timeout,
            "retries": self.retries,
            "model": self.model,
        }
        return {"http": http}


def parse_agent_options(raw: list[str], agents: list[str]) -> dict[str, dict[str, Any]]:
    """`KIND.KEY=VALUE` pairs as agent_options; the kind must be one of the run's agents."""
    kinds = {parse_spec(a).kind for a in agents}
    out: dict[str, dict[str, Any]] = {}
    for item in raw:
        name, eq, text = item.partition("=")
        kind, dot, key = name.strip().partition(".")
        if not (eq and dot and kind and key):
            raise UsageError(f"--agent-option {item!r}: expected KIND.KEY=VALUE")
        if kind not in kinds:
            raise UsageError(f"--agent-option {item!r}: no --agent is a {kind}: agent")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out.setdefault(kind, {})[key] = value
    return out


def build_settings(
    *,
    personas: list[str],
    agents: list[str],
    judges: list[str],
    model: ModelOptions,
    http: HttpAgentOptions | None = None,
    agent_option: list[str] | None = None,
    judge_batch: str = "guideline",
    max_intensity: str | None = None,
    agent_options: dict[str, dict[str, Any]] | None = None,
    **fields: Any,
) -> RunSettings:
    """Run settings from command-line values; the first judge scores, the rest compare.
    `agent_options` (e.g. a suite's, per kind) go over the http defaults, --agent-option
    values over both."""
    if fields.get("system_prompt"):
        regular_file(Path(fields["system_prompt"]))  # not a FIFO, a device or a folder
    base = agent_options or {}
    agent_options = (http or HttpAgentOptions()).agent_options(agents)
    for kind, values in [*base.items(), *parse_agent_options(agent_option or [], agents).items()]:
        agent_options[kind] = {**agent_options.get(kind, {}), **values}
    try:
        return RunSettings(
            personas=personas,
            agents=agents,
            judge=judges[0] if judges else "rules",
            judges=judges[1:],
            judge_batch=one_of("--judge-batch", judge_batch, JudgeBatch),
            max_intensity=one_of("--max-intensity", max_intensity, AbuseLevel),
            agent_options=agent_options,
            **model.fields(),
            **fields,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"--{first['loc'][0]}: {first['msg']}") from exc
