"""One registry per role: agents, customers, judges, graders and report formats.

A *kind* is registered under a name with a factory, an options model (pydantic,
`extra="forbid"`) and a one-line summary. A spec on the command line or in a suite is
`kind` or `kind:arg` (`rules`, `model:openai/gpt-4o-mini`, `http:https://bot/chat`);
`parse_spec` is the only place that splits it.

Kinds come from three places, loaded lazily the first time a registry is asked:

1. the built-in modules of the role's package (every module of `harness/agents/` etc.
   registers its own kinds on import, so a new kind is one new file);
2. entry points of third-party packages, in the groups `toughtalk.agents`,
   `toughtalk.customers`, `toughtalk.judges`, `toughtalk.graders` and `toughtalk.reporters`:
   the entry point's name is the kind's name and loading it registers the kind (see
   docs/plugins.md);
3. direct calls to `register` (tests).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.agents import AgentFactory
    from harness.customers import CustomerFactory
    from harness.graders.base import Grader
    from harness.judging.base import JudgeFactory
    from harness.reports import Reporter

F = TypeVar("F")
ArgRule = Literal["required", "optional", "none"]


class NoOptions(BaseModel):
    """The options model of a kind that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Spec:
    """A parsed `kind:arg` spec."""

    kind: str
    arg: str
    text: str

    def __str__(self) -> str:
        return self.text


def model_arg(arg: str) -> list[str]:
    """`models=` for kinds whose argument is a model id (model:ID, hybrid:ID)."""
    return [arg]


def parse_spec(spec: str) -> Spec:
    """Split `kind:arg` (or a bare `kind`) at the first colon."""
    kind, _, arg = spec.partition(":")
    return Spec(kind=kind, arg=arg, text=spec)


