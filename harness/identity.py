"""A run's identity: the inputs and settings that must agree for two runs' numbers to be
comparable, and the differences between the identities of the runs `compare` is given.

New manifests carry the identity (`RunManifest.identity`, written by `new_manifest`); for
older run.json files it is derived from `settings` and `files`, and anything still unknown
(grade runs have no settings) is read from the scorecards."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.catalog import file_hash, kind_of, load_persona, load_rubric
from harness.errors import InputError
from harness.models import PersonaRef, RunIdentity, RunManifest, RunSettings, Scorecard


def _unchanged(path: Path, sha256: str) -> bool:
    """Whether the file still holds what the run read (so its version can be trusted)."""
    return path.is_file() and file_hash(path) == sha256


def _kind(path: Path) -> str:
    """The file's kind, from its content, or from its folder once the file is gone."""
    if path.is_file():
        return kind_of(path)
    if path.parent.name == "personas":
        return "persona"
    if path.parent.name == "rubrics":
        return "rubric"
    if path.name == "reactions.yaml":
        return "reactions"
    return "unknown"


def _persona_ref(path: Path, sha256: str) -> PersonaRef:
    version: int | None = None
    if _unchanged(path, sha256):
        try:
            version = load_persona(str(path))[0].version
        except InputError:
            version = None  # no longer a valid persona: its version is unknown
    return PersonaRef(id=path.stem, version=version, file=str(path), sha256=sha256)


def _rubric_ref(path: Path, sha256: str) -> str | None:
    if not _unchanged(path, sha256):
        return None
    try:
        rubric, _ = load_rubric(str(path))
    except InputError:
        return None  # no longer a valid rubric: the scorecards still name id@version
    return f"{rubric.id}@{rubric.version}"


def identity_from(
    settings: RunSettings | None, files: dict[str, str], harness_version: str
) -> RunIdentity:
    """The identity of a run from its settings (None for `grade` runs) and file hashes."""
    personas: list[PersonaRef] = []
    rubric = rubric_file = rubric_sha = reactions = None
    for name, sha256 in files.items():
        path = Path(name)
        kind = _kind(path)
        if kind == "persona":
            personas.append(_persona_ref(path, sha256))
        elif kind == "rubric":
            rubric, rubric_file, rubric_sha = _rubric_ref(path, sha256), name, sha256
        elif kind == "reactions":
            reactions = sha256
    identity = RunIdentity(
        personas=sorted(personas, key=lambda p: p.id),
        rubric=rubric,
        rubric_file=rubric_file,
        rubric_sha256=rubric_sha,
        reactions_sha256=reactions,
        harness_version=harness_version,
    )
    if settings is None:
        return identity
    return identity.model_copy(
        update={
            "customer": settings.customer,
            "judge": settings.judge,
            "panel": list(settings.judges),
            "judge_batch": settings.judge_batch,
            "difficulty": settings.difficulty,
            "max_turns": settings.max_turns,
            "max_intensity": settings.max_intensity,
            "temperature": settings.temperature,
        }
    )


def _one(values: Iterable[str | None]) -> str | None:
    found = sorted({v for v in values if v})
    return ",".join(found) or None


def run_identity(manifest: RunManifest | None, cards: list[Scorecard]) -> RunIdentity:
    """A run's identity: its manifest's, else derived from the manifest; the rubric, judge
    and customer the scorecards name fill what the manifest does not record."""
    if manifest is None:
        identity = RunIdentity(harness_version="unknown")
    else:
        identity = manifest.identity or identity_from(
            manifest.settings, manifest.files, manifest.harness_version
        )
    gaps = {
        "rubric": identity.rubric or _one(c.rubric for c in cards),
        "judge": identity.judge or _one(c.judge for c in cards),
        "customer": identity.customer or _one(c.customer for c in cards),
    }
    return identity.model_copy(update=gaps)


# ---------------------------------------------------------------- differences


@dataclass(frozen=True)
class Difference:
    """One thing the runs disagree on, with each run's value."""

    name: str
    values: dict[str, str]

    def describe(self) -> str:
        """`runs differ in difficulty: a=3, b=5`."""
        shown = ", ".join(f"{run}={value}" for run, value in self.values.items())
        return f"runs differ in {self.name}: {shown}"


def _text(value: object, none: str = "-") -> str:
    if value is None:
        return none
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


Field = tuple[str, Callable[[RunIdentity], str]]

FIELDS: tuple[Field, ...] = (
    ("rubric", lambda i: _text(i.rubric)),
    ("rubric content", lambda i: _text(i.rubric_sha256 and i.rubric_sha256[:12])),
    ("customer", lambda i: _text(i.customer)),
    ("customer reaction lines", lambda i: _text(i.reactions_sha256 and i.reactions_sha256[:12])),
    ("judge", lambda i: _text(i.judge)),
    ("judge panel", lambda i: _text(i.panel)),
    ("judge_batch", lambda i: _text(i.judge_batch)),
    ("difficulty", lambda i: _text(i.difficulty, "persona's own")),
    ("max_turns", lambda i: _text(i.max_turns)),
    ("max_intensity", lambda i: _text(i.max_intensity, "persona's own")),
    ("temperature", lambda i: _text(i.temperature)),
    ("harness version", lambda i: i.harness_version),
)


SHOWN = 4  # persona ids named per run when the runs' persona sets differ


def _persona_differences(identities: dict[str, RunIdentity]) -> list[Difference]:
    refs = {run: {p.id: p for p in i.personas} for run, i in identities.items()}
    common = set.intersection(*(set(r) for r in refs.values()))
    found: list[Difference] = []
    if any(set(r) != common for r in refs.values()):
        values = {}
        for run, mine in refs.items():
            extra = sorted(set(mine) - common)
            shown = ", ".join(extra[:SHOWN]) + (
                f" and {len(extra) - SHOWN} more" * (len(extra) > SHOWN)
            )
            values[run] = f"{len(mine)}" + (f" (+{shown})" if extra else "")
        found.append(Difference("personas", values))
    for persona in sorted(common):
        versions = {run: _text(r[persona].version, "unknown") for run, r in refs.items()}
        hashes = {run: r[persona].sha256[:12] for run, r in refs.items()}
        if len(set(versions.values())) > 1:
            found.append(Difference(f"persona {persona} version", versions))
        elif len(set(hashes.values())) > 1:
            found.append(Difference(f"persona {persona} content", hashes))
    return found


def differences(identities: dict[str, RunIdentity]) -> list[Difference]:
    """Every field on which the runs (by label) disagree; empty for one run."""
    if len(identities) < 2:
        return []
    found: list[Difference] = []
    for name, value in FIELDS:
        values = {run: value(i) for run, i in identities.items()}
        shown = {d.name for d in found}
        if len(set(values.values())) > 1 and name.removesuffix(" content") not in shown:
            found.append(Difference(name, values))
    return found + _persona_differences(identities)


def affected(found: list[Difference], baseline: str) -> dict[str, list[str]]:
    """Per run, the names of the differences on which it departs from the baseline run."""
    runs = {run for d in found for run in d.values}
    return {run: [d.name for d in found if d.values[run] != d.values.get(baseline)] for run in runs}
