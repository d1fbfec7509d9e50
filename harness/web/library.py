"""The run directories under `--results`, as the web app reads them.

Nothing is copied: every page reads `run.json` and the append-only JSONL files where they
are. A run id is the directory's path under the results folder (`20260101-120000-demo`,
or `hard/a` one level down); an id resolves only to a directory found under that folder,
never to anything a URL spells out (`..`, absolute paths and symlinks out are refused).

What is computed from a run (its scorecards, transcripts, summary, matrix) is kept while
the run's files are unchanged (same size and modification time), so a finished run is read
once and a run in progress is read again as lines are appended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import InputError
from harness.models import RunManifest
from harness.store import MANIFEST, SCORECARDS, TRANSCRIPTS, RunStore

T = TypeVar("T")
MAX_DEPTH = 2  # results/<run> and results/<group>/<run>
Signature = tuple[tuple[int, int], ...]


class UnknownRun(LookupError):
    """A run id that names no run directory under the results folder."""


@dataclass(frozen=True)
class RunRef:
    """One run directory: its id under the results folder, its path and its manifest."""

    id: str
    path: Path
    manifest: RunManifest


def signature(path: Path) -> Signature:
    """Size and modification time of a run's files: it changes when any of them does."""
    marks = []
    for name in (MANIFEST, SCORECARDS, TRANSCRIPTS):
        try:
            st = (path / name).stat()
            marks.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            marks.append((-1, 0))
    return tuple(marks)


class RunLibrary:
    """The runs under one results folder, with a cache of what is computed from them."""

    def __init__(self, results: Path) -> None:
        self.results = results
        self._cache: dict[tuple[str, str], tuple[Signature, Any]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ finding runs

    def _candidates(self) -> list[Path]:
        root = self.results
        if not root.is_dir():
            return []
        found: list[Path] = []
        level = [root]
        for _ in range(MAX_DEPTH):
            below: list[Path] = []
            for folder in level:
                for child in sorted(folder.iterdir()):
                    if not child.is_dir() or child.name.startswith("."):
                        continue
                    if (child / MANIFEST).is_file():
                        found.append(child)
                    else:
                        below.append(child)
            level = below
        return found

    def runs(self) -> tuple[list[RunRef], list[str]]:
        """Every run under the folder (newest first) and a line per unreadable one."""
        refs: list[RunRef] = []
        problems: list[str] = []
        for path in self._candidates():
            try:
                refs.append(self._ref(path))
            except (InputError, UnknownRun) as exc:
                problems.append(str(exc))
        refs.sort(key=lambda r: r.manifest.started, reverse=True)
        return refs, problems

    def _ref(self, path: Path) -> RunRef:
        root = self.results.resolve()
        real = path.resolve()
        if not real.is_relative_to(root) or real == root:
            raise UnknownRun(f"{path}: outside the results folder")
        manifest = self.cached(path, "manifest", lambda: RunStore(path).read_manifest())
        if manifest is None:
            raise UnknownRun(f"{path}: no {MANIFEST}")
        return RunRef(id=path.relative_to(self.results).as_posix(), path=path, manifest=manifest)

    def get(self, run_id: str) -> RunRef:
        """The run with this id; UnknownRun unless it is a run directory found here."""
        parts = run_id.split("/")
        if not run_id or len(parts) > MAX_DEPTH or any(p in ("", ".", "..") for p in parts):
            raise UnknownRun(f"no run {run_id!r}")
        if any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
            raise UnknownRun(f"no run {run_id!r}")
        path = self.results.joinpath(*parts)
        if path not in self._candidates():
            raise UnknownRun(f"no run {run_id!r} under {self.results}")
        return self._ref(path)

    # ------------------------------------------------------------ the cache

    def cached(self, path: Path, what: str, compute: Callable[[], T]) -> T:
        """`compute()` for this run, kept while the run's files are unchanged."""
        key = (str(path.resolve()), what)
        mark = signature(path)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] == mark:
            value: T = hit[1]
            return value
        value = compute()
        with self._lock:
            self._cache[key] = (mark, value)
        return value
