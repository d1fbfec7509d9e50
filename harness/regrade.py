"""Reading a finished run back for re-grading: its transcript records, settings, personas
and the csat its customers gave.

`toughtalk grade RUN_DIR` grades a run's own `transcripts.jsonl` again, exactly as the run
graded it (same rubric, judges, personas, stop reasons and recorded customer states), or
with another rubric or judge. The source run is only read, never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.catalog import complete_lines, file_hash, load_persona, read_records, torn_tail
from harness.errors import InputError
from harness.inputs import json_value
from harness.models import Persona, RunManifest, RunSettings, Scorecard, TranscriptRecord
from harness.plan import cap_abuse
from harness.store import MANIFEST, SCORECARDS, TRANSCRIPTS, RunStore


@dataclass
class SourceRun:
    """A finished run as the re-grader needs it."""

    root: Path
    manifest: RunManifest
    settings: RunSettings
    records: list[TranscriptRecord]
    csat: dict[str, int | None]
    personas: dict[str, Persona]
    persona_files: dict[str, Path]
    warnings: list[str] = field(default_factory=list)


def run_dir_of(path: Path) -> Path | None:
    """The run directory a `grade` argument names: a directory with run.json, or the
    transcripts.jsonl inside one; None for a transcript file to import."""
    if path.is_dir():
        if not (path / MANIFEST).exists():
            raise InputError(path, f"not a run directory (no {MANIFEST})")
        return path
    if path.name == TRANSCRIPTS and (path.parent / MANIFEST).exists():
        return path.parent
    return None


def _csat(root: Path) -> dict[str, int | None]:
    """The csat each conversation's customer gave at run time (it is not a judge verdict)."""
    path = root / SCORECARDS
    if not path.exists():
        return {}
    out: dict[str, int | None] = {}
    for number, line in complete_lines(path):
        try:
            card = Scorecard.model_validate(json_value(line, path, number))
        except ValueError as exc:
            raise InputError(path, "not a scorecard", number) from exc
        out[card.conversation_id] = card.outcome.csat
    return out


def _recorded_hash(manifest: RunManifest, persona_id: str) -> tuple[str, str] | None:
    """(path, sha256) of the persona file run.json recorded for an id, if any."""
    for name, digest in manifest.files.items():
        path = Path(name)
        persona_file = path.stem == persona_id and path.suffix in (".yaml", ".yml")
        if persona_file and ("personas" in path.parts or path.exists()):
            return name, digest
    return None


def _persona(manifest: RunManifest, persona_id: str) -> tuple[Persona, Path, str | None]:
    """The persona a run used (the recorded file if it is still there, else the built-in
    of that id) and a warning when its content is not what the run hashed."""
    recorded = _recorded_hash(manifest, persona_id)
    ref = recorded[0] if recorded and Path(recorded[0]).exists() else persona_id
    persona, path = load_persona(ref)
    warning = None
    if recorded is None:
        warning = f"persona {persona_id!r}: run.json records no file for it; using {path}"
    elif file_hash(path) != recorded[1]:
        warning = (
            f"persona {persona_id!r}: {path} changed since the run (sha256 differs from "
            "run.json); verdicts may differ from the run's"
        )
    return persona, path, warning


def read_source(root: Path) -> SourceRun:
    """Load a run directory for re-grading; problems name the file (and line)."""
    manifest = RunStore(root).read_manifest()
    if manifest is None:
        raise InputError(root, f"not a run directory (no {MANIFEST})")
    if manifest.settings is None:
        raise InputError(
            root / MANIFEST,
            "this run has no settings (it graded an imported file); grade that file instead: "
            f"{manifest.source}",
        )
    transcripts = root / TRANSCRIPTS
    if not transcripts.exists():
        raise InputError(root, f"no {TRANSCRIPTS} here; nothing to re-grade")
    records = read_records(transcripts)
    if not records:
        raise InputError(transcripts, "no conversations here; nothing to re-grade")
    warnings: list[str] = []
    if torn_tail(transcripts):
        warnings.append(
            f"{transcripts}: the last line is incomplete (the run was interrupted); left out"
        )
    personas: dict[str, Persona] = {}
    files: dict[str, Path] = {}
    for persona_id in sorted({r.persona for r in records if r.persona}):
        try:
            persona, path, warning = _persona(manifest, persona_id)
        except InputError as exc:
            raise InputError(
                transcripts, f"persona {persona_id!r} of this run cannot be loaded: {exc}"
            ) from exc
        personas[persona_id] = cap_abuse(persona, manifest.settings.max_intensity)
        files[persona_id] = path
        if warning:
            warnings.append(warning)
    csat = _csat(root)
    unscored = [r.conversation_id for r in records if r.conversation_id not in csat]
    if unscored:
        warnings.append(
            f"{len(unscored)} conversation(s) have no scorecard in the source (an interrupted "
            f"run?), e.g. {unscored[0]}; they are graded without csat"
        )
    return SourceRun(
        root=root,
        manifest=manifest,
        settings=manifest.settings,
        records=records,
        csat=csat,
        personas=personas,
        persona_files=files,
        warnings=warnings,
    )


def regrade_settings(
    settings: RunSettings,
    *,
    rubric: str | None = None,
    judges: list[str] | None = None,
    operational: dict[str, Any] | None = None,
) -> RunSettings:
    """The source run's settings with a new rubric and/or judges (the first scores, the rest
    form the panel) and how to reach models today."""
    update: dict[str, Any] = dict(operational or {})
    if rubric is not None:
        update["rubric"] = rubric
    if judges:
        update["judge"] = judges[0]
        update["judges"] = list(judges[1:])
    return RunSettings.model_validate({**settings.model_dump(), **update})
