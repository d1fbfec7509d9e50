"""Compare scorecards across runs and agents, by guideline, persona or agent (or two of them).

Every mean comes with n and a 95% interval (`harness.stats`); every series that shares
paired units with the baseline gets the paired difference; each series gets pass^k for
`resolved`, a breakdown by stop reason and a count of the conversations that are not
results; and the differences between the runs' identities are named."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import get_args

from harness.errors import UsageError
from harness.identity import Difference, affected, differences
from harness.models import CompareBy, Scorecard, StopReason
from harness.series import Run, Series, Unit, build_series, label, load_runs, unit_of
from harness.stats import (
    METHODS,
    Estimate,
    PairedDifference,
    estimate,
    paired_difference,
    pass_hat_k,
)

__all__ = [
    "Column",
    "Comparison",
    "Row",
    "compare_loaded",
    "compare_runs",
    "label",
    "parse_by",
    "summary",
]

Values = dict[Unit, list[float]]  # per paired unit, the values it contributes


@dataclass(frozen=True)
class Row:
    """One row: a cell per column, and per column its paired difference to the baseline
    (None for the baseline itself and for columns that share no unit with it)."""

    key: tuple[str, ...]
    cells: list[Estimate]
    paired: list[PairedDifference | None]


@dataclass(frozen=True)
class Column:
    """What a column is and what it holds beside its means."""

    name: str
    run: str
    agent: str
    conversations: int
    excluded: dict[str, int]
    differs: list[str]
    pass_hat_k: dict[int, float]
    paired_units: int | None  # shared with the baseline; None for the baseline


@dataclass
class Comparison:
    """Rows by `by`, outcome rows, stop-reason counts, per column details, and notes."""

    by: str
    columns: list[str]
    series: list[Column]
    baseline: int
    rows: list[Row]
    outcomes: list[Row]
    stop_reasons: list[tuple[str, list[int]]]
    differences: list[Difference]
    notes: list[str]

    @property
    def dims(self) -> list[str]:
        """The dimensions of the rows' keys (`guideline,persona` -> two)."""
        return self.by.split(",")

    def methods(self) -> list[str]:
        """How the intervals were computed, one description per method used."""
        used = {c.method for row in self.rows + self.outcomes for c in row.cells if c.n}
        used |= {p.method for row in self.rows + self.outcomes for p in row.paired if p}
        return [text for key, text in METHODS.items() if key in used]


def parse_by(by: str) -> list[str]:
    """One or two of guideline, persona and agent, comma-separated."""
    allowed: tuple[str, ...] = get_args(CompareBy)
    dims = [d.strip() for d in by.split(",") if d.strip()]
    if not dims or len(dims) > 2 or len(set(dims)) != len(dims) or set(dims) - set(allowed):
        raise UsageError(
            f"--by must be one or two of {', '.join(allowed)}, comma-separated "
            "(e.g. --by guideline,persona)"
        )
    return dims


# ---------------------------------------------------------------- values per row


def _row_values(
    card: Scorecard, dims: list[str], agent: str
) -> Iterator[tuple[tuple[str, ...], float | None]]:
    """(row key, value) for every row a result card contributes to (None: not applicable)."""
    fixed = {"persona": card.persona or "-", "agent": agent}
    if "guideline" in dims:
        for result in card.results:
            key = tuple(result.guideline if d == "guideline" else fixed[d] for d in dims)
            yield key, result.score
    else:
        yield tuple(fixed[d] for d in dims), card.score


Metric = Callable[[Scorecard], float | None]

OUTCOMES: tuple[tuple[str, Metric, bool], ...] = (
    ("OVERALL score", lambda c: c.score, False),
    ("final anger (0-10)", lambda c: c.outcome.anger[-1] if c.outcome.anger else None, False),
    ("resolved rate", lambda c: 1.0 if c.outcome.resolved else 0.0, True),
    ("csat (1-5)", lambda c: None if c.outcome.csat is None else float(c.outcome.csat), False),
)


def _clusters(values: Values) -> dict[str, list[float]]:
    """The values grouped by persona (the bootstrap's cluster)."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for (persona, _), vs in values.items():
        grouped[persona].extend(vs)
    return grouped


def _paired(base: Values, other: Values) -> PairedDifference | None:
    """The paired difference over the units both series have values for."""
    diffs: dict[str, list[float]] = defaultdict(list)
    for unit in sorted(base.keys() & other.keys()):
        diffs[unit[0]].append(mean(other[unit]) - mean(base[unit]))
    return paired_difference(diffs)


def _row(key: tuple[str, ...], per_series: list[Values], baseline: int, rate: bool) -> Row:
    cells = [estimate(_clusters(v), rate=rate) for v in per_series]
    paired = [
        None if i == baseline else _paired(per_series[baseline], v)
        for i, v in enumerate(per_series)
    ]
    return Row(key, cells, paired)


def _ordered_keys(seen: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Row keys in order of first appearance per dimension (a matrix reads row by row)."""
    keys = list(dict.fromkeys(seen))
    if not keys or len(keys[0]) == 1:
        return keys
    first = {k: i for i, k in enumerate(dict.fromkeys(k[0] for k in keys))}
    second = {k: i for i, k in enumerate(dict.fromkeys(k[1] for k in keys))}
    return sorted(keys, key=lambda k: (first[k[0]], second[k[1]]))


