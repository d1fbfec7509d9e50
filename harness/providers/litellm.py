"""Every model id but `local/`: litellm (OpenAI, Anthropic, Ollama, vLLM, any
OpenAI-compatible server), imported once and lazily (it takes seconds), offline-safe."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from harness.models import RoleUsage
from harness.providers.base import ProviderRequest

_LITELLM: Any = None
_LOCK = threading.Lock()

# litellm exception class names worth another attempt.
RETRYABLE = (
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "Timeout",
    "APIConnectionError",
    "BadGatewayError",
    "APIError",
)


def litellm_module() -> Any:
    """Import litellm once: local cost map, no debug banner, no telemetry."""
    global _LITELLM
    with _LOCK:
        if _LITELLM is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm

            litellm.suppress_debug_info = True
            litellm.drop_params = True
            litellm.telemetry = False
            _LITELLM = litellm
    return _LITELLM


class LiteLLMProvider:
    """`litellm.acompletion`, streamed or not, with litellm's price map for the cost."""

    def handles(self, model: str) -> bool:
        """Any model id (the fallback provider)."""
        return True

    def retryable(self, exc: BaseException) -> bool:
        """Rate limits, 5xx, timeouts and connection errors."""
        return type(exc).__name__ in RETRYABLE or isinstance(exc, asyncio.TimeoutError)

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """One call through litellm; its own retries are off (the gateway retries)."""
        litellm = litellm_module()
        response = await asyncio.wait_for(
            litellm.acompletion(
                model=request.model,
                messages=request.messages,
                timeout=request.timeout,
                num_retries=0,
                stream=request.stream,
                **request.params,
                **request.endpoint,
            ),
            timeout=request.timeout + 5,
        )
        if request.stream:
            chunks = [chunk async for chunk in response]
            text = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
            built = litellm.stream_chunk_builder(chunks, messages=request.messages)
            usage_obj = getattr(built, "usage", None)
        else:
            text = response.choices[0].message.content or ""
            usage_obj = getattr(response, "usage", None)
            built = response
        prompt = int(getattr(usage_obj, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage_obj, "completion_tokens", 0) or 0)
        return text, RoleUsage.of_call(prompt, completion, _cost(litellm, built))


def _cost(litellm: Any, response: Any) -> float:
    """USD cost of a response; models missing from the price map cost 0."""
    if response is None:
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # litellm raises for models missing from its price map: that costs 0
        return 0.0


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Estimated USD for a token count (0 for models missing from the price map)."""
    litellm = litellm_module()
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # unknown model in the price map: estimate 0, not a crash
        return 0.0
    return float(prompt + completion)
