"""How many model calls may be in flight: one adaptive limit per role (agent, customer,
judge), so that a storm of judge calls never starves the agent of its slots.

Each limit is AIMD, as TCP and inspect_ai do: a rate-limit answer (429) halves it, and
every `limit` successful calls in a row raise it by one, back up to its cap.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class AdaptiveLimit:
    """At most `limit` holders at once; `limit` moves between 1 and `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = max(1, cap)
        self.limit = self.cap
        self.active = 0
        self._streak = 0
        self._condition: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _cond(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()
        if self._condition is None or self._loop is not loop:  # a new asyncio.run
            self._condition, self._loop, self.active = asyncio.Condition(), loop, 0
        return self._condition

    async def __aenter__(self) -> AdaptiveLimit:
        cond = self._cond()
        async with cond:
            await cond.wait_for(lambda: self.active < self.limit)
            self.active += 1
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cond = self._cond()
        async with cond:
            self.active -= 1
            cond.notify_all()

    def slow_down(self) -> None:
        """A rate limit: halve the limit (multiplicative decrease)."""
        self.limit = max(1, self.limit // 2)
        self._streak = 0

    def speed_up(self) -> None:
        """A success: after `limit` in a row, one more slot (additive increase)."""
        if self.limit >= self.cap:
            return
        self._streak += 1
        if self._streak >= self.limit:  # waiters see the new slot at the next release
            self.limit += 1
            self._streak = 0


class RoleLimits:
    """One `AdaptiveLimit` per role, created on first use, each capped at `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.roles: dict[str, AdaptiveLimit] = {}

    def __call__(self, role: str) -> AdaptiveLimit:
        """The limit of one role."""
        if role not in self.roles:
            self.roles[role] = AdaptiveLimit(self.cap)
        return self.roles[role]
