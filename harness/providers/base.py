"""What a provider is: the request the gateway sends and the protocol it implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.models import RoleUsage


class TransientError(Exception):
    """A provider failure worth retrying (rate limit, 5xx, timeout, dropped connection);
    `retry_after` is how long the server asked to wait, if it said."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """Fail fast, before any call, when the model cannot work as configured (unknown id,
        missing key, model not installed): raise a `ToughtalkError` with the fix."""
        ...
