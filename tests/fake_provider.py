"""An in-process model provider for gateway tests: no HTTP server, no litellm import.

`FakeProvider(script)` answers every request with `script(request)`: a string is the reply,
an exception is raised (a `TransientError` is retried by the gateway, anything else is not).
Requests are recorded in `requests`; the role that asked is `request.role`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.models import RoleUsage
from harness.providers import ProviderRequest, TransientError

Script = Callable[[ProviderRequest], str | BaseException]


class FakeProvider:
    """Serves every model id from a script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[ProviderRequest] = []

    def handles(self, model: str) -> bool:
        """Every model id."""
        return True

    def retryable(self, exc: BaseException) -> bool:
        """Only `TransientError`."""
        return isinstance(exc, TransientError)

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """Every model id works (the script answers them all)."""

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """The scripted reply, usage counted in words (cost 0.001 per call)."""
        self.requests.append(request)
        reply = self.script(request)
        if isinstance(reply, BaseException):
            raise reply
        prompt = sum(len(m["content"].split()) for m in request.messages)
        completion = len(reply.split())
        return reply, RoleUsage.of_call(prompt, completion, 0.001)
