"""Finding, loading and validating personas, rubrics, macro libraries, suites and transcripts.

Every problem becomes an `InputError` naming the file and, where it can, the line.
Built-in files live in the source checkout (personas/, rubrics/, evals/) or, in a wheel,
in `harness/_data/`; every loader also accepts a path to a user file.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harness.errors import InputError, UsageError
from harness.inputs import json_value, jsonl_lines, read_text, read_yaml, regular_file
from harness.models import (
    MACRO_SLOTS,
    Conversation,
    EvalSuite,
    MacroLibrary,
    OpenAIConversation,
    Persona,
    ReactionLines,
    Rubric,
    RunManifest,
    Scorecard,
    TranscriptRecord,
)
from harness.registry import AGENTS, CUSTOMERS, GRADERS, JUDGES, Kind, Registry

M = TypeVar("M", bound=BaseModel)

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """Where the built-in personas/, rubrics/ and evals/ live."""
    checkout = _PACKAGE.parent
    if (checkout / "personas").is_dir() and (checkout / "rubrics").is_dir():
        return checkout
    return _PACKAGE / "_data"


# ---------------------------------------------------------------- YAML with line numbers


def _node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (best effort): the line of
    the key itself for mappings, of the item for sequences."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            if pair is None:
                return line
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe(error: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "missing required field"
    return f"{loc}: {message}" if loc else message


def parse_yaml(path: Path, model: type[M]) -> M:
    """Parse one YAML file into a model, or raise InputError with file:line."""
    node, data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, f"expected a mapping for a {model.__name__}", 1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        loc = first["loc"]
        if first["type"] == "missing":
            loc = loc[:-1]
        raise InputError(path, _describe(first) + more, _node_line(node, loc)) from exc


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- personas


def _resolve(ref: str, folder: str, suffix: str = ".yaml") -> Path:
    """The file a reference names (a path, or a built-in id), checked to be a regular file
    before any symlink is followed, so an error names the path as the user wrote it."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml", ".jsonl", ".json") or "/" in ref:
        if candidate.exists() or candidate.is_symlink():
            return regular_file(candidate)
        builtin = data_root() / ref
        if builtin.exists():
            return regular_file(builtin)
        raise InputError(ref, "file not found")

    path = data_root() / folder / f"{ref}{suffix}"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (data_root() / folder).glob(f"*{suffix}")))
        raise InputError(ref, f"unknown {folder.rstrip('s')} id; known: {known}")
    return path


def persona_paths() -> list[Path]:
    """Built-in persona files."""
    return sorted((data_root() / "personas").glob("*.yaml"))


@cache
def _load_persona(path: Path) -> Persona:
    persona = parse_yaml(path, Persona)
    if persona.id != path.stem:
        raise InputError(path, f"id {persona.id!r} does not match the file name", 1)
    return persona


def load_persona(ref: str) -> tuple[Persona, Path]:
    """A persona by id or path."""
    path = _resolve(ref, "personas").resolve()
    return _load_persona(path), path


def all_personas() -> list[tuple[Persona, Path]]:
    """Every built-in persona."""
    return [(_load_persona(p.resolve()), p) for p in persona_paths()]


def resolve_personas(spec: str | list[str]) -> list[tuple[Persona, Path]]:
    """`all`, a comma list of ids/paths, or a list of them."""
    parts = spec if isinstance(spec, list) else spec.split(",")
    refs = [ref.strip() for ref in parts if ref.strip()]
    if refs == ["all"]:
        return all_personas()
    return [load_persona(r) for r in refs]


@cache
def _load_reactions(path: Path) -> ReactionLines:
    return parse_yaml(path, ReactionLines)


def reactions_path() -> Path:
    """The shared customer reaction lines."""
    return data_root() / "personas" / "common" / "reactions.yaml"


def load_reactions() -> ReactionLines:
    """Shared customer reaction lines."""
    return _load_reactions(reactions_path().resolve())


# ---------------------------------------------------------------- rubrics, macros, suites


@cache
def _load_rubric(path: Path) -> Rubric:
    rubric = parse_yaml(path, Rubric)
    node, _ = read_yaml(path)
    for n, guideline in enumerate(rubric.guidelines):
        name = guideline.grader.removeprefix("rules:")
        if GRADERS.find(guideline.id) is None:
            raise InputError(
                path,
                f"unknown guideline id {guideline.id!r}",
                _node_line(node, ("guidelines", n, "id")),
            )
        if not guideline.grader.startswith("rules:") or GRADERS.find(name) is None:
            raise InputError(
                path,
                f"unknown grader {guideline.grader!r}",
                _node_line(node, ("guidelines", n, "grader")),
            )
    return rubric


def load_rubric(ref: str) -> tuple[Rubric, Path]:
    """A rubric by id or path."""
    path = _resolve(ref, "rubrics").resolve()
    return _load_rubric(path), path


