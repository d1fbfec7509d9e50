"""Statistics of `compare` and the run summary: known answers for the intervals, the
sign-flip p-value and pass^k; paired matching, exclusions, the baseline, the matrix, and the
identity differences between runs (with --strict)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.compare import compare_runs
from harness.errors import UsageError
from harness.identity import differences, identity_from, run_identity
from harness.models import (
    GuidelineResult,
    Outcome,
    PersonaRef,
    RunIdentity,
    RunManifest,
    Scorecard,
    StopReason,
)
from harness.reports import as_data
from harness.stats import (
    BOOTSTRAP,
    PERMUTATIONS,
    WILSON,
    T,
    cluster_bootstrap,
    estimate,
    minimum_detectable_difference,
    pass_hat_k,
    sign_flip_p_value,
    t_interval,
    t_quantile,
    wilson_interval,
)
from harness.store import SCORECARDS
from tests.conftest import SEED_PLAYBOOK

WIDE = {"COLUMNS": "250"}

# ---------------------------------------------------------------- known answers


def test_t_quantiles_match_the_tables() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(0.975, 2) == pytest.approx(4.303, abs=1e-3)
    assert t_quantile(0.975, 10) == pytest.approx(2.228, abs=1e-3)
    assert t_quantile(0.975, 1000) == pytest.approx(1.962, abs=1e-3)


def test_t_interval_by_hand() -> None:
    low, high = t_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, n 3
    half = 4.302653 / math.sqrt(3)
    assert (low, high) == pytest.approx((2 - half, 2 + half), abs=1e-5)
    with pytest.raises(ValueError):
        t_interval([1.0])


def test_wilson_interval_known_values() -> None:
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_bootstrap_resamples_whole_personas() -> None:
    # Two personas, each always the same: a resample holds 0, 1 or 2 copies of persona b,
    # so the mean is 0, 0.5 or 1 and the interval spans [0, 1]. Resampling conversations
    # one by one would give a much narrower interval around 0.5.
    clusters = {"a": [0.0] * 10, "b": [1.0] * 10}
    assert cluster_bootstrap(clusters) == (0.0, 1.0)
    # fixed seed: the same interval every time
    uneven = {"a": [0.2, 0.4], "b": [0.9], "c": [0.5, 0.6, 0.7]}
    assert cluster_bootstrap(uneven) == cluster_bootstrap(uneven)


def test_estimate_picks_its_method() -> None:
    assert estimate({"a": [1.0, 0.0, 1.0, 1.0]}, rate=True).method == WILSON
    one = estimate({"a": [0.5, 0.7]})
    assert (one.method, one.n, one.mean) == (T, 2, pytest.approx(0.6))
    many = estimate({"a": [0.5, 0.7], "b": [0.1]})
    assert many.method == BOOTSTRAP and many.n == 3
    assert many.ci_low is not None and many.ci_high is not None
    assert many.ci_low <= many.mean <= many.ci_high  # type: ignore[operator]
    empty = estimate({})
    assert (empty.mean, empty.n, empty.ci_low) == (None, 0, None)


def test_sign_flip_exact_enumeration_by_hand() -> None:
    # the 8 signed sums of (1, 2, 3): +-6, +-4, +-2, 0, 0; |6| or more: 2 of 8
    assert sign_flip_p_value([1.0, 2.0, 3.0]) == 0.25
    # observed |1 - 2 + 3| = 2: every pattern but the two zeros reaches it
    assert sign_flip_p_value([1.0, -2.0, 3.0]) == 0.75
    # four equal differences: only all-plus and all-minus reach 2: 2 of 16
    assert sign_flip_p_value([0.5] * 4) == 0.125


def test_sign_flip_monte_carlo_has_add_one_smoothing() -> None:
    # 20 equal differences: 2 of 2^20 patterns reach the observed sum; with 10,000 random
    # flips none does, so p = (1 + 0) / (1 + 10,000), never 0
    assert sign_flip_p_value([1.0] * 20) == 1 / (1 + PERMUTATIONS)
    # differences summing to zero: every flip reaches it
    assert sign_flip_p_value([1.0, -1.0] * 10) == 1.0


def test_minimum_detectable_difference_by_hand() -> None:
    sd = math.sqrt(5 / 3)  # sd of 1, 2, 3, 4
    assert minimum_detectable_difference([1.0, 2.0, 3.0, 4.0]) == pytest.approx(2.8 * sd / 2)
    assert minimum_detectable_difference([1.0]) is None


def test_pass_hat_k_by_hand() -> None:
    # C(2,k)/C(3,k): 2/3, 1/3, 0; C(3,k)/C(3,k) = 1; C(0,k) = 0
    values = pass_hat_k([(3, 2), (3, 3), (3, 0)])
    assert values == pytest.approx({1: 5 / 9, 2: 4 / 9, 3: 1 / 3})
    # k runs to the fewest trials: C(2,2)/C(4,2) = 1/6 and C(1,2) = 0
    assert pass_hat_k([(4, 2), (2, 1)]) == pytest.approx({1: 0.5, 2: 1 / 12})
    assert pass_hat_k([]) == {}


# ---------------------------------------------------------------- scorecard fixtures


def card(
    persona: str,
    seed: int,
    score: float | None,
    *,
    agent: str = "macros:evals/macros/a.yaml",
    resolved: bool = False,
    stop: StopReason | None = None,
    flags: list[str] | None = None,
    difficulty: int = 3,
    guideline_scores: dict[str, float | None] | None = None,
) -> Scorecard:
    """One scorecard with what the statistics read."""
    results = [
        GuidelineResult(
            guideline=g,
            verdict="na" if s is None else "met" if s == 1 else "missed",
            score=s,
            rationale="-",
            grader=f"rules:{g}",
        )
        for g, s in (guideline_scores or {}).items()
    ]
    reason = stop or (StopReason.resolved if resolved else StopReason.customer_left)
    return Scorecard(
        run_id="r",
        conversation_id=f"{persona}__{agent}__s{seed}",
        persona=persona,
        agent=agent,
        customer="scripted",
        judge="rules",
        rubric="default@1",
        seed=seed,
        difficulty=difficulty,
        outcome=Outcome(stop_reason=reason, resolved=resolved, turns=4),
        results=results,
        score=score,
        flags=flags or [],
    )


def write_run(root: Path, cards: list[Scorecard]) -> Path:
    """A run directory holding only scorecards (no run.json)."""
    root.mkdir(parents=True)
    (root / SCORECARDS).write_text("".join(c.model_dump_json() + "\n" for c in cards), "utf-8")
    return root


def outcome(comparison_data: dict, metric: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in comparison_data["outcomes"] if r["metric"] == metric)


def test_excluded_cards_are_counted_not_averaged(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "a",
        [
            card("p", 0, 1.0, resolved=True),
            card("p", 1, 0.5),
            card("p", 2, None, flags=["unscored"]),
            card("p", 3, 0.0, stop=StopReason.error),  # an error is never a result
            card("p", 4, None, flags=["no_agent_turn"]),
        ],
    )
    comparison = compare_runs([run], by="persona")
    (column,) = comparison.series
    assert column.conversations == 5
    assert column.excluded == {"unscored": 1, "error": 1, "no_agent_turn": 1}
    data = as_data(comparison)
    overall = outcome(data, "OVERALL score")["cells"][column.name]
    assert (overall["mean"], overall["n"]) == (0.75, 2)
    resolved = outcome(data, "resolved rate")["cells"][column.name]
    assert (resolved["mean"], resolved["n"], resolved["method"]) == (0.5, 2, WILSON)
    # every conversation has a stop reason, the errored one included
    stops = {s["stop_reason"]: s["cells"][column.name]["count"] for s in data["stop_reasons"]}
    assert stops == {"resolved": 1, "customer_left": 3, "error": 1}


def test_paired_difference_uses_only_shared_units(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [card("p", 0, 0.1), card("p", 1, 0.2), card("p", 2, 0.4)])
    b = write_run(tmp_path / "b", [card("p", 1, 0.5), card("p", 2, 0.5), card("p", 3, 0.9)])
    data = as_data(compare_runs([a, b], by="persona"))
    paired = outcome(data, "OVERALL score")["paired"]["b/macros:a"]
    # seeds 1 and 2 only: differences 0.3 and 0.1
    assert paired["n"] == 2
    assert paired["delta"] == pytest.approx(0.2)
    # signed sums of (0.3, 0.1): +-0.4, +-0.2; |0.4| or more: 2 of 4
    assert paired["p_value"] == 0.5
    assert paired["method"] == T  # one persona: t interval on the differences
    assert data["columns"][1]["paired_units"] == 2


def test_unpaired_series_get_a_note(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [card("p", 0, 0.1), card("p", 1, 0.2)])
    b = write_run(tmp_path / "b", [card("q", 0, 0.5), card("q", 1, 0.6)])
    comparison = compare_runs([a, b], by="guideline")
    data = as_data(comparison)
    assert outcome(data, "OVERALL score")["paired"]["b/macros:a"] is None
    assert len(comparison.notes) == 1
    assert "shares no (persona, seed, difficulty)" in comparison.notes[0]


def test_two_agents_in_one_run_pair_within_it(tmp_path: Path) -> None:
    b_agent = "macros:evals/macros/b.yaml"
    cards = [card(p, s, 0.5) for p in ("p", "q") for s in (0, 1)]
    cards += [card(p, s, 0.75, agent=b_agent) for p in ("p", "q") for s in (0, 1)]
    data = as_data(compare_runs([write_run(tmp_path / "one", cards)], by="agent"))
    paired = outcome(data, "OVERALL score")["paired"]["macros:b"]
    assert (paired["delta"], paired["n"], paired["method"]) == (0.25, 4, BOOTSTRAP)
    assert paired["p_value"] == 0.125  # four equal differences: 2 of 16 sign patterns


def test_baseline_by_run_path_or_series(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [card("p", 0, 0.2), card("p", 1, 0.4)])
    b = write_run(tmp_path / "b", [card("p", 0, 0.6), card("p", 1, 0.6)])
    default = compare_runs([a, b])
    assert default.baseline == 0
    by_path = compare_runs([a, b], baseline=str(b))
    assert by_path.baseline == 1
    paired = outcome(as_data(by_path), "OVERALL score")["paired"]
    assert set(paired) == {"a/macros:a"}
    assert paired["a/macros:a"]["delta"] == pytest.approx(-0.3)
    assert compare_runs([a, b], baseline="b/macros:a").baseline == 1
    with pytest.raises(UsageError, match="--baseline"):
        compare_runs([a, b], baseline="nowhere")


def test_pass_hat_k_per_series(tmp_path: Path) -> None:
    resolved = {"p": [True, True, False], "q": [True, False, False]}
    cards = [
        card(p, s, 0.5, resolved=r)
        for p, outcomes in resolved.items()
        for s, r in enumerate(outcomes)
    ]
    data = as_data(compare_runs([write_run(tmp_path / "a", cards)]))
    # tasks (p, 3): C(2,k)/C(3,k); (q, 3): C(1,k)/C(3,k)
    assert data["pass_hat_k"]["macros:a"] == pytest.approx({"1": 0.5, "2": 1 / 6, "3": 0.0})


def test_guideline_by_persona_matrix(tmp_path: Path) -> None:
    scores = {"x.one": 1.0, "x.two": 0.0}
    cards = [card(p, s, 0.5, guideline_scores=scores) for p in ("p", "q") for s in (0, 1)]
    comparison = compare_runs([write_run(tmp_path / "a", cards)], by="guideline,persona")
    assert [r.key for r in comparison.rows] == [
        ("x.one", "p"),
        ("x.one", "q"),
        ("x.two", "p"),
        ("x.two", "q"),
    ]
    assert [(c.mean, c.n) for r in comparison.rows for c in r.cells] == [
        (1.0, 2),
        (1.0, 2),
        (0.0, 2),
        (0.0, 2),
    ]
    data = as_data(comparison)
    assert data["by"] == ["guideline", "persona"]
    assert {"guideline", "persona", "cells", "paired"} == set(data["rows"][0])
    with pytest.raises(UsageError, match="--by"):
        compare_runs([tmp_path / "a"], by="guideline,guideline")


# ---------------------------------------------------------------- real runs and the CLI


@pytest.fixture(scope="module")
def two_difficulties(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same persona and agent over 2 seeds, at difficulty 2 and at difficulty 4."""
    root = tmp_path_factory.mktemp("identity")
    runner = CliRunner()
    runs = []
    for level in ("2", "4"):
        out = root / f"d{level}"
        args = ["run", "--persona", "late-gift", "--agent", SEED_PLAYBOOK, "--seeds", "2"]
        result = runner.invoke(app, [*args, "--difficulty", level, "--out", str(out)], env=WIDE)
        assert result.exit_code == 0, result.output
        runs.append(out)
    return runs[0], runs[1]


