"""`serve` (the web app) and `report` (one self-contained HTML file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import err_console, out_console, user_errors
from harness.errors import UsageError


def serve(
    results: Annotated[
        Path, typer.Option(help="Folder of run directories to show (and to save chats in).")
    ] = Path("results"),
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="TOUGHTALK_TOKEN",
            show_envvar=True,
            help="Secret every request must carry (?token= once, then a cookie; or the "
            "X-Toughtalk-Token header). Required off loopback.",
        ),
    ] = None,
) -> None:
    """Serve the web app: runs, run matrices, conversations, compare, and practice chats.

    Reads the run directories under --results where they are; practice chats are saved
    there as chat runs.

    Examples:

      toughtalk serve --results results/

      TOUGHTALK_TOKEN=$(openssl rand -hex 16) toughtalk serve --host 0.0.0.0
    """
    from harness.web.access import check_bind

    with user_errors():
        check_bind(host, token)
        if not results.is_dir():
            raise UsageError(f"--results {results}: no such folder (run `make demo` first?)")
        import uvicorn

        from harness.web.app import create_app

        app = create_app(results, token=token, warm=True)
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{shown}:{port}/" + ("?token=…" if token else "")
        err_console.print(f"toughtalk: serving {results} at {address} (Ctrl-C stops)")
        uvicorn.run(app, host=host, port=port, log_level="warning")


def report(
    runs: Annotated[list[Path], typer.Argument(help="Run directories (one or more).")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    by: Annotated[
        str, typer.Option(help="Rows of the comparison (two or more runs), as in compare.")
    ] = "guideline",
) -> None:
    """Write one self-contained HTML page of runs: summary, matrix, compare, conversations.

    Inline CSS, JavaScript and SVG: it makes no request and opens offline.

    Example:

      toughtalk report results/a results/b --out report.html
    """
    from harness.report import write_report

    with user_errors():
        size = write_report(runs, out, by=by)
    out_console.print(f"wrote {out} ({size / 1_000_000:.1f} MB); open it in any browser")
