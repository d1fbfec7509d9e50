"""Shared helpers for the benchmark scripts: paths, metrics, tables, provenance."""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


# ---------------------------------------------------------------- binary metrics


@dataclass
class Counts:
    """A binary confusion matrix (positive = the behaviour is there)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        """Count one item."""
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        """Items counted."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        """Items whose truth is positive."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Items whose truth is negative."""
        return self.fp + self.tn

    @property
    def precision(self) -> float | None:
        """TP / predicted positive (None when nothing was predicted positive)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """TP / truly positive (None when nothing is truly positive)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall.

        1.0 when neither side has a single positive (perfect agreement on "negative"),
        None when nothing was counted.
        """
        if not self.n:
            return None
        if self.tp + self.fp + self.fn == 0:
            return 1.0
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)

    @property
    def f1_negative(self) -> float | None:
        """F1 of the negative class (1.0 when neither side has a negative)."""
        if not self.n:
            return None
        if self.tn + self.fp + self.fn == 0:
            return 1.0
        return 2 * self.tn / (2 * self.tn + self.fp + self.fn)

    @property
    def balanced_f1(self) -> float | None:
        """Mean of the positive-class and negative-class F1 (the labelled sets' metric)."""
        if self.f1 is None or self.f1_negative is None:
            return None
        return (self.f1 + self.f1_negative) / 2

    @property
    def accuracy(self) -> float | None:
        """Share of items where truth and prediction agree."""
        return (self.tp + self.tn) / self.n if self.n else None

    @property
    def predicted_rate(self) -> float | None:
        """Share of items predicted positive."""
        return (self.tp + self.fp) / self.n if self.n else None


# ---------------------------------------------------------------- correlation


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties get their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation (None when either side is constant)."""
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if not sxx or not syy:
        return None
    return sxy / math.sqrt(sxx * syy)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (scipy when installed, else Pearson on average ranks)."""
    try:
        from scipy.stats import spearmanr  # type: ignore[import-not-found]
    except ImportError:
        return pearson(ranks(x), ranks(y))
    if len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(spearmanr(x, y).statistic)


# ---------------------------------------------------------------- tables


# Columns of a detector's precision/recall row (`prf_row`).
PRF_HEADERS = ["detector", "n", "pos", "pred+", "P", "R", "F1", "acc"]


def prf_row(name: str, c: Counts) -> list[Any]:
    """A detector's precision/recall row under PRF_HEADERS."""
    return [name, c.n, c.positives, c.tp + c.fp, c.precision, c.recall, c.f1, c.accuracy]


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: floats rounded, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_NUMBER = re.compile(r"^(—|[-+]?[\d,]*\.?\d+%?)$")


def numeric_columns(width: int, cells: list[list[str]]) -> list[bool]:
    """Which columns hold only numbers (right-aligned); the first column never does."""
    return [i > 0 and all(_NUMBER.match(row[i].strip()) for row in cells) for i in range(width)]


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A fixed-width table for the terminal (first column left, the rest right-aligned)."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    right = numeric_columns(len(headers), cells)

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if right[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    cells = [[fmt(c).replace("|", "\\|") for c in row] for row in rows]
    align = ["---:" if r else "---" for r in numeric_columns(len(headers), cells)]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out.extend("| " + " | ".join(row) + " |" for row in cells)
    return "\n".join(out)


def clip(text: str, limit: int = 160) -> str:
    """One line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---------------------------------------------------------------- provenance


def command_line() -> str:
    """How this script was invoked, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(ROOT))
    except ValueError:
        shown = str(script)
    return shlex.join([".venv/bin/python", shown, *sys.argv[1:]])


def git_state() -> str:
    """Short commit sha, with "+dirty" when harness/ has uncommitted changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "harness", "rubrics"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty (harness/ or rubrics/ changed)" if dirty else "")


def provenance() -> list[str]:
    """Markdown lines saying when, from which commit and with which command."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- date: {now}",
        f"- commit: `{git_state()}`",
        f"- command: `{command_line()}`",
    ]


def write_doc(path: Path, text: str) -> Path:
    """Write a markdown report, creating docs/ if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path


def shown_path(path: Path) -> str:
    """A path relative to the repository root when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
