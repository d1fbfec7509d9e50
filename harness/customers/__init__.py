"""Simulated customers. `make_customer` turns a spec into one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.customers.scripted import ScriptedCustomer
from harness.errors import UsageError
from harness.models import Persona

if TYPE_CHECKING:
    from harness.customers.model import ModelCustomer
    from harness.llm import Gateway


def make_customer(
    spec: str,
    persona: Persona,
    *,
    seed: int,
    difficulty: int | None,
    gateway: Gateway | None = None,
    temperature: float = 0.8,
) -> ScriptedCustomer | ModelCustomer:
    """Build a customer from its spec: `scripted` (default) or `model:ID`."""
    if spec == "scripted":
        from harness.catalog import load_reactions

        return ScriptedCustomer(persona, load_reactions(), seed=seed, difficulty=difficulty)
    if spec.startswith("model:") and spec[6:]:
        from harness.customers.model import ModelCustomer
        from harness.llm import Gateway

        return ModelCustomer(
            persona,
            spec[6:],
            gateway or Gateway(),
            spec,
            seed=seed,
            difficulty=difficulty,
            temperature=temperature,
        )
    raise UsageError(f"unknown customer spec {spec!r}; use 'scripted' or 'model:ID'")
