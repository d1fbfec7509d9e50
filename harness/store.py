"""The run directory, written by `run`, `eval`, `grade` and `chat` alike.

A run directory holds `run.json` (the manifest), `transcripts.jsonl` and
`scorecards.jsonl`. Both JSONL files are append-only, one line flushed per finished
conversation, so Ctrl-C or a crash loses nothing already finished, and a resumed run
does only what is missing. The lifecycle: `RunStore.create` (a new run) or
`RunStore.reopen` (resume), `append` per conversation, then `finish` or `interrupt`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import platform
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness import __version__
from harness.agreement import judge_agreement
from harness.catalog import data_root, one_line, read_manifest
from harness.errors import InputError, UsageError
from harness.identity import identity_from
from harness.inputs import json_value, jsonl_lines, os_error
from harness.models import (
    RoleUsage,
    RunKind,
    RunManifest,
    RunSettings,
    Scorecard,
    StopReason,
    TranscriptRecord,
)

TRANSCRIPTS = "transcripts.jsonl"
SCORECARDS = "scorecards.jsonl"
MANIFEST = "run.json"
LOCK = ".lock"


# ---------------------------------------------------------------- provenance


def now() -> str:
    """UTC timestamp for manifests."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def slug(text: str) -> str:
    """A file-name-safe version of a spec."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "run"


def default_out(name: str) -> Path:
    """results/<timestamp>-<name>."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{stamp}-{slug(name)}"


def new_run_id(name: str) -> str:
    """A unique run id: name, UTC time and a random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{slug(name)}-{stamp}-{secrets.token_hex(3)}"


def git_sha() -> str | None:
    """The checkout's commit, if the harness runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=data_root(),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def new_manifest(
    *,
    name: str,
    kind: RunKind,
    files: dict[str, str],
    settings: RunSettings | None = None,
    source: str | None = None,
) -> RunManifest:
    """The manifest of a run that starts now, with its provenance."""
    return RunManifest(
        run_id=new_run_id(name),
        name=name,
        kind=kind,
        harness_version=__version__,
        git_sha=git_sha(),
        python=platform.python_version(),
        settings=settings,
        source=source,
        files=files,
        identity=identity_from(settings, files, __version__),
        started=now(),
    )


def summed_usage(cards: list[Scorecard]) -> dict[str, RoleUsage]:
    """Usage per role over every scorecard of a run."""
    totals: dict[str, RoleUsage] = {}
    for card in cards:
        for role, u in card.usage.items():
            totals.setdefault(role, RoleUsage()).add(u)
    return totals


def failed(card: Scorecard) -> bool:
    """Whether a conversation failed to produce a result: it ended in an error, or no
    judge verdict could be produced. (A silent agent is a result: it scores nothing.)"""
    return card.outcome.stop_reason == StopReason.error or "unscored" in card.flags


# ---------------------------------------------------------------- the store