def rubric_paths() -> list[Path]:
    """Built-in rubric files."""
    return sorted((data_root() / "rubrics").glob("*.yaml"))


@cache
def _load_macros(path: Path) -> MacroLibrary:
    library = parse_yaml(path, MacroLibrary)
    _check_fallback(path, library)
    return library


def _check_fallback(path: Path, library: MacroLibrary) -> None:
    """The macros:PATH agent falls back to a `resolve` or `any` macro when no macro fits the
    stage; without one that has no `when` cues, for agents and managers alike, a
    conversation would stop with an error."""
    for role in ("agent", "manager"):
        if not any(
            {"resolve", "any"} & set(m.stages) and not m.when and m.role in ("any", role)
            for m in library.macros
        ):
            raise InputError(
                path,
                f"no fallback macro for the {role} role: add one with stages [resolve] or "
                f"[any], no `when`, and role any or {role} (used when no other macro fits)",
            )


def load_macros(ref: str) -> tuple[MacroLibrary, Path]:
    """A macro library by path (relative to the working directory or the built-ins)."""
    path = _resolve(ref, "evals/macros").resolve()
    return _load_macros(path), path


def load_suite(ref: str) -> tuple[EvalSuite, Path]:
    """An eval suite by name or path."""
    path = _resolve(ref, "evals").resolve()
    return parse_yaml(path, EvalSuite), path


@dataclass(frozen=True)
class SuiteAgents:
    """A suite's agents as run settings: specs, options per kind, the system prompt."""

    specs: list[str]
    agent_options: dict[str, dict[str, Any]]
    system_prompt: str | None


def _bad_option(kind: Kind[Any], key: str, options: dict[str, Any]) -> bool:
    """Whether the option `key` alone is rejected by the kind (to point at its line)."""
    try:
        AGENTS.options(kind, {key: options[key]})
    except UsageError:
        return True
    return False


def suite_agents(path: Path, suite: EvalSuite) -> SuiteAgents:
    """The agents of a suite as run settings; a bad spec or option, or two agents of one
    kind with different options (a run has one set per kind), is an InputError at its line."""
    node, data = read_yaml(path)
    options: dict[str, tuple[int, dict[str, Any]]] = {}
    prompts: dict[str, int] = {}

    def where(n: int, *key: str) -> tuple[str, int | None]:
        loc = ("agents", n, *key)
        return ".".join(map(str, loc)), _node_line(node, loc)

    raw = data["agents"]
    for n, entry in enumerate(suite.agent_entries()):
        bare = isinstance(suite.agents[n], str)
        name, line = where(n) if bare else where(n, "spec")
        try:
            kind, _ = AGENTS.resolve(entry.spec)
        except UsageError as exc:
            raise InputError(path, f"{name}: {exc}", line) from exc
        try:
            AGENTS.options(kind, entry.options)
        except UsageError as exc:
            key = next((k for k in entry.options if _bad_option(kind, k, entry.options)), None)
            if key is not None:
                name, line = where(n, key) if key in raw[n] else where(n, "options", key)
            raise InputError(path, f"{name}: {exc}", line) from exc
        first = options.setdefault(kind.name, (n, entry.options))
        if first[1] != entry.options:
            raise InputError(
                path,
                f"agents.{n}: its {kind.name} options differ from agents.{first[0]}'s; a run "
                f"has one set of options per agent kind (give both the same, or split the suite)",
                where(n)[1],
            )
        if entry.system_prompt is not None:
            name, line = where(n, "system_prompt")
            try:
                regular_file(Path(entry.system_prompt))
            except InputError as exc:
                raise InputError(
                    path, f"{name}: {exc.message}: {entry.system_prompt}", line
                ) from exc
            prompts.setdefault(entry.system_prompt, n)
            if len(prompts) > 1:
                raise InputError(
                    path,
                    f"{name}: a run has one system prompt; agents.{min(prompts.values())} "
                    "names another (split the suite)",
                    line,
                )
    return SuiteAgents(
        specs=[e.spec for e in suite.agent_entries()],
        agent_options={kind: opts for kind, (_, opts) in options.items() if opts},
        system_prompt=next(iter(prompts), None),
    )


# ---------------------------------------------------------------- transcripts


def parse_conversation(line: str, path: Path | str, number: int) -> Conversation:
    """One JSONL line in either transcript shape."""
    data = json_value(line, path, number)
    if not isinstance(data, dict):
        raise InputError(path, "expected a JSON object", number)
    if "conversation_id" in data and "stop_reason" in data:
        raise InputError(
            path,
            "a run's own transcript record; re-grade it with its run directory "
            "(`toughtalk grade RUN_DIR`, run.json beside transcripts.jsonl)",
            number,
        )
    model: type[BaseModel] = OpenAIConversation if "messages" in data else Conversation
    try:
        parsed = model.model_validate(data)
        if isinstance(parsed, OpenAIConversation):
            return parsed.to_conversation()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(path, _describe(first), number) from exc
    assert isinstance(parsed, Conversation)
    return parsed


