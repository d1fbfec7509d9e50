"""The one model gateway: every model call in toughtalk goes through `Gateway.complete`.

Around each call: bounded concurrency per role that adapts to rate limits (halved on a 429,
raised back by one after a run of successes: `harness.limits`), retries with exponential
backoff and jitter on 429/5xx/timeouts (honouring `Retry-After`), a per-call timeout, a
disk response cache (on by default), token and cost accounting per role, and one-line
errors when a model is unreachable or a key is missing. The call itself goes to a provider
(`harness.providers`): llama.cpp for `local/<name>`, a direct httpx client for
`openai/<id>` (OpenAI-compatible servers), litellm for every other model id, or an
in-process fake in tests.

Usage is counted here and only here, per role. `Gateway.scope()` gives one conversation
its own counts while sharing the limits, the cache and the providers of the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import ToughtalkError
from harness.limits import RoleLimits
from harness.models import RoleUsage
from harness.providers import Provider, ProviderRequest, default_providers
from harness.providers.litellm import estimate_cost

__all__ = [
    "Completion",
    "Gateway",
    "ModelError",
    "ModelSettings",
    "estimate_cost",
    "parse_json_object",
]


class ModelError(ToughtalkError):
    """A model call failed for good (after retries), with a one-line reason."""


class EmptyReply(Exception):
    """A 200 answer with no text: retried like a server error, never cached."""


def http_status(exc: BaseException) -> int | None:
    """The HTTP status a provider error carries, on itself or on its response."""
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    return status if isinstance(status, int) else None


def refused_schema(exc: BaseException) -> bool:
    """Whether a failure is the server rejecting the request as malformed (HTTP 400/422),
    which is what servers without structured output answer to `response_format`."""
    return http_status(exc) in (400, 422) or type(exc).__name__ in (
        "BadRequestError",
        "UnprocessableEntityError",
    )


def rate_limited(exc: BaseException) -> bool:
    """Whether a failure is the server saying "too many requests" (HTTP 429)."""
    return http_status(exc) == 429 or type(exc).__name__ == "RateLimitError"


def retry_after(exc: BaseException, cap: float) -> float:
    """Seconds the server asked us to wait (a `Retry-After` header or attribute), capped;
    0 when it did not say."""
    value = getattr(exc, "retry_after", None)
    if value is None:
        for holder in (getattr(exc, "response", None), exc):
            headers = getattr(holder, "headers", None) or getattr(
                holder, "litellm_response_headers", None
            )
            if headers is not None and hasattr(headers, "get"):
                value = headers.get("retry-after") or headers.get("Retry-After")
                if value is not None:
                    break
    try:
        seconds = float(value) if value is not None else 0.0
    except (TypeError, ValueError):  # an HTTP date or garbage: fall back to our backoff
        return 0.0
    return min(max(seconds, 0.0), cap)


@dataclass(frozen=True)
class Completion:
    """A model's reply."""

    text: str
    usage: RoleUsage
    cached: bool = False


@dataclass
class ModelSettings:
    """How to reach models; shared by every role of a run."""

    api_base: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 0.5
    concurrency: int = 4
    cache_dir: Path | None = Path(".toughtalk-cache")
    stream: bool = False
    max_tokens: int = 400
    structured: bool = True  # ask for JSON-schema output where a caller gives a schema


# ---------------------------------------------------------------- the gateway