def _by_rows(series: list[Series], dims: list[str], baseline: int) -> list[Row]:
    values: dict[tuple[str, ...], list[Values]] = defaultdict(
        lambda: [defaultdict(list) for _ in series]
    )
    seen: list[tuple[str, ...]] = []
    for i, s in enumerate(series):
        for card in s.results:
            for key, value in _row_values(card, dims, s.agent):
                seen.append(key)
                if value is not None:
                    values[key][i][unit_of(card)].append(value)
    return [_row(key, values[key], baseline, rate=False) for key in _ordered_keys(seen)]


def _outcome_rows(series: list[Series], baseline: int) -> list[Row]:
    rows = []
    for name, metric, rate in OUTCOMES:
        per_series: list[Values] = []
        for s in series:
            values: Values = defaultdict(list)
            for card in s.results:
                value = metric(card)
                if value is not None:
                    values[unit_of(card)].append(value)
            per_series.append(values)
        if any(per_series):
            rows.append(_row((name,), per_series, baseline, rate))
    return rows


# ---------------------------------------------------------------- per series


def _pass_hat_k(s: Series) -> dict[int, float]:
    """pass^k of `resolved`: a task is (persona, difficulty), its trials the seeds
    (imported conversations, without a seed, are no trials)."""
    tasks: dict[tuple[str, int | None], list[bool]] = defaultdict(list)
    for card in (c for c in s.results if c.seed is not None):
        tasks[(card.persona or "-", card.difficulty)].append(card.outcome.resolved)
    return pass_hat_k([(len(trials), sum(trials)) for trials in tasks.values()])


def _stop_reasons(series: list[Series]) -> list[tuple[str, list[int]]]:
    """Per stop reason seen, the number of conversations per series (all of them)."""
    return [
        (reason.value, [sum(c.outcome.stop_reason == reason for c in s.cards) for s in series])
        for reason in StopReason
        if any(c.outcome.stop_reason == reason for s in series for c in s.cards)
    ]


def _baseline(series: list[Series], baseline: str | None) -> int:
    """The baseline column: a series name, or a run directory (its first series)."""
    if baseline is None:
        return 0
    for i, s in enumerate(series):
        if baseline in (s.name, s.run.label):
            return i
    wanted = Path(baseline).resolve()
    for i, s in enumerate(series):
        if s.run.path.resolve() == wanted:
            return i
    names = ", ".join(s.name for s in series)
    raise UsageError(f"--baseline {baseline!r} is neither a run given nor a series ({names})")


def compare_runs(
    paths: list[Path],
    *,
    by: str = "guideline",
    baseline: str | None = None,
    include_sim_faults: bool = False,
) -> Comparison:
    """Compare the series (run x agent) of some runs: means with intervals per row of `by`
    and per outcome, paired differences to the baseline (default: the first series).

    Conversations that are not results (see `harness.series.exclusion`) are left out of
    every mean and counted per column."""
    light = "guideline" not in parse_by(by)  # per-guideline verdicts only for their rows
    return compare_loaded(
        load_runs(paths, light=light),
        by=by,
        baseline=baseline,
        include_sim_faults=include_sim_faults,
    )


def compare_loaded(
    runs: list[Run],
    *,
    by: str = "guideline",
    baseline: str | None = None,
    include_sim_faults: bool = False,
) -> Comparison:
    """`compare_runs` over runs already read (`harness.series.load_runs`), so that a caller
    that keeps them (the web app) does not read the scorecards again."""
    dims = parse_by(by)
    series = build_series(runs, include_sim_faults=include_sim_faults)
    if not series:
        raise UsageError(f"no scorecards in {', '.join(str(r.path) for r in runs)}")
    base = _baseline(series, baseline)
    found = differences({run.label: run.identity for run in runs})
    departs = affected(found, series[base].run.label)
    columns = []
    notes = [
        f"{run.label}: {run.duplicates} repeated scorecard line(s) of a conversation counted "
        "once (the last line kept)"
        for run in runs
        if run.duplicates
    ]
    for i, s in enumerate(series):
        shared = None
        if i != base:
            units = {unit_of(c) for c in s.results} & {unit_of(c) for c in series[base].results}
            shared = len(units)
            if not units:
                notes.append(
                    f"{s.name} shares no (persona, seed, difficulty) with {series[base].name}: "
                    "no paired difference; compare the intervals instead"
                )
        columns.append(
            Column(
                name=s.name,
                run=s.run.label,
                agent=s.agent,
                conversations=len(s.cards),
                excluded=s.excluded,
                differs=departs.get(s.run.label, []),
                pass_hat_k=_pass_hat_k(s),
                paired_units=shared,
            )
        )
    return Comparison(
        by=",".join(dims),
        columns=[s.name for s in series],
        series=columns,
        baseline=base,
        rows=_by_rows(series, dims, base),
        outcomes=_outcome_rows(series, base),
        stop_reasons=_stop_reasons(series),
        differences=found,
        notes=notes,
    )


def summary(paths: list[Path]) -> Comparison:
    """The run summary: per agent (per series), the outcome rows, pass^k and the paired
    differences to the first agent."""
    return compare_runs(paths, by="agent")
