"""The `http:URL` agent is safe to point at a bot you do not control: it never follows a
redirect to another origin, never reads an unbounded reply, and treats a password in the
URL like a secret header."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.agents import http as http_agent
from harness.agents.http import BotError, HttpAgent, HttpOptions
from harness.errors import UsageError
from harness.models import Turn

REPLY = {"choices": [{"message": {"role": "assistant", "content": "Let's sort this out."}}]}
TURNS = [Turn(role="customer", text="Where is my parcel?")]

Route = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def server(route: Route) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server answering every POST with `route`; yields (base, requests)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            seen.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            route(self)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def ok(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, json.dumps(REPLY).encode(), Content_Type="application/json")


def redirect_to(location: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/final":
            ok(handler)
        else:
            send(handler, 307, b"", Location=location)

    return route


def agent(url: str, **options: Any) -> HttpAgent:
    return HttpAgent(url, None, f"http:{url}", options=HttpOptions(retries=0, **options))


def test_a_redirect_to_another_origin_sends_nothing_there() -> None:
    with (
        server(lambda h: ok(h)) as (other, other_seen),
        server(redirect_to(f"{other}/steal")) as (bot, bot_seen),
    ):
        target = HttpAgent(
            f"{bot}/chat",
            None,
            "http:bot",
            options=HttpOptions(retries=0, headers={"X-Api-Key": "$BOT_KEY"}),
            environ={"BOT_KEY": "k-12345"},
        )
        with pytest.raises(BotError, match="another origin") as caught:
            asyncio.run(target.next_turn(TURNS))
    assert len(bot_seen) == 1
    assert other_seen == []  # not one request reached the other port
    assert "k-12345" not in str(caught.value)


def test_a_redirect_within_the_same_origin_is_followed_a_few_times_only() -> None:
    with server(redirect_to("/final")) as (bot, seen):
        reply = asyncio.run(agent(f"{bot}/chat").next_turn(TURNS))
    assert reply.text == "Let's sort this out."
    assert [r["path"] for r in seen] == ["/chat", "/final"]
    with (
        server(redirect_to("/again")) as (bot, seen),
        pytest.raises(BotError, match="more than 3 redirects"),
    ):
        asyncio.run(agent(f"{bot}/chat").next_turn(TURNS))
    assert len(seen) == 4


def test_an_oversized_reply_is_refused_without_reading_it_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_agent, "MAX_REPLY_BYTES", 10_000)
    big = json.dumps({"choices": [{"message": {"content": "x" * 50_000}}]}).encode()
    route: Route = lambda h: send(h, 200, big, Content_Type="application/json")  # noqa: E731
    with server(route) as (bot, _), pytest.raises(BotError, match="reply larger than"):
        asyncio.run(agent(f"{bot}/chat").next_turn(TURNS))


def test_a_compressed_bomb_is_capped_after_decompression(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_agent, "MAX_REPLY_BYTES", 100_000)
    bomb = gzip.compress(b"{" + b" " * 5_000_000 + b"}")
    assert len(bomb) < 20_000
    route: Route = lambda h: send(  # noqa: E731
        h, 200, bomb, Content_Type="application/json", Content_Encoding="gzip"
    )
    with server(route) as (bot, _), pytest.raises(BotError, match="reply larger than"):
        asyncio.run(agent(f"{bot}/chat").next_turn(TURNS))


def test_a_url_password_is_a_template_expanded_at_call_time_and_scrubbed() -> None:
    with server(lambda h: send(h, 400, b"nope")) as (bot, seen):
        url = bot.replace("http://", "http://bot:$BOT_PASSWORD@") + "/chat"
        target = HttpAgent(
            url,
            None,
            f"http:{url}",
            options=HttpOptions(retries=0),
            environ={"BOT_PASSWORD": "pw-98765"},
        )
        with pytest.raises(BotError) as caught:
            asyncio.run(target.next_turn(TURNS))
    assert "Basic" in seen[0]["headers"]["Authorization"]  # the password was sent…
    assert "pw-98765" not in str(caught.value)  # …and never printed
    assert target.url == url  # only the template is kept


def test_a_literal_url_password_is_refused() -> None:
    with pytest.raises(UsageError, match="environment variable"):
        agent("http://bot:hunter2@127.0.0.1:9/chat")
