"""Shared fixtures: repo paths, small run settings and one finished simulated run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import harness
from harness.models import RunSettings

REPO = Path(harness.__file__).resolve().parent.parent
SEED_PLAYBOOK = "macros:evals/macros/seed-playbook.yaml"
ANTI_PATTERNS = "macros:evals/macros/anti-patterns.yaml"
AGENTS = [SEED_PLAYBOOK, ANTI_PATTERNS]
PERSONAS = ["late-gift", "manager-now"]


def small_settings(**overrides: Any) -> RunSettings:
    """2 personas x both macro libraries x 2 seeds = 8 conversations."""
    values: dict[str, Any] = {
        "personas": list(PERSONAS),
        "agents": list(AGENTS),
        "seeds": [0, 1],
        "concurrency": 2,
    }
    values.update(overrides)
    return RunSettings(**values)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line of a JSONL file, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The source checkout holding personas/, rubrics/ and evals/."""
    return REPO


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished 8-conversation run (read-only for the tests that use it)."""
    from harness.runs import execute, start_run

    out = tmp_path_factory.mktemp("runs") / "small"
    store, manifest, todo = start_run(small_settings(), out, name="small", kind="run", resume=False)
    execute(store, manifest, todo)
    return out


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test (tests never use the network)."""
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def default_sigint() -> None:
    """`preexec_fn` for a child that must see Ctrl-C: a background CI shell starts children
    with SIGINT ignored; restore the default so Python installs its handler as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_after(args: list[str], env: dict[str, str], written: Path, lines: int) -> str:
    """Start the command, press Ctrl-C once `written` holds `lines` complete lines (or after
    60 s), check it exits 130, and return its stderr."""
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if written.exists() and written.read_text(encoding="utf-8").count("\n") >= lines:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    return err
