"""The gateway's own behaviour (retries, cache, accounting, errors) on an in-process fake
provider: no HTTP server and no litellm import."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_rubric
from harness.judging import Case, JudgeContext, make_judge
from harness.llm import Gateway, ModelError, ModelSettings
from harness.models import Turn
from harness.providers import ProviderRequest, TransientError
from tests.fake_provider import FakeProvider


def gateway(provider: FakeProvider, tmp_path: Path | None = None, **kw: Any) -> Gateway:
    values: dict[str, Any] = {"cache_dir": tmp_path / "cache" if tmp_path else None}
    values.update({"backoff": 0.001, **kw})
    return Gateway(ModelSettings(**values), providers=[provider])


def ask(gw: Gateway, role: str = "agent", text: str = "hello") -> Any:
    return asyncio.run(
        gw.complete(
            role=role,
            model="fake/model",
            temperature=0.0,
            seed=0,
            messages=[{"role": "user", "content": text}],
        )
    )


def test_usage_is_counted_once_per_role_in_the_gateway() -> None:
    provider = FakeProvider(lambda request: "two words")
    gw = gateway(provider)
    ask(gw, "agent", "one two three")
    ask(gw, "judge")
    ask(gw, "judge")
    assert gw.usage["agent"].model_dump() == {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
        "cost_usd": 0.001,
        "calls": 1,
        "cached_calls": 0,
    }
    assert gw.usage["judge"].calls == 2
    assert [r.role for r in provider.requests] == ["agent", "judge", "judge"]


def test_a_scope_counts_its_own_calls_and_shares_the_limit() -> None:
    gw = gateway(FakeProvider(lambda request: "ok"), concurrency=1)
    scope = gw.scope()
    ask(scope, "customer")
    assert scope.usage["customer"].calls == 1
    assert "customer" not in gw.usage
    assert scope.limits() is gw.limits()


def test_transient_errors_are_retried_then_succeed() -> None:
    failures = [TransientError("429"), TransientError("503")]

    def script(request: ProviderRequest) -> str | BaseException:
        return failures.pop(0) if failures else "fine"

    provider = FakeProvider(script)
    done = ask(gateway(provider, max_retries=2))
    assert done.text == "fine"
    assert len(provider.requests) == 3


def test_retries_run_out_in_one_line() -> None:
    provider = FakeProvider(lambda request: TransientError("503 busy"))
    with pytest.raises(ModelError) as caught:
        ask(gateway(provider, max_retries=2))
    assert len(provider.requests) == 3
    message = str(caught.value)
    assert "TransientError after 3 attempt(s)" in message and "\n" not in message


def test_other_errors_are_not_retried() -> None:
    provider = FakeProvider(lambda request: ValueError("bad request"))
    with pytest.raises(ModelError, match="fake/model: ValueError: bad request"):
        ask(gateway(provider, max_retries=3))
    assert len(provider.requests) == 1


def test_the_disk_cache_answers_the_second_call(tmp_path: Path) -> None:
    provider = FakeProvider(lambda request: "cached reply")
    gw = gateway(provider, tmp_path)
    first, second = ask(gw), ask(gw)
    assert (first.cached, second.cached) == (False, True)
    assert second.text == "cached reply" and second.usage.cost_usd == 0.0
    assert len(provider.requests) == 1
    assert gw.usage["agent"].calls == 2 and gw.usage["agent"].cached_calls == 1


def test_model_judge_usage_lands_in_the_gateway_not_the_judge() -> None:
    verdict = json.dumps({"verdict": "missed", "evidence": [], "rationale": "not seen"})
    gw = gateway(FakeProvider(lambda request: verdict))
    judge = make_judge("model:fake/model", JudgeContext(gateway=gw))
    rubric, _ = load_rubric("default")
    turns = [
        Turn(role="customer", text="My parcel is four days late!"),
        Turn(role="agent", text="Please calm down."),
    ]
    results = asyncio.run(judge.agrade(Case(turns=turns), rubric))
    asked = [r for r in results if r.grader == "model:fake/model"]
    assert asked and all(r.verdict == "missed" for r in asked)
    assert gw.usage["judge"].calls == len(asked)
    assert not hasattr(judge, "usage")


def test_a_fake_provider_needs_no_litellm() -> None:
    code = (
        "import asyncio, sys\n"
        "from harness.llm import Gateway, ModelSettings\n"
        "from tests.fake_provider import FakeProvider\n"
        "gw = Gateway(ModelSettings(cache_dir=None), providers=[FakeProvider(lambda r: 'ok')])\n"
        "done = asyncio.run(gw.complete(role='agent', model='openai/x', temperature=0.0, "
        "seed=0, messages=[{'role': 'user', 'content': 'hi'}]))\n"
        "assert done.text == 'ok'\n"
        "print('litellm' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_an_empty_reply_is_retried_and_never_cached(tmp_path: Path) -> None:
    replies = iter(["", "  ", "a real answer"])
    provider = FakeProvider(lambda request: next(replies))
    gw = gateway(provider, tmp_path, max_retries=3)
    assert ask(gw).text == "a real answer"
    assert len(provider.requests) == 3
    cached = [json.loads(p.read_text())["text"] for p in (tmp_path / "cache").rglob("*.json")]
    assert cached == ["a real answer"]


def test_a_model_that_only_answers_empty_fails_in_one_line(tmp_path: Path) -> None:
    provider = FakeProvider(lambda request: "")
    gw = gateway(provider, tmp_path, max_retries=1)
    with pytest.raises(ModelError, match="empty reply"):
        ask(gw)
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr("harness.llm.asyncio.sleep", record)
    replies = iter([TransientError("429", retry_after=3.0), "ok"])
    assert ask(gateway(FakeProvider(lambda request: next(replies)))).text == "ok"
    assert waits and waits[0] >= 3.0  # not the 1 ms backoff


def test_retry_after_header_of_a_real_rate_limit_reaches_the_wait(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.fake_openai import FakeOpenAI, Scripted

    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr("harness.llm.asyncio.sleep", record)
    statuses = iter([429])
    with FakeOpenAI(
        lambda body: Scripted("fine", status=next(statuses, 200), headers={"Retry-After": "2"})
    ) as server:
        gw = Gateway(
            ModelSettings(api_base=server.base, backoff=0.001, cache_dir=None, max_retries=2)
        )
        reply = asyncio.run(
            gw.complete(
                role="agent",
                model="openai/fake-model",
                temperature=0.0,
                seed=0,
                messages=[{"role": "user", "content": "hi"}],
            )
        )
    assert reply.text == "fine"
    assert waits and waits[0] >= 2.0


def test_each_role_has_its_own_limit_so_a_judge_storm_leaves_the_agent_room() -> None:
    """With concurrency 2, two judge calls hold the judge's slots; the agent still gets in."""
    gate = asyncio.Event()
    order: list[str] = []

    async def run() -> None:
        provider = _Blocking(gate, order)
        gw = Gateway(ModelSettings(cache_dir=None, concurrency=2), providers=[provider])

        async def call(role: str, text: str) -> None:
            await gw.complete(
                role=role,
                model="fake/m",
                temperature=0.0,
                seed=0,
                messages=[{"role": "user", "content": text}],
            )

        judges = [asyncio.create_task(call("judge", f"j{n}")) for n in range(4)]
        await asyncio.sleep(0.01)
        await call("agent", "a0")  # would wait forever behind the judges with one shared limit
        gate.set()
        await asyncio.gather(*judges)
        assert gw.limits()("judge").cap == 2

    asyncio.run(asyncio.wait_for(run(), timeout=5))
    assert order[:3] == ["j0", "j1", "a0"]


