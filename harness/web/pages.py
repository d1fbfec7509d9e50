"""Rendering a server page: the template with the stylesheet and the server's links."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse

from harness.web.render import ServerLinks, page, static_text


def html(template: str, code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the stylesheet and links every page uses."""
    context.setdefault("refresh", None)
    body = page(template, css=static_text("style.css"), links=ServerLinks(), **context)
    return HTMLResponse(body, status_code=code)
