"""benchmarks/label_agreement.py: two labellings are compared with the labelled sets' own
metric, and every second labelling in the repository is well formed and matches labelled
conversations (accuracy only: speed never goes in a test)."""

from __future__ import annotations

from benchmarks import label_agreement as agreement
from benchmarks.grader_accuracy import read_labels
from harness.catalog import load_rubric

IDS = ["deesc.name_emotion", "defuse.pickle"]


def test_identical_labellings_agree_fully_and_a_flip_lowers_agreement() -> None:
    first = {
        f"c{i}": {"deesc.name_emotion": v, "defuse.pickle": "na"}
        for i, v in enumerate(["met", "missed", "partial", "violated"])
    }
    same = agreement.compare(first, first, IDS)
    assert same["deesc.name_emotion"].quality.balanced_f1 == 1.0
    assert same["defuse.pickle"].quality.n == 0  # na on both sides: no quality support
    flipped = {cid: dict(labels) for cid, labels in first.items()}
    flipped["c0"]["deesc.name_emotion"] = "missed"
    lower = agreement.compare(first, flipped, IDS)["deesc.name_emotion"].quality.balanced_f1
    assert lower is not None and lower < 1.0
    flipped["c3"]["defuse.pickle"] = "met"
    assert agreement.compare(first, flipped, IDS)["defuse.pickle"].applicability.accuracy == 0.75


def test_second_labellings_cover_whole_labelled_conversations() -> None:
    ids = {g.id for g in load_rubric("default")[0].guidelines}
    files = sorted(agreement.SECOND.glob("*.labels.jsonl"))
    for path in files:
        second = read_labels(path)
        conversations, _ = agreement.first_labelling(set(second))
        assert {c.id for c in conversations} == set(second), f"{path.name}: unknown ids"
        for cid, labels in second.items():
            assert set(labels) == ids, f"{path.name}: {cid} does not label every guideline"
            assert set(labels.values()) <= agreement.VERDICTS, f"{path.name}: {cid}"
