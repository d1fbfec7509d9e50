"""Agreement between judges over verdict labels: Cohen's kappa (pairs) and Krippendorff's
alpha (any number of judges, nominal data, missing values allowed), the per-guideline
agreement table of a run (`judge_agreement`) and how many conversations each value rests
on (`agreement_counts`)."""

from __future__ import annotations

from collections import Counter

from harness.models import Scorecard


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


def judge_agreement(cards: list[Scorecard]) -> dict[str, dict[str, float | None]]:
    """Per guideline: Cohen's kappa between the primary judge and each panel judge, and
    Krippendorff's alpha over all judges."""
    if not cards or not cards[0].panel:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    specs = list(cards[0].panel)
    for spec in specs:
        pairs: dict[str, tuple[list[str], list[str]]] = {}
        for card in cards:
            other = {r.guideline: r.verdict for r in card.panel.get(spec, [])}
            for r in card.results:
                if r.guideline in other:
                    a, b = pairs.setdefault(r.guideline, ([], []))
                    a.append(r.verdict)
                    b.append(other[r.guideline])
        out[f"{cards[0].judge} vs {spec} (Cohen's kappa)"] = {
            g: cohen_kappa(a, b) for g, (a, b) in pairs.items()
        }
    units: dict[str, list[list[str | None]]] = {}
    for card in cards:
        panel = {spec: {r.guideline: r.verdict for r in card.panel.get(spec, [])} for spec in specs}
        for r in card.results:
            labels = [r.verdict, *(panel[s].get(r.guideline) for s in specs)]
            units.setdefault(r.guideline, []).append(
                [v if v != "unscored" else None for v in labels]
            )
    out["all judges (Krippendorff's alpha)"] = {g: krippendorff_alpha(u) for g, u in units.items()}
    return out


def agreement_counts(cards: list[Scorecard]) -> dict[str, dict[str, int]]:
    """Per table of `judge_agreement` and guideline: the n behind the value (conversations
    both judges labelled for kappa; units with two or more scored labels for alpha)."""
    if not cards or not cards[0].panel:
        return {}
    specs = list(cards[0].panel)
    out: dict[str, dict[str, int]] = {}
    for spec in specs:
        counts: dict[str, int] = {}
        for card in cards:
            other = {r.guideline for r in card.panel.get(spec, [])}
            for r in card.results:
                if r.guideline in other:
                    counts[r.guideline] = counts.get(r.guideline, 0) + 1
        out[f"{cards[0].judge} vs {spec} (Cohen's kappa)"] = counts
    units: dict[str, int] = {}
    for card in cards:
        panel = {spec: {r.guideline: r.verdict for r in card.panel.get(spec, [])} for spec in specs}
        for r in card.results:
            labels = [r.verdict, *(panel[s].get(r.guideline) for s in specs)]
            scored = [v for v in labels if v is not None and v != "unscored"]
            units[r.guideline] = units.get(r.guideline, 0) + (len(scored) >= 2)
    out["all judges (Krippendorff's alpha)"] = units
    return out


def statistic_of(table: str) -> tuple[str, str]:
    """('rules vs model:x', "Cohen's kappa") from a `judge_agreement` key."""
    head, _, statistic = table.rpartition(" (")
    return (head, statistic.rstrip(")")) if head else (table, "agreement")