class Gateway:
    """Model calls for a run: concurrency, retries, cache and per-role accounting."""

    def __init__(
        self,
        settings: ModelSettings | None = None,
        *,
        providers: Sequence[Provider] | None = None,
    ) -> None:
        self.settings = settings or ModelSettings()
        self.providers: Sequence[Provider] = (
            providers if providers is not None else default_providers()
        )
        self.usage: dict[str, RoleUsage] = {}
        self._limits: RoleLimits | None = None
        self._no_schema: set[str] = set()
        self._parent: Gateway | None = None

    def scope(self) -> Gateway:
        """A gateway for one conversation: the same settings, providers and concurrency
        limit, with its own usage counts."""
        child = Gateway(self.settings, providers=self.providers)
        child._parent = self
        return child

    def no_schema(self) -> set[str]:
        """Models whose server refused structured output in this run (shared by scopes)."""
        if self._parent is not None:
            return self._parent.no_schema()
        return self._no_schema

    def limits(self) -> RoleLimits:
        """The run's in-flight limits, one per role (shared by every scope)."""
        if self._parent is not None:
            return self._parent.limits()
        if self._limits is None:
            self._limits = RoleLimits(self.settings.concurrency)
        return self._limits

    def provider_for(self, model: str) -> Provider:
        """The first provider that serves the model id."""
        for provider in self.providers:
            if provider.handles(model):
                return provider
        raise ModelError(f"{model}: no provider serves this model id")

    def check(self, model: str) -> None:
        """Fail fast (no call, no retry) when a model cannot work as configured: an unknown
        id, a missing API key, a local model that is not installed."""
        self.provider_for(model).check(model, self._endpoint(model))

    def _endpoint(self, model: str) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {}
        base = s.api_base
        if base is None and model.startswith("openai/"):
            base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        if base:
            kwargs["api_base"] = base
        key = s.api_key
        if key is None and model.startswith("openai/") and base:
            key = os.environ.get("OPENAI_API_KEY") or "not-needed-for-local-server"
        if key:
            kwargs["api_key"] = key
        return kwargs

    def cache_key(
        self, role: str, model: str, messages: list[dict[str, str]], params: dict[str, Any]
    ) -> str:
        """Stable key over role, model, endpoint, messages and parameters (seed included)."""
        blob = json.dumps(
            {
                "role": role,
                "model": model,
                "base": self._endpoint(model).get("api_base"),
                "messages": messages,
                "params": params,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        folder = self.settings.cache_dir
        return None if folder is None else folder / key[:2] / f"{key}.json"

    async def complete(
        self,
        *,
        role: str,
        model: str,
        messages: list[dict[str, str]],
        temperature: float,
        seed: int,
        max_tokens: int | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Completion:
        """One chat completion with retries, caching and accounting under `role`.

        `schema` (a JSON Schema, e.g. from a pydantic model) asks for structured output
        where the provider supports it (OpenAI-compatible `response_format`, litellm's
        translations, a llama.cpp grammar for `local/`); a server that refuses it is asked
        again without, and not asked again in this run."""
        params: dict[str, Any] = {
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens or self.settings.max_tokens,
        }
        if schema is not None and self.settings.structured and model not in self.no_schema():
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": False},
            }
        key = self.cache_key(role, model, messages, params)
        path = self._cache_path(key)
        if path is not None and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            usage = RoleUsage(**{**data["usage"], "cost_usd": 0.0, "calls": 1, "cached_calls": 1})
            self._account(role, usage)
            return Completion(text=data["text"], usage=usage, cached=True)
        text, usage = await self._call_with_retries(role, model, messages, params)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps({"text": text, "usage": usage.model_dump()}), encoding="utf-8"
            )
            tmp.replace(path)
        self._account(role, usage)
        return Completion(text=text, usage=usage)

    def _account(self, role: str, usage: RoleUsage) -> None:
        self.usage.setdefault(role, RoleUsage()).add(usage)

    async def _call_with_retries(
        self, role: str, model: str, messages: list[dict[str, str]], params: dict[str, Any]
    ) -> tuple[str, RoleUsage]:
        provider = self.provider_for(model)
        request = ProviderRequest(
            role=role,
            model=model,
            messages=messages,
            params=params,
            timeout=self.settings.timeout,
            stream=self.settings.stream,
            endpoint=self._endpoint(model),
        )
        limit = self.limits()(role)
        attempt = 0
        while True:
            try:
                async with limit:
                    text, usage = await provider.complete(request)
                if not text.strip():
                    raise EmptyReply("the model returned an empty reply")
                limit.speed_up()
                return text, usage
            except Exception as exc:  # classified below; every path re-raises or retries
                if "response_format" in request.params and refused_schema(exc):
                    self.no_schema().add(model)  # this server does not do structured output
                    params = {k: v for k, v in params.items() if k != "response_format"}
                    request = replace(request, params=params)
                    continue
                if rate_limited(exc):
                    limit.slow_down()
                retryable = isinstance(exc, EmptyReply) or provider.retryable(exc)
                if retryable and attempt < self.settings.max_retries:
                    delay = self.settings.backoff * (2**attempt) * (0.5 + random.random())
                    await asyncio.sleep(max(delay, retry_after(exc, self.settings.timeout)))
                    attempt += 1
                    continue
                raise ModelError(self._explain(model, exc, attempt, retryable=retryable)) from exc

    def _explain(self, model: str, exc: Exception, attempts: int, *, retryable: bool) -> str:
        kind = type(exc).__name__
        base = self._endpoint(model).get("api_base")
        where = f" at {base}" if base else ""
        first = (str(exc).strip().splitlines() or [kind])[0][:200]
        if kind == "AuthenticationError" or "missing credentials" in first.lower():
            return (
                f"{model}: missing or invalid API key ({first}); set the provider's key, "
                "e.g. OPENAI_API_KEY or ANTHROPIC_API_KEY"
            )
        if kind == "APIConnectionError" or "Connection" in first:
            return (
                f"{model}: cannot reach the model{where} after {attempts + 1} attempt(s); "
                "is the server running and --api-base right?"
            )
        if kind in ("NotFoundError",):
            return f"{model}: model not found{where} ({first})"
        if "Timeout" in kind or isinstance(exc, asyncio.TimeoutError):
            return (
                f"{model}: timed out after {self.settings.timeout:g}s{where} "
                f"({attempts + 1} attempt(s)); raise --timeout or check the server"
            )
        if retryable:
            return f"{model}: {kind} after {attempts + 1} attempt(s){where}: {first}"
        if isinstance(exc, ToughtalkError):
            return str(exc)
        return f"{model}: {kind}: {first}"


_JSON_BLOCK = re.compile(r"\{.*\}", re.S)


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's reply (tolerates code fences and chatter)."""
    cleaned = re.sub(r"^```(json)?|```$", "", text.strip(), flags=re.M).strip()
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError:
        match = _JSON_BLOCK.search(cleaned)
        if not match:
            raise ValueError("no JSON object in the reply") from None
        data = json.loads(match.group(0))
    if not isinstance(data, dict):
        raise ValueError("the reply is JSON but not an object")
    return data
