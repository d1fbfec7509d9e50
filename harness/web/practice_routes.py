"""The Practise pages: start a practice chat, play it, hint, rewind, end and debrief.

Plain HTML forms posted to the server and answered with a redirect to the chat page
(post-redirect-get), so the page works without JavaScript and a reload never sends a reply
twice. The engine is `harness.chat.ChatSession`, kept by `harness.web.practice`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.catalog import all_personas
from harness.chat import STOP_MESSAGES, meter
from harness.debrief import outcome_line
from harness.errors import ToughtalkError, UsageError
from harness.web.library import RunLibrary
from harness.web.pages import html
from harness.web.practice import Practice, PracticeRequest, PracticeRoom, trainees


def add_practice_routes(
    app: FastAPI, room: PracticeRoom, library: RunLibrary, results: Path
) -> None:
    """Add the Practise pages to the app."""

    # ------------------------------------------------------------ Practise

    def practise_form(error: str | None = None, name: str = "", status: int = 200) -> Response:
        personas = [p for p, _ in all_personas()]
        return html(
            "practise.html",
            status,
            personas=personas,
            trainees=trainees(library),
            error=error,
            name=name,
        )

    @app.get("/practise", response_class=HTMLResponse)
    def practise_page() -> Response:
        return practise_form()

    @app.post("/practise")
    def practise_start(
        name: Annotated[str, Form()] = "",
        persona: Annotated[str, Form()] = "",
        difficulty: Annotated[str, Form()] = "",
        customer: Annotated[str, Form()] = "scripted",
        seed: Annotated[str, Form()] = "0",
        raw: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            wanted = PracticeRequest(
                name=name,
                persona=persona,
                difficulty=_int_or_none(difficulty, "difficulty"),
                customer=customer.strip() or "scripted",
                seed=_int_or_none(seed, "seed") or 0,
                raw=bool(raw),
            )
            practice = room.start(wanted)
        except ToughtalkError as exc:
            return practise_form(str(exc), name, 400)
        return RedirectResponse(f"/practise/{practice.id}", status_code=303)

    def practice_or_404(practice_id: str) -> Practice:
        try:
            return room.get(practice_id)
        except KeyError:
            raise StarletteHTTPException(
                404, "no such practice chat (it was closed, or the server restarted)"
            ) from None

    @app.get("/practise/{practice_id}", response_class=HTMLResponse)
    def practise_chat(practice_id: str) -> HTMLResponse:
        p = practice_or_404(practice_id)
        with room.use(p) as s:
            meters, before = [], None
            for t in s.turns:
                meters.append(
                    " ".join(meter(t.state.anger, before, width=0).split()) if t.state else ""
                )
                before = t.state.anger if t.state is not None else before
            saved_id = p.saved.relative_to(results).as_posix() if p.saved else ""
            return html(
                "practise_chat.html",
                p=p,
                s=s,
                meters=meters,
                stop_message=STOP_MESSAGES.get(s.stop, "") if s.stop else "",
                outcome=outcome_line(p.card) if p.card else "",
                saved_id=saved_id,
            )

    def act(practice_id: str, action: Callable[[Practice], None]) -> Response:
        p = practice_or_404(practice_id)
        if p.saved is None:
            try:
                action(p)
            except UsageError as exc:
                p.notices.append(str(exc))
        return RedirectResponse(f"/practise/{practice_id}", status_code=303)

    @app.post("/practise/{practice_id}/reply")
    def practise_reply(
        practice_id: str,
        text: Annotated[str, Form()] = "",
        action: Annotated[str, Form()] = "reply",
    ) -> Response:
        def reply(p: Practice) -> None:
            with room.use(p) as s:
                if s.stop is not None:
                    raise UsageError("the conversation is over: rewind, or get the debrief")
                if action in ("end", "transfer"):
                    s.answer(text, action)
                else:
                    s.answer(text)

        return act(practice_id, reply)

    @app.post("/practise/{practice_id}/hint")
    def practise_hint(practice_id: str) -> Response:
        def hint(p: Practice) -> None:
            with room.use(p) as s:
                found = s.hint()
            if found is None:
                p.notices.append("No hint: the graders see nothing left undone.")
            else:
                p.hints.append(found)

        return act(practice_id, hint)

    @app.post("/practise/{practice_id}/rewind")
    def practise_rewind(practice_id: str, turn: Annotated[str, Form()] = "") -> Response:
        def rewind(p: Practice) -> None:
            if not turn.strip().isdigit():
                raise UsageError("rewind takes a turn number (the numbers beside the messages)")
            with room.use(p) as s:
                kept, changed = s.rewind(int(turn))
            p.hints.clear()
            p.notices.append(
                f"Rewound: back at turn {kept}; answer it again."
                + (" (The customer's replayed lines differ from before.)" if changed else "")
            )

        return act(practice_id, rewind)

    @app.post("/practise/{practice_id}/finish")
    def practise_finish(practice_id: str) -> Response:
        p = practice_or_404(practice_id)
        room.finish(p)
        return RedirectResponse(f"/practise/{practice_id}#debrief", status_code=303)

    @app.post("/practise/{practice_id}/quit")
    def practise_quit(practice_id: str) -> Response:
        room.discard(practice_id)
        return RedirectResponse("/practise", status_code=303)


def _int_or_none(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise UsageError(f"{what} must be a whole number, not {text!r}")
    return int(text)
