"""Simulated customers. Kinds are registered in `harness.registry.CUSTOMERS`: `scripted`
(here, since the engine in `scripted.py` knows nothing of the registry), `model:ID`
(`harness.customers.model`), and any a plugin adds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from harness.customers.scripted import ScriptedCustomer
from harness.episode import Participant
from harness.registry import CUSTOMERS

if TYPE_CHECKING:
    from harness.llm import Gateway
    from harness.models import Persona


class Customer(Participant, Protocol):
    """A simulated customer: a participant that can rate the conversation and report where
    it broke character."""

    @property
    def faults(self) -> list[str]:
        """Where the simulation broke character (empty for deterministic customers)."""
        ...

    def satisfaction(self, resolved: bool) -> int:
        """A 1-5 rating at the end of the conversation."""
        ...


@dataclass(frozen=True)
class CustomerContext:
    """What a run gives every customer it builds, whatever its kind."""

    persona: Persona
    seed: int = 0
    difficulty: int | None = None
    gateway: Gateway | None = None
    temperature: float = 0.8


class CustomerFactory(Protocol):
    """Builds a customer of one kind from the spec's argument, its options and the run."""

    def __call__(self, arg: str, options: Any, context: CustomerContext, /) -> Customer: ...


def make_customer(
    spec: str,
    persona: Persona,
    *,
    seed: int,
    difficulty: int | None,
    gateway: Gateway | None = None,
    temperature: float = 0.8,
    options: Mapping[str, Any] | None = None,
) -> Customer:
    """Build a customer from its spec: `scripted` (default), `model:ID` or a plugin's kind."""
    kind, parsed = CUSTOMERS.resolve(spec)
    chosen = CUSTOMERS.options(kind, (options or {}).get(kind.name))
    context = CustomerContext(persona, seed, difficulty, gateway, temperature)
    return kind.factory(parsed.arg, chosen, context)


class _Scripted(ScriptedCustomer):
    """The scripted customer as a registered kind (deterministic: it never breaks character)."""

    @property
    def faults(self) -> list[str]:
        """Always empty."""
        return []


@CUSTOMERS.register(
    "scripted", summary="a deterministic rule-driven customer (default)", arg="none"
)
def _scripted(arg: str, options: Any, context: CustomerContext) -> _Scripted:
    from harness.catalog import load_reactions

    return _Scripted(
        context.persona, load_reactions(), seed=context.seed, difficulty=context.difficulty
    )
