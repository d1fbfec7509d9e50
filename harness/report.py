"""`toughtalk report`: one self-contained HTML file of some runs, for sharing.

The same summary, guideline x persona matrix and conversations as the web app's pages,
plus the comparison when there are two or more runs, in one file: its CSS, JavaScript and
SVG are inline and it makes no request, so it opens offline and can be mailed as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from harness import __version__
from harness.compare import compare_loaded
from harness.errors import InputError, UsageError
from harness.models import RunManifest
from harness.series import Run, load_runs
from harness.show import RunView
from harness.store import MANIFEST, SCORECARDS, RunStore
from harness.web.render import ReportLinks, page, static_text
from harness.web.views import (
    ComparisonTable,
    ConversationRow,
    ConversationView,
    ListFilter,
    Matrix,
    anger_svg,
    comparison_table,
    conversation,
    conversation_rows,
    matrices,
    run_view,
)


@dataclass(frozen=True)
class ReportRun:
    """One run as the report shows it."""

    label: str
    manifest: RunManifest
    view: RunView
    summary: ComparisonTable | None
    matrices: list[Matrix]
    rows: list[ConversationRow]
    conversations: list[tuple[ConversationView, str]]


def _manifest(path: Path) -> RunManifest:
    if not path.is_dir():
        raise InputError(path, "no such run directory")
    manifest = RunStore(path).read_manifest()
    if manifest is None:
        raise InputError(path, f"not a run directory (no {MANIFEST})")
    if not (path / SCORECARDS).exists():
        raise InputError(path, f"no {SCORECARDS} yet: no conversation has finished")
    return manifest


def _report_run(run: Run, manifest: RunManifest) -> ReportRun:
    view = run_view(run.path, manifest, run)
    shown = [conversation(view, cid) for cid in view.records]
    return ReportRun(
        label=run.label,
        manifest=manifest,
        view=view,
        summary=comparison_table(compare_loaded([run], by="agent")) if run.cards else None,
        matrices=matrices(run),
        rows=conversation_rows(run.cards, ListFilter()),
        conversations=[(v, anger_svg(v.anger)) for v in shown],
    )


def build_report(paths: list[Path], *, by: str = "guideline") -> str:
    """The report's HTML for these run directories."""
    if not paths:
        raise UsageError("name at least one run directory")
    manifests = [_manifest(p) for p in paths]
    runs = load_runs(paths)
    compared = None
    if len(runs) > 1:
        compared = comparison_table(compare_loaded(runs, by=by))
    return page(
        "report.html",
        css=static_text("style.css"),
        js=static_text("report.js"),
        links=ReportLinks(),
        runs=[_report_run(r, m) for r, m in zip(runs, manifests, strict=True)],
        comparison=compared,
        written=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        version=__version__,
    )


def write_report(paths: list[Path], out: Path, *, by: str = "guideline") -> int:
    """Write the report to `out`; the number of bytes written."""
    text = build_report(paths, by=by)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from exc
    return len(text.encode("utf-8"))
