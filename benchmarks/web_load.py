"""How fast the web app's pages load for a 2,000-conversation run.

    .venv/bin/python benchmarks/web_load.py
    .venv/bin/python benchmarks/web_load.py --seeds 63 --repeats 5 --reuse /tmp/big

Builds the run with the CLI (`toughtalk run --persona all` with both macro libraries and
`--seeds N`, scripted customer, rule judge: 16 personas x 2 agents x 63 seeds = 2,016
conversations), unless `--reuse DIR` names one already built. The app runs in this process
on 127.0.0.1 (uvicorn in a thread) and every page is fetched over HTTP with httpx:

- cold: a new app (nothing read yet) per page, the first request of that page;
- warm: the same page again, `--repeats` times (the run's files unchanged, so what was
  computed from them is kept), median and worst;
- browser: when Debian's chromium is there, Playwright loads each warm page to its `load`
  event (parsing and layout of the HTML included).

Writes docs/web-load.md (docs/web.md quotes it).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from benchmarks.common import DOCS, md_table, provenance, text_table, write_doc  # noqa: E402
from harness.store import SCORECARDS, TRANSCRIPTS  # noqa: E402
from harness.web.app import create_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
AGENTS = ("macros:evals/macros/seed-playbook.yaml", "macros:evals/macros/anti-patterns.yaml")
RUN = "big"
TARGET_SECONDS = 2.0


def build_run(out: Path, seeds: int) -> float:
    """The run, written by the CLI; the seconds it took."""
    command = [str(Path(sys.executable).parent / "toughtalk"), "run", "--persona", "all"]
    for agent in AGENTS:
        command += ["--agent", agent]
    command += ["--seeds", str(seeds), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def first_conversation(run: Path) -> str:
    """The id of the run's first conversation."""
    import json

    with (run / TRANSCRIPTS).open(encoding="utf-8") as handle:
        return str(json.loads(handle.readline())["conversation_id"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(results: Path, app: FastAPI | None = None) -> Iterator[str]:
    """An app (default: a fresh one, empty cache) on a free loopback port."""
    port = _free_port()
    app = app or create_app(results)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def fetch(client: httpx.Client, url: str) -> tuple[float, int]:
    """Seconds to fetch the whole page and its size in bytes (a non-200 is an error)."""
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed, len(response.content)


def browser_load(urls: dict[str, str], repeats: int) -> dict[str, float]:
    """Median seconds to each page's `load` event in headless chromium (pages warm)."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page()
        for name, url in urls.items():
            page.goto(url)  # warm
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                page.goto(url, wait_until="load")
                times.append(time.perf_counter() - start)
            out[name] = statistics.median(times)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=63, help="Seeds per persona and agent.")
    parser.add_argument("--repeats", type=int, default=5, help="Warm fetches per page.")
    parser.add_argument("--reuse", type=Path, help="A run directory built before.")
    parser.add_argument("--out", type=Path, default=DOCS / "web-load.md")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="toughtalk-web-") as tmp:
        results = Path(tmp) / "results"
        results.mkdir()
        built: float | None = None
        if options.reuse:
            shutil.copytree(options.reuse, results / RUN, ignore=shutil.ignore_patterns(".lock"))
        else:
            built = build_run(results / RUN, options.seeds)
        run = results / RUN
        load = os.getloadavg()
        conversations = sum(1 for _ in (run / SCORECARDS).open(encoding="utf-8"))
        sizes = {n: (run / n).stat().st_size for n in (SCORECARDS, TRANSCRIPTS)}
        cid = first_conversation(run)
        pages: dict[str, str] = {
            "Runs": "/",
            "Run": "/run?" + urlencode({"run": RUN}),
            "Conversation": "/conversation?" + urlencode({"run": RUN, "id": cid}),
        }
        rows = []
        warm_urls: dict[str, str] = {}
        for name, path in pages.items():
            with serving(results) as base, httpx.Client(timeout=120) as client:
                cold, size = fetch(client, base + path)
                warm = [fetch(client, base + path)[0] for _ in range(options.repeats)]
            rows.append((name, cold, statistics.median(warm), max(warm), size))
        warmed = create_app(results, warm=True)  # as `toughtalk serve` starts
        start = time.perf_counter()
        with serving(results, warmed) as base, httpx.Client(timeout=120) as client:
            warmed.state.warmed.wait(timeout=600)
            warm_up = time.perf_counter() - start
            after_warm_up = {name: fetch(client, base + path)[0] for name, path in pages.items()}
        browser: dict[str, float] = {}
        if CHROMIUM.is_file():
            with serving(results) as base:
                warm_urls = {name: base + path for name, path in pages.items()}
                browser = browser_load(warm_urls, options.repeats)

    headers = [
        "page",
        "cold (s)",
        "first visit after warm-up (s)",
        "warm median (s)",
        "warm worst (s)",
        "HTML (KB)",
        "browser load (s)",
    ]
    table = [
        (
            name,
            f"{cold:.2f}",
            f"{after_warm_up[name]:.3f}",
            f"{median:.3f}",
            f"{worst:.3f}",
            f"{size / 1000:,.0f}",
            f"{browser[name]:.3f}" if name in browser else "-",
        )
        for name, cold, median, worst, size in rows
    ]
    print(text_table(headers, table))
    worst_cold = max(r[1] for r in rows)
    worst_warm = max([*after_warm_up.values(), *(r[3] for r in rows)])
    lines = [
        "# Web app: page load times for a 2,000-conversation run",
        "",
        f"Input: one run of {conversations:,} conversations (16 personas x 2 macro agents x "
        f"{options.seeds} seeds, scripted customer, rule judge; scorecards.jsonl "
        f"{sizes[SCORECARDS] / 1e6:.1f} MB, transcripts.jsonl {sizes[TRANSCRIPTS] / 1e6:.1f} MB)"
        + (f", built by `toughtalk run` in {built:.0f} s" if built else "")
        + ". The app is served on 127.0.0.1 by uvicorn in the benchmark's process; pages "
        "are fetched whole over HTTP with httpx.",
        "",
        *provenance(),
        f"- machine: Python {platform.python_version()} on {platform.machine()} "
        f"({platform.system()}), 2 cores shared with other work; load average "
        f"{load[0]:.1f} before and {os.getloadavg()[0]:.1f} after the measurements",
        "",
        md_table(headers, table),
        "",
        "- **cold**: a new app, nothing read yet: the first request of the page reads the "
        "run's files and computes what the page shows (the Run page: the summary with its "
        "bootstrap intervals and sign-flip p-values, and the guideline x persona matrices).",
        "- **warm**: the page again while the run's files are unchanged; what was computed "
        "is kept per run (keyed by the files' size and modification time), so only the HTML "
        "is rendered. A run in progress is read again when its files grow.",
        f"- **first visit after warm-up**: `toughtalk serve` reads every run once in a "
        f"background thread when it starts; for this run that took {warm_up:.1f} s, after "
        "which the first request of each page was timed.",
        "- **browser load**: headless chromium (Playwright), warm page to its `load` event.",
        "",
        f"Under {TARGET_SECONDS:g} s: warm pages "
        + ("yes" if worst_warm < TARGET_SECONDS else "no")
        + f" (worst {worst_warm:.2f} s, after warm-up included); cold pages "
        + ("yes" if worst_cold < TARGET_SECONDS else "no")
        + f" (worst {worst_cold:.2f} s).",
    ]
    write_doc(options.out, "\n".join(lines))
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
