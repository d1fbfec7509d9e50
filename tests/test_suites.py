"""Suites that describe every agent (options per agent entry), `eval --dry-run` and the
persona / seeds / difficulty overrides, and agreement tables with n per guideline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.agreement import agreement_counts, judge_agreement, statistic_of
from harness.catalog import load_suite, suite_agents, validate_paths
from harness.cli import app
from harness.errors import InputError
from harness.models import Scorecard
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS
from tests.conftest import ANTI_PATTERNS, SEED_PLAYBOOK, read_jsonl

WIDE = {"COLUMNS": "250"}
SEEN: list[dict[str, Any]] = []


class Webhook(BaseHTTPRequestHandler):
    """A webhook bot: records each request, ends the chat on its second reply."""

    def log_message(self, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        SEEN.append({"body": body, "auth": self.headers.get("Authorization")})
        replies = sum(1 for m in body["messages"] if m["role"] == "assistant")
        data = json.dumps(
            {"reply": "I'm sorry, that sounds frustrating. Let's fix it.", "end": replies >= 1}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def bot() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/chat"
    httpd.shutdown()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), env=WIDE)


def _suite(tmp_path: Path, **fields: Any) -> Path:
    data = {"name": "s", "personas": ["late-gift"], "seeds": 1, "max_turns": 8, **fields}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _one_line(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_an_agent_entry_carries_its_kinds_options(
    cli: Any, tmp_path: Path, bot: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TT_SUITE_TOKEN", "s3cret")
    SEEN.clear()
    entry = {
        "spec": f"http:{bot}",
        "format": "webhook",
        "headers": {"Authorization": "Bearer $TT_SUITE_TOKEN"},
        "timeout": 5,
    }
    _suite(tmp_path, agents=[SEED_PLAYBOOK, entry])
    result = cli("eval", "suite.yaml", "--out", "run")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / MANIFEST).read_text())
    http = manifest["settings"]["agent_options"]["http"]
    assert http["format"] == "webhook"
    assert http["headers"] == {"Authorization": "Bearer $TT_SUITE_TOKEN"}  # the template only
    assert http["timeout"] == 5
    assert "s3cret" not in (tmp_path / "run" / MANIFEST).read_text()
    assert SEEN and all(s["auth"] == "Bearer s3cret" for s in SEEN)  # expanded at call time
    assert "conversation_id" in SEEN[0]["body"]  # the webhook shape, not chat-completions
    records = {r["agent"]: r for r in read_jsonl(tmp_path / "run" / TRANSCRIPTS)}
    assert records[f"http:{bot}"]["stop_reason"] == "agent_ended"


def test_options_may_also_sit_under_options(tmp_path: Path) -> None:
    entry = {"spec": "http:http://127.0.0.1:9/x", "options": {"format": "webhook"}}
    path = _suite(tmp_path, agents=[entry])
    suite, _ = load_suite(str(path))
    agents = suite_agents(path, suite)
    assert agents.specs == ["http:http://127.0.0.1:9/x"]
    assert agents.agent_options == {"http": {"format": "webhook"}}


def test_a_bad_option_names_its_line(cli: Any, tmp_path: Path) -> None:
    entry = {"spec": "http:http://127.0.0.1:9/x", "format": "webhook", "colour": "red"}
    path = _suite(tmp_path, agents=[SEED_PLAYBOOK, entry])
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "colour" in t)
    error = _one_line(cli("eval", "suite.yaml", "--out", "x"))
    assert f"suite.yaml:{line}: agents.1.colour: agent http options: colour" in error
    _, problems = validate_paths([path])
    assert len(problems) == 1 and f"suite.yaml:{line}:" in problems[0]


def test_two_agents_of_one_kind_with_different_options_are_refused(tmp_path: Path) -> None:
    agents = [
        {"spec": "http:http://127.0.0.1:9/a", "format": "webhook"},
        {"spec": "http:http://127.0.0.1:9/b", "format": "openai"},
    ]
    path = _suite(tmp_path, agents=agents)
    suite, _ = load_suite(str(path))
    with pytest.raises(InputError, match=r"agents\.1: its http options differ from agents\.0's"):
        suite_agents(path, suite)


def test_system_prompt_maps_onto_the_run(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "bot.txt").write_text("You are a calm support agent.", encoding="utf-8")
    _suite(
        tmp_path,
        agents=[{"spec": "model:openai/gpt-4o-mini", "system_prompt": "bot.txt"}],
        judges=["rules"],
        judge_batch="section",
    )
    result = cli("eval", "suite.yaml", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: estimate (no model was called)" in result.output
    assert "1 conversation(s)" in result.output
    assert not (tmp_path / "results").exists()
    suite, path = load_suite("suite.yaml")
    assert suite_agents(path, suite).system_prompt == "bot.txt"
    _suite(tmp_path, agents=[{"spec": "model:openai/gpt-4o-mini", "system_prompt": "nope.txt"}])
    error = _one_line(cli("eval", "suite.yaml", "--dry-run"))
    assert "agents.0.system_prompt: file not found: nope.txt" in error


def test_eval_dry_run_with_overrides_runs_nothing(cli: Any, tmp_path: Path) -> None:
    _suite(tmp_path, agents=[SEED_PLAYBOOK, ANTI_PATTERNS], seeds=3)
    result = cli("eval", "suite.yaml", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 conversation(s)" not in result.output and "6 conversation(s)" in result.output
    args = ("--persona", "late-gift,manager-now", "--seeds", "2", "--dry-run")
    result = cli("eval", "suite.yaml", *args)
    assert result.exit_code == 0, result.output
    assert "8 conversation(s)" in result.output  # 2 personas x 2 agents x 2 seeds
    assert "no model roles" in result.output
    assert not (tmp_path / "results").exists()


def test_eval_overrides_reach_the_run(cli: Any, tmp_path: Path) -> None:
    _suite(tmp_path, agents=[SEED_PLAYBOOK], seeds=3, difficulty=2)
    args = ("--persona", "manager-now", "--seeds", "2", "--difficulty", "4", "--out", "run")
    result = cli("eval", "suite.yaml", *args)
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "run" / MANIFEST).read_text())["settings"]
    assert (settings["personas"], settings["seeds"], settings["difficulty"]) == (
        ["manager-now"],
        [0, 1],
        4,
    )
    cards = read_jsonl(tmp_path / "run" / SCORECARDS)
    assert {(c["persona"], c["seed"], c["difficulty"]) for c in cards} == {
        ("manager-now", 0, 4),
        ("manager-now", 1, 4),
    }


# ---------------------------------------------------------------- agreement n


def test_agreement_counts_match_the_tables(finished_run: Path) -> None:
    cards = [Scorecard.model_validate(c) for c in read_jsonl(finished_run / SCORECARDS)]
    panel = [
        c.model_copy(update={"panel": {"other": [r.model_copy() for r in c.results[:-1]]}})
        for c in cards
    ]
    tables = judge_agreement(panel)
    counts = agreement_counts(panel)
    assert set(counts) == set(tables)
    kappa = next(k for k in tables if statistic_of(k)[1] == "Cohen's kappa")
    assert statistic_of(kappa) == ("rules vs other", "Cohen's kappa")
    last = cards[0].results[-1].guideline
    assert last not in counts[kappa]  # the panel judge never labelled it
    assert all(n == len(cards) for n in counts[kappa].values())
    alpha = "all judges (Krippendorff's alpha)"
    assert counts[alpha][last] == 0 and tables[alpha][last] is None


def test_summary_names_the_statistic_and_n(cli: Any, tmp_path: Path) -> None:
    run = ("run", "--persona", "late-gift", "--agent", ANTI_PATTERNS, "--seeds", "2")
    result = cli(*run, "--judge", "rules", "--judge", "rules", "--out", "ag")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Judge agreement: rules vs rules" in out
    assert "Cohen's kappa" in out and "Krippendorff's alpha" in out
    header = next(
        line for line in out.splitlines() if "Krippendorff's alpha" in line and "┃" in line
    )
    assert "n" in [cell.strip() for cell in header.split("┃")]
    row = next(line for line in out.splitlines() if "deesc.no_calm_down" in line)
    assert row.split("│")[-2].strip() == "2"
