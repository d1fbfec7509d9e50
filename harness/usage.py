"""Token, cost and call counts of one role (agent, customer, judge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Usage:
    """Tokens, cost and calls for one role."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0

    def add(self, other: Usage) -> None:
        """Accumulate another usage record."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.cost_usd = round(self.cost_usd + other.cost_usd, 8)
        self.calls += other.calls
        self.cached_calls += other.cached_calls

    def as_dict(self) -> dict[str, Any]:
        """The scorecard shape."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "calls": self.calls,
            "cached_calls": self.cached_calls,
        }
