"""Simulated customers. `make_customer` turns a spec into one."""

from __future__ import annotations

from harness.customers.scripted import ScriptedCustomer
from harness.errors import UsageError
from harness.models import Persona


def make_customer(
    spec: str, persona: Persona, *, seed: int, difficulty: int | None
) -> ScriptedCustomer:
    """Build a customer from its spec (`scripted`; `model:ID` arrives with the LLM issue)."""
    if spec == "scripted":
        from harness.catalog import load_reactions

        return ScriptedCustomer(persona, load_reactions(), seed=seed, difficulty=difficulty)
    if spec.startswith("model:"):
        raise UsageError(f"customer {spec!r}: LLM customers are not available in this version")
    raise UsageError(f"unknown customer spec {spec!r}; use 'scripted'")
