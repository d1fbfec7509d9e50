"""Agreement between judges over verdict labels: Cohen's kappa (pairs) and Krippendorff's
alpha (any number of judges, nominal data, missing values allowed)."""

from __future__ import annotations

from collections import Counter


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two equally long label lists (None when undefined)."""
    if len(a) != len(b):
        raise ValueError("label lists differ in length")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else None
    return round((observed - expected) / (1 - expected), 4)


def krippendorff_alpha(units: list[list[str | None]]) -> float | None:
    """Nominal Krippendorff's alpha; each unit lists every judge's label (None = missing).

    Units with fewer than two labels are not pairable and are skipped. None when there is
    no disagreement possible (a single category overall) or nothing to pair."""
    pairable = [[v for v in unit if v is not None] for unit in units]
    pairable = [u for u in pairable if len(u) >= 2]
    if not pairable:
        return None
    coincidence: dict[tuple[str, str], float] = {}
    for unit in pairable:
        m = len(unit)
        for i, a in enumerate(unit):
            for j, b in enumerate(unit):
                if i != j:
                    coincidence[(a, b)] = coincidence.get((a, b), 0.0) + 1 / (m - 1)
    totals: dict[str, float] = {}
    for (a, _), count in coincidence.items():
        totals[a] = totals.get(a, 0.0) + count
    n = sum(totals.values())
    observed = sum(c for (a, b), c in coincidence.items() if a != b)
    expected = sum(totals[a] * totals[b] for a in totals for b in totals if a != b) / (n - 1)
    if expected == 0:
        return None
    return round(1 - observed / expected, 4)
