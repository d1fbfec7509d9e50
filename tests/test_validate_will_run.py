"""`toughtalk validate` runs every check the consuming command runs ("valid" means "will
run"), and bad input is refused where it enters: regexes, blank names, suites, references,
run files, duplicate keys, nesting, --seeds and --out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from harness.catalog import validate_paths
from harness.cli import app
from harness.errors import InputError, UsageError
from harness.inputs import json_value, typed_text, yaml_document
from harness.models import MAX_SEEDS
from tests.conftest import REPO, SEED_PLAYBOOK, small_settings

WIDE = {"COLUMNS": "250"}


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _problem(path: Path) -> str:
    count, problems = validate_paths([path])
    assert count == 1 and len(problems) == 1, problems
    return problems[0]


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def _persona(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((REPO / "personas" / "late-gift.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _suite(tmp_path: Path, **fields: Any) -> Path:
    data: dict[str, Any] = {"name": "s", "personas": ["late-gift"], "agents": [SEED_PLAYBOOK]}
    return _yaml(tmp_path / "suite.yaml", {**data, **fields, "seeds": fields.get("seeds", 1)})


# ---------------------------------------------------------------- suites


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"agents": ["robot:x"]}, "agents.0: unknown agent spec 'robot:x'"),
        ({"agents": ["macros:/etc/passwd"]}, "/etc/passwd"),
        ({"agents": ["http:ftp://example.com/bot"]}, "expected http:http://HOST/PATH"),
        ({"judge": "oracle"}, "judge: unknown judge spec 'oracle'"),
        ({"customer": "robot"}, "customer: unknown customer spec 'robot'"),
        ({"personas": ["late-gift", "late-gift"]}, "personas: 'late-gift' is listed twice"),
        ({"agents": [SEED_PLAYBOOK, SEED_PLAYBOOK]}, "is listed twice"),
        ({"personas": []}, "no personas"),
        ({"personas": ["nobody"]}, "unknown persona id"),
        ({"seeds": 0}, "between 1 and"),
        ({"seeds": -3}, "between 1 and"),
        ({"seeds": []}, "between 1 and"),
        ({"seeds": [1, 1]}, "seeds: 1 is listed twice"),
        ({"seeds": MAX_SEEDS + 1}, "between 1 and"),
        ({"name": "  "}, "name: Value error, must not be blank"),
    ],
)
def test_validate_refuses_a_suite_that_would_not_run(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    path = _suite(tmp_path, **fields)
    problem = _problem(path)
    assert problem.startswith(f"{path}:"), problem
    assert message in problem, problem
    # and the command refuses it the same way, before running anything
    error = _one_line_error(_cli("eval", str(path), "--out", str(tmp_path / "out")))
    assert str(path) in error or "/etc/passwd" in error, error
    assert not (tmp_path / "out").exists()


def test_a_suite_agent_error_points_at_its_line(tmp_path: Path) -> None:
    path = _suite(tmp_path, agents=[SEED_PLAYBOOK, "macros:/etc/passwd"])
    assert _problem(path).startswith(f"{path}:{_line_of(path, '/etc/passwd')}: agents.1: ")


def test_a_valid_suite_validates_and_runs(tmp_path: Path) -> None:
    path = _suite(tmp_path, seeds=[0, 2])
    assert validate_paths([path]) == (1, [])
    result = _cli("eval", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- personas and macros


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        (("allows", 0, "patterns"), ["(unclosed"]),
        (("forbids", 0, "unless"), ["[z-a]"]),
        (("allows", 1, "unless"), ["*nothing to repeat"]),
    ],
)
def test_an_invalid_regex_in_a_policy_is_refused_at_its_line(
    tmp_path: Path, where: tuple[Any, ...], bad: list[str]
) -> None:
    data = _persona()
    section, index, key = where
    data["policy"][section][index][key] = bad
    folder = tmp_path / "p"
    folder.mkdir()
    path = _yaml(folder / "late-gift.yaml", data)
    problem = _problem(path)
    assert f"policy.{section}.{index}.{key}.0: Value error, invalid regex {bad[0]!r}" in problem
    assert problem.startswith(f"{path}:{_line_of(path, bad[0])}:")
    out = tmp_path / "out"
    error = _one_line_error(
        _cli("run", "--persona", str(path), "--agent", SEED_PLAYBOOK, "--out", str(out))
    )
    assert str(path) in error and "invalid regex" in error
    assert not out.exists()  # refused before the batch, not inside grading


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_customer_name_is_refused(tmp_path: Path, blank: str) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    path = _yaml(folder / "late-gift.yaml", _persona(customer_name=blank))
    assert "customer_name: Value error, must not be blank" in _problem(path)


def _library(macros: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "lib", "version": 1, "description": "d", "macros": macros}


def test_macro_when_regex_and_duplicate_ids_are_refused(tmp_path: Path) -> None:
    bad_when = _yaml(
        tmp_path / "when.yaml",
        _library([{"id": "a", "stages": ["any"], "text": "Hi.", "when": ["(oops"]}]),
    )
    assert "macros.0.when.0: Value error, invalid regex '(oops'" in _problem(bad_when)
    twice = _yaml(
        tmp_path / "twice.yaml",
        _library([{"id": "a", "stages": ["any"], "text": t} for t in ("Hi.", "Hello.")]),
    )
    assert "duplicate macro ids: ['a']" in _problem(twice)
    error = _one_line_error(
        _cli("run", "--persona", "late-gift", "--agent", f"macros:{twice}", "--dry-run")
    )
    assert str(twice) in error


# ---------------------------------------------------------------- transcripts


def test_a_transcript_naming_an_unknown_persona_is_refused_at_its_line(tmp_path: Path) -> None:
    turns = [{"role": "customer", "text": "Hi"}, {"role": "agent", "text": "Hello"}]
    rows = [
        {"id": "a", "persona": "late-gift", "turns": turns},
        {"id": "b", "persona": "no-such-persona", "turns": turns},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    problem = _problem(path)
    assert problem.startswith(f"{path}:2: persona 'no-such-persona': unknown persona id")


def test_an_empty_transcript_file_is_refused_by_validate_and_grade(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    assert _problem(path) == f"{path}: no conversations in this file (one JSON object per line)"
    error = _one_line_error(_cli("grade", str(path), "--out", str(tmp_path / "out")))
    assert str(path) in error
    assert not (tmp_path / "out").exists()  # no run.json left `running`


def test_json_duplicate_keys_are_refused() -> None:
    with pytest.raises(InputError, match=r"x\.jsonl:3: duplicate key 'id' in one object"):
        json_value('{"id": "a", "turns": [], "id": "b"}', "x.jsonl", 3)


# ---------------------------------------------------------------- run directories


def test_a_run_directory_validates_with_its_run_files(finished_run: Path, tmp_path: Path) -> None:
    count, problems = validate_paths([finished_run])
    assert (count, problems) == (3, [])  # run.json, scorecards.jsonl, transcripts.jsonl
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy, ignore=shutil.ignore_patterns(".lock"))
    (copy / "run.json").write_text('{"name": "webapp", "version": "2.1.0"}\n', encoding="utf-8")
    lines = (copy / "scorecards.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / "scorecards.jsonl").write_text(lines[0] + '{"score": 1}\n', encoding="utf-8")
    _, problems = validate_paths([copy])
    assert any(p.startswith(f"{copy / 'run.json'}: not a toughtalk run manifest") for p in problems)
    assert any(p.startswith(f"{copy / 'scorecards.jsonl'}:2: not a scorecard") for p in problems)


def test_a_folder_with_nothing_to_validate_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    problem = f"{tmp_path}: no YAML, JSONL or run.json files in this folder"
    assert validate_paths([tmp_path]) == (0, [problem])


# ---------------------------------------------------------------- where data enters


def test_deep_flow_nesting_is_refused_by_the_scanner() -> None:
    with pytest.raises(InputError, match="nested more than 40 levels deep"):
        yaml_document("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "deep.yaml")
    _, data = yaml_document("a: [[1, {b: [2]}]]\n", "fine.yaml")
    assert data == {"a": [[1, {"b": [2]}]]}


def test_seeds_and_jobs_are_capped_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = _one_line_error(
        _cli(
            "run",
            "--persona",
            "late-gift",
            "--agent",
            SEED_PLAYBOOK,
            "--seeds",
            "100000000",
            "--dry-run",
        )
    )
    assert error == f"error: --seeds: at most {MAX_SEEDS} seeds in one run (got 100000000)"
    error = _one_line_error(_cli("eval", "demo", "--seeds", "100000000", "--dry-run"))
    assert "--seeds: at most" in error
    from harness import plan

    monkeypatch.setattr(plan, "MAX_JOBS", 7)
    with pytest.raises(UsageError, match=r"8 conversations .* is more than one run takes"):
        plan.plan(small_settings())  # 2 personas x 2 agents x 2 seeds


def test_an_out_that_is_or_is_below_a_file_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "taken.txt"
    taken.write_text("x\n", encoding="utf-8")
    for out in (taken, taken / "sub"):
        error = _one_line_error(
            _cli("run", "--persona", "late-gift", "--agent", SEED_PLAYBOOK, "--out", str(out))
        )
        assert f"--out must be a folder, but {taken} is a file" in error
        error = _one_line_error(_cli("schema", "--out", str(out)))
        assert str(out) in error
    assert taken.read_text(encoding="utf-8") == "x\n"


def test_file_options_refuse_devices_and_fifos(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for prompt in ("/dev/zero", str(fifo)):
        error = _one_line_error(
            _cli(
                "run",
                "--persona",
                "late-gift",
                "--agent",
                "model:openai/x",
                "--system-prompt",
                prompt,
                "--dry-run",
            )
        )
        assert f"{prompt}: not a regular file" in error
    link = tmp_path / "late-gift.yaml"
    link.symlink_to("/dev/zero")
    error = _one_line_error(_cli("personas", "show", str(link)))
    assert error == f"error: {link}: not a regular file (a FIFO, device or socket); pass a file"


def test_a_macro_library_without_a_fallback_is_refused(tmp_path: Path) -> None:
    only_cued = _library(
        [
            {"id": "open", "stages": ["opening"], "text": "Hi."},
            {"id": "fix", "stages": ["resolve"], "text": "Fixed.", "when": ["refund"]},
        ]
    )
    path = _yaml(tmp_path / "nofallback.yaml", only_cued)
    assert _problem(path).startswith(f"{path}: no fallback macro for the agent role")
    error = _one_line_error(
        _cli("run", "--persona", "late-gift", "--agent", f"macros:{path}", "--dry-run")
    )
    assert str(path) in error  # refused before any conversation, not one error per conversation
    agents_only = _library([{"id": "fix", "stages": ["any"], "text": "Ok.", "role": "agent"}])
    path = _yaml(tmp_path / "agents-only.yaml", agents_only)
    assert "no fallback macro for the manager role" in _problem(path)


def test_chat_keeps_a_piped_line_that_is_not_utf8(tmp_path: Path) -> None:
    assert typed_text("sorry \udcff about that") == "sorry \ufffd about that"
    assert typed_text("plain") == "plain"
    out = tmp_path / "chat"
    piped = b"I am sorry \xff\xfe, that sounds hard.\n/end Bye\n"
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "chat", "--persona", "late-gift", "--out", str(out)],
        input=piped,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-400:]
    record = json.loads((out / "transcripts.jsonl").read_text(encoding="utf-8"))
    assert "I am sorry \ufffd\ufffd, that sounds hard." in [t["text"] for t in record["turns"]]
