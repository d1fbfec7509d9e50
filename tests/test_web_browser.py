"""The web app in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Skipped, with the reason, only when chromium or Playwright is missing on a developer's
machine; under CI (`CI=true`) a missing browser is a failure. `.ci/run` installs it.
With TOUGHTALK_SCREENSHOTS=1 the conversation page is saved to docs/img/conversation.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from harness.web.app import create_app
from tests.conftest import REPO

CHROMIUM = os.environ.get("TOUGHTALK_CHROMIUM", "/usr/bin/chromium")
# Chromium as root, headless, with no connection of its own to anywhere (closed network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO / "docs" / "img" / "conversation.png"
PERSONA = "late-gift"


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, finished_run: Path) -> Iterator[str]:
    """The web app on 127.0.0.1 (a free port) over a copy of the finished run."""
    root = tmp_path_factory.mktemp("web") / "results"
    root.mkdir()
    shutil.copytree(finished_run, root / "small", ignore=shutil.ignore_patterns(".lock"))
    port = _free_port()
    config = uvicorn.Config(create_app(root), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def test_from_runs_to_a_conversation_with_highlighted_quotes(server: str, page: Any) -> None:
    page.goto(server + "/")
    page.click("text=small")
    assert page.locator("h1").inner_text() == "Run small"
    # a matrix cell of the seed playbook: the conversations where that guideline was graded
    page.locator("table.matrix").first.locator("td a").first.click()
    rows = page.locator("#conversation-list tbody tr")
    assert rows.count() >= 1
    rows.first.locator("a").first.click()
    marks = page.locator(".bubble mark")
    assert marks.count() >= 1
    quotes = page.locator(".cited q").all_inner_texts()
    for text in marks.all_inner_texts():
        assert any(text in quote for quote in quotes), text
    # a highlight's colour is its verdict's
    assert "v-" in (marks.first.get_attribute("class") or "")
    assert page.locator("svg.anger circle").count() >= 2
    assert page.locator("text=hidden issue").count() == 1


def test_conversation_page_screenshot(server: str, page: Any) -> None:
    page.goto(server + "/run?run=small&persona=late-gift&agent=macros:seed-playbook")
    page.locator("#conversation-list tbody a").first.click()
    page.wait_for_selector(".bubble mark")
    if os.environ.get("TOUGHTALK_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
        assert SCREENSHOT.stat().st_size > 10_000


def test_a_practice_chat_to_the_debrief_and_the_saved_run(server: str, page: Any) -> None:
    page.goto(server + "/practise")
    page.fill("input[name=name]", "browser-ana")
    page.select_option("select[name=persona]", PERSONA)
    page.click("#start button[type=submit]")
    assert page.locator("#case-card").is_visible()
    assert page.locator(".turn.customer").count() == 1
    assert "anger" in page.locator(".meter").first.inner_text()
    page.fill(
        "textarea[name=text]", "I can hear how stressful this is. Let's sort it out together."
    )
    page.click("button[value=reply]")
    assert page.locator(".turn").count() == 3
    page.click("#hint")
    assert page.locator(".hint").count() == 1
    page.fill("input[name=turn]", "2")
    page.click("#rewind")
    assert page.locator(".turn").count() == 1
    page.fill("textarea[name=text]", "I'm sorry the gift is late. What would help most today?")
    page.click("button[value=reply]")
    page.fill("textarea[name=text]", "Thank you for your patience, goodbye.")
    page.click("button[value=end]")
    assert "You ended the conversation." in page.locator("#stopped").inner_text()
    page.click("#finish")
    assert page.locator("#debrief").is_visible()
    assert page.locator("text=Best moment").count() == 1
    saved = page.locator("#saved-run").inner_text()
    page.click("#saved-run")
    assert page.locator("h1").inner_text() == f"Run {saved}"
    assert "chat" in page.locator(".facts").first.inner_text()
    page.goto(server + "/?kind=chat")
    assert page.locator(f"tr[data-run='{saved}']").count() == 1
    page.goto(server + "/practise")
    assert "browser-ana" in page.locator("h3.trainee").all_inner_texts()[0]


def test_the_report_opens_offline(page: Any, tmp_path: Path, finished_run: Path) -> None:
    from harness.report import write_report

    out = tmp_path / "report.html"
    write_report([finished_run], out)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    assert page.locator("h1").inner_text() == "toughtalk report"
    link = page.locator("table[id^=table] tbody a").first
    target = (link.get_attribute("href") or "").lstrip("#")
    link.click()
    # the page opens the conversation from a hashchange handler: wait for it, do not race it
    page.wait_for_selector(f"details#{target}[open]", timeout=5000)
    assert page.locator(f"details#{target}").get_attribute("open") is not None
    assert page.locator(f"details#{target} .bubble mark").count() >= 1
    assert all(url.startswith("file://") for url in requests), requests