def test_run_summary_shows_intervals_and_pass_hat_k(tmp_path: Path) -> None:
    agents = ["--agent", SEED_PLAYBOOK, "--agent", "macros:evals/macros/anti-patterns.yaml"]
    args = ["run", "--persona", "late-gift,manager-now", *agents, "--seeds", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "r")], env=WIDE)
    assert result.exit_code == 0, result.output
    # 2 personas x 2 seeds per agent; pass^k for k = 1, 2 (the seeds)
    playbook = next(line for line in result.output.splitlines() if "seed-playbook │" in line)
    cells = [c.strip() for c in playbook.split("│")[1:-1]]
    assert cells[1] == "4"
    assert re.fullmatch(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", cells[2]), cells
    assert re.fullmatch(r"\d\.\d\d \d\.\d\d", cells[6]), cells
    assert "anti-patterns vs macros:seed-playbook (paired" in result.output
    assert "minimum detectable score difference" in result.output
    assert "bootstrap clustered by persona" in result.output


def test_manifest_identity_is_written_and_derived_for_old_runs(
    two_difficulties: tuple[Path, Path], tmp_path: Path
) -> None:
    first, _ = two_difficulties
    manifest = RunManifest.model_validate_json((first / "run.json").read_text("utf-8"))
    identity = manifest.identity
    assert identity is not None
    assert identity.difficulty == 2
    assert identity.rubric == "default@2"
    assert [(p.id, p.version) for p in identity.personas] == [("late-gift", 1)]
    # a run.json written before the identity existed still loads; the identity is derived
    old = json.loads((first / "run.json").read_text("utf-8"))
    del old["identity"]
    legacy = RunManifest.model_validate(old)
    assert legacy.identity is None
    assert run_identity(legacy, []) == identity


def test_compare_names_identity_differences(two_difficulties: tuple[Path, Path]) -> None:
    first, second = two_difficulties
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(first), str(second)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "warning: runs differ in difficulty: d2=2, d4=4" in result.stderr
    assert "d4/macros:seed-playbook †" in result.stdout
    json_out = runner.invoke(app, ["compare", str(first), str(second), "--format", "json"])
    data = json.loads(json_out.stdout)
    assert [c["differs"] for c in data["columns"]] == [[], ["difficulty"]]
    assert data["differences"] == [{"name": "difficulty", "values": {"d2": "2", "d4": "4"}}]
    # different difficulty: different units, so no paired difference
    assert any("shares no" in note for note in data["notes"])


def test_compare_strict_refuses_different_runs(two_difficulties: tuple[Path, Path]) -> None:
    first, second = two_difficulties
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(first), str(second), "--strict"], env=WIDE)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: --strict: runs differ in difficulty: d2=2, d4=4"]
    same = runner.invoke(app, ["compare", str(first), str(first), "--strict"], env=WIDE)
    assert same.exit_code == 0, same.output


