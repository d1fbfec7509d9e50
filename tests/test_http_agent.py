"""`http:URL` agents against a real HTTP server on 127.0.0.1, in both request shapes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.agents import AgentContext, agent_files, make_agent
from harness.agents.http import BotError, HttpAgent, HttpOptions, parse_header
from harness.catalog import load_persona
from harness.cli import app
from harness.episode import CaseBrief, run_episode
from harness.errors import UsageError
from harness.models import RunManifest, RunSettings, Scorecard, Turn
from harness.runs import MANIFEST, SCORECARDS, TRANSCRIPTS, execute, start_run
from tests.conftest import read_jsonl

SECRET = "s3cret-token-4711"
GOOD_REPLIES = [
    "Hi Priya, I can hear how stressful this is. Let's sort it out together.",
    "What would a good result look like for you, and is there a deadline?",
    "I can overnight a replacement telescope at no charge so it reaches you by noon tomorrow.",
]


class Bots:
    """What the server saw: requests per path."""

    def __init__(self) -> None:
        self.requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.lock = threading.Lock()

    def hits(self, path: str) -> int:
        with self.lock:
            return len(self.requests[path])


BOTS = Bots()


class Handler(BaseHTTPRequestHandler):
    """One route per bot behaviour."""

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, raw: bool = False) -> None:
        data = body.encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        path = self.path
        with BOTS.lock:
            BOTS.requests[path].append({"body": body, "headers": dict(self.headers)})
            count = len(BOTS.requests[path])
        agent_turns = sum(1 for m in body.get("messages", []) if m["role"] == "assistant")
        text = GOOD_REPLIES[min(agent_turns, len(GOOD_REPLIES) - 1)]
        if path == "/openai":
            self._send(200, {"choices": [{"message": {"role": "assistant", "content": text}}]})
        elif path == "/webhook":
            self._send(200, {"reply": text, "end": agent_turns >= 3})
        elif path == "/transfer":
            self._send(200, {"reply": "Let me bring in my manager now.", "transfer": True})
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, {"reply": text})
        elif path == "/fail":
            self._send(500, {"error": "internal"})
        elif path == "/flaky":
            if count == 1:
                self._send(503, {"error": "warming up"})
            else:
                self._send(200, {"reply": text})
        elif path == "/badjson":
            self._send(200, '{"reply": "unterminated', raw=True)
        elif path == "/wrongshape":
            self._send(200, {"answer": text})
        elif path == "/emptyend":
            self._send(200, {"reply": " ", "end": True})
        elif path == "/auth":
            if self.headers.get("Authorization") != f"Bearer {SECRET}":
                self._send(401, {"error": "bad token"})
            else:
                self._send(200, {"reply": text, "end": agent_turns >= 1})
        elif path == "/leak":
            self._send(502, {"echo": self.headers.get("Authorization")})
        else:
            self._send(404, {"error": "no such bot"})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 with every bot; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _fresh_bots() -> None:
    BOTS.requests.clear()


@pytest.fixture
def brief() -> CaseBrief:
    persona, _ = load_persona("late-gift")
    return CaseBrief.from_persona(persona)


TRANSCRIPT = [
    Turn(role="customer", text="Where is my parcel?"),
    Turn(role="agent", text="I'm sorry, let me look."),
    Turn(role="customer", text="It was due on Friday!"),
]


def _agent(url: str, brief: CaseBrief | None, **options: Any) -> HttpAgent:
    return HttpAgent(url, brief, f"http:{url}", options=HttpOptions(**options), backoff=0.01)


def _turn(agent: HttpAgent, transcript: list[Turn] = TRANSCRIPT) -> Any:
    return asyncio.run(agent.next_turn(list(transcript)))


# ---------------------------------------------------------------- the two shapes


def test_openai_shape_sends_whole_history_and_case(server: str, brief: CaseBrief) -> None:
    agent = _agent(f"{server}/openai", brief, format="openai", model="support-bot-7")
    reply = _turn(agent)
    assert reply.text == GOOD_REPLIES[1]
    assert reply.action is None
    body = BOTS.requests["/openai"][0]["body"]
    assert body["model"] == "support-bot-7"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in body["messages"][1:]] == [t.text for t in TRANSCRIPT]
    system = body["messages"][0]["content"]
    assert "Priya Raman" in system and "CR-4417" in system
    assert "guarantee the carrier releases the held parcel today" in system  # policy limit
    assert "birthday" not in system  # never the hidden issue


def test_webhook_shape_and_end(server: str, brief: CaseBrief) -> None:
    agent = HttpAgent(
        f"{server}/webhook",
        brief,
        "http:x",
        options=HttpOptions(format="webhook"),
        conversation_id="conv-1",
    )
    reply = _turn(agent)
    body = BOTS.requests["/webhook"][0]["body"]
    assert set(body) == {"conversation_id", "messages", "context"}
    assert body["conversation_id"] == "conv-1"
    assert body["messages"][0] == {"role": "user", "content": "Where is my parcel?"}
    assert body["context"]["customer_name"] == "Priya Raman"
    assert body["context"]["order_id"] == "CR-4417"
    assert body["context"]["policy"]["forbids"][0]["text"].startswith("guarantee")
    assert reply.action is None
    long = [*TRANSCRIPT, *(Turn(role=r, text="x") for r in ("agent", "customer") * 2)]
    assert _turn(agent, long).action == "end"


def test_webhook_transfer(server: str, brief: CaseBrief) -> None:
    reply = _turn(_agent(f"{server}/transfer", brief, format="webhook"))
    assert (reply.text, reply.action) == ("Let me bring in my manager now.", "transfer")


# ---------------------------------------------------------------- failures


def test_5xx_is_retried_then_succeeds(server: str) -> None:
    reply = _turn(_agent(f"{server}/flaky", None, format="webhook", retries=2))
    assert reply.text == GOOD_REPLIES[1]
    assert BOTS.hits("/flaky") == 2


def test_failing_bot_gives_up_after_retries(server: str) -> None:
    with pytest.raises(BotError, match=r"HTTP 500.*after 3 attempt") as info:
        _turn(_agent(f"{server}/fail", None, format="webhook", retries=2))
    assert "internal" in str(info.value)
    assert BOTS.hits("/fail") == 3


def test_4xx_is_not_retried_and_says_so(server: str) -> None:
    with pytest.raises(BotError, match="HTTP 401") as info:
        _turn(_agent(f"{server}/auth", None, format="webhook", retries=3))
    assert "not retried" in str(info.value)
    assert "bad token" in str(info.value)
    assert BOTS.hits("/auth") == 1


def test_slow_bot_times_out_per_attempt(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(BotError, match=r"no answer within 0.2s \(after 2 attempt"):
        _turn(_agent(f"{server}/slow", None, format="webhook", timeout=0.2, retries=1))
    assert time.monotonic() - started < 0.9
    assert BOTS.hits("/slow") == 2


def test_malformed_json_is_a_clear_error(server: str) -> None:
    with pytest.raises(BotError, match="malformed JSON"):
        _turn(_agent(f"{server}/badjson", None, format="webhook"))
    assert BOTS.hits("/badjson") == 1


@pytest.mark.parametrize(
    ("path", "fmt"), [("/wrongshape", "webhook"), ("/emptyend", "webhook"), ("/webhook", "openai")]
)
def test_wrong_shape_is_a_clear_error(server: str, path: str, fmt: str) -> None:
    with pytest.raises(BotError, match=r"reply|choices"):
        _turn(_agent(f"{server}{path}", None, format=fmt))


def test_connection_refused_is_retried_then_fails() -> None:
    agent = _agent("http://127.0.0.1:9/none", None, format="webhook", retries=1, timeout=2)
    with pytest.raises(BotError, match=r"connection failed.*after 2 attempt"):
        _turn(agent)


# ---------------------------------------------------------------- headers and secrets


def test_headers_expand_env_and_never_leak(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TT_BOT_TOKEN", SECRET)
    headers = dict([parse_header("Authorization: Bearer $TT_BOT_TOKEN"), parse_header("X-Team: a")])
    assert headers == {"Authorization": "Bearer $TT_BOT_TOKEN", "X-Team": "a"}
    reply = _turn(_agent(f"{server}/auth", None, format="webhook", headers=headers))
    assert reply.action == "end"
    seen = BOTS.requests["/auth"][0]["headers"]
    assert seen["Authorization"] == f"Bearer {SECRET}"
    assert seen["X-Team"] == "a"
    with pytest.raises(BotError) as info:
        _turn(_agent(f"{server}/leak", None, format="webhook", headers=headers, retries=0))
    assert SECRET not in str(info.value)
    assert "***" in str(info.value)


def test_header_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="environment variable"):
        parse_header("Authorization: Bearer sk-literal")
    with pytest.raises(UsageError, match="Name: value"):
        parse_header("no colon here")
    monkeypatch.delenv("TT_MISSING", raising=False)
    with pytest.raises(UsageError, match="TT_MISSING is not set"):
        _agent("http://127.0.0.1:9/x", None, headers={"X-Api-Key": "${TT_MISSING}"})
    with pytest.raises(UsageError, match="expected http"):
        make_agent("http:ftp://example", None)
    assert agent_files("http:http://127.0.0.1:9/x") == []


# ---------------------------------------------------------------- runs


def _settings(server: str, **extra: Any) -> RunSettings:
    values: dict[str, Any] = {
        "personas": ["late-gift"],
        "agents": [f"http:{server}/{name}" for name in ("webhook", "slow", "fail", "badjson")],
        "seeds": [0],
        "max_turns": 10,
        "http_format": "webhook",
        "http_headers": {"Authorization": "Bearer $TT_BOT_TOKEN"},
        "http_timeout": 0.3,
        "http_retries": 1,
    }
    values.update(extra)
    return RunSettings(**values)


def test_batch_goes_on_when_bots_fail(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TT_BOT_TOKEN", SECRET)
    out = tmp_path / "bots"
    store, manifest, todo = start_run(_settings(server), out, name="bots", kind="run", resume=False)
    manifest = execute(store, manifest, todo)
    assert manifest.status == "finished"
    assert (manifest.conversations, manifest.errors) == (4, 3)
    records = {r["agent"].rsplit("/", 1)[1]: r for r in read_jsonl(out / TRANSCRIPTS)}
    assert records["webhook"]["stop_reason"] == "agent_ended"
    assert [t["text"] for t in records["webhook"]["turns"] if t["role"] == "agent"] == (
        [*GOOD_REPLIES, GOOD_REPLIES[-1]]
    )
    for name, needle in (("slow", "no answer within"), ("fail", "HTTP 500"), ("badjson", "JSON")):
        assert records[name]["stop_reason"] == "error", name
        assert needle in records[name]["error"], records[name]["error"]
    cards = [Scorecard.model_validate(c) for c in read_jsonl(out / SCORECARDS)]
    assert {c.outcome.stop_reason for c in cards} == {"agent_ended", "error"}
    # the webhook saw the run's conversation id and the expanded header
    sent = BOTS.requests["/webhook"][0]
    assert sent["body"]["conversation_id"] == records["webhook"]["conversation_id"]
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"
    # only the template is stored, never the secret
    saved = RunManifest.model_validate_json((out / MANIFEST).read_text(encoding="utf-8"))
    assert saved.settings is not None
    assert saved.settings.agent_options["http"]["headers"] == {
        "Authorization": "Bearer $TT_BOT_TOKEN"
    }
    for path in out.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path


def test_run_fails_fast_on_missing_header_variable(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TT_BOT_TOKEN", raising=False)
    with pytest.raises(UsageError, match="TT_BOT_TOKEN is not set"):
        start_run(_settings(server), tmp_path / "x", name="x", kind="run", resume=False)


def test_episode_with_openai_bot(server: str) -> None:
    from harness.customers import make_customer

    persona, _ = load_persona("late-gift")
    customer = make_customer("scripted", persona, seed=0, difficulty=None)
    context = AgentContext(brief=CaseBrief.from_persona(persona))
    agent = make_agent(f"http:{server}/openai", context, options={"http": HttpOptions()})
    result = asyncio.run(run_episode(customer, agent, max_turns=6))
    assert result.error is None
    assert [t.role for t in result.turns] == ["customer", "agent"] * 3


def test_cli_run_with_http_bot_then_compare(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TT_BOT_TOKEN", SECRET)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"COLUMNS": "250"}
    result = runner.invoke(
        app,
        [
            "run",
            "--persona",
            "late-gift",
            "--agent",
            f"http:{server}/auth",
            "--http-format",
            "webhook",
            "--header",
            "Authorization: Bearer $TT_BOT_TOKEN",
            "--http-timeout",
            "5",
            "--out",
            "bot",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    manifest = json.loads((tmp_path / "bot" / MANIFEST).read_text(encoding="utf-8"))
    http = manifest["settings"]["agent_options"]["http"]
    assert http["format"] == "webhook"
    assert http["headers"] == {"Authorization": "Bearer $TT_BOT_TOKEN"}
    literal = runner.invoke(
        app,
        [
            "run",
            "--persona",
            "late-gift",
            "--agent",
            f"http:{server}/auth",
            "--header",
            "Authorization: Bearer sk-literal",
            "--out",
            "lit",
        ],
        env=env,
    )
    assert literal.exit_code == 1
    assert "environment variable" in literal.stderr
    assert not (tmp_path / "lit").exists()
    macros = runner.invoke(
        app,
        [
            "run",
            "--persona",
            "late-gift",
            "--agent",
            "macros:"
            + str(Path(__file__).resolve().parent.parent / "evals/macros/seed-playbook.yaml"),
            "--out",
            "macro",
        ],
        env=env,
    )
    assert macros.exit_code == 0, macros.output
    compared = runner.invoke(app, ["compare", "bot", "macro", "--format", "csv"], env=env)
    assert compared.exit_code == 0, compared.output
    header = compared.output.splitlines()[0]
    assert f"bot/http:{server}/auth" in header
    assert "macro/macros:seed-playbook" in header