class RunStore:
    """Append-only JSONL files and the manifest of one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.transcripts = root / TRANSCRIPTS
        self.scorecards = root / SCORECARDS
        self.manifest_path = root / MANIFEST
        self.duplicates = 0  # scorecard lines dropped by `load_scorecards` as repeats
        self.has_panel = False  # whether a loaded scorecard carries panel verdicts
        self._lock: int | None = None

    # ------------------------------------------------------------ the writer's lock

    def lock(self) -> None:
        """Become the only writer of this run directory (an exclusive lock on `.lock`,
        released by `unlock` or when the process ends, even by a crash)."""
        if self._lock is not None:
            return
        self.make_root()
        try:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise os_error(self.root, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise UsageError(
                f"{self.root} is being written by another toughtalk process (pid {holder}); "
                "wait for it to finish or pick another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock = fd

    def make_root(self) -> None:
        """Create the run directory; a path that is (or is below) a file is an InputError."""
        for parent in (self.root, *self.root.parents):
            if parent.exists() or parent.is_symlink():
                if not parent.is_dir():
                    raise InputError(self.root, f"--out must be a folder, but {parent} is a file")
                break
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(self.root, exc) from exc

    def unlock(self) -> None:
        """Let another process write here."""
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    # ------------------------------------------------------------ lifecycle

    def holds_run(self) -> bool:
        """Whether the directory already holds (part of) a run."""
        return self.manifest_path.exists() or self.scorecards.exists() or self.transcripts.exists()

    def create(self, manifest: RunManifest) -> RunManifest:
        """Start a new run here; refuse a directory that already holds one."""
        if self.holds_run():
            raise UsageError(f"{self.root} already holds a run; pick another --out")
        self.lock()
        if self.holds_run():  # another process created it between the check and the lock
            self.unlock()
            raise UsageError(f"{self.root} already holds a run; pick another --out")
        self.write_manifest(manifest)
        return manifest

    def reopen(
        self, manifest: RunManifest, settings: RunSettings, files: dict[str, str]
    ) -> tuple[RunManifest, set[str]]:
        """Resume the run: errored conversations are dropped so that they run again; the
        manifest, running again, and the ids of the conversations already finished."""
        self.lock()
        finished = self.finished_ids(retry_errors=True)
        running = manifest.model_copy(
            update={
                "status": "running",
                "files": files,
                "errors": 0,
                "settings": settings,
                "identity": identity_from(settings, files, __version__),
            }
        )
        self.write_manifest(running)
        return running, finished

    def finish(self, manifest: RunManifest) -> RunManifest:
        """Mark the run finished, with its counts, usage and judge agreement."""
        cards = self.load_scorecards(light=True)
        errors = sum(failed(c) for c in cards)
        agreement = judge_agreement(self.load_scorecards()) if self.has_panel else {}
        done = manifest.model_copy(
            update={
                "status": "failed" if cards and errors == len(cards) else "finished",
                "finished": now(),
                "conversations": len(cards),
                "errors": errors,
                "usage": summed_usage(cards),
                "agreement": agreement,
            }
        )
        self.write_manifest(done)
        self.unlock()
        return done

    def interrupt(self, manifest: RunManifest) -> RunManifest:
        """Mark the run interrupted (Ctrl-C); finished conversations are kept."""
        stopped = manifest.model_copy(
            update={"status": "interrupted", "conversations": len(self.finished_ids())}
        )
        self.write_manifest(stopped)
        self.unlock()
        return stopped

    # ------------------------------------------------------------ the manifest

    def read_manifest(self) -> RunManifest | None:
        """The existing manifest, if any."""
        if not self.manifest_path.exists():
            return None
        return read_manifest(self.manifest_path)

    def write_manifest(self, manifest: RunManifest) -> None:
        """Write run.json atomically."""
        self.make_root()
        tmp = self.manifest_path.with_suffix(".json.tmp")
        try:
            tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
            tmp.replace(self.manifest_path)
        except OSError as exc:
            raise os_error(self.manifest_path, exc) from exc

    # ------------------------------------------------------------ conversations

    def finished_ids(self, *, retry_errors: bool = False) -> set[str]:
        """Conversation ids with a scorecard; repairs a torn last line and orphan transcripts.

        With `retry_errors`, conversations that ended in an error or were left unscored are
        dropped from both files so that they run again."""
        cards = self._repair(self.scorecards)
        if retry_errors:
            kept_cards = [
                c
                for c in cards
                if c["outcome"]["stop_reason"] != "error" and "unscored" not in c.get("flags", [])
            ]
            if len(kept_cards) != len(cards):
                self._rewrite(self.scorecards, kept_cards)
            cards = kept_cards
        records = self._repair(self.transcripts)
        # A conversation is finished when both of its lines are there: an orphan line in
        # either file (a torn or truncated write) is dropped so that the conversation reruns.
        ids = {c["conversation_id"] for c in cards} & {r["conversation_id"] for r in records}
        for path, rows in ((self.scorecards, cards), (self.transcripts, records)):
            kept = [r for r in rows if r["conversation_id"] in ids]
            if len(kept) != len(rows):
                self._rewrite(path, kept)
        return ids

    @staticmethod
    def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)

    @staticmethod
    def _repair(path: Path) -> list[dict[str, Any]]:
        """Parse a JSONL file, dropping (and truncating away) a torn last line."""
        if not path.exists():
            return []
        rows: list[dict[str, Any]] = []
        good = 0
        size = path.stat().st_size
        for number, line in jsonl_lines(path):
            if not line.endswith("\n"):
                break
            try:
                rows.append(json_value(line, path, number))
            except InputError as exc:  # bad JSON, too deep, a duplicate key
                raise InputError(path, f"corrupt line: {exc.message}", number) from exc
            if not isinstance(rows[-1], dict) or "conversation_id" not in rows[-1]:
                raise InputError(path, "corrupt line: not a toughtalk record", number)
            good += len(line.encode("utf-8"))
        if good < size:
            with path.open("r+b") as handle:
                handle.truncate(good)
        return rows

    def append(self, transcript: TranscriptRecord, scorecard: Scorecard) -> None:
        """Append one finished conversation (transcript first, then its scorecard)."""
        for path, record in ((self.transcripts, transcript), (self.scorecards, scorecard)):
            with path.open("a", encoding="utf-8") as handle:
                handle.write(record.model_dump_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    def load_scorecards(self, *, light: bool = False) -> list[Scorecard]:
        """Every scorecard of the run, one per conversation id (a repeated id, written by two
        processes before runs were locked, keeps its last line; `duplicates` counts the rest).

        `light`: without the per-guideline verdicts (`results` and `panel` left empty) and
        with only the final anger, for summaries of very large runs: a fraction of the
        memory."""
        if not self.scorecards.exists():
            raise InputError(self.root, f"no {SCORECARDS} here; is this a run directory?")
        latest: dict[str, Scorecard] = {}
        lines = 0
        self.has_panel = False
        for number, line in jsonl_lines(self.scorecards):
            if not line.strip():
                continue
            data = json_value(line, self.scorecards, number, own=True)
            if isinstance(data, dict):
                self.has_panel = self.has_panel or bool(data.get("panel"))
                if light:
                    data = {**data, "results": [], "panel": {}}
                    outcome = data.get("outcome")
                    if isinstance(outcome, dict) and isinstance(outcome.get("anger"), list):
                        data["outcome"] = {**outcome, "anger": outcome["anger"][-1:] or None}
            try:
                card = Scorecard.model_validate(data)
            except ValidationError as exc:
                raise InputError(
                    self.scorecards, f"not a scorecard: {one_line(exc)}", number
                ) from exc
            lines += 1
            latest.pop(card.conversation_id, None)  # the last line wins, in its place
            latest[card.conversation_id] = card
        self.duplicates = lines - len(latest)
        return list(latest.values())

    def first_error(self) -> str:
        """Why the first failed conversation failed: its error, or its judge's reason."""
        if self.transcripts.exists():
            for number, line in jsonl_lines(self.transcripts):
                record = (
                    json_value(line, self.transcripts, number, own=True) if line.strip() else {}
                )
                if isinstance(record, dict) and record.get("error"):
                    return str(record["error"])
        if self.scorecards.exists():
            for card in self.load_scorecards():
                if "unscored" in card.flags and card.results:
                    return f"no verdict could be produced: {card.results[0].rationale}"
        return "(no error message recorded)"
