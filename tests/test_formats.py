"""File formats: strict models, YAML/JSONL errors with file:line, built-in files, JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from harness import catalog
from harness.cli import app
from harness.errors import InputError
from harness.models import (
    SCHEMAS,
    MacroLibrary,
    Persona,
    ReactionLines,
    Rubric,
)
from tests.conftest import REPO


def _yaml(relative: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / relative).read_text(encoding="utf-8"))


def _valid_documents() -> dict[str, dict[str, Any]]:
    """One valid document per schema name."""
    outcome = {"stop_reason": "resolved", "resolved": True, "turns": 2}
    result = {
        "guideline": "deesc.name_emotion",
        "verdict": "met",
        "score": 1.0,
        "evidence": [{"turn": 1, "quote": "frustrating"}],
        "rationale": "named it",
        "grader": "rules:deesc.name_emotion",
    }
    return {
        "persona": _yaml("personas/late-gift.yaml"),
        "reaction-lines": _yaml("personas/common/reactions.yaml"),
        "rubric": _yaml("rubrics/default.yaml"),
        "macro-library": _yaml("evals/macros/seed-playbook.yaml"),
        "eval-suite": _yaml("evals/demo.yaml"),
        "conversation": {"id": "c1", "turns": [{"role": "customer", "text": "hi"}]},
        "openai-conversation": {"id": "c1", "messages": [{"role": "user", "content": "hi"}]},
        "transcript-record": {
            "run_id": "r",
            "conversation_id": "c1",
            "persona": None,
            "agent": "transcript",
            "customer": "transcript",
            "seed": None,
            "turns": [{"role": "customer", "text": "hi"}],
            "stop_reason": "imported",
        },
        "scorecard": {
            "run_id": "r",
            "conversation_id": "c1",
            "persona": None,
            "agent": "transcript",
            "customer": "transcript",
            "judge": "rules",
            "rubric": "default@1",
            "seed": None,
            "outcome": outcome,
            "results": [result],
            "score": 1.0,
        },
        "run-manifest": {
            "run_id": "r",
            "name": "r",
            "kind": "run",
            "harness_version": "0.1.0",
            "git_sha": None,
            "python": "3.11.7",
            "files": {},
            "started": "2026-01-01T00:00:00+00:00",
        },
    }


VALID = _valid_documents()


def test_every_schema_has_a_valid_example() -> None:
    assert set(VALID) == set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_models_accept_valid_and_reject_unknown_key(name: str) -> None:
    model = SCHEMAS[name]
    model.model_validate(VALID[name])
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**VALID[name], "surprise_key": 1})
    errors = caught.value.errors()
    assert [e["type"] for e in errors] == ["extra_forbidden"]
    assert errors[0]["loc"] == ("surprise_key",)


def test_nested_models_reject_unknown_key() -> None:
    persona = _yaml("personas/late-gift.yaml")
    persona["emotion"] = {**persona["emotion"], "mood": "grumpy"}
    with pytest.raises(ValidationError) as caught:
        Persona.model_validate(persona)
    assert caught.value.errors()[0]["loc"] == ("emotion", "mood")


# ---------------------------------------------------------------- YAML errors with file:line


def _persona_text() -> str:
    return (REPO / "personas" / "late-gift.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    """1-based number of the first line that starts with `needle` (after indentation)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    raise AssertionError(f"{needle!r} not in text")


def test_parse_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "late-gift.yaml"
    path.write_text("id: late-gift\nversion: 1\ntitle: a: b\narchetype: upset\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalog.parse_yaml(path, Persona)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: invalid YAML")


def test_parse_yaml_missing_required_field(tmp_path: Path) -> None:
    text = _persona_text()
    lines = [line for line in text.splitlines() if not line.startswith("customer_name:")]
    path = tmp_path / "late-gift.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalog.parse_yaml(path, Persona)
    message = str(caught.value)
    assert caught.value.line is not None
    assert message.startswith(f"{path}:{caught.value.line}: ")
    assert "customer_name" in message
    assert "missing required field" in message


