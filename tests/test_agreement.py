"""Judge agreement statistics, and their place in run.json when several judges grade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.agreement import cohen_kappa, krippendorff_alpha
from harness.cli import app
from tests.fake_openai import FakeOpenAI, Scripted


def test_cohen_kappa_known_values() -> None:
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == 0.5
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    assert cohen_kappa([], []) is None


def test_krippendorff_alpha_known_values() -> None:
    units = [["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]
    assert krippendorff_alpha(units) == pytest.approx(0.5333, abs=1e-4)
    assert krippendorff_alpha([["a", "a"], ["b", "b"]]) == 1.0
    # missing labels are skipped, single labels cannot be paired
    assert krippendorff_alpha([["a", None], ["a", "a"], ["b", "b"]]) == 1.0
    assert krippendorff_alpha([["a"], [None, "b"]]) is None


def test_two_judges_put_kappa_and_alpha_in_run_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUGHTALK_CACHE", str(tmp_path / "cache"))
    reply = json.dumps({"verdict": "missed", "evidence": [], "rationale": "not seen"})
    out = tmp_path / "run"
    with FakeOpenAI(lambda body: Scripted(reply)) as server:
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--persona",
                "late-gift",
                "--agent",
                "macros:evals/macros/anti-patterns.yaml",
                "--judge",
                "rules",
                "--judge",
                "model:openai/fake",
                "--api-base",
                server.base,
                "--seeds",
                "2",
                "--out",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.output
    agreement = json.loads((out / "run.json").read_text())["agreement"]
    kappa = agreement["rules vs model:openai/fake (Cohen's kappa)"]
    alpha = agreement["all judges (Krippendorff's alpha)"]
    assert set(kappa) == set(alpha) and "deesc.no_calm_down" in kappa
    card = json.loads((out / "scorecards.jsonl").read_text().splitlines()[0])
    assert set(card["panel"]) == {"model:openai/fake"}
    assert "Judge agreement" in result.output
