"""The Typer CLI, invoked in-process with CliRunner; outputs go under tmp_path."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from harness.cli import app
from harness.models import SCHEMAS, Scorecard
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS
from tests.conftest import ANTI_PATTERNS, SEED_PLAYBOOK, read_jsonl

WIDE = {"COLUMNS": "250"}
Invoke = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke the app with the working directory in tmp_path and a wide console."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=WIDE)

    return invoke


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _one_line_error(result: Result, code: int = 1) -> str:
    """Assert a clean failure: exit code, no traceback, a single `error:` line on stderr."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------- help, personas, rubrics


def test_help_lists_commands(cli: Invoke) -> None:
    out = _ok(cli("--help")).output
    commands = ("validate", "schema", "run", "eval", "grade", "show", "coverage", "compare")
    for command in (*commands, "personas", "rubrics"):
        assert command in out, command


@pytest.mark.parametrize("command", ["grade", "show", "coverage", "eval"])
def test_help_teaches_with_an_example(cli: Invoke, command: str) -> None:
    out = _ok(cli(command, "--help")).output
    assert "Example" in out
    assert f"toughtalk {command} " in out


def test_no_arguments_shows_help(cli: Invoke) -> None:
    result = cli()
    assert "Usage" in result.output
    assert "Traceback" not in result.output


def test_personas_list(cli: Invoke, repo: Path) -> None:
    out = _ok(cli("personas", "list")).output
    for path in (repo / "personas").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["id"] in out
        assert data["archetype"] in out
    assert "late-gift" in out
    assert "upset" in out


def test_personas_show(cli: Invoke) -> None:
    out = _ok(cli("personas", "show", "late-gift")).output
    assert out.startswith("# ")
    assert "late-gift.yaml" in out.splitlines()[0]
    shown = yaml.safe_load(out.split("\n", 1)[1])
    assert shown["id"] == "late-gift"
    assert shown["archetype"] == "upset"
    assert shown["customer_name"] == "Priya Raman"
    assert "hidden_issue" in shown


def test_personas_show_unknown(cli: Invoke) -> None:
    line = _one_line_error(cli("personas", "show", "no-such-persona"))
    assert "unknown persona id" in line


def test_rubrics_list_and_show(cli: Invoke) -> None:
    listed = _ok(cli("rubrics", "list")).output
    assert "default" in listed
    shown = _ok(cli("rubrics", "show", "default")).output
    for guideline in ("deesc.name_emotion", "deesc.we_language"):
        assert guideline in shown
    assert _ok(cli("rubrics", "show")).output == shown


# ---------------------------------------------------------------- validate and schema


def test_validate_builtin_folders(cli: Invoke, repo: Path) -> None:
    result = _ok(
        cli("validate", str(repo / "personas"), str(repo / "rubrics"), str(repo / "evals"))
    )
    assert "file(s) valid" in result.output


def test_validate_broken_yaml(cli: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\nversion: 1\ntitle: a: b\n", encoding="utf-8")
    result = cli("validate", "personas")
    assert result.exit_code == 1
    assert f"{Path('personas') / 'broken.yaml'}:3:" in result.output
    assert "Traceback" not in result.output


def test_validate_invalid_persona_field(cli: Invoke, tmp_path: Path, repo: Path) -> None:
    text = (repo / "personas" / "late-gift.yaml").read_text(encoding="utf-8")
    text = text.replace("channel: chat\n", "channel: pigeon\n")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.startswith("channel:"))
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "late-gift.yaml").write_text(text, encoding="utf-8")
    result = cli("validate", "personas/late-gift.yaml")
    assert result.exit_code == 1
    assert f"personas/late-gift.yaml:{line}: channel:" in result.output


def test_schema_writes_one_file_per_model(cli: Invoke, tmp_path: Path) -> None:
    _ok(cli("schema", "--out", "schemas"))
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert written == sorted(f"{name}.schema.json" for name in SCHEMAS)
    for name in SCHEMAS:
        schema = json.loads((tmp_path / "schemas" / f"{name}.schema.json").read_text())
        assert schema["title"] == SCHEMAS[name].__name__


# ---------------------------------------------------------------- run


