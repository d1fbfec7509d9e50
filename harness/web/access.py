"""Who may use the web app: loopback by default; anywhere else only with a token.

`check_bind` refuses a non-loopback host without a token. `TokenGuard` (ASGI middleware)
then lets a request through only when it carries the token: `?token=` once (answered with
a cookie and a redirect to the same page without it), the cookie, an
`Authorization: Bearer` header or an `X-Toughtalk-Token` header. `SameOrigin` refuses
form posts whose Origin is another site, so a page elsewhere cannot drive a practice chat.
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from harness.errors import UsageError

COOKIE = "toughtalk_token"
HEADER = "x-toughtalk-token"
TOKEN_ENV = "TOUGHTALK_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"--host {host} is reachable from other machines: pass --token SECRET "
            f"(or set {TOKEN_ENV}); every request must then carry it"
        )


def carried_token(request: Request) -> str | None:
    """The token a request carries, from the query, cookie or headers."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return (
        request.query_params.get("token")
        or request.headers.get(HEADER)
        or request.cookies.get(COOKIE)
    )


class TokenGuard(BaseHTTPMiddleware):
    """Every request must carry the token; a `?token=` visit gets it as a cookie."""

    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = carried_token(request)
        if given is None or not secrets.compare_digest(given.encode(), self.token.encode()):
            return PlainTextResponse(
                "toughtalk: this server needs its token; open the address `toughtalk serve` "
                "printed (…/?token=…) or send the header X-Toughtalk-Token",
                status_code=401,
            )
        if "token" in request.query_params and request.method == "GET":
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return await call_next(request)


class SameOrigin(BaseHTTPMiddleware):
    """A POST whose Origin (or Referer) is another host is refused."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method == "POST":
            source = request.headers.get("origin") or request.headers.get("referer")
            if source and source != "null":
                if urlsplit(source).netloc != request.headers.get("host", ""):
                    return PlainTextResponse("toughtalk: cross-site request refused", 403)
            elif source == "null":
                return PlainTextResponse("toughtalk: cross-site request refused", 403)
        return await call_next(request)
