"""The templates of the web app and of the shared report, and how they link.

One Jinja environment with autoescape on: every text from a file, a transcript or a URL is
escaped where it is written into a page. Pages link through a `Links` object: the server's
links are URLs, the report's are anchors inside the one file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Protocol
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness.reports import cell, delta, number
from harness.stats import Estimate


class Links(Protocol):
    """Where a page's links point."""

    def run(self, run_id: str) -> str: ...

    def conversation(self, run_id: str, cid: str) -> str: ...

    def cell(self, run_id: str, agent: str, persona: str, guideline: str) -> str: ...


class ServerLinks:
    """Links between the pages of `toughtalk serve`."""

    def run(self, run_id: str) -> str:
        """The Run page."""
        return "/run?" + urlencode({"run": run_id})

    def conversation(self, run_id: str, cid: str) -> str:
        """The Conversation page."""
        return "/conversation?" + urlencode({"run": run_id, "id": cid})

    def cell(self, run_id: str, agent: str, persona: str, guideline: str) -> str:
        """The conversations behind one matrix cell, worst first."""
        query = {"run": run_id, "agent": agent, "persona": persona, "guideline": guideline}
        return "/run?" + urlencode(query) + "#conversations"


class ReportLinks:
    """Anchors inside one report file."""

    def run(self, run_id: str) -> str:
        """The run's section."""
        return "#" + anchor("run", run_id)

    def conversation(self, run_id: str, cid: str) -> str:
        """The conversation's section."""
        return "#" + anchor("c", run_id, cid)

    def cell(self, run_id: str, agent: str, persona: str, guideline: str) -> str:
        """The run's conversation list (a report has no filtered lists)."""
        return "#" + anchor("list", run_id)


def anchor(*parts: str) -> str:
    """An HTML id made of the parts (characters outside [A-Za-z0-9_-] become `-`)."""
    text = "--".join(parts)
    return "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in text)


def shade(value: float | None) -> str:
    """The CSS class of a 0-1 score: bad, poor, fair, good or none."""
    if value is None:
        return "s-none"
    if value < 0.25:
        return "s-bad"
    if value < 0.5:
        return "s-poor"
    if value < 0.75:
        return "s-fair"
    return "s-good"


def interval(e: Estimate) -> str:
    """`[0.78, 0.86]`, empty without an interval."""
    if e.ci_low is None or e.ci_high is None:
        return ""
    return f"[{e.ci_low:.2f}, {e.ci_high:.2f}]"


@cache
def environment() -> Environment:
    """The Jinja environment (autoescape on, undefined names are errors)."""
    env = Environment(
        loader=PackageLoader("harness.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cell=cell, delta=delta, number=number, shade=shade, interval=interval)
    env.globals.update(anchor=anchor)
    return env


@cache
def static_text(name: str) -> str:
    """A file of harness/web/static (inlined into the report)."""
    return (resources.files("harness.web") / "static" / name).read_text(encoding="utf-8")


def page(template: str, **context: Any) -> str:
    """Render one template."""
    return environment().get_template(template).render(**context)
