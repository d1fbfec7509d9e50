"""`toughtalk serve`: the web app over a results folder (FastAPI, server-rendered pages).

Pages: Runs (`/`), Run (`/run?run=ID`), Conversation (`/conversation?run=ID&id=CID`),
Compare (`/compare?run=A&run=B`) and Practise (`/practise`). Every page reads the run
directories as they are; a run still being written refreshes itself. Handlers are plain
functions (FastAPI runs them in its thread pool): the chat engine runs its own event loop.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.compare import compare_loaded
from harness.errors import ToughtalkError, UsageError
from harness.models import Scorecard, TranscriptRecord
from harness.series import Run
from harness.show import RunView
from harness.store import SCORECARDS, TRANSCRIPTS
from harness.web.access import SameOrigin, TokenGuard
from harness.web.library import RunLibrary, RunRef, UnknownRun
from harness.web.lookup import read_one
from harness.web.pages import html
from harness.web.practice import PracticeRoom
from harness.web.practice_routes import add_practice_routes
from harness.web.views import (
    ComparisonTable,
    ListFilter,
    Matrix,
    RunFacts,
    anger_svg,
    comparison_table,
    conversation,
    conversation_rows,
    list_options,
    matrices,
    read_run,
    run_facts,
)

REFRESH_SECONDS = 5
PAGE_SIZE = 200
SORTS = ("newest", "oldest", "name", "conversations", "score", "errors")
BYS: tuple[str, ...] = ("guideline", "persona", "agent", "guideline,persona", "persona,agent")


@dataclass(frozen=True)
class RunRow:
    """One line of the Runs page."""

    ref: RunRef
    facts: RunFacts | None
    error: str | None


def create_app(results: Path, *, token: str | None = None, warm: bool = False) -> FastAPI:
    """The web app over the run directories under `results`; with `token`, every request
    must carry it. `warm` reads every run once in the background at start
    (`app.state.warmed` is set when that is done)."""
    library = RunLibrary(results)
    room = PracticeRoom(results)
    app = FastAPI(title="toughtalk", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SameOrigin)
    if token:
        app.add_middleware(TokenGuard, token=token)
    app.state.library = library
    app.state.room = room

    def loaded(ref: RunRef) -> Run | None:
        return library.cached(ref.path, "run", lambda: read_run(ref.path))

    def facts_of(ref: RunRef) -> RunFacts:
        run = loaded(ref)
        return library.cached(ref.path, "facts", lambda: run_facts(run.cards if run else []))

    def summary_of(ref: RunRef, run: Run) -> ComparisonTable:
        return library.cached(
            ref.path, "summary", lambda: comparison_table(compare_loaded([run], by="agent"))
        )

    def matrices_of(ref: RunRef, run: Run) -> list[Matrix]:
        return library.cached(ref.path, "matrix", lambda: matrices(run))

    warmed = threading.Event()
    app.state.warmed = warmed

    def warm_all() -> None:
        refs, _ = library.runs()
        for ref in refs:
            try:
                facts_of(ref)
                run = loaded(ref)
                if run is not None and run.cards:
                    summary_of(ref, run)
                    matrices_of(ref, run)
            except ToughtalkError:
                continue  # an unreadable run: its page says why
        warmed.set()

    if warm:
        app.router.on_startup.append(
            lambda: threading.Thread(target=warm_all, name="warm", daemon=True).start()
        )
    app.router.on_shutdown.append(room.close_all)

    def run_or_404(run_id: str) -> RunRef:
        try:
            return library.get(run_id)
        except UnknownRun as exc:
            raise StarletteHTTPException(404, str(exc)) from None
        except ToughtalkError as exc:  # a run directory whose run.json cannot be read
            raise StarletteHTTPException(422, str(exc)) from None

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 400: "Bad request", 405: "Not allowed", 422: "Unreadable"}
        title = titles.get(exc.status_code, "Error")
        return html(
            "error.html", exc.status_code, status=exc.status_code, title=title, message=exc.detail
        )

    # ------------------------------------------------------------ Runs

    @app.get("/", response_class=HTMLResponse)
    def runs_page(q: str = "", kind: str = "", sort: str = "newest") -> HTMLResponse:
        refs, problems = library.runs()
        rows = []
        for ref in refs:
            try:
                rows.append(RunRow(ref, facts_of(ref), None))
            except ToughtalkError as exc:
                rows.append(RunRow(ref, None, str(exc)))
        kinds = sorted({r.ref.manifest.kind for r in rows})
        rows = [r for r in rows if _matches(r, q, kind)]
        rows.sort(key=_sort_key(sort if sort in SORTS else "newest"))
        running = any(r.ref.manifest.status == "running" for r in rows)
        return html(
            "runs.html",
            results=str(results),
            rows=rows,
            problems=problems,
            q=q,
            kind=kind,
            kinds=kinds,
            sort=sort,
            sorts=SORTS,
            refresh=REFRESH_SECONDS if running else None,
        )

    # ------------------------------------------------------------ Run

    @app.get("/run", response_class=HTMLResponse)
    def run_page(
        run: str,
        persona: str = "",
        agent: str = "",
        guideline: str = "",
        stop: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
    ) -> HTMLResponse:
        ref = run_or_404(run)
        error = None
        table = None
        found: list[Matrix] = []
        cards: list[Scorecard] = []
        try:
            run_read = loaded(ref)
            if run_read is not None and run_read.cards:
                cards = run_read.cards
                table = summary_of(ref, run_read)
                found = matrices_of(ref, run_read)
        except ToughtalkError as exc:
            error = str(exc)
        wanted = ListFilter(persona=persona, agent=agent, guideline=guideline, stop=stop)
        rows = conversation_rows(cards, wanted)
        pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
        number = min(page_no, pages)

        def page_url(n: int) -> str:
            query = {"run": run, "persona": persona, "agent": agent, "guideline": guideline}
            query.update(stop=stop, page=str(n))
            return "/run?" + urlencode({k: v for k, v in query.items() if v}) + "#conversations"

        return html(
            "run.html",
            ref=ref,
            total=len(cards),
            error=error,
            summary=table,
            matrices=found,
            wanted=wanted,
            options=list_options(cards),
            rows=rows,
            shown=rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
            page=number,
            pages=pages,
            page_url=page_url,
            refresh=REFRESH_SECONDS if ref.manifest.status == "running" else None,
        )

    # ------------------------------------------------------------ Conversation

    @app.get("/conversation", response_class=HTMLResponse)
    def conversation_page(run: str, id: str) -> HTMLResponse:
        ref = run_or_404(run)
        record = read_one(ref.path / TRANSCRIPTS, id, TranscriptRecord)
        card = read_one(ref.path / SCORECARDS, id, Scorecard)
        if record is None and card is None:
            raise StarletteHTTPException(404, f"no conversation {id!r} in run {ref.id}")
        view = RunView(
            ref.path,
            ref.manifest,
            {id: record} if record else {},
            {id: card} if card else {},
        )
        shown = conversation(view, id)
        return html("conversation.html", ref=ref, view=shown, svg=anger_svg(shown.anger))

    # ------------------------------------------------------------ Compare

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(
        run: Annotated[list[str] | None, Query()] = None,
        by: str = "guideline",
        baseline: str = "",
    ) -> HTMLResponse:
        chosen = list(dict.fromkeys(run or []))
        refs = [run_or_404(r) for r in chosen]
        table, error = None, None
        if refs:
            try:
                runs = []
                for ref in refs:
                    run_read = loaded(ref)
                    if run_read is None:
                        raise UsageError(f"{ref.id} has no finished conversation yet")
                    runs.append(dataclasses.replace(run_read, label=ref.id))
                if baseline and baseline not in chosen:
                    raise UsageError(f"the baseline {baseline!r} is not one of the runs chosen")
                c = compare_loaded(runs, by=by, baseline=baseline or None)
                table = comparison_table(c)
            except ToughtalkError as exc:
                error = str(exc)
        return html(
            "compare.html",
            all_runs=[r.id for r in library.runs()[0]],
            chosen=chosen,
            by=by,
            bys=BYS,
            baseline=baseline,
            comparison=table,
            error=error,
        )

    add_practice_routes(app, room, library, results)
    return app


# ---------------------------------------------------------------- helpers


def _matches(row: RunRow, q: str, kind: str) -> bool:
    if kind and row.ref.manifest.kind != kind:
        return False
    if not q:
        return True
    facts = row.facts
    haystack = [row.ref.id, row.ref.manifest.name]
    if facts is not None:
        haystack += facts.agents + facts.personas
    return any(q.lower() in h.lower() for h in haystack)


def _best_score(row: RunRow) -> float:
    scores = (
        [s.score.mean for s in row.facts.scores if s.score.mean is not None] if row.facts else []
    )
    return max(scores, default=-1.0)


def _sort_key(sort: str) -> Callable[[RunRow], Any]:
    keys: dict[str, Callable[[RunRow], Any]] = {
        "newest": lambda r: _negated(r.ref.manifest.started),
        "oldest": lambda r: r.ref.manifest.started,
        "name": lambda r: r.ref.id,
        "conversations": lambda r: -(r.facts.conversations if r.facts else 0),
        "score": lambda r: -_best_score(r),
        "errors": lambda r: -r.ref.manifest.errors,
    }
    return keys[sort]


def _negated(text: str) -> tuple[int, ...]:
    """A key that sorts ISO timestamps newest first."""
    return tuple(-ord(ch) for ch in text)