def complete_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of every non-blank line that ends in a newline: a torn last line
    (a run interrupted mid-write) is left out; `torn_tail` says whether there is one."""
    return [(n, line) for n, line in jsonl_lines(path) if line.endswith("\n") and line.strip()]


def torn_tail(path: Path) -> bool:
    """Whether a JSONL file ends in an unterminated, non-blank line."""
    last = ""
    for _, line in jsonl_lines(path):
        last = line
    return bool(last.strip()) and not last.endswith("\n")


def read_records(path: Path) -> list[TranscriptRecord]:
    """Every transcript record of a run's transcripts.jsonl (its complete lines)."""
    records: list[TranscriptRecord] = []
    for number, line in complete_lines(path):
        try:
            records.append(
                TranscriptRecord.model_validate(json_value(line, path, number, own=True))
            )
        except ValidationError as exc:
            raise InputError(path, _describe(exc.errors()[0]), number) from exc
    return records


def _is_record_file(path: Path) -> bool:
    """Whether a JSONL file holds a run's own transcript records (by its first line)."""
    first = next((line for _, line in complete_lines(path)), "")
    try:
        data = json_value(first, path) if first else None
    except InputError:
        return False
    return isinstance(data, dict) and "conversation_id" in data and "stop_reason" in data


def read_conversations(path: Path) -> Iterator[tuple[int, Conversation]]:
    """(line number, conversation) for every non-blank line of a transcript JSONL file."""
    seen: dict[str, int] = {}
    for number, line in jsonl_lines(path):
        if not line.strip():
            continue
        conversation = parse_conversation(line, path, number)
        if conversation.id in seen:
            raise InputError(
                path,
                f"duplicate id {conversation.id!r} (first on line {seen[conversation.id]})",
                number,
            )
        seen[conversation.id] = number
        yield number, conversation
    if not seen:
        raise InputError(path, "no conversations in this file (one JSON object per line)")


# ---------------------------------------------------------------- validate


RUN_FILES = {"run.json": "manifest", "scorecards.jsonl": "scorecards"}


def kind_of(path: Path) -> str:
    """Which of our file kinds a path holds, from its name, extension, folder and keys."""
    if path.name in RUN_FILES and path.is_file():
        return RUN_FILES[path.name]
    if path.suffix == ".jsonl":
        return "transcripts"
    try:
        _, data = read_yaml(path)
    except InputError:
        return "broken"
    keys = set(data) if isinstance(data, dict) else set()
    if "reactions" in keys:
        return "reactions"
    if "guidelines" in keys:
        return "rubric"
    if "macros" in keys:
        return "macros"
    if "agents" in keys:
        return "suite"
    if "archetype" in keys or "personas" in path.parts:
        return "persona"
    return "unknown"


def _check_file(path: Path, kind: str) -> None:
    """Run on one file every check the command that reads it runs; raise InputError."""
    if kind == "manifest":
        read_manifest(path)
    elif kind == "scorecards":
        read_scorecards(path)
    elif kind == "transcripts" and _is_record_file(path):
        records = read_records(path)
        _check_personas(path, [(n, r.persona) for n, r in enumerate(records, 1)])
    elif kind == "transcripts":
        _check_personas(path, [(n, c.persona) for n, c in read_conversations(path)])
    elif kind == "broken":
        parse_yaml(path, Persona)  # raises the YAML error with its line
    elif kind == "reactions":
        parse_yaml(path, ReactionLines)
    elif kind == "rubric":
        _load_rubric.__wrapped__(path)
    elif kind == "macros":
        library = parse_yaml(path, MacroLibrary)
        _check_macro_slots(path, library)
        _check_fallback(path, library)
    elif kind == "suite":
        check_suite(path, parse_yaml(path, EvalSuite))
    elif kind == "persona":
        _load_persona.__wrapped__(path)
    else:
        raise InputError(
            path, "not a persona, rubric, macro library, eval suite, transcript or run file"
        )