def test_run_writes_scorecards(cli: Invoke, tmp_path: Path) -> None:
    run = ("run", "--persona", "late-gift", "--agent", SEED_PLAYBOOK, "--seeds", "2", "--out")
    result = _ok(cli(*run, "out"))
    cards = read_jsonl(tmp_path / "out" / SCORECARDS)
    assert len(cards) == 2
    assert sorted(c["seed"] for c in cards) == [0, 1]
    assert {c["persona"] for c in cards} == {"late-gift"}
    for card in cards:
        Scorecard.model_validate(card)
    assert len(read_jsonl(tmp_path / "out" / TRANSCRIPTS)) == 2
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["status"] == "finished"
    assert "Summary" in result.output
    # the same --out again without --resume is refused, and --resume finishes at once
    _one_line_error(cli(*run, "out"))
    resumed = _ok(cli(*run, "out", "--resume"))
    assert "0 conversation(s) left" in resumed.output
    assert len(read_jsonl(tmp_path / "out" / SCORECARDS)) == 2


def test_run_unknown_persona(cli: Invoke, tmp_path: Path) -> None:
    line = _one_line_error(
        cli("run", "--persona", "no-such-persona", "--agent", SEED_PLAYBOOK, "--out", "out")
    )
    assert "no-such-persona" in line
    assert "unknown persona id" in line
    assert not (tmp_path / "out").exists()


def test_run_unknown_agent(cli: Invoke) -> None:
    line = _one_line_error(cli("run", "--persona", "late-gift", "--agent", "robot:x", "--out", "o"))
    assert "unknown agent spec" in line


# ---------------------------------------------------------------- grade


def _transcripts_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "native-good",
            "persona": "late-gift",
            "turns": [
                {"role": "customer", "text": "My parcel is four days late and nobody told me."},
                {
                    "role": "agent",
                    "text": "That sounds really frustrating, and I'm sorry we left you waiting. "
                    "Let's sort it out together: what matters most to you right now?",
                },
                {"role": "customer", "text": "It's a birthday present for tomorrow."},
            ],
        },
        {
            "id": "native-bad",
            "context": {"order_id": "A-1"},
            "turns": [
                {"role": "customer", "text": "You charged me twice!"},
                {"role": "agent", "text": "Calm down. That's our policy. What's your order id?"},
            ],
        },
        {
            "id": "openai-shape",
            "messages": [
                {"role": "system", "content": "You are a helpful support agent."},
                {"role": "user", "content": "I want a manager right now."},
                {"role": "assistant", "content": "I hear you, and I can connect you."},
            ],
        },
    ]
    path = tmp_path / "recorded.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_grade_jsonl(cli: Invoke, tmp_path: Path) -> None:
    source = _transcripts_file(tmp_path)
    result = _ok(cli("grade", source.name, "--out", "graded"))
    assert "graded 3 conversation(s)" in result.output
    cards = read_jsonl(tmp_path / "graded" / SCORECARDS)
    assert [c["conversation_id"] for c in cards] == ["native-good", "native-bad", "openai-shape"]
    for card in cards:
        Scorecard.model_validate(card)
        assert card["outcome"]["stop_reason"] == "imported"
    records = {r["conversation_id"]: r for r in read_jsonl(tmp_path / "graded" / TRANSCRIPTS)}
    assert [t["role"] for t in records["openai-shape"]["turns"]] == ["customer", "agent"]
    manifest = json.loads((tmp_path / "graded" / MANIFEST).read_text())
    assert manifest["kind"] == "grade"
    assert manifest["status"] == "finished"
    assert manifest["conversations"] == 3
    by_id = {c["conversation_id"]: c for c in cards}
    assert by_id["native-good"]["score"] > by_id["native-bad"]["score"]


def test_grade_bad_json_line(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "a", "turns": [{"role": "customer", "text": "hi"}]})
    path.write_text(f"{good}\n{{oops\n", encoding="utf-8")
    line = _one_line_error(cli("grade", "bad.jsonl", "--out", "graded"))
    assert "bad.jsonl:2:" in line
    assert not (tmp_path / "graded" / SCORECARDS).exists()


