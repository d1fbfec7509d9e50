"""The blind-written probe sets are well formed, and on every part (the fresh one included)
each detector beats the one-line keyword rules it is compared with in
benchmarks/detector_probes.py (accuracy only: speed never goes in a test)."""

from __future__ import annotations

import json

import pytest

from benchmarks import detector_probes as probes


def test_probe_files_are_well_formed() -> None:
    for probe in probes.PROBE_SETS:
        for name in probe.files:
            path = probes.PROBES / name
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            ids = [r["id"] for r in rows]
            assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
            items = [probe.read(r) for r in rows]
            truths = {i.truth for i in items}
            assert truths == {True, False}, f"{name}: needs both classes"
            assert all(i.text.strip() for i in items), f"{name}: empty text"


@pytest.mark.parametrize("probe", probes.PROBE_SETS, ids=lambda p: p.name)
def test_detector_beats_its_keyword_rules_on_every_part(probe: probes.Probe) -> None:
    (_, detector), *others = probe.detectors
    keyword_rules = [
        (n, d) for n, d in others if n.startswith("baseline:") and "everything" not in n
    ]
    assert keyword_rules
    for part, items in probes.probe_parts(probe).items():
        ours, _ = probes.score(items, detector)
        for name, rule in keyword_rules:
            theirs, _ = probes.score(items, rule)
            assert (ours.f1 or 0) > (theirs.f1 or 0), f"{probe.name} / {part}: not ahead of {name}"


def test_a_broken_detector_would_fail() -> None:
    probe = probes.PROBE_SETS[0]
    items = probes.probe_parts(probe)["fresh"]
    never, _ = probes.score(items, lambda _: False)
    keyword = next(d for n, d in probe.detectors if n.startswith("baseline:"))
    theirs, _ = probes.score(items, keyword)
    assert (never.f1 or 0) < (theirs.f1 or 0)