def test_parse_yaml_missing_nested_field_points_into_its_mapping(tmp_path: Path) -> None:
    text = _persona_text()
    lines = [line for line in text.splitlines() if not line.startswith("  summary:")]
    # drop the folded block under summary as well
    start = next(n for n, line in enumerate(lines) if line.startswith("hidden_issue:"))
    body = lines[start + 1 :]
    while body and body[0].startswith("    "):
        body.pop(0)
    fixed = [*lines[: start + 1], *body]
    path = tmp_path / "late-gift.yaml"
    path.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalog.parse_yaml(path, Persona)
    assert "hidden_issue.summary: missing required field" in str(caught.value)
    # the line is inside (or at the head of) the hidden_issue block
    hidden_at = _line_of("\n".join(fixed), "hidden_issue:")
    assert caught.value.line in (hidden_at, hidden_at + 1)


def test_parse_yaml_unknown_nested_field_line_of_key(tmp_path: Path) -> None:
    text = _persona_text().replace("  patience: 7\n", "  patience: 7\n  temper: short\n")
    path = tmp_path / "late-gift.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalog.parse_yaml(path, Persona)
    expected = _line_of(text, "temper:")
    assert str(caught.value) == f"{path}:{expected}: emotion.temper: unknown field"


def test_parse_yaml_unknown_nested_field_with_block_value_line_of_key(tmp_path: Path) -> None:
    text = _persona_text().replace("  patience: 7\n", "  patience: 7\n  moods:\n    - grumpy\n")
    path = tmp_path / "late-gift.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalog.parse_yaml(path, Persona)
    assert caught.value.line == _line_of(text, "moods:")


def test_parse_yaml_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"list\.yaml:1: expected a mapping"):
        catalog.parse_yaml(path, Persona)