def load_plugin(ep: importlib.metadata.EntryPoint, group: str) -> None:
    """Import a plugin's entry point (which registers its kinds); a failure is one line."""
    try:
        ep.load()
    except Exception as exc:  # a broken plugin is named, never a traceback
        raise UsageError(
            f"plugin {ep.value!r} ({group} entry point {ep.name!r}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


@dataclass(frozen=True)
class Kind(Generic[F]):
    """One registered kind of a role."""

    name: str
    factory: F
    summary: str
    options: type[BaseModel] = NoOptions
    arg: ArgRule = "required"
    metavar: str = "ARG"
    files: Callable[[str], list[str]] | None = None
    models: Callable[[str], list[str]] | None = None

    @property
    def usage(self) -> str:
        """How a spec of this kind is written: `macros:PATH`, `rules`."""
        return self.name if self.arg == "none" else f"{self.name}:{self.metavar}"


class Registry(Generic[F]):
    """The kinds of one role, with lazy loading of built-ins and entry points."""

    def __init__(self, role: str, *, package: str | None, noun: str) -> None:
        self.role = role
        self.group = f"toughtalk.{role}"
        self.package = package
        self.noun = noun
        self._kinds: dict[str, Kind[F]] = {}
        self._builtins_loaded = False
        self._plugins_loaded: set[str] = set()
        self._all_plugins_loaded = False

    # ------------------------------------------------------------ registering

    def register(
        self,
        name: str,
        *,
        summary: str,
        options: type[BaseModel] = NoOptions,
        arg: ArgRule = "required",
        metavar: str = "ARG",
        files: Callable[[str], list[str]] | None = None,
        models: Callable[[str], list[str]] | None = None,
    ) -> Callable[[F], F]:
        """Decorator: register `factory` as the kind `name`. `files` names the files a
        spec's argument reads; `models` the model ids it calls (checked before a run)."""
        if options.model_config.get("extra") != "forbid":
            raise TypeError(f"{self.noun} kind {name}: its options model must forbid extra keys")

        def add(factory: F) -> F:
            if name in self._kinds and self._kinds[name].factory is not factory:
                raise ValueError(f"two {self.noun} kinds named {name!r}")
            self._kinds[name] = Kind(name, factory, summary, options, arg, metavar, files, models)
            return factory

        return add

    # ------------------------------------------------------------ lookup

    def _load_builtins(self) -> None:
        if self._builtins_loaded or self.package is None:
            return
        self._builtins_loaded = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(getattr(package, "__path__", [])):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")

    def _entry_points(self, name: str | None = None) -> list[importlib.metadata.EntryPoint]:
        found = importlib.metadata.entry_points(group=self.group)
        return [ep for ep in found if name is None or ep.name == name]

    def _load_plugin(self, ep: importlib.metadata.EntryPoint) -> None:
        if ep.name in self._plugins_loaded:
            return
        self._plugins_loaded.add(ep.name)
        load_plugin(ep, self.group)

    def _load_all(self) -> None:
        self._load_builtins()
        if not self._all_plugins_loaded:
            self._all_plugins_loaded = True
            for ep in self._entry_points():
                self._load_plugin(ep)

    def find(self, name: str) -> Kind[F] | None:
        """The kind registered as `name`, loading built-ins and its entry point if needed."""
        self._load_builtins()
        if name not in self._kinds:
            for ep in self._entry_points(name):
                self._load_plugin(ep)
        return self._kinds.get(name)

    def names(self) -> list[str]:
        """Every kind name (built-ins and every installed plugin)."""
        self._load_all()
        return sorted(self._kinds)

    def kinds(self) -> Iterator[Kind[F]]:
        """Every kind, sorted by name."""
        for name in self.names():
            yield self._kinds[name]

    def help(self) -> str:
        """`a:ARG | b` from every kind, for CLI help."""
        return " | ".join(kind.usage for kind in self.kinds())

    def resolve(self, spec: str) -> tuple[Kind[F], Spec]:
        """The kind a spec names, its argument checked; a UsageError otherwise."""
        parsed = parse_spec(spec)
        kind = self.find(parsed.kind)
        if kind is None:
            raise UsageError(f"unknown {self.noun} spec {spec!r}; use {self.help()}")
        if kind.arg == "required" and not parsed.arg:
            raise UsageError(f"{self.noun} {spec!r} needs an argument: {kind.usage}")
        if kind.arg == "none" and parsed.arg:
            raise UsageError(f"{self.noun} {spec!r} takes no argument: {kind.usage}")
        return kind, parsed

    def options(self, kind: Kind[F], raw: Mapping[str, Any] | BaseModel | None) -> Any:
        """The kind's options model from a mapping (unknown keys are a UsageError)."""
        if isinstance(raw, kind.options):
            return raw
        data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw or {})
        try:
            return kind.options.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"{where}: " if where else ""
            raise UsageError(f"{self.noun} {kind.name} options: {field}{first['msg']}") from exc

    def files(self, spec: str) -> list[str]:
        """Files a spec reads (hashed into run.json)."""
        kind, parsed = self.resolve(spec)
        return kind.files(parsed.arg) if kind.files else []

    def models(self, spec: str) -> list[str]:
        """Model ids a spec calls through the gateway (checked before a run starts)."""
        kind, parsed = self.resolve(spec)
        return kind.models(parsed.arg) if kind.models else []


class GraderRegistry:
    """Rule graders by guideline id: the built-ins in `harness.graders` plus plugins.

    The built-in graders register themselves in `harness.graders.base.REGISTRY` with
    `@grader(id)`; a plugin does the same from a module named by an entry point in the
    group `toughtalk.graders` (the entry point's name is free; every one is loaded the
    first time an id is missing)."""

    role = "graders"
    group = "toughtalk.graders"

    def __init__(self) -> None:
        self._plugins_loaded = False

    @staticmethod
    def _store() -> dict[str, Grader]:
        from harness.graders import REGISTRY

        return REGISTRY

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in importlib.metadata.entry_points(group=self.group):
            load_plugin(ep, self.group)

    def find(self, guideline_id: str) -> Grader | None:
        """The grader of a guideline id, loading plugins if it is not built in."""
        store = self._store()
        if guideline_id not in store:
            self._load_plugins()
        return store.get(guideline_id)

    def names(self) -> list[str]:
        """Every grader id."""
        self._load_plugins()
        return sorted(self._store())


AGENTS: Registry[AgentFactory] = Registry("agents", package="harness.agents", noun="agent")
CUSTOMERS: Registry[CustomerFactory] = Registry(
    "customers", package="harness.customers", noun="customer"
)
JUDGES: Registry[JudgeFactory] = Registry("judges", package="harness.judging", noun="judge")
REPORTERS: Registry[Reporter] = Registry("reporters", package="harness.reports", noun="format")
GRADERS = GraderRegistry()