def test_compare_matrix_csv(two_difficulties: tuple[Path, Path]) -> None:
    first, _ = two_difficulties
    result = CliRunner().invoke(
        app, ["compare", str(first), "--by", "guideline,persona", "--format", "csv"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:2] == ["guideline", "persona"]
    assert rows[1][1] == "late-gift"
    assert rows[1][2].endswith("n=2")
    assert any(r[0] == "stop: resolved" for r in rows)
    assert any(r[0] == "errored / unscored conversations" for r in rows)


def test_identity_differences_name_personas_and_versions() -> None:
    def ref(persona: str, version: int, sha: str = "a" * 64) -> PersonaRef:
        return PersonaRef(id=persona, version=version, file=f"personas/{persona}.yaml", sha256=sha)

    one = RunIdentity(personas=[ref("p", 1), ref("q", 1)], harness_version="0.1.0")
    two = RunIdentity(
        personas=[ref("p", 2), ref("q", 1, "b" * 64), *(ref(f"x{i}", 1) for i in range(6))],
        difficulty=5,
        harness_version="0.1.0",
    )
    found = {d.name: d for d in differences({"a": one, "b": two})}
    assert set(found) == {"difficulty", "personas", "persona p version", "persona q content"}
    assert found["difficulty"].describe() == "runs differ in difficulty: a=persona's own, b=5"
    assert found["personas"].values == {"a": "2", "b": "8 (+x0, x1, x2, x3 and 2 more)"}
    assert found["persona p version"].values == {"a": "1", "b": "2"}
    assert differences({"a": one, "b": one}) == []


def test_imported_conversations_are_no_pass_hat_k_trials(tmp_path: Path) -> None:
    cards = [card("p", s, 0.5, resolved=True).model_copy(update={"seed": None}) for s in (0, 1)]
    cards = [c.model_copy(update={"conversation_id": f"c{i}"}) for i, c in enumerate(cards)]
    comparison = compare_runs([write_run(tmp_path / "g", cards)])
    assert comparison.series[0].pass_hat_k == {}
    overall = comparison.outcomes[0]
    assert overall.cells[0].n == 2  # still two results, paired by conversation id


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    # the bootstrap and the random sign flips must see units and personas in a fixed order
    b_agent = "macros:evals/macros/b.yaml"
    cards = [card(p, s, 0.1 * s) for p in ("p", "q", "r") for s in range(7)]
    cards += [
        card(p, s, 0.05 * s * len(p), agent=b_agent) for p in ("p", "q", "r") for s in range(7)
    ]
    run = write_run(tmp_path / "run", cards)
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, **WIDE}
        command = [sys.executable, "-m", "harness.cli", "compare", str(run), "--format", "json"]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_identity_of_a_run_whose_files_are_gone() -> None:
    files = {"/gone/personas/x.yaml": "a" * 64, "/gone/rubrics/r.yaml": "b" * 64}
    identity = identity_from(None, files, "0.0.1")
    assert [(p.id, p.version, p.sha256) for p in identity.personas] == [("x", None, "a" * 64)]
    assert (identity.rubric, identity.rubric_sha256) == (None, "b" * 64)
    assert identity.judge is None  # a grade run: no settings
    # what the manifest does not record, the scorecards name
    filled = run_identity(None, [card("x", 0, 0.5)])
    assert (filled.rubric, filled.judge, filled.customer) == ("default@1", "rules", "scripted")


