"""The LLM path for real through litellm, against an OpenAI-compatible server on 127.0.0.1:
retries, timeouts, streaming, and whole runs through the CLI (judge logic: test_model_judge)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.llm import Gateway, ModelError, ModelSettings
from tests.conftest import read_jsonl
from tests.fake_openai import FakeOpenAI, Scripted

MODEL = "openai/fake-model"


def role_of(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "quality assessor" in system:
        return "judge"
    if "role-playing" in system:
        return "customer"
    return "agent"


def gateway(server: FakeOpenAI, tmp_path: Path, **kw: Any) -> Gateway:
    values: dict[str, Any] = {
        "api_base": server.base,
        "cache_dir": tmp_path / "cache",
        "backoff": 0.01,
        "timeout": 5.0,
    }
    values.update(kw)
    return Gateway(ModelSettings(**values))


def ask(gw: Gateway, text: str = "hello", seed: int = 0) -> Any:
    return asyncio.run(
        gw.complete(
            role="agent",
            model=MODEL,
            temperature=0.0,
            seed=seed,
            messages=[{"role": "user", "content": text}],
        )
    )


def test_completion_usage_and_zero_cost_for_unknown_model(tmp_path: Path) -> None:
    with FakeOpenAI(lambda body: Scripted("I can hear how stressful this is.")) as server:
        done = ask(gateway(server, tmp_path))
    assert done.text == "I can hear how stressful this is."
    assert done.usage.completion_tokens == 7 and done.usage.calls == 1
    assert done.usage.cost_usd == 0.0
    assert server.requests[0]["temperature"] == 0.0 and server.requests[0]["seed"] == 0


def test_disk_cache_skips_the_server_and_no_cache_does_not(tmp_path: Path) -> None:
    with FakeOpenAI(lambda body: Scripted("cached answer")) as server:
        gw = gateway(server, tmp_path)
        first, second = ask(gw), ask(gw)
        assert len(server.requests) == 1
        assert second.cached and second.text == first.text and second.usage.cost_usd == 0
        ask(gw, seed=1)  # the seed is part of the key
        assert len(server.requests) == 2
        ask(gateway(server, tmp_path, cache_dir=None))
        assert len(server.requests) == 3


def test_retries_429_and_500_then_succeeds(tmp_path: Path) -> None:
    statuses = iter([429, 500, 503, 200])
    with FakeOpenAI(lambda body: Scripted("finally", status=next(statuses))) as server:
        done = ask(gateway(server, tmp_path, cache_dir=None))
    assert done.text == "finally"
    assert len(server.requests) == 4


def test_timeouts_are_retried_then_reported_in_one_line(tmp_path: Path) -> None:
    with FakeOpenAI(lambda body: Scripted("slow", delay=1.5)) as server:
        gw = gateway(server, tmp_path, cache_dir=None, timeout=0.3, max_retries=1)
        with pytest.raises(ModelError) as info:
            ask(gw)
    # The client's own count: on a loaded machine the server may not have read the retried
    # request before the client gave up on it, so counting server-side requests is flaky.
    assert "(2 attempt(s))" in str(info.value)
    assert 1 <= len(server.requests) <= 2
    assert "\n" not in str(info.value) and "timed out" in str(info.value)


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    gw = Gateway(
        ModelSettings(
            api_base="http://127.0.0.1:9/v1", cache_dir=None, backoff=0.01, max_retries=1, timeout=2
        )
    )
    with pytest.raises(ModelError) as info:
        ask(gw)
    assert "cannot reach" in str(info.value) and "--api-base" in str(info.value)


def test_streaming_on_assembles_the_text(tmp_path: Path) -> None:
    with FakeOpenAI(lambda body: Scripted("one two three four")) as server:
        done = ask(gateway(server, tmp_path, cache_dir=None, stream=True))
    assert server.requests[0]["stream"] is True
    assert done.text == "one two three four"


# ---------------------------------------------------------------- whole runs through the CLI


def _conversation_script(body: dict[str, Any]) -> Scripted:
    role = role_of(body)
    if role == "judge":
        return Scripted(json.dumps({"verdict": "missed", "evidence": [], "rationale": "not seen"}))
    if role == "customer":
        agent_said = body["messages"][-1]["content"]
        accepted = "replacement" in agent_said
        return Scripted(
            json.dumps(
                {
                    "reply": "Fine, do that." if accepted else "And?",
                    "anger": 3 if accepted else 7,
                    "wants_manager": False,
                    "resolved": accepted,
                    "leaving": False,
                }
            )
        )
    turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if turns == 0:
        return Scripted("Hi Priya, I can hear how stressful this is. Let's sort it together.")
    return Scripted(
        "I can overnight a replacement telescope at no charge so it reaches you by noon tomorrow."
    )


def test_model_agent_customer_and_judge_run_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    with FakeOpenAI(_conversation_script) as server:
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--persona",
                "late-gift",
                "--agent",
                f"model:{MODEL}",
                "--customer",
                f"model:{MODEL}",
                "--judge",
                f"hybrid:{MODEL}",
                "--api-base",
                server.base,
                "--out",
                str(out),
                "--seeds",
                "2",
            ],
        )
    assert result.exit_code == 0, result.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) == 2
    for card in cards:
        assert card["outcome"]["stop_reason"] == "resolved"
        assert set(card["usage"]) == {"agent", "customer", "judge"}
        assert card["usage"]["agent"]["completion_tokens"] > 0
        assert card["usage"]["customer"]["calls"] >= 2
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["usage"]["agent"]["calls"] == sum(c["usage"]["agent"]["calls"] for c in cards)
    turns = read_jsonl(out / "transcripts.jsonl")[0]["turns"]
    assert [t["state"]["anger"] for t in turns if t["role"] == "customer"][-1] == 3


def test_server_errors_end_conversations_not_the_batch_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    args = [
        "run",
        "--persona",
        "late-gift,wrong-model",
        "--agent",
        f"model:{MODEL}",
        "--out",
        str(out),
        "--seeds",
        "2",
    ]
    with FakeOpenAI(lambda body: Scripted(status=500)) as server:
        first = CliRunner().invoke(app, [*args, "--api-base", server.base, "--retries", "1"])
        assert len(server.requests) == 8  # 4 conversations x (1 call + 1 retry)
    # Every conversation failed: exit 1, results kept, and none of them carries a score.
    assert first.exit_code == 1, first.output
    cards = read_jsonl(out / "scorecards.jsonl")
    assert len(cards) == 4 and {c["outcome"]["stop_reason"] for c in cards} == {"error"}
    assert all(c["score"] is None and "error" in c["flags"] for c in cards)
    assert all(c["results"] == [] and c["outcome"]["csat"] is None for c in cards)
    assert "4 of 4 conversation(s) failed" in first.output and "--resume" in first.output
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    records = read_jsonl(out / "transcripts.jsonl")
    assert "500" in records[0]["error"] or "InternalServerError" in records[0]["error"]
    # The server recovers (after a 429 storm that retries absorb): resume redoes the errors.
    storm = iter([429] * 3)
    with FakeOpenAI(
        lambda body: Scripted(
            "I will overnight a replacement by noon tomorrow.", status=next(storm, 200)
        )
    ) as server:
        second = CliRunner().invoke(
            app, [*args, "--api-base", server.base, "--resume", "--retries", "4"]
        )
    assert second.exit_code == 0, second.output
    cards = read_jsonl(out / "scorecards.jsonl")
    records = read_jsonl(out / "transcripts.jsonl")
    assert len(cards) == 4 and len({c["conversation_id"] for c in cards}) == 4
    assert len(records) == 4
    assert "error" not in {c["outcome"]["stop_reason"] for c in cards}


def test_customer_fidelity_guard_regenerates_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))

    def script(body: dict[str, Any]) -> Scripted:
        if role_of(body) == "customer":
            return Scripted(
                json.dumps(
                    {"reply": "Hello! How can I help you today?", "anger": 1, "resolved": False}
                )
            )
        return Scripted("I am sorry about the delay.")

    out = tmp_path / "run"
    with FakeOpenAI(script) as server:
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--persona",
                "late-gift",
                "--agent",
                f"model:{MODEL}",
                "--customer",
                f"model:{MODEL}",
                "--api-base",
                server.base,
                "--out",
                str(out),
                "--max-turns",
                "4",
            ],
        )
        customer_calls = sum(1 for b in server.requests if role_of(b) == "customer")
    assert result.exit_code == 0, result.output
    card = read_jsonl(out / "scorecards.jsonl")[0]
    assert card["outcome"]["sim_fault"] is True
    assert "role" in card["outcome"]["sim_faults"][0]
    assert customer_calls == 2  # one regeneration