class _Blocking(FakeProvider):
    """Judge calls wait for the gate; other roles answer at once."""

    def __init__(self, gate: asyncio.Event, order: list[str]) -> None:
        super().__init__(lambda request: "ok")
        self.gate, self.order = gate, order

    async def complete(self, request: ProviderRequest) -> tuple[str, Any]:
        self.order.append(request.messages[-1]["content"])
        if request.role == "judge":
            await self.gate.wait()
        return await super().complete(request)


def test_a_rate_limit_halves_the_role_limit_and_successes_raise_it_again() -> None:
    from harness.limits import AdaptiveLimit

    limit = AdaptiveLimit(8)
    limit.slow_down()
    limit.slow_down()
    assert limit.limit == 2
    for _ in range(2):
        limit.speed_up()
    assert limit.limit == 3
    for _ in range(3 + 4 + 5 + 6 + 7 + 8):
        limit.speed_up()
    assert limit.limit == 8  # never past its cap


def test_the_gateway_slows_down_on_429_and_keeps_going(tmp_path: Path) -> None:
    replies = iter([TransientError("429")] * 3 + ["ok"] * 20)

    class Status429(TransientError):
        status_code = 429

    provider = FakeProvider(
        lambda request: (lambda r: Status429("slow down") if isinstance(r, TransientError) else r)(
            next(replies)
        )
    )
    gw = gateway(provider, concurrency=8, max_retries=5)
    assert ask(gw).text == "ok"
    assert gw.limits()("agent").limit == 2  # 8 -> 4 -> 2 -> 1, then the success adds one


def test_a_judge_asks_for_its_verdict_schema_as_structured_output() -> None:
    from harness.judging.model import VERDICT_SCHEMA, ModelJudge

    provider = FakeProvider(
        lambda request: json.dumps({"verdict": "missed", "evidence": [], "rationale": "no"})
    )
    gw = Gateway(ModelSettings(cache_dir=None), providers=[provider])
    rubric, _ = load_rubric("default")
    judge = ModelJudge(model="fake/judge", gateway=gw, spec="model:fake/judge")
    case = Case(turns=[Turn(role="customer", text="Hi"), Turn(role="agent", text="Hello there.")])
    asyncio.run(judge.agrade(case, rubric))
    wanted = provider.requests[0].params["response_format"]
    assert wanted["type"] == "json_schema"
    assert wanted["json_schema"]["schema"] == VERDICT_SCHEMA
    assert "verdict" in VERDICT_SCHEMA["properties"]


def test_a_server_that_refuses_structured_output_is_asked_again_without_it() -> None:
    from tests.fake_openai import FakeOpenAI, Scripted

    def script(body: dict[str, Any]) -> Scripted:
        if "response_format" in body:
            return Scripted(status=400)
        return Scripted('{"ok": true}')

    with FakeOpenAI(script) as server:
        gw = Gateway(
            ModelSettings(api_base=server.base, cache_dir=None, max_retries=0), providers=None
        )

        async def twice() -> list[str]:
            texts = []
            for n in range(2):
                done = await gw.complete(
                    role="judge",
                    model="openai/fake",
                    messages=[{"role": "user", "content": f"q{n}"}],
                    temperature=0.0,
                    seed=0,
                    schema={"type": "object"},
                )
                texts.append(done.text)
            return texts

        assert asyncio.run(twice()) == ['{"ok": true}', '{"ok": true}']
        with_schema = [b for b in server.requests if "response_format" in b]
    assert len(with_schema) == 1  # asked once, then never again in this run
    assert "openai/fake" in gw.no_schema()