def _rubric_with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = (REPO / "rubrics" / "default.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    changed = text.replace(old, new)
    path = tmp_path / "custom-rubric.yaml"
    path.write_text(changed, encoding="utf-8")
    return path, _line_of(changed, new.strip())


def test_rubric_unknown_guideline_id_names_file_and_line(tmp_path: Path) -> None:
    path, line = _rubric_with(tmp_path, "- id: deesc.we_language\n", "- id: deesc.we_languagex\n")
    with pytest.raises(InputError) as caught:
        catalog.load_rubric(str(path))
    message = str(caught.value)
    assert f"{path.resolve()}:{line}:" in message
    assert "deesc.we_languagex" in message


def test_rubric_unknown_grader_names_file_and_line(tmp_path: Path) -> None:
    path, line = _rubric_with(
        tmp_path, "grader: rules:deesc.we_language\n", "grader: rules:deesc.nope\n"
    )
    with pytest.raises(InputError) as caught:
        catalog.load_rubric(str(path))
    assert f"{path.resolve()}:{line}:" in str(caught.value)
    assert "unknown grader" in str(caught.value)


def test_builtin_rubric_loads() -> None:
    rubric, path = catalog.load_rubric("default")
    assert isinstance(rubric, Rubric)
    assert path == (REPO / "rubrics" / "default.yaml").resolve()
    assert len({g.id for g in rubric.guidelines}) == len(rubric.guidelines)


# ---------------------------------------------------------------- transcripts JSONL


def _jsonl(tmp_path: Path, rows: list[Any], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def _native(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "turns": [
            {"role": "customer", "text": "My order is late."},
            {"role": "agent", "text": "I'm sorry, let me check that for you."},
        ],
    }


def test_read_conversations_bad_json_line_names_line(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [_native("a"), _native("b"), "{not json", _native("d")])
    with pytest.raises(InputError) as caught:
        list(catalog.read_conversations(path))
    assert caught.value.line == 3
    assert f"{path}:3:" in str(caught.value)


def test_read_conversations_counts_blank_lines(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [_native("a"), "", "[1, 2]"])
    with pytest.raises(InputError, match=r":3: expected a JSON object"):
        list(catalog.read_conversations(path))


def test_read_conversations_schema_error_names_line(tmp_path: Path) -> None:
    bad = {"id": "b", "turns": [{"role": "robot", "text": "beep"}]}
    path = _jsonl(tmp_path, [_native("a"), bad])
    with pytest.raises(InputError) as caught:
        list(catalog.read_conversations(path))
    assert caught.value.line == 2
    assert "turns.0.role" in str(caught.value)


def test_openai_messages_shape_converts(tmp_path: Path) -> None:
    openai = {
        "id": "oa",
        "persona": "late-gift",
        "context": {"order_id": "CR-4417"},
        "messages": [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": "Where is my parcel?"},
            {"role": "assistant", "content": "Let me check that for you."},
            {"role": "user", "content": [{"type": "text", "text": "Please "}, {"text": "hurry."}]},
        ],
    }
    path = _jsonl(tmp_path, [_native("n"), openai])
    rows = list(catalog.read_conversations(path))
    assert [n for n, _ in rows] == [1, 2]
    conv = rows[1][1]
    assert conv.id == "oa"
    assert conv.persona == "late-gift"
    assert conv.context == {"order_id": "CR-4417"}
    assert [(t.role, t.text) for t in conv.turns] == [
        ("customer", "Where is my parcel?"),
        ("agent", "Let me check that for you."),
        ("customer", "Please hurry."),
    ]


def test_openai_unknown_role_rejected(tmp_path: Path) -> None:
    row = {"id": "x", "messages": [{"role": "tool", "content": "42"}]}
    path = _jsonl(tmp_path, [row])
    with pytest.raises(InputError, match=r":1: messages\.0\.role"):
        list(catalog.read_conversations(path))


def test_openai_system_only_is_an_input_error(tmp_path: Path) -> None:
    row = {"id": "sys", "messages": [{"role": "system", "content": "be nice"}]}
    path = _jsonl(tmp_path, [_native("a"), row])
    with pytest.raises(InputError) as caught:
        list(catalog.read_conversations(path))
    assert caught.value.line == 2


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    dup = {"id": "a", "messages": [{"role": "user", "content": "again"}]}
    path = _jsonl(tmp_path, [_native("a"), _native("b"), dup])
    with pytest.raises(InputError) as caught:
        list(catalog.read_conversations(path))
    assert caught.value.line == 3
    assert "duplicate id 'a'" in str(caught.value)
    assert "line 1" in str(caught.value)


# ---------------------------------------------------------------- validate


def test_validate_paths_builtin_files_are_valid(repo: Path) -> None:
    count, problems = catalog.validate_paths([repo / "personas", repo / "rubrics", repo / "evals"])
    assert problems == []
    expected = sum(
        1
        for folder in ("personas", "rubrics", "evals")
        for p in (repo / folder).rglob("*")
        if p.suffix in (".yaml", ".yml", ".jsonl")
    )
    assert count == expected > 0


def test_validate_paths_reports_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\ntitle: a: b\n", encoding="utf-8")
    count, problems = catalog.validate_paths([folder])
    assert count == 1
    (problem,) = problems  # libyaml and pure-Python PyYAML word the rest differently
    assert problem.startswith(f"{folder / 'broken.yaml'}:2: invalid YAML: mapping values")


def test_validate_paths_persona_id_must_match_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "other-name.yaml").write_text(_persona_text(), encoding="utf-8")
    _, problems = catalog.validate_paths([folder])
    assert len(problems) == 1
    assert "does not match the file name" in problems[0]


def test_validate_paths_broken_yaml_anywhere_names_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("name: x\nagents: [a\n", encoding="utf-8")
    _, problems = catalog.validate_paths([path])
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:")
    assert "invalid YAML" in problems[0]


def test_validate_checks_a_suites_specs_against_the_registries(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: x\nagents:\n  - macros:evals/macros/seed-playbook.yaml\n  - robot:x\njudge: rules\n",
        encoding="utf-8",
    )
    _, problems = catalog.validate_paths([path])
    assert problems == [
        f"{path}:4: agents.1: unknown agent spec 'robot:x'; use http:URL | macros:PATH | model:ID"
    ]
    path.write_text(
        "name: x\nagents: [macros:evals/macros/seed-playbook.yaml]\njudges: ['model:']\n",
        encoding="utf-8",
    )
    _, problems = catalog.validate_paths([path])
    assert problems == [f"{path}:3: judges.0: judge 'model:' needs an argument: model:ID"]


def test_validate_paths_missing_path_does_not_hide_other_problems(tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\ntitle: a: b\n", encoding="utf-8")
    _, problems = catalog.validate_paths([folder, tmp_path / "missing"])
    assert any("broken.yaml:2:" in p for p in problems)
    assert any("missing: no such file or folder" in p for p in problems)


# ---------------------------------------------------------------- JSON Schema export


def _builtin_documents(repo: Path) -> list[tuple[str, Path]]:
    docs = [("reaction-lines", repo / "personas" / "common" / "reactions.yaml")]
    docs += [("persona", p) for p in sorted((repo / "personas").glob("*.yaml"))]
    docs += [("rubric", p) for p in sorted((repo / "rubrics").glob("*.yaml"))]
    docs += [("macro-library", p) for p in sorted((repo / "evals" / "macros").glob("*.yaml"))]
    docs += [("eval-suite", p) for p in sorted((repo / "evals").glob("*.yaml"))]
    return docs


def _object_schemas(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [("<top>", schema)]
    found += list(schema.get("$defs", {}).items())
    return [(name, s) for name, s in found if "properties" in s]


def test_schema_command_writes_valid_json_schemas(tmp_path: Path, repo: Path) -> None:
    out = tmp_path / "schemas"
    result = CliRunner().invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    schemas = {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in out.glob("*.schema.json")
    }
    assert set(schemas) == set(SCHEMAS)
    for name, schema in schemas.items():
        assert schema["type"] == "object", name
        assert schema["additionalProperties"] is False, name
        for sub, part in _object_schemas(schema):
            assert part.get("additionalProperties") is False, f"{name}: {sub}"

    try:
        import jsonschema
    except ImportError:  # not a dependency; the structural checks above still ran
        return
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for name, path in _builtin_documents(repo):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        jsonschema.validate(document, schemas[name])
    for name, document in VALID.items():
        jsonschema.validate(document, schemas[name])
    # and the schema really is strict: an unknown key fails validation
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**VALID["conversation"], "surprise": 1}, schemas["conversation"])


def test_builtin_files_load_through_catalog(repo: Path) -> None:
    personas = catalog.all_personas()
    assert {p.id for p, _ in personas} == {p.stem for p in (repo / "personas").glob("*.yaml")}
    assert isinstance(catalog.load_reactions(), ReactionLines)
    for spec in ("evals/macros/seed-playbook.yaml", "evals/macros/anti-patterns.yaml"):
        library, _ = catalog.load_macros(spec)
        assert isinstance(library, MacroLibrary)


def test_label_and_metadata_keys_other_sets_use_are_accepted(tmp_path: Path) -> None:
    from harness.catalog import read_conversations

    turns = [{"role": "customer", "text": "Late again!"}, {"role": "agent", "text": "Sorry."}]
    lines = [
        {
            "id": "a",
            "turns": turns,
            "verdicts": {"deesc.no_calm_down": "met"},
            "metadata": {"x": 1},
        },
        {
            "id": "b",
            "messages": [{"role": "user", "content": "Hi"}],
            "gold": {"open.calm_opener": "missed"},
        },
    ]
    path = tmp_path / "held.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    (_, a), (_, b) = read_conversations(path)
    assert a.labels == {"deesc.no_calm_down": "met"} and a.meta == {"x": 1}
    assert b.labels == {"open.calm_opener": "missed"}
    path.write_text(json.dumps({"id": "c", "turns": turns, "surprise": 1}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"held\.jsonl:1: surprise"):
        list(read_conversations(path))