def test_grade_system_only_openai_conversation(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "sys.jsonl"
    path.write_text(
        json.dumps({"id": "s", "messages": [{"role": "system", "content": "x"}]}) + "\n",
        encoding="utf-8",
    )
    line = _one_line_error(cli("grade", "sys.jsonl", "--out", "graded"))
    assert "sys.jsonl:1:" in line


# ---------------------------------------------------------------- compare and eval


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from harness.runs import execute, start_run
    from tests.conftest import small_settings

    runs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp("compare") / name
        settings = small_settings(personas=["late-gift"], seeds=[0])
        store, manifest, todo = start_run(settings, out, name=name, kind="run", resume=False)
        execute(store, manifest, todo)
        runs.append(out)
    return runs[0], runs[1]


def _column(columns: list[str], run: Path, library: str) -> str:
    """The one series column for a run directory and a macro library (however it is labelled)."""
    found = [c for c in columns if run.name in c and library in c]
    assert len(found) == 1, (columns, run.name, library)
    return found[0]


KEYS = {"guideline": "deesc.name_emotion", "persona": "late-gift", "agent": "seed-playbook"}


CELL = {"mean", "n", "ci_low", "ci_high"}


@pytest.mark.parametrize("by", ["guideline", "persona", "agent"])
@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_compare(cli: Invoke, two_runs: tuple[Path, Path], by: str, fmt: str) -> None:
    first, second = two_runs
    out = _ok(cli("compare", str(first), str(second), "--by", by, "--format", fmt)).output
    key = KEYS[by]
    # 2 runs x 2 agents; every series after the first shares its (persona, seed, difficulty)
    width = 1 + 4 + 3
    if fmt == "json":
        data = json.loads(out)
        columns = [c["name"] for c in data["columns"]]
        assert len(columns) == 4
        assert data["baseline"] == columns[0]
        assert any(key in r[by] for r in data["rows"])
        for row in data["rows"] + data["outcomes"]:
            assert set(row["cells"]) == set(columns)
            assert all(set(cell) >= CELL for cell in row["cells"].values())
            assert set(row["paired"]) == set(columns[1:])
        overall = next(r for r in data["outcomes"] if r["metric"] == "OVERALL score")
        assert all(overall["cells"][c]["n"] == 1 for c in columns)
        good = overall["cells"][_column(columns, first, "seed-playbook")]["mean"]
        bad = overall["cells"][_column(columns, first, "anti-patterns")]["mean"]
        assert good > bad
        # same settings and seed in both runs: same result
        assert overall["cells"][_column(columns, second, "seed-playbook")]["mean"] == good
        assert overall["cells"][_column(columns, second, "anti-patterns")]["mean"] == bad
        same = overall["paired"][_column(columns, second, "seed-playbook")]
        assert (same["delta"], same["n"], same["p_value"]) == (0.0, 1, 1.0)
        assert set(data["pass_hat_k"]) == set(columns)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0][0] == by
        assert len(rows[0]) == width
        for run in (first, second):
            for library in ("seed-playbook", "anti-patterns"):
                _column(rows[0][1:5], run, library)
        assert key in rows[1][0]
        table = [r for r in rows if not r[0].startswith("#")]
        assert all(len(r) == width for r in table)
        assert any(r[0] == "OVERALL score" for r in table)
        assert any(r[0].startswith("# interval: ") for r in rows)
    elif fmt == "markdown":
        lines = out.splitlines()
        header = [cell.strip() for cell in lines[0].strip("|").split("|")]
        assert header[0] == by
        assert len(header) == width
        assert lines[1].count("---") == width
        assert key in lines[2].split("|")[1]
        assert "n=1" in lines[2]
    else:
        assert f"Mean score by {by}" in out
        assert key in out
        assert "OVERALL score" in out
        assert "pass^1 (resolved)" in out


def test_compare_bad_option(cli: Invoke, two_runs: tuple[Path, Path]) -> None:
    line = _one_line_error(cli("compare", str(two_runs[0]), "--by", "weather"))
    assert "--by" in line
    line = _one_line_error(cli("compare", str(two_runs[0]), "--format", "xml"))
    assert "--format" in line


