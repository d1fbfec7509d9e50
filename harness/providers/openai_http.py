"""`openai/<model>`: the fast path for OpenAI and every OpenAI-compatible server (vLLM,
llama.cpp server, LM Studio, a proxy): the chat-completions call straight over httpx.

litellm costs several milliseconds per call and seconds to import, and the openai SDK
spends milliseconds per call turning messages into typed dicts; this path does one JSON POST
on a pooled connection. Every other provider prefix still goes through litellm.

Failures are classified the way the gateway expects: 429 (`RateLimitError`, with the
server's `Retry-After`), 5xx and dropped connections are retried; a bad key
(`AuthenticationError`), an unknown model (`NotFoundError`) or a bad request are not. Cost
comes from litellm's price map only for OpenAI itself (no `api_base`): self-hosted models
cost 0, and litellm is never imported on a local server's path.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx

from harness.models import RoleUsage
from harness.providers.base import ProviderRequest

PREFIX = "openai/"
OPENAI_BASE = "https://api.openai.com/v1"
POOL = httpx.Limits(max_connections=1000, max_keepalive_connections=200)


class ProviderHTTPError(Exception):
    """A non-2xx answer: its status, the server's message and `Retry-After`."""

    def __init__(self, status_code: int, message: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.retry_after = retry_after


class RateLimitError(ProviderHTTPError):
    """429: slow down (retried after `Retry-After`)."""


class AuthenticationError(ProviderHTTPError):
    """401/403: a missing or wrong key (never retried)."""


class NotFoundError(ProviderHTTPError):
    """404: no such model or path (never retried)."""


class InternalServerError(ProviderHTTPError):
    """5xx: the server failed (retried)."""


class APIConnectionError(Exception):
    """The connection failed or dropped (retried)."""


def error_for(response: httpx.Response, body: bytes) -> ProviderHTTPError:
    """The exception of a non-2xx answer."""
    status = response.status_code
    try:
        detail = json.loads(body).get("error", {})
        message = str(detail.get("message", "")) if isinstance(detail, dict) else str(detail)
    except (ValueError, AttributeError):
        message = body[:200].decode("utf-8", "replace")
    wait = response.headers.get("retry-after")
    try:
        retry_after = float(wait) if wait is not None else None
    except ValueError:
        retry_after = None
    kind: type[ProviderHTTPError] = ProviderHTTPError
    if status == 429:
        kind = RateLimitError
    elif status in (401, 403):
        kind = AuthenticationError
    elif status == 404:
        kind = NotFoundError
    elif status >= 500:
        kind = InternalServerError
    return kind(status, message or response.reason_phrase, retry_after)


class OpenAIProvider:
    """Chat completions over httpx for `openai/` model ids."""

    def __init__(self) -> None:
        self._clients: dict[int, httpx.AsyncClient] = {}

    def handles(self, model: str) -> bool:
        """Model ids starting with `openai/`."""
        return model.startswith(PREFIX)

    def retryable(self, exc: BaseException) -> bool:
        """Rate limits, 5xx, timeouts and dropped connections."""
        return isinstance(
            exc,
            RateLimitError
            | InternalServerError
            | APIConnectionError
            | httpx.TransportError
            | asyncio.TimeoutError,
        )

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """The key is set (an explicit endpoint key, e.g. for a local server, counts)."""
        from harness.providers.litellm import ModelCheckError, no_key

        if not endpoint.get("api_key") and not os.environ.get("OPENAI_API_KEY"):
            raise ModelCheckError(no_key(model, ["OPENAI_API_KEY"]))

    def client(self) -> httpx.AsyncClient:
        """The running loop's pooled client (created on first use)."""
        loop = id(asyncio.get_running_loop())
        found = self._clients.get(loop)
        if found is None:
            self._clients = {}  # clients of finished loops cannot be reused
            found = self._clients[loop] = httpx.AsyncClient(limits=POOL)
        return found

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """One chat completion, streamed or not."""
        base = str(request.endpoint.get("api_base") or OPENAI_BASE).rstrip("/")
        key = request.endpoint.get("api_key") or os.environ.get("OPENAI_API_KEY", "")
        body: dict[str, Any] = {
            "model": request.model.removeprefix(PREFIX),
            "messages": request.messages,
            **request.params,
        }
        if request.stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        call = self._post(f"{base}/chat/completions", key, body, request)
        text, usage = await asyncio.wait_for(call, timeout=request.timeout + 5)
        return text, self._usage(request, usage)

    async def _post(
        self, url: str, key: str, body: dict[str, Any], request: ProviderRequest
    ) -> tuple[str, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        content = json.dumps(body).encode()
        try:
            async with self.client().stream(
                "POST", url, content=content, headers=headers, timeout=request.timeout
            ) as response:
                if request.stream and response.status_code == 200:
                    return await _read_events(response)
                raw = await response.aread()
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:
            raise APIConnectionError(f"Connection failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise error_for(response, raw)
        data = json.loads(raw)
        choices = data.get("choices") or [{}]
        message = choices[0].get("message") or {}
        return str(message.get("content") or ""), data.get("usage") or {}

    @staticmethod
    def _usage(request: ProviderRequest, usage: dict[str, Any]) -> RoleUsage:
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        cost = 0.0
        if "api_base" not in request.endpoint and (prompt or completion):
            from harness.providers.litellm import estimate_cost

            cost = estimate_cost(request.model, prompt, completion)
        return RoleUsage.of_call(prompt, completion, cost)


async def _read_events(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The text and usage of a server-sent-events chat completion stream."""
    parts: list[str] = []
    usage: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        chunk = json.loads(payload)
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                parts.append(content)
        usage = chunk.get("usage") or usage
    return "".join(parts), usage
