"""Every detector pattern set and detector function against its own example sentences.

The examples live beside the patterns (harness/signals/patterns/*.yaml). A set's `match`
sentences must each be found by the set and its `no_match` sentences by none of its
patterns; every pattern must be the only one finding at least one of the set's `match`
sentences, so that deleting a pattern fails here. Detector-level examples (`detectors:`)
run the whole function, guards included, so that deleting a guard fails here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import signals as sig
from harness.errors import InputError
from harness.signals.engine import LIBRARY, load_library

SETS = list(LIBRARY.examples())
DETECTORS = list(LIBRARY.detector_examples())


def _found(patterns: tuple[str, ...], text: str) -> bool:
    return bool(sig.find(patterns, text))


@pytest.mark.parametrize(("fname", "name", "pset"), SETS, ids=[s[1] for s in SETS])
def test_set_has_meaning_and_examples(fname: str, name: str, pset: object) -> None:
    assert pset.meaning.strip(), f"{fname}: {name} has no meaning"  # type: ignore[attr-defined]
    assert pset.match, f"{fname}: {name} has no match examples"  # type: ignore[attr-defined]
    assert pset.no_match, f"{fname}: {name} has no no_match examples"  # type: ignore[attr-defined]


EXAMPLES = [
    (name, text, positive)
    for _, name, pset in SETS
    for positive, texts in ((True, pset.match), (False, pset.no_match))
    for text in texts
]


@pytest.mark.parametrize(
    ("name", "text", "positive"),
    EXAMPLES,
    ids=[f"{n}:{'+' if p else '-'}:{t[:30]}" for n, t, p in EXAMPLES],
)
def test_set_example(name: str, text: str, positive: bool) -> None:
    found = _found(LIBRARY.sets[name], text)
    assert found == positive, f"{name} {'missed' if positive else 'wrongly found'}: {text!r}"


PATTERNS = [
    (name, index)
    for _, name, pset in SETS
    for index in range(len(pset.patterns))
    if len(pset.patterns) > 1
]


@pytest.mark.parametrize(("name", "index"), PATTERNS, ids=[f"{n}[{i}]" for n, i in PATTERNS])
def test_every_pattern_is_needed(name: str, index: int) -> None:
    """Some `match` example is found by this pattern and by no other in its set."""
    patterns = LIBRARY.sets[name]
    others = patterns[:index] + patterns[index + 1 :]
    pset = next(p for _, n, p in SETS if n == name)
    only_this = [t for t in pset.match if _found((patterns[index],), t) and not _found(others, t)]
    assert only_this, (
        f"{name}[{index}] {pset.patterns[index]!r}: no match example needs this pattern "
        "(add one that only it finds, or delete the pattern)"
    )


DETECTOR_EXAMPLES = [
    (name, text, positive)
    for _, name, ex in DETECTORS
    for positive, texts in ((True, ex.match), (False, ex.no_match))
    for text in texts
]


@pytest.mark.parametrize(
    ("name", "text", "positive"),
    DETECTOR_EXAMPLES,
    ids=[f"{n}:{'+' if p else '-'}:{t[:30]}" for n, t, p in DETECTOR_EXAMPLES],
)
def test_detector_example(name: str, text: str, positive: bool) -> None:
    detector = getattr(sig, name)
    hits = detector(text)
    assert bool(hits) == positive, f"{name} {'missed' if positive else 'wrongly found'}: {text!r}"
    for hit in hits:
        assert text[hit.start : hit.end] == hit.text, "evidence must be an exact substring"


def test_detector_entries_name_real_functions() -> None:
    for fname, name, _ in DETECTORS:
        assert callable(getattr(sig, name, None)), f"{fname}: detectors.{name} is not a detector"


def test_bad_regex_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "description: x\nsets:\n  s:\n    meaning: broken\n    patterns: ['(unclosed']\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"x\.yaml: set s: bad regex"):
        load_library(tmp_path)


def test_unknown_key_and_fragment_are_clean_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("description: a\nsetz: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.yaml: setz"):
        load_library(tmp_path)
    (tmp_path / "a.yaml").write_text(
        "description: a\nsets:\n  s:\n    meaning: uses a fragment\n    patterns: ['{@nope}']\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="unknown fragment"):
        load_library(tmp_path)


def test_semantic_layer_adds_classifier_hits_as_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule hit or a classifier hit counts; evidence stays an exact span of the text."""
    text = "Right. Honestly, that would try the patience of a saint. I'll check the order."
    assert not sig.names_emotion(text)

    def classifier(message: str) -> list[sig.Hit]:
        return [s for s in sig.sentences(message) if "patience of a saint" in s.text]

    monkeypatch.setitem(sig._SEMANTIC, "names_emotion", classifier)
    sig.clear_caches()
    try:
        hits = sig.names_emotion(text)
        assert [h.text for h in hits] == ["Honestly, that would try the patience of a saint."]
        assert text[hits[0].start : hits[0].end] == hits[0].text
        assert sig.semantic_enabled()
    finally:
        monkeypatch.undo()
        sig.clear_caches()
    assert not sig.names_emotion(text)