def test_compare_not_a_run_dir(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = _one_line_error(cli("compare", "empty"))
    assert "scorecards.jsonl" in line


def test_eval_small_suite(cli: Invoke, tmp_path: Path) -> None:
    suite = {
        "name": "mini",
        "description": "two personas, both libraries, one seed",
        "personas": ["late-gift", "manager-now"],
        "agents": [SEED_PLAYBOOK, ANTI_PATTERNS],
        "seeds": 1,
        "max_turns": 16,
        "compare_by": "guideline",
    }
    (tmp_path / "mini.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    out = _ok(cli("eval", "mini.yaml", "--out", "evalrun")).output
    assert "Mean score by guideline" in out
    assert "deesc.name_emotion" in out
    assert "OVERALL score" in out
    cards = read_jsonl(tmp_path / "evalrun" / SCORECARDS)
    assert len(cards) == 4
    assert {(c["persona"], c["agent"]) for c in cards} == {
        (p, a) for p in suite["personas"] for a in suite["agents"]
    }
    manifest = json.loads((tmp_path / "evalrun" / MANIFEST).read_text())
    assert manifest["kind"] == "eval"
    assert manifest["name"] == "mini"
    assert manifest["status"] == "finished"


def test_eval_invalid_suite(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\nagents: []\n", encoding="utf-8")
    line = _one_line_error(cli("eval", "bad.yaml", "--out", "o"))
    assert "bad.yaml:2:" in line


def test_compare_keeps_agents_with_same_file_name_apart(
    cli: Invoke, tmp_path: Path, repo: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    builtin = repo / "evals" / "macros" / "seed-playbook.yaml"
    (mine / "seed-playbook.yaml").write_bytes(builtin.read_bytes())
    agents = ("--agent", SEED_PLAYBOOK, "--agent", "macros:mine/seed-playbook.yaml")
    _ok(cli("run", "--persona", "late-gift", *agents, "--out", "out"))
    assert len(read_jsonl(tmp_path / "out" / SCORECARDS)) == 2
    data = json.loads(_ok(cli("compare", "out", "--format", "json")).output)
    columns = [c["name"] for c in data["columns"]]
    assert len(columns) == 2, columns


def test_eval_passes_the_suites_judges(cli: Invoke, tmp_path: Path) -> None:
    suite = {
        "name": "panel",
        "personas": ["late-gift"],
        "agents": [ANTI_PATTERNS],
        "judge": "rules",
        "judges": ["rules"],
        "seeds": 1,
    }
    (tmp_path / "panel.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    _ok(cli("eval", "panel.yaml", "--out", "evalrun"))
    manifest = json.loads((tmp_path / "evalrun" / MANIFEST).read_text())
    assert manifest["settings"]["judges"] == ["rules"]
    [card] = read_jsonl(tmp_path / "evalrun" / SCORECARDS)
    assert card["panel"]["rules"] == card["results"]
    assert manifest["agreement"]


def test_run_caps_the_customers_abuse(cli: Invoke, tmp_path: Path) -> None:
    run = ("run", "--persona", "abusive-insults", "--agent", SEED_PLAYBOOK)
    _ok(cli(*run, "--max-intensity", "none", "--out", "capped"))
    manifest = json.loads((tmp_path / "capped" / MANIFEST).read_text())
    assert manifest["settings"]["max_intensity"] == "none"
    _ok(cli(*run, "--out", "raw"))
    capped = read_jsonl(tmp_path / "capped" / TRANSCRIPTS)[0]["turns"]
    raw = read_jsonl(tmp_path / "raw" / TRANSCRIPTS)[0]["turns"]
    assert max(t["state"]["abuse_level"] for t in raw if t["state"]) >= 2
    assert max(t["state"]["abuse_level"] for t in capped if t["state"]) == 0
    line = _one_line_error(cli(*run, "--max-intensity", "extreme", "--out", "x"))
    assert "--max-intensity must be none, rude or abusive" in line


def test_agent_options_reach_the_agent_kind(cli: Invoke, tmp_path: Path) -> None:
    line = _one_line_error(
        cli("run", "--agent", SEED_PLAYBOOK, "--agent-option", "http.timeout=5", "--out", "x")
    )
    assert "no --agent is a http: agent" in line
    line = _one_line_error(
        cli(
            "run",
            "--persona",
            "late-gift",
            "--agent",
            "http:http://127.0.0.1:9/x",
            "--agent-option",
            "http.colour=red",
            "--out",
            "x",
        )
    )
    assert "agent http options: colour" in line


def test_kinds_lists_every_role(cli: Invoke) -> None:
    out = _ok(cli("kinds")).output
    for spec in ("macros:PATH", "http:URL", "scripted", "hybrid:ID", "markdown"):
        assert spec in out