def one_line(exc: ValidationError) -> str:
    """The first problem of a validation error, as `field: message (+N more)`."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}" if loc else f"{first['msg']}{more}"


def read_manifest(path: Path) -> RunManifest:
    """A run's run.json; anything else (not JSON, another tool's file) is an InputError."""
    try:
        return RunManifest.model_validate(json_value(read_text(path), path))
    except ValidationError as exc:
        raise InputError(path, f"not a toughtalk run manifest: {one_line(exc)}") from exc


def read_scorecards(path: Path) -> list[Scorecard]:
    """Every scorecard line of a scorecards.jsonl, in file order (repeats included)."""
    cards = []
    for number, line in jsonl_lines(path):
        if not line.strip():
            continue
        try:
            cards.append(Scorecard.model_validate(json_value(line, path, number)))
        except ValidationError as exc:
            raise InputError(path, f"not a scorecard: {one_line(exc)}", number) from exc
    return cards


def validate_file(path: Path) -> list[str]:
    """Problems in one file, as `file:line: message` strings (empty when valid)."""
    try:
        _check_file(path, kind_of(path))
    except InputError as exc:
        return [str(exc)]
    return []


def _check_personas(path: Path, refs: list[tuple[int, str | None]]) -> None:
    """Every persona a transcript line names exists (grading needs its case and policy);
    for a run's records the line number is the record's position."""
    known: set[str] = set()
    for line, ref in refs:
        if ref is None or ref in known:
            continue
        try:
            load_persona(ref)
        except InputError as exc:
            raise InputError(path, f"persona {ref!r}: {exc.message}", line) from exc
        known.add(ref)


def macro_slots(text: str) -> list[str]:
    """The {slot} names a macro text uses (a ValueError for broken braces)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _check_macro_slots(path: Path, library: MacroLibrary) -> None:
    """Every {slot} of every macro is one the agent fills: a fixed slot or a case-context
    key of a built-in persona."""
    context = sorted({key for persona, _ in all_personas() for key in persona.context})
    known = set(MACRO_SLOTS) | set(context)
    node, _ = read_yaml(path)
    for n, macro in enumerate(library.macros):
        line = _node_line(node, ("macros", n, "text"))
        try:
            used = macro_slots(macro.text)
        except ValueError as exc:
            raise InputError(
                path, f"macro {macro.id!r}: broken {{slot}} braces: {exc}", line
            ) from exc
        unknown = [name for name in used if name not in known]
        if unknown:
            raise InputError(
                path,
                f"macro {macro.id!r} uses unknown slot {{{unknown[0]}}}; known slots: "
                + ", ".join(MACRO_SLOTS)
                + f", or a persona's case-context key ({', '.join(context[:4])}, …)",
                line,
            )


def check_suite(path: Path, suite: EvalSuite) -> SuiteAgents:
    """Everything `eval` needs of a suite, checked before it runs (and by `validate`): its
    personas and rubric load, its agents and judges can be built; errors name the suite's
    line. Returns the agents as run settings."""
    node, _ = read_yaml(path)
    refs = [] if suite.personas == "all" else suite.personas
    for n, ref in enumerate(refs):
        try:
            load_persona(ref)
        except InputError as exc:
            line = _node_line(node, ("personas", n))
            raise InputError(path, f"personas.{n}: {exc}", line) from exc
    try:
        load_rubric(suite.rubric)
    except InputError as exc:
        raise InputError(path, f"rubric: {exc}", _node_line(node, ("rubric",))) from exc
    return _check_suite_specs(path, suite)


def _check_suite_specs(path: Path, suite: EvalSuite) -> SuiteAgents:
    """Every agent, customer and judge spec of a suite names a registered kind, and every
    agent and judge can be built as the run would build it (a macro library that loads, a
    URL the HTTP agent takes)."""
    from harness.agents import AgentContext, make_agent
    from harness.judging import JudgeContext, make_judge

    node, _ = read_yaml(path)
    agents = suite_agents(path, suite)
    for n, spec in enumerate(agents.specs):
        try:
            make_agent(spec, AgentContext(), options=agents.agent_options)
        except (InputError, UsageError) as exc:
            bare = isinstance(suite.agents[n], str)
            line = _node_line(node, ("agents", n) if bare else ("agents", n, "spec"))
            raise InputError(path, f"agents.{n}: {exc}", line) from exc
    specs: list[tuple[Registry[Any], tuple[str | int, ...], str]] = [
        (CUSTOMERS, ("customer",), suite.customer),
        (JUDGES, ("judge",), suite.judge),
        *((JUDGES, ("judges", n), spec) for n, spec in enumerate(suite.judges)),
    ]
    for registry, loc, spec in specs:
        try:
            registry.resolve(spec)
            if registry is JUDGES:
                make_judge(spec, JudgeContext())
        except (InputError, UsageError) as exc:
            raise InputError(
                path, f"{'.'.join(map(str, loc))}: {exc}", _node_line(node, loc)
            ) from exc
    return agents


def validate_paths(paths: list[Path]) -> tuple[int, list[str]]:
    """Validate files and folders (recursively); return (files checked, problems)."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml", ".jsonl") or p.name == "run.json"
            )
            if not found:
                problems.append(f"{path}: no YAML, JSONL or run.json files in this folder")
            files.extend(found)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    problems += [problem for f in files for problem in validate_file(f)]
    return len(files), problems
