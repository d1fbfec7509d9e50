"""Providers: how the gateway reaches a model. The gateway owns everything around a call
(concurrency, retries, cache, accounting, error messages); a provider only turns one
`ProviderRequest` into text and usage, or raises.

Built in: `local/<name>` models run in-process through llama.cpp (`local.py`); `openai/<id>`
(OpenAI and OpenAI-compatible servers) over httpx (`openai_http.py`); every other
model id through litellm (`litellm.py`). Tests pass an in-process fake to `Gateway`.
"""

from __future__ import annotations

from harness.providers.base import Provider, ProviderRequest, TransientError

__all__ = ["Provider", "ProviderRequest", "TransientError", "default_providers"]


def default_providers() -> list[Provider]:
    """The built-in providers, first match wins: llama.cpp for `local/`, a direct httpx
    client for `openai/` (OpenAI and every OpenAI-compatible server), litellm for the rest."""
    from harness.providers.litellm import LiteLLMProvider
    from harness.providers.local import LocalProvider
    from harness.providers.openai_http import OpenAIProvider

    return [LocalProvider(), OpenAIProvider(), LiteLLMProvider()]
