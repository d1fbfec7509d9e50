"""`openai/<model>`: the fast path for OpenAI and every OpenAI-compatible server (vLLM,
llama.cpp server, LM Studio, a proxy), straight through the openai SDK. litellm costs
several milliseconds per call and seconds to import; the SDK is already a dependency and
costs about one. Every other provider prefix still goes through litellm.

One `AsyncOpenAI` client per event loop, endpoint and key (its pool holds up to 1000
connections; the gateway's limits decide how many are used); the SDK's own retries are off
(the gateway retries). Cost comes from
litellm's price map only for OpenAI itself (no `api_base`): self-hosted models cost 0, and
litellm is never imported on a local server's path.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from harness.models import RoleUsage
from harness.providers.base import ProviderRequest

PREFIX = "openai/"
RETRYABLE = (
    "RateLimitError",
    "APIConnectionError",
    "APITimeoutError",
    "InternalServerError",
    "ServiceUnavailableError",
)


class OpenAIProvider:
    """Chat completions through the openai SDK for `openai/` model ids."""

    def __init__(self) -> None:
        self._clients: dict[tuple[int, str | None, str | None], Any] = {}

    def handles(self, model: str) -> bool:
        """Model ids starting with `openai/`."""
        return model.startswith(PREFIX)

    def retryable(self, exc: BaseException) -> bool:
        """Rate limits, 5xx, timeouts and dropped connections; never a missing key."""
        if isinstance(exc, asyncio.TimeoutError):
            return True
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and status >= 500:
            return True
        return type(exc).__name__ in RETRYABLE

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """The key is set (an explicit endpoint key, e.g. for a local server, counts)."""
        from harness.providers.litellm import ModelCheckError, no_key

        if not endpoint.get("api_key") and not os.environ.get("OPENAI_API_KEY"):
            raise ModelCheckError(no_key(model, ["OPENAI_API_KEY"]))

    def client(self, endpoint: dict[str, Any], timeout: float) -> Any:
        """The loop's client for this endpoint (created on first use)."""
        import openai

        base, key = endpoint.get("api_base"), endpoint.get("api_key")
        loop = id(asyncio.get_running_loop())
        found = self._clients.get((loop, base, key))
        if found is None:
            found = openai.AsyncOpenAI(
                base_url=base,
                api_key=key or os.environ.get("OPENAI_API_KEY"),
                max_retries=0,
                timeout=timeout,
            )
            self._clients = {k: v for k, v in self._clients.items() if k[0] == loop}
            self._clients[(loop, base, key)] = found
        return found

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """One chat completion, streamed or not."""
        client = self.client(request.endpoint, request.timeout)
        model = request.model.removeprefix(PREFIX)
        params = dict(request.params)
        if request.stream:
            return await asyncio.wait_for(
                self._streamed(client, model, request, params), timeout=request.timeout + 5
            )
        response = await asyncio.wait_for(
            client.chat.completions.create(
                model=model, messages=request.messages, timeout=request.timeout, **params
            ),
            timeout=request.timeout + 5,
        )
        text = (response.choices[0].message.content if response.choices else None) or ""
        return text, self._usage(request, getattr(response, "usage", None))

    async def _streamed(
        self, client: Any, model: str, request: ProviderRequest, params: dict[str, Any]
    ) -> tuple[str, RoleUsage]:
        stream = await client.chat.completions.create(
            model=model,
            messages=request.messages,
            timeout=request.timeout,
            stream=True,
            stream_options={"include_usage": True},
            **params,
        )
        parts: list[str] = []
        usage = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            usage = getattr(chunk, "usage", None) or usage
        return "".join(parts), self._usage(request, usage)

    @staticmethod
    def _usage(request: ProviderRequest, usage: Any) -> RoleUsage:
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = 0.0
        if "api_base" not in request.endpoint and (prompt or completion):
            from harness.providers.litellm import estimate_cost

            cost = estimate_cost(request.model, prompt, completion)
        return RoleUsage.of_call(prompt, completion, cost)