def test_question_types() -> None:
    text = "So what happened? Our depot marked it delivered. What would help most now?"
    typed = {q.text: sig.question_type(text, q) for q in sig.questions(text)}
    assert typed == {"So what happened?": "rhetorical", "What would help most now?": "open"}
    assert sig.question_type("Is it the blue one?", sig.questions("Is it the blue one?")[0]) == (
        "closed"
    )
    assert [q.text for q in sig.exploratory_questions("whats the deadline for the party?")]


def test_restatement_needs_a_recap_frame_and_shared_detail() -> None:
    said = "The wedding is on Saturday and the dress still hasn't arrived."
    recap = "Right, so the wedding's this Saturday and the dress hasn't arrived."
    assert [h.text for h in sig.restatement(recap, said)] == [recap]
    assert not sig.restatement("The wedding dress is lovely.", said)
    assert not sig.restatement("So, shall I refund it?", said)
    # a "So…" frame round the agent's own no or policy is not the customer's problem
    assert not sig.restatement("So the wedding dress can't be refunded, that's our policy.", said)
    # a recap put to the customer to check needs one shared word, but not an identifier's
    order = "Order 5521 still hasn't come and the party is on Friday."
    checked = "So just to check, the party is on Friday, is that right?"
    assert [h.text for h in sig.restatement(checked, order)] == [checked]
    assert not sig.restatement("So, to check, the order number is 5521, is that right?", order)


def test_retells_reads_the_customers_account_not_the_agents() -> None:
    said = "I waited in all Tuesday, the fitter never came and my freezer defrosted."
    told = "You waited in all Tuesday and the fitter never came, and the freezer defrosted."
    weighed = "Losing a Tuesday to a fitter who never came is a rotten day."
    assert [h.text for h in sig.retells(told, said)] == [told]
    assert [h.text for h in sig.retells(weighed, said)] == [weighed]
    # the agent's own actions or findings retold with the same words are not a retelling
    assert not sig.retells("I've booked a fitter for Tuesday to look at the freezer.", said)
    assert not sig.retells("The fitter came on Tuesday and found the freezer working.", said)


def test_stacked_questions_reads_options_lists_and_chains() -> None:
    def stacked(text: str) -> bool:
        return sig.stacked_questions(sig.asks(text))

    # options listed after a question belong to it
    assert not stacked("What matters most for Friday? Speed, price, or something else?")
    # two questions, one open with a time in it: not an interrogation
    assert not stacked("Could you send the receipt? And what does your builder need, and by when?")
    # case facts listed in a second question, or three asks chained in one sentence
    assert stacked("Which suits you? And what's your order number, and when did it arrive?")
    assert stacked("What's the tracking number, when did it ship, and who signed for it?")
    # one question listing three things to supply is three asks; a choice is one
    assert stacked("Could I get your postcode, the invoice date and whether it was paid?")
    assert not stacked("Would you prefer a voucher, a bank refund or a swap?")
    # bare items of an "and" list in a request to supply are asks too
    assert stacked("Could you message us the booking code, your surname and a phone number?")
    assert not stacked("Could you message us the booking code and your surname?")
    # "Can I ask" only announces the question; a purpose clause is not an item
    assert not stacked("May I ask, which day suits you, and is anything else worrying you?")
    assert not stacked("Can you tell me what the alarm shows, and when it beeps, so we can plan?")
    # a connector ("Also …") does not hide the asks it chains
    assert stacked("Have you rebooted it? Also what model is it, what version and what's your ID?")
    # a "please" or "thanks" between items is not one more ask; "as well as" still lists
    assert not stacked("Can I take your name, please, and your postcode?")
    # answers offered after a dash are options, not asks
    assert not stacked("May I ask what you use most — the phone, the internet, the TV?")
    assert stacked("Could you confirm: your name, your postcode and your date of birth?")
    assert stacked("Could you send your order number, as well as your postcode and date of birth?")


def test_required_words_read_off_patterns() -> None:
    from harness.signals.engine import required_words

    assert required_words(r"\b(idiots?|morons?)\b") == {"idiot", "moron"}
    assert required_words(r"(,|\bit'?s)\s+not (us|ours)") == {"not "}
    assert required_words(r"\b(so|okay)?\s*[a-z]+\b") is None  # nothing is required


def test_required_words_never_skip_a_match() -> None:
    """The prefilter in `find` is sound: every example a pattern matches holds a member of
    each set of strings the pattern requires (case-insensitively)."""
    import re

    from harness.signals.engine import FLAGS, required_sets, required_stretches

    checked = 0
    for _, name, pset in SETS:
        texts = [*pset.match, *pset.no_match]  # type: ignore[attr-defined]
        for pattern in LIBRARY.sets[name]:
            needs = (*required_sets(pattern), *required_stretches(pattern))
            for text in texts:
                if needs and re.search(pattern, text, FLAGS):
                    for words in needs:
                        assert any(w in text.lower() for w in words), (name, pattern, text)
                    checked += 1
    assert checked > 500


