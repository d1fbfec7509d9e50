"""Statistics for comparing runs: intervals, paired differences, sign-flip p-values, pass^k.

Pure Python and deterministic: every resampling starts from `random.Random(SEED)`, so the
same scorecards always give the same intervals and p-values. Values come grouped by cluster
(the persona): conversations of one persona are not independent of each other, so the
bootstrap resamples whole personas.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import mean, stdev

SEED = 20240601
RESAMPLES = 2000
PERMUTATIONS = 10_000
LARGE_SAMPLE = 200  # units above which the sign-flip test uses its normal limit
EXACT_UP_TO = 16  # sign-flip test: exact enumeration up to this many paired units
LEVEL = 0.95
Z = 1.959963984540054  # the normal 97.5% quantile
MDD_FACTOR = 2.8  # z(0.975) + z(0.80): 80% power at two-sided alpha 0.05

BOOTSTRAP = "bootstrap"
T = "t"
WILSON = "wilson"
NONE = "none"
METHODS = {
    BOOTSTRAP: f"bootstrap clustered by persona ({RESAMPLES} resamples, seed {SEED})",
    T: "t interval (one persona)",
    WILSON: "Wilson interval (a rate, one persona)",
    NONE: "no interval (fewer than 2 values)",
}

Clusters = Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class Estimate:
    """A mean with its count and 95% interval, and the method that gave the interval."""

    mean: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    method: str


@dataclass(frozen=True)
class PairedDifference:
    """Mean of per-unit differences (series minus baseline), its interval and p-value."""

    delta: float
    n: int
    ci_low: float | None
    ci_high: float | None
    p_value: float
    method: str
    mdd: float | None


# ---------------------------------------------------------------- distributions


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.cache
def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p > 0.5) of Student's t, by bisection on the cdf (remembered: a
    matrix of cells asks for the same few quantiles many times)."""
    low, high = 0.0, 1e4
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


# ---------------------------------------------------------------- intervals


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """The 95% t interval of the mean (needs >= 2 values)."""
    if len(values) < 2:
        raise ValueError("a t interval needs at least 2 values")
    m = mean(values)
    half = t_quantile(0.5 + LEVEL / 2, len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return m - half, m + half


def wilson_interval(successes: float, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate."""
    if n <= 0:
        raise ValueError("a Wilson interval needs at least 1 trial")
    p = successes / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values, linear between neighbours."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def cluster_bootstrap(clusters: Clusters, resamples: int = RESAMPLES) -> tuple[float, float]:
    """95% percentile interval of the pooled mean, resampling whole clusters with replacement."""
    groups = [(sum(clusters[k]), len(clusters[k])) for k in sorted(clusters) if clusters[k]]
    if not groups:
        raise ValueError("a bootstrap needs values")
    rng = random.Random(SEED)
    stats: list[float] = []
    for _ in range(resamples):
        total = count = 0.0
        for s, c in rng.choices(groups, k=len(groups)):
            total += s
            count += c
        stats.append(total / count)
    stats.sort()
    return percentile(stats, (1 - LEVEL) / 2), percentile(stats, (1 + LEVEL) / 2)


def estimate(clusters: Clusters, *, rate: bool = False) -> Estimate:
    """Mean, n and 95% interval of values grouped by persona.

    Two or more personas: a bootstrap clustered by persona; one persona: a t interval, or a
    Wilson interval when the values are 0/1 outcomes (`rate`)."""
    values = [v for group in clusters.values() for v in group]
    if not values:
        return Estimate(None, 0, None, None, NONE)
    m = mean(values)
    if sum(1 for group in clusters.values() if group) >= 2:
        low, high = cluster_bootstrap(clusters)
        return Estimate(m, len(values), low, high, BOOTSTRAP)
    if rate:
        low, high = wilson_interval(sum(values), len(values))
        return Estimate(m, len(values), low, high, WILSON)
    if len(values) < 2:
        return Estimate(m, 1, None, None, NONE)
    low, high = t_interval(values)
    return Estimate(m, len(values), low, high, T)


# ---------------------------------------------------------------- paired differences


def sign_flip_p_value(diffs: Sequence[float]) -> float:
    """Two-sided p-value that the mean difference is 0: flip the signs of the differences.

    Exact enumeration of all 2^n sign patterns when n <= 16; 10,000 random patterns (fixed
    seed) with add-one smoothing, (1 + hits) / (1 + draws), up to `LARGE_SAMPLE` units;
    above that the flipped sum's own normal limit (mean 0, variance the sum of squared
    differences), which the random patterns would only approximate more slowly."""
    if not diffs:
        raise ValueError("a sign-flip test needs differences")
    observed = abs(sum(diffs)) - 1e-12 * max(1.0, sum(abs(d) for d in diffs))
    if len(diffs) <= EXACT_UP_TO:
        sums = [0.0]
        for d in diffs:  # every signed sum, doubling per difference
            sums = [s + d for s in sums] + [s - d for s in sums]
        return sum(abs(s) >= observed for s in sums) / len(sums)
    if len(diffs) > LARGE_SAMPLE:
        spread = math.sqrt(sum(d * d for d in diffs))
        return 1.0 if spread == 0 else math.erfc(observed / (spread * math.sqrt(2)))
    rng = random.Random(SEED)
    hits = 0
    for _ in range(PERMUTATIONS):
        flipped = sum(d if rng.random() < 0.5 else -d for d in diffs)
        hits += abs(flipped) >= observed
    return (1 + hits) / (1 + PERMUTATIONS)


def minimum_detectable_difference(diffs: Sequence[float]) -> float | None:
    """The smallest true mean difference this paired design detects with 80% power at
    two-sided alpha 0.05: 2.8 * sd(diff) / sqrt(n) (None with fewer than 2 units)."""
    if len(diffs) < 2:
        return None
    return MDD_FACTOR * stdev(diffs) / math.sqrt(len(diffs))


def paired_difference(diffs_by_cluster: Clusters) -> PairedDifference | None:
    """The paired difference of per-unit differences grouped by persona (None: no units).

    The interval is a bootstrap clustered by persona (two or more personas), else a t
    interval; the p-value comes from the sign-flip test."""
    diffs = [d for key in sorted(diffs_by_cluster) for d in diffs_by_cluster[key]]
    if not diffs:
        return None
    delta = mean(diffs)
    low: float | None
    high: float | None
    if sum(1 for group in diffs_by_cluster.values() if group) >= 2:
        (low, high), method = cluster_bootstrap(diffs_by_cluster), BOOTSTRAP
    elif len(diffs) >= 2:
        (low, high), method = t_interval(diffs), T
    else:
        low, high, method = None, None, NONE
    return PairedDifference(
        delta=delta,
        n=len(diffs),
        ci_low=low,
        ci_high=high,
        p_value=sign_flip_p_value(diffs),
        method=method,
        mdd=minimum_detectable_difference(diffs),
    )


# ---------------------------------------------------------------- pass^k


def pass_hat_k(tasks: Sequence[tuple[int, int]]) -> dict[int, float]:
    """pass^k (tau-bench): for tasks of (trials n, successes c), the mean over tasks of
    C(c, k) / C(n, k), for k = 1 .. the fewest trials of any task."""
    if not tasks or min(n for n, _ in tasks) < 1:
        return {}
    most = min(n for n, _ in tasks)
    return {
        k: mean(math.comb(c, k) / math.comb(n, k) for n, c in tasks) for k in range(1, most + 1)
    }
