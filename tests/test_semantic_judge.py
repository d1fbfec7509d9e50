"""The `semantic` judge: the rules plus the embedding classifiers, only with the extra."""

from __future__ import annotations

import pytest

from harness import embeddings
from harness import signals as sig
from harness.errors import UsageError
from harness.judging import make_judge
from harness.judging.rules import RulesJudge


def test_semantic_judge_is_refused_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    with pytest.raises(UsageError, match=r"--judge semantic: .*pip install 'toughtalk\[embed\]'"):
        make_judge("semantic")


def test_semantic_judge_is_the_rules_with_the_layer_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: True)
    judge = make_judge("semantic")
    assert isinstance(judge, RulesJudge)
    assert judge.semantic and judge.spec == "semantic"
    assert not make_judge("rules").semantic  # type: ignore[attr-defined]


def test_semantic_layer_block_restores_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turning the layer off inside a block (a rules judge in a panel) restores it after."""
    monkeypatch.setitem(sig._SEMANTIC, "names_emotion", lambda text: [])
    with sig.semantic_layer(False):
        assert not sig.semantic_enabled()
    assert sig.semantic_enabled()
    monkeypatch.undo()
    assert not sig.semantic_enabled()