def test_required_sets_read_off_patterns() -> None:
    from harness.signals.engine import required_sets

    assert set(required_sets(r"\b(you|your) (idiot|moron)s?\b")) == {
        frozenset({"you"}),  # re factors the common prefix out of (you|your)
        frozenset({"idiot", "moron"}),
    }
    assert required_sets(r"\b(so )?(\w+ )?fine\b") == (frozenset({"fine"}),)  # optional parts


def test_required_stretches_read_alternatives_inside_a_literal_run() -> None:
    from harness.signals.engine import required_stretches

    assert required_stretches(r"(,|\bit'?s)\s+not (us|ours)\b") == (
        frozenset({"not us", "not ours"}),
    )
    assert required_stretches(r"\b(you|your) (idiot|moron)s?\b") == (
        frozenset({"you idiot", "you moron", "your idiot", "your moron"}),  # "idiots" adds nothing
    )
    assert required_stretches(r"\b(the|our) \w+ (show|shows)\b") == (
        frozenset({"the ", "our "}),  # \w+ cuts the stretch in two
        frozenset({" show"}),
    )


def test_find_runs_a_pattern_only_when_all_its_words_are_there() -> None:
    """A pattern whose second required word is absent is skipped, and one whose words are
    all there is run (the plan reads every required set, not only the least likely)."""
    from harness.signals import engine

    patterns = (r"\bsorry\b[^.]*\bdelay\b", r"\bthanks\b")
    engine.clear_caches()
    assert [h.text for h in engine.find(patterns, "Sorry about the delay. Thanks!")] == [
        "Sorry about the delay",
        "Thanks",
    ]
    steps, _, index = engine._plan(patterns)
    assert dict(index)["sorry"] == (0,) and steps[0][2] == (frozenset({"delay"}),)
    assert [h.text for h in engine.find(patterns, "Sorry. Thanks!")] == ["Thanks"]


def test_open_invitations_hold_the_fix_back() -> None:
    assert [h.text for h in sig.open_invitations("I can't speak to that. How may I help?")] == [
        "How may I help?"
    ]
    assert not sig.open_invitations("Can I take the policy number?")


def test_lowered_patterns_match_as_the_case_insensitive_ones_do() -> None:
    """The engine runs most patterns lower-cased on the lower-cased text; escapes such as
    \\W and \\S keep their meaning, patterns that read case are left alone, and a text whose
    length changes when lower-cased falls back to the case-insensitive pattern."""
    from harness.signals import engine

    lowered = engine.lowered_rx(r"\bI'?M\s+\W*SORRY\S*")
    assert lowered is not None and lowered.pattern == r"\bi'?m\s+\W*sorry\S*"
    assert engine.lowered_rx(r"(?-i:[A-Z])\w+") is None
    patterns = (r"\bI'?m SORRY\b", r"(?-i:[A-Z])ews\b")
    for text in ["Oh, I'M sorry. News at ten.", "İstanbul: i'm sorry, News."]:
        expected = sorted(
            (m.start(), m.end(), m.group(0))
            for p in patterns
            for m in re.finditer(p, text, re.IGNORECASE)
        )
        engine.clear_caches()
        found = [(h.start, h.end, h.text) for h in engine.find(patterns, text)]
        assert found == expected


def test_sentences_keep_amounts_addresses_and_domains_whole() -> None:
    """A dot between two word characters ("£6.50", "help@shop.example", "3 p.m") does not
    end a sentence, so evidence quotes a whole sentence; a dot before a space does."""
    from harness.signals.engine import sentences

    text = "Email help@shop.example by 3 p.m. today. It costs £6.50. Thanks!"
    assert [s.text for s in sentences(text)] == [
        "Email help@shop.example by 3 p.m.",
        "today.",
        "It costs £6.50.",
        "Thanks!",
    ]


def test_shouting_reads_the_reply_not_the_quoted_subject_or_history() -> None:
    """A word in capitals for emphasis is shouting in the agent's own words, not in the
    subject line or quoted history it carries."""
    reply = (
        "Subject: RE: Missed bin - AGAIN\n\nDear Ms Lee,\n\nI've booked a collection for Friday."
    )
    assert not sig.shouting(reply)
    assert sig.shouting("Dear Ms Lee,\n\nAs I said, Friday is the FIRST slot we have.")
    quoted = "Booked for Friday.\n\n> I have ALREADY asked twice."
    assert not sig.shouting(quoted)


def test_a_so_sentence_of_the_agents_own_findings_is_no_playback() -> None:
    """ "So the early termination fee applies" or "so the wire is on hold because…" puts the
    agent's finding or ruling, not the customer's problem, back to them."""
    told = "My wire transfer to the new payee is stuck and the early termination fee is wrong."
    fee = "Okay, so the early termination fee applies to the wire transfer."
    assert not sig.restatement(fee, told)
    held = "Right, so the wire transfer is on hold for a check because the payee is new."
    assert not sig.restatement(held, told)
    assert sig.restatement("So your wire transfer to a new payee is stuck and a fee.", told)


def test_moving_money_or_a_prescription_is_a_fix_not_a_hand_over() -> None:
    assert sig.fixes("I'll transfer £50 to your account today.")
    assert sig.fixes("I can transfer the prescription to our other branch.")
    assert not sig.fixes("I can transfer you to my manager now.")