def test_the_same_run_twice_gets_two_columns(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", [card("p", 0, 0.2), card("p", 1, 0.4)])
    comparison = compare_runs([run, run])
    assert comparison.columns == [f"{run}/macros:a", f"{run}#2/macros:a"]
    paired = comparison.outcomes[0].paired[1]
    assert paired is not None and (paired.delta, paired.n) == (0.0, 2)


def test_sign_flip_above_the_large_sample_limit_uses_its_normal_limit() -> None:
    """Above LARGE_SAMPLE units the p-value is the flipped sum's normal limit, and it agrees
    with the random flips it replaces (to Monte Carlo error)."""
    import random

    from harness import stats

    rng = random.Random(2)
    diffs = [rng.gauss(0.03, 0.3) for _ in range(stats.LARGE_SAMPLE + 100)]
    limit = stats.sign_flip_p_value(diffs)
    spread = sum(d * d for d in diffs) ** 0.5
    assert limit == pytest.approx(math.erfc(abs(sum(diffs)) / (spread * math.sqrt(2))), rel=1e-6)
    old = stats.LARGE_SAMPLE
    stats.LARGE_SAMPLE = 10**9
    try:
        flips = stats.sign_flip_p_value(diffs)
    finally:
        stats.LARGE_SAMPLE = old
    assert abs(limit - flips) < 0.02
    assert stats.sign_flip_p_value([0.0] * (stats.LARGE_SAMPLE + 1)) == 1.0
