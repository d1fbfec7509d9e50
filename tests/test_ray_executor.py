"""`--executor ray`: conversations as tasks on a local Ray instance give exactly the
verdicts of the local executor, and the driver alone writes the run directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.conftest import read_jsonl

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

PLAYBOOK = "macros:evals/macros/seed-playbook.yaml"
ANTI = "macros:evals/macros/anti-patterns.yaml"


@pytest.fixture(scope="module", autouse=True)
def local_cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _by_id(out: Path) -> dict[str, dict[str, Any]]:
    cards = {c["conversation_id"]: c for c in read_jsonl(out / "scorecards.jsonl")}
    for card in cards.values():
        card.pop("run_id")
    return cards


def _transcripts(path: Path, count: int) -> Path:
    customer = ["My parcel is late again!", "You charged me twice.", "I want a manager now."]
    agent = [
        "I'm sorry, that's really frustrating. Let's fix it together.",
        "Calm down, that's our policy.",
        "I'll refund the extra charge today and email you by 5pm.",
    ]
    rows = [
        {
            "id": f"c{n:03d}",
            "persona": "late-gift" if n % 3 == 0 else None,
            "turns": [
                {"role": "customer", "text": customer[n % 3]},
                {"role": "agent", "text": agent[(n * 7) % 3]},
                {"role": "customer", "text": customer[(n + 1) % 3]},
                {"role": "agent", "text": agent[(n + 1) % 3]},
            ],
        }
        for n in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_grade_on_ray_gives_the_local_verdicts(tmp_path: Path) -> None:
    source = _transcripts(tmp_path / "t.jsonl", 30)
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert CliRunner().invoke(app, ["grade", str(source), "--out", str(local)]).exit_code == 0
    result = CliRunner().invoke(
        app, ["grade", str(source), "--executor", "ray", "--out", str(remote)]
    )
    assert result.exit_code == 0, result.output
    assert _by_id(remote) == _by_id(local)
    assert len(read_jsonl(remote / "transcripts.jsonl")) == 30


def test_run_on_ray_gives_the_local_scorecards(tmp_path: Path) -> None:
    args = ["run", "--persona", "late-gift,manager-now", "--agent", PLAYBOOK, "--agent", ANTI]
    args += ["--seeds", "2"]
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert CliRunner().invoke(app, [*args, "--out", str(local)]).exit_code == 0
    result = CliRunner().invoke(app, [*args, "--executor", "ray", "--out", str(remote)])
    assert result.exit_code == 0, result.output
    assert _by_id(remote) == _by_id(local)
    manifest = json.loads((remote / "run.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["executor"] == "ray" and manifest["conversations"] == 8


def test_resume_may_switch_executor(tmp_path: Path) -> None:
    args = ["run", "--persona", "late-gift", "--agent", PLAYBOOK, "--seeds", "3"]
    out = tmp_path / "run"
    assert CliRunner().invoke(app, [*args, "--out", str(out)]).exit_code == 0
    lines = (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "scorecards.jsonl").write_text("".join(lines[:1]), encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--resume", "--executor", "ray"])
    assert result.exit_code == 0, result.output
    ids = [c["conversation_id"] for c in read_jsonl(out / "scorecards.jsonl")]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_an_unknown_executor_is_one_line() -> None:
    result = CliRunner().invoke(
        app, ["run", "--persona", "late-gift", "--agent", PLAYBOOK, "--executor", "spark"]
    )
    assert result.exit_code == 1 and "--executor must be" in result.output
