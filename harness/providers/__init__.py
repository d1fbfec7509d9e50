"""Providers: how the gateway reaches a model. The gateway owns everything around a call
(concurrency, retries, cache, accounting, error messages); a provider only turns one
`ProviderRequest` into text and usage, or raises.

Built in: `local/<name>` models run in-process through llama.cpp (`local.py`); every other
model id goes through litellm (`litellm.py`). Tests pass an in-process fake to `Gateway`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.models import RoleUsage


class TransientError(Exception):
    """A provider failure worth retrying (rate limit, 5xx, timeout, dropped connection)."""


@dataclass(frozen=True)
class ProviderRequest:
    """One chat completion, as the gateway asks for it."""

    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any]
    timeout: float
    stream: bool = False
    endpoint: dict[str, Any] = field(default_factory=dict)
    role: str = ""  # agent, customer or judge: who asks (never sent to the model)


class Provider(Protocol):
    """Turns one request into (text, usage)."""

    def handles(self, model: str) -> bool:
        """Whether this provider serves the model id."""
        ...

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """The reply text and its token usage (and cost); raise on failure."""
        ...

    def retryable(self, exc: BaseException) -> bool:
        """Whether a failure of this provider is worth retrying."""
        ...


def default_providers() -> list[Provider]:
    """The built-in providers, first match wins: llama.cpp for `local/`, litellm for the rest."""
    from harness.providers.litellm import LiteLLMProvider
    from harness.providers.local import LocalProvider

    return [LocalProvider(), LiteLLMProvider()]
