"""Every model id but `local/`: litellm (OpenAI, Anthropic, Ollama, vLLM, any
OpenAI-compatible server), imported once and lazily (it takes seconds), offline-safe."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from harness.errors import ToughtalkError
from harness.models import RoleUsage
from harness.providers.base import ProviderRequest


class ModelCheckError(ToughtalkError):
    """A model that cannot be called as configured (found before the first call)."""


# The key each common provider prefix needs: checked without importing litellm (seconds).
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}


def missing_credentials(exc: BaseException) -> bool:
    """Whether a provider error says no API key was given."""
    text = str(exc).lower()
    return "missing credentials" in text or "api_key client option must be set" in text


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


def no_key(model: str, keys: list[str]) -> str:
    """The one-line message for a model whose API key is not set."""
    return (
        f"{model}: no API key; set {' or '.join(keys)} (for a local OpenAI-compatible "
        "server pass --api-base URL instead)"
    )


class LiteLLMProvider:
    """`litellm.acompletion`, streamed or not, with litellm's price map for the cost."""

    def handles(self, model: str) -> bool:
        """Any model id (the fallback provider)."""
        return True

    def retryable(self, exc: BaseException) -> bool:
        """Rate limits, 5xx, timeouts and connection errors; never missing credentials
        (which litellm reports as a server error)."""
        if missing_credentials(exc):
            return False
        return type(exc).__name__ in RETRYABLE or isinstance(exc, asyncio.TimeoutError)

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """litellm knows the provider of the model id and its key is set (an explicit
        endpoint key or base counts as set)."""
        prefix = model.partition("/")[0]
        key = PROVIDER_KEYS.get(prefix) if "/" in model else None
        if key and not os.environ.get(key) and not endpoint.get("api_key"):
            raise ModelCheckError(no_key(model, [key]))  # without importing litellm
        litellm = litellm_module()
        try:
            litellm.get_llm_provider(model)
        except Exception as exc:  # litellm raises BadRequestError for an id it cannot route
            raise ModelCheckError(
                f"{model}: unknown model id; name the provider, e.g. openai/gpt-4o-mini, "
                "anthropic/claude-3-5-haiku-latest, ollama_chat/llama3.1 or local/smollm2"
            ) from exc
        report = litellm.validate_environment(model)
        missing = [
            key
            for key in report.get("missing_keys", [])
            if not key.endswith("_BASE") and not endpoint.get("api_key")
        ]
        if missing:
            raise ModelCheckError(no_key(model, missing))

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
