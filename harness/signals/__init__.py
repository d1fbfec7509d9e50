"""Pure text detectors for what an agent or a customer does in one message.

Graders (to score a reply) and the scripted customer (to react to it) share these, so
that the customer reacts to exactly what the graders reward or punish. Every detector
returns `Hit`s: spans of the original text, so evidence quotes are exact substrings.

The regexes are data: `harness/signals/patterns/*.yaml`, one file per detector family,
each set with its meaning and example sentences (checked by tests/test_signals.py). This
module holds the few detectors that combine sets with guards in code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import pairwise
from typing import Any

from harness.signals.engine import (
    FLAGS,
    LIBRARY,
    Hit,
    clear_caches,
    find,
    fragment,
    memo,
    pattern_set,
    sentence_of,
    sentences,
    set_detector,
)

__all__ = ["FLAGS", "LIBRARY", "Hit", "clear_caches", "find", "memo", "sentence_of", "sentences"]

# ---------------------------------------------------------------- the semantic layer

# Skill name -> an embedding classifier (harness/embeddings.py, the [embed] extra). Empty by
# default: the rules alone. `use_semantic()` fills it; a rule hit or a confident classifier
# hit then counts, and the evidence is the sentence the classifier fired on.
_SEMANTIC: dict[str, Callable[[str], list[Hit]]] = {}
SEMANTIC_SKILLS = ("names_emotion", "playback", "exploratory_questions")


def use_semantic(enabled: bool = True) -> None:
    """Combine the rules with the embedding classifiers for feelings, playback and open
    questions (needs the [embed] extra; raises EmbeddingsUnavailable without it)."""
    _SEMANTIC.clear()
    if enabled:
        from harness import embeddings

        if not embeddings.available():
            raise embeddings.EmbeddingsUnavailable(embeddings.MISSING_EXTRA)
        for skill in SEMANTIC_SKILLS:
            _SEMANTIC[skill] = embeddings.confident(skill)
    clear_caches()


def start_conversation(texts: Iterable[str]) -> None:
    """Forget every memo (bounded memory, honest timings) and, with the semantic layer on,
    embed every sentence of `texts` (the agent turns) in one batch, faster than per message."""
    clear_caches()
    if _SEMANTIC:
        from harness import embeddings

        model = embeddings.embedder()
        model.clear()
        model.embed([s.text for text in texts for s in sentences(text)])


@contextmanager
def semantic_layer(enabled: bool) -> Iterator[None]:
    """The semantic layer on (or off) for the duration of a block, then as it was."""
    before = dict(_SEMANTIC)
    if enabled != bool(before):
        use_semantic(enabled)
    try:
        yield
    finally:
        if dict(_SEMANTIC) != before:
            _SEMANTIC.clear()
            _SEMANTIC.update(before)
            clear_caches()


def semantic_enabled() -> bool:
    """Whether the semantic layer is combined with the rules."""
    return bool(_SEMANTIC)


def _with_semantic(skill: str, text: str, hits: list[Hit]) -> list[Hit]:
    classifier = _SEMANTIC.get(skill)
    if classifier is None:
        return hits
    extra = [
        h for h in classifier(text) if not any(h.start < r.end and r.start < h.end for r in hits)
    ]
    return sorted(hits + extra, key=lambda h: h.start)


# ---------------------------------------------------------------- feelings and empathy

EMOTION_SETS = (
    "emotion_named",
    "emotion_noun",
    "emotion_situation",
    "emotion_perceived",
    "emotion_idiom",
    "emotion_fair",
    "emotion_shared",
)
EMOTION_NAMING = tuple(p for name in EMOTION_SETS for p in pattern_set(name))
FEELING_NOT_NOW = pattern_set("feeling_not_now")
FEELING_AGENT_OWN = pattern_set("feeling_agent_own")
JUDGEMENTAL_LABEL = pattern_set("judgemental_label")
# (named apart from the question splitter's _CLAUSE_BREAK below, which once shadowed it)
_FEELING_CLAUSE = re.compile(r"[,;:.!?()\n]|\s[-–—]\s|\b(but|and then|although|though)\b", FLAGS)
_ASKED = re.compile(r"\W*(why|what|how|are|is|do|did|were|was|have)\b", FLAGS)


def clause_of(text: str, hit: Hit) -> str:
    """The clause of `text` up to the end of `hit`: from the last clause break before it."""
    breaks = list(_FEELING_CLAUSE.finditer(text, 0, hit.start))
    begin = breaks[-1].end() if breaks else 0
    return text[begin : hit.end]


# A main-clause verb: what follows it is said about a subject phrase, not framed by it.
_PREDICATE = re.compile(
    r"\W*\b(is|was|are|were|must|would|will|sounds?|sounded|feels?|felt|seems?|seemed)\b", FLAGS
)


def _not_now(clause: str, at: int) -> bool:
    """Whether a hypothetical, future, advised-against or denied frame governs the feeling
    that starts at `at` in `clause`: the frame reaches into the feeling or ends at most
    three words before it with no main verb between. A frame inside the subject of the
    feeling's verb only describes the situation ("a bill landing when you're on your own
    is frightening", "money you never spent going out is a horrible feeling")."""
    predicate = bool(_PREDICATE.match(clause, at))
    for frame in find(FEELING_NOT_NOW, clause):
        gap = clause[frame.end : at]
        if frame.end > at or not (predicate or len(gap.split()) > 3 or _PREDICATE.search(gap)):
            return True
    return False


@memo
def names_emotion(text: str) -> list[Hit]:
    """Labels the customer's own present or past feeling ("it sounds really stressful").

    Hypothetical, future, advised-against or denied feelings ("so you won't worry", "try
    not to stress", "you're not stuck") and the agent's own ("I'm so excited") do not count,
    nor does a feeling only asked about ("are you worried?")."""
    out = []
    judged = judgemental_label(text)  # "you're getting worked up" judges, not names
    for hit in find(EMOTION_NAMING, text):
        if any(j.start < hit.end and hit.start < j.end for j in judged):
            continue
        clause = clause_of(text, hit)
        sentence = sentence_of(text, hit).text
        asked = sentence.endswith("?") and _ASKED.match(sentence)
        # "I'm sorry for the worry" names the customer's worry, not the agent's own feeling
        own = find(FEELING_AGENT_OWN, text[: hit.start]) and not re.match(
            r"\W*I('d| would)\b|\W*(anyone|anybody)\b|\W*(sorry|apologi)", hit.text, FLAGS
        )
        if asked or own or _not_now(clause, len(clause) - len(hit.text)):
            continue
        out.append(hit)
    return _with_semantic("names_emotion", text, out)


# "You're not overreacting", "I don't think you're being dramatic": the label is denied,
# which validates the feeling rather than judging it.
_DENIED_LABEL = re.compile(
    r"(\bnot|n't|\bnever|\bnobody|\bno one|\bhardly|\bnothing)\b[^.!?,;\n]{0,24}$", FLAGS
)


def judgemental_label(text: str) -> list[Hit]:
    """Labels a feeling judgementally ("you're being dramatic"), not when the label is
    denied ("you're not overreacting")."""
    return _not_after(find(JUDGEMENTAL_LABEL, text), text, _DENIED_LABEL)


VALIDATION = pattern_set("validation")


reaction_understood = set_detector(
    "reaction_understood",
    pattern_set("reaction_understood"),
    "Says the customer's reaction or request is understandable without naming a feeling"
    ' ("I can see why you went straight for a manager").',
)


_NEGATED = re.compile(
    r"\b(don'?t|do not|doesn'?t|didn'?t|not|never|hardly|isn'?t|wasn'?t|no way|none of)\b"
    r"[\w\s']{0,14}$",
    FLAGS,
)


@memo
def validates(text: str) -> list[Hit]:
    """Validates the customer's experience or request (not necessarily naming a feeling);
    not when the clause denies it ("I don't think that's fair")."""
    return [
        h
        for h in find(VALIDATION, text)
        if not _NEGATED.search(clause_of(text, h)[: -(h.end - h.start) or None])
    ]


# "..., and I'm sorry." closing a sentence: the apology is for what the sentence said.
_CLOSING_APOLOGY = re.compile(
    r"(,|;|\band|\s-)\s*(I'?m|I am|we'?re|we are)?\s*(so |very |really |truly )?sorry"
    r"( about that| for that| for it)?\W*$",
    FLAGS,
)


def apology_after_impact(text: str) -> list[Hit]:
    """An apology closing a sentence that first describes what happened to the customer
    ("three days without internet when your job runs on it is a lot of lost work, and
    I'm sorry"); not one closing a refusal."""
    out: list[Hit] = []
    for sentence in sentences(text):
        closing = _CLOSING_APOLOGY.search(sentence.text)
        if closing is None or refusals(sentence.text):
            continue
        if len(re.findall(r"[A-Za-z0-9£$€']+", sentence.text[: closing.start()])) >= 7:
            out.append(sentence)
    return out


distress = set_detector(
    "distress",
    pattern_set("customer_distress"),
    'The customer says how shaken they are ("I\'m in shock", "I can\'t cope with this").',
)


stakes = set_detector(
    "stakes",
    pattern_set("customer_stakes"),
    "The customer says what is riding on the problem: money, a baby, health, a date that"
    " matters, being stranded.",
)


@memo
def empathy(text: str) -> list[Hit]:
    """Any empathic acknowledgement: a named feeling, a validation or a specific apology
    (or an apology closing a sentence about the impact)."""
    hits = names_emotion(text) + validates(text) + specific_apology(text)
    hits += apology_after_impact(text)
    return sorted(hits, key=lambda h: h.start)


welfare_check = set_detector(
    "welfare_check",
    pattern_set("welfare_check"),
    'Asks after the customer\'s safety or wellbeing ("first, are you okay?").',
)


# ---------------------------------------------------------------- language and register

WE_FRAMING = pattern_set("we_framing")


# What the we_language grader rewards and the scripted customer answers: framing that
# brings the customer in, not the company's "we'll get it sorted".
we_language = set_detector(
    "we_language",
    WE_FRAMING,
    "Framing that brings the customer in (let's / together / can we), not the company's we.",
)


CALM_DOWN = pattern_set("calm_down")


def tells_calm_down(text: str) -> list[Hit]:
    """Tells the customer to calm down, or talks down ("as I said", "you misunderstood")."""
    return find(CALM_DOWN, text)


_ACRONYMS = {
    "ID",
    "ASAP",
    "OK",
    "USA",
    "UK",
    "FAQ",
    "PM",
    "AM",
    "SMS",
    "PDF",
    "URL",
    "CEO",
    "VIP",
    "USD",
    "EUR",
    "GBP",
    "IT",
    "TV",
    "API",
    "SKU",
    "UPS",
    "DHL",
    "RMA",
    "EST",
    "PST",
    "GMT",
    "UTC",
    "CC",
    "ETA",
    "APR",
    "DM",
    "ACH",
    "LTE",
    "QA",
    "HR",
    "CSV",
}


# A shouted word: capitals only, two letters or more (acronyms like SLA and e-mail "RE:" /
# "FW:" prefixes are not shouting). One capitalised word is emphasis; two in a row or three
# in a message is shouting. Product and account codes ("FP-40", "MOB-772310", "X/9",
# "#AB") are names: a word joined to a code by a dash, slash or hash is not shouted.
_CAPS_WORD = re.compile(r"\b(?!RE\b|FWD?\b)(?<![\w/#-])[A-Z]{2,}\b(?![-‑/#]?\d)")


def caps_words(text: str) -> frozenset[str]:
    """The all-capital words of a text (to pass as `names` to `shouting`)."""
    return frozenset(m.group(0) for m in _CAPS_WORD.finditer(text))


def shouting(text: str, names: frozenset[str] = frozenset()) -> list[Hit]:
    """Capitals for shouting, '!!', sarcasm, a snapped, retaliatory reply or a dismissive
    one ("take it or leave it", "it's not rocket science"). Capitals in
    `names` (codes and acronyms the customer or the case file used: "SSO", "INFY") are
    names, not shouting."""
    hits: list[Hit] = []
    caps = [m for m in _CAPS_WORD.finditer(text) if m.group(0) not in _ACRONYMS | names]
    shouted = [a for a, b in pairwise(caps) if re.fullmatch(r"[\s,]*", text[a.end() : b.start()])]
    # a product code or acronym named several times (SSO, INFY, LC-12) is not shouting
    if shouted or len({m.group(0) for m in caps}) >= 3:
        hits.extend(Hit(m.start(), m.end(), m.group(0)) for m in caps)
    hits.extend(find([r"[!?]*![!?]*!+", r"\?{2,}"], text))
    hits.extend(find(SARCASM + HEATED + DISMISSIVE, text))
    # an e-mail's subject line or quoted history is the customer's words, not the reply's
    quoted = [m.span() for m in _QUOTED_LINE.finditer(text)]
    hits = [h for h in hits if not any(a <= h.start < b for a, b in quoted)]
    return sorted(hits, key=lambda h: h.start)


_QUOTED_LINE = re.compile(r"^[ \t]*(subject:|>)[^\n]*", FLAGS | re.M)


SARCASM = pattern_set("sarcasm")
HEATED = pattern_set("heated")
DISMISSIVE = pattern_set("dismissive")  # a shrug, a dare or a lecture


def long_sentences(text: str, limit: int = 32) -> list[Hit]:
    """Sentences (or ;/: clauses) longer than `limit` words: a rambling, heated register."""
    out = []
    for s in sentences(text):
        clauses = re.split(r"[;:]", s.text)
        if any(len(c.split()) > limit for c in clauses):
            out.append(s)
    return out


# ---------------------------------------------------------------- understanding

_UNDERSTAND = re.compile(
    r"\bI (completely |totally |fully |really |do |definitely )?(understand|get it|hear you|"
    r"(?<!so I )(?<!what I )know(?=\s*([.,!;]|$)|\s+(it'?s|it is|this is|that'?s|that is|how|"
    r"you'?re|you are|you'?ve)\b))\b(?P<rest>([^.!?;]|\.(?=\d))*)"
    r"|(?:^|(?<=[.!?\n])|(?<=[.!?]\s))(understood)(?P<tail>\s*([.!]|$))",
    FLAGS,
)
_GENERIC_REST = re.compile(
    r"\b(your|the|my|this|that|how|you|feel|frustration|frustrations|concerns?|situation|point|"
    r"feelings?|completely|totally|fully|perfectly|where|coming|from|you're|are|but|sir|madam|"
    r"ma'am|and|so|I|it|is|upset|annoyance|position|please|though|however|just|very|well|all|"
    r"of|why|what|mean|saying|trying|to|say|a|an|do|am|sorry|yes|ok|okay|right|now|here|can|"
    r"really|know|see|must|be|been|would|will|it's|that's|this's)\b",
    FLAGS,
)
# A feeling word says how it feels, not what was understood ("how stressful this must be").
_FEELING_WORD = re.compile(
    r"\b("
    + "|".join(fragment(f) for f in ("feeling_adj", "feeling_noun", "emotive_adj", "situation_adj"))
    + r")\b",
    FLAGS,
)
# Where the claim ends: a contrast, a new clause with its own subject ("..., and I'm sorry"),
# or a comma not followed by the customer's point ("I get it, you wanted dinner").
_CLAIM_END = re.compile(
    r",(?!\s*(you|your)\b)|\s+\b(but|however|unfortunately|and (I|we)|while)\b", FLAGS
)


def understand_claims(text: str) -> list[tuple[Hit, bool]]:
    """Each "I understand" / "I know" / lone "Understood." with whether it is backed by
    specifics (True) or bare (False). Specifics are facts of the case: feeling words and a
    following clause ("I understand your frustration, and I'm sorry...") do not count."""
    out: list[tuple[Hit, bool]] = []
    pos = 0
    while m := _UNDERSTAND.search(text, pos):
        pos = m.end()
        if (m.group(2) or "").lower() == "hear you":
            pos = m.end(2)  # "I hear you, and I understand how you feel": read on after it
            continue
        rest = m.group("rest") or ""
        cut = _CLAIM_END.split(rest, maxsplit=1)[0]
        content = _GENERIC_REST.sub(" ", _FEELING_WORD.sub(" ", cut))
        words = [w for w in re.findall(r"[A-Za-z0-9$%']+", content) if len(w) > 1]
        specific = len(words) >= 2
        end = m.start() + len(m.group(0).rstrip(" .!"))
        out.append((Hit(m.start(), end, text[m.start() : end]), specific))
    return out


def bare_understand(text: str) -> list[Hit]:
    """A bare or generic "I understand" with no specifics."""
    return [hit for hit, specific in understand_claims(text) if not specific]


# ---------------------------------------------------------------- apologies

APOLOGY = pattern_set("apology")
# "I'm sorry you feel that way" apologises for nothing: boilerplate too
non_apology = set_detector(
    "non_apology",
    pattern_set("non_apology"),
    'Sorry for how the customer took it, not for what happened ("sorry you feel that way").',
)
ROBOTIC_APOLOGY = pattern_set("robotic_apology") + pattern_set("non_apology")


apologies = set_detector("apologies", APOLOGY, "Any apology.")
condolence = set_detector(
    "condolence", pattern_set("condolence"), "Sympathy for a death (a named form needs a death)."
)
bereavement = set_detector(
    "bereavement", pattern_set("bereavement"), "The customer reports a death."
)


APOLOGY_FOR_COLLEAGUE = pattern_set("apology_for_colleague")


def own_apologies(text: str) -> list[Hit]:
    """Apologies for the company's part, not for how a colleague behaved ("I'm sorry
    about how Leah dealt with you", "she shouldn't have hung up, sorry"): a manager who
    apologises for the team member disowns them instead of owning the problem."""
    out = []
    for hit in apologies(text):
        sentence = sentence_of(text, hit).text
        if not find(APOLOGY_FOR_COLLEAGUE, sentence) and not undermines_team(sentence):
            out.append(hit)
    return out


_BACK_REFERENCE = re.compile(r"(sorry|apologies|apologi[sz]e) (about|for) that\b", FLAGS)


def robotic_apology(text: str) -> list[Hit]:
    """Boilerplate apology ("sorry for the inconvenience"). A "sorry about that" points back:
    it is not boilerplate when what it points to names the impact ("the worst day for the
    train to fail you, and I'm sorry about that") or admits the company's fault in the
    sentence before ("We should have told you when the reads stopped. Sorry about that.")."""
    out = []
    for hit in find(ROBOTIC_APOLOGY, text):
        if _BACK_REFERENCE.match(hit.text):
            start = sentence_of(text, hit).start
            before = sentences(text[:start])
            if impact_before(text, hit) or (before and owns_fault(before[-1].text)):
                continue
        out.append(hit)
    return out


_REFUSAL_AFTER = re.compile(
    r"[\s,.-]*(but\s+)?(we|i)('m| am| are|'re)?\s+(can'?t|cannot|won'?t|unable|not able|"
    r"don'?t|do not)\b",
    FLAGS,
)
# What follows an apology that names no impact: a refusal, or straight to the next action.
_NOT_AN_IMPACT = re.compile(
    r"\W*(about (that|this|it)\W*)?(but\s+)?(I|we)\s*(can'?t|cannot|can not|won'?t|am unable|'?m "
    r"unable|'?m not able|are unable|are not able)\b|\W*(about (that|this|it)|for that)\W*"
    r"(let me|I'?ll|I will|one moment|just a moment|please|hold on|bear with)\b",
    FLAGS,
)


@memo
def specific_apology(text: str) -> list[Hit]:
    """An apology that names the specific impact or the company's part in it."""
    out: list[Hit] = []
    robotic = robotic_apology(text)
    for hit in apologies(text):
        if any(r.start < hit.end and hit.start < r.end for r in robotic):  # overlaps
            continue
        sentence = sentence_of(text, hit)
        after = sentence.text[hit.end - sentence.start :]
        if re.match(r"\s*(to hear|,? but)\b", after, FLAGS) and len(after.split()) < 5:
            continue
        if _REFUSAL_AFTER.match(after) or _NOT_AN_IMPACT.match(after):
            continue  # "sorry, we can't match that", "sorry about that, let me check"
        content = re.findall(r"[A-Za-z0-9$']{3,}", after)
        if len(content) >= 3 or re.search(r"\b(on us|our (fault|mistake|error))", after, FLAGS):
            out.append(sentence)
    return out


_FILLER = {"and", "the", "that", "this", "was", "for", "you", "your", "but", "just", "really", "so"}


def impact_before(text: str, apology: Hit) -> bool:
    """The impact named just before a short apology ("Two weeks waiting for $289 is far too
    long - I can see why you're frustrated, and I'm sorry."): its sentence holds enough
    words about the situation before the apology."""
    sentence = sentence_of(text, apology)
    before = text[sentence.start : apology.start]
    words = [w for w in re.findall(r"[A-Za-z$£€0-9']{3,}", before) if w.lower() not in _FILLER]
    return len(words) >= 5


# a "sorry" that only excuses a slip in the talk (apology.yaml talk_sorry)
TALK_SORRY = pattern_set("talk_sorry")


def apologies_for_problem(text: str) -> list[Hit]:
    """Own apologies for the problem: not a "sorry" that excuses a slip in the talk, nor
    one that only softens a no ("Managers don't take chats, sorry.")."""
    out = []
    for h in own_apologies(text):
        sentence = sentence_of(text, h).text
        if not (find(TALK_SORRY, sentence) or refusals(sentence)):
            out.append(h)
    return out


def sorry_for_problem(text: str) -> list[Hit]:
    """An apology for the problem, however stock ("Sorry for the inconvenience", "sorry to
    hear that"): not one for how the customer took it ("I'm sorry you feel that way")."""
    return [h for h in apologies_for_problem(text) if not non_apology(sentence_of(text, h).text)]


def impact_beside(text: str, sentence: Hit) -> bool:
    """A short apology whose neighbouring sentence in the same reply names the impact ("A
    week without hot water with a newborn. I'm sorry."): a validation of the experience,
    the company's slip, or an admission of it, just before or just after; not in a reply
    that passes the blame ("Sorry. It was cancelled, that's the rail network's side")."""
    if blame(text):
        return False
    around = sentences(text)
    before = [s for s in around if s.end <= sentence.start][-1:]
    after = [s for s in around if s.start >= sentence.end][:1]
    return any(
        empathy(s.text) or company_fault(s.text) or owns_fault(s.text) for s in before + after
    )


# ---------------------------------------------------------------- blame and ownership

company_fault = set_detector(
    "company_fault",
    pattern_set("company_fault"),
    "The customer reports something the company or its partners got wrong.",
)


CASE_FILE_POLICY = pattern_set("case_file_policy")


def case_file_company_fault(text: str) -> list[Hit]:
    """The company's slip as a case file records it in the customer's words ("parcel
    missing"), leaving out a rule or term the note states ("exchanges up to 90 days for
    unworn items", "out of contract since May", "agents cannot waive the fee")."""
    rules = find(CASE_FILE_POLICY, text)
    return [
        h
        for h in company_fault(text)
        if not any(r.start < h.end and h.start < r.end for r in rules)
    ]


case_file_fault = set_detector(
    "case_file_fault",
    pattern_set("case_file_fault"),
    "A case-file note records a slip by the company or a partner.",
)
admits_fault = set_detector(
    "admits_fault",
    pattern_set("admits_fault"),
    "The agent admits the company or the agent got it wrong.",
)
own_fault = set_detector(
    "own_fault", pattern_set("own_fault"), "The customer says the problem is their own doing."
)


BLAME = pattern_set("blame")


def owns_fault(text: str) -> bool:
    """The text admits the fault as the company's own ("that is our error"), not denied."""
    return any(
        not _NEGATED.search(clause_of(text, h)[: -(h.end - h.start) or None])
        for h in admits_fault(text)
    )


ROUTED_TO_OWNER = pattern_set("routed_to_owner")
PARTNER_REPORT = pattern_set("partner_report")


def _through_next_sentence(text: str, hit: Hit) -> tuple[Hit, int]:
    """The hit's sentence, and where the sentence after it ends (or its own end)."""
    sentence = sentence_of(text, hit)
    following = [s for s in sentences(text) if s.start >= sentence.end][:1]
    return sentence, (following[0] if following else sentence).end


def _handoff_taken(text: str, hit: Hit) -> bool:
    """The hit's sentence only says which team decides or handles this ("claims are decided
    by our panel rather than by me") and the agent takes the next step with them in the rest
    of that sentence or the next one ("so I've booked their advisor to ring you")."""
    sentence, end = _through_next_sentence(text, hit)
    return bool(find(ROUTED_TO_OWNER, sentence.text)) and bool(ownership(text[hit.end : end]))


def _checks_facts(text: str, hit: Hit) -> bool:
    """The hit's sentence, or the one after it, invites the customer to correct the facts."""
    sentence, end = _through_next_sentence(text, hit)
    return bool(invites_correction(text[sentence.start : end]))


@memo
def blame(text: str) -> list[Hit]:
    """Passes the blame to another department, a partner, "the system" or the customer;
    not when the clause denies it ("it isn't your fault at all"), nor when the same reply
    owns the fault as the company's ("our system dropped it; that is our error"), nor when
    it says which team decides and the agent then takes the step with them. A partner's
    report or the records ("the driver says it was left at the door") count unless the
    agent acts on the customer's side in the same sentence ("..., so I'm sending another")
    or puts the record to the customer as part of checking the facts, in that sentence or
    the next ("So I've got it straight: tracking says it was left at noon and you've looked
    everywhere. Have I missed anything?"): a record recited while checking understanding is
    not used against the customer."""
    if owns_fault(text):
        return []
    leaned_on = [
        h
        for h in find(PARTNER_REPORT, text)
        if not ownership(text[h.end : sentence_of(text, h).end]) and not _checks_facts(text, h)
    ]
    return [
        h
        for h in find(BLAME, text) + leaned_on
        if not _NEGATED.search(clause_of(text, h)[: -(h.end - h.start) or None])
        and not _handoff_taken(text, h)
    ]


OWNERSHIP = pattern_set("ownership")
DEFLECTION = pattern_set("deflection")


@memo
def ownership(text: str) -> list[Hit]:
    """Owns the issue ("I'll take care of this", "that's on us")."""
    return find(OWNERSHIP, text)


deflection = set_detector("deflection", DEFLECTION, "Deflects the issue elsewhere.")

customer_steps = set_detector(
    "customer_steps",
    pattern_set("customer_steps"),
    "Puts a fix in the customer's hands: a step they must take, or one suggested as a question.",
)

passes_on = set_detector(
    "passes_on",
    pattern_set("passes_on"),
    "Relays the issue to someone else to act on, or only promises to try.",
)

# Sentences that reassure the customer ("it isn't your fault") or set a boundary ("I can't
# help you while you're calling me names"): no issue is being pushed away.
_NOT_DEFLECTING = re.compile(
    r"\b(isn'?t|is not|wasn'?t|was not|not|none of (this|it) is|none of (this|it) was) "
    r"(at all )?your fault\b|\bcan'?t help you\b[^.!?]*\b(while|when|if|until)\b",
    FLAGS,
)


def deflects(text: str) -> list[Hit]:
    """Deflection or blame that pushes the issue away (not reassurance or a boundary)."""
    return [
        h
        for h in deflection(text) + blame(text)
        if not _NOT_DEFLECTING.search(sentence_of(text, h).text)
    ]


# ---------------------------------------------------------------- questions

_WH = fragment("wh")
_OPEN_LEAD = fragment("open_lead")
_ID_ASK = fragment("id_ask")


@memo
def questions(text: str) -> list[Hit]:
    """Every question sentence, and invitations to explain that are questions in all but
    punctuation ("Tell me a bit about what happened.")."""
    return [s for s in sentences(text) if s.text.rstrip().endswith("?") or find(INVITATION, s.text)]


INVITATION = pattern_set("invitation")


def is_open_question(sentence: str) -> bool:
    """Opens with a wh-word or an invitation to explain; not a yes/no question. A wh-word
    also opens a clause after a filler or a joining word ("Okay, and how's that going?"),
    or ends the question in place ("And the next step would be what?")."""
    if find(INVITATION, sentence):
        return True
    s = _STUTTER.sub("", sentence.strip().lstrip("-•*\"' ").lower())
    for clause in _CLAUSE_BREAK.split(s):
        clause = _FILLERS.sub("", clause.strip())
        if re.match(_WH + r"\b", clause):
            return True
    if _WH_IN_PLACE.search(s):
        return True
    return bool(re.search(r"\b(" + _OPEN_LEAD + r")", s, FLAGS))


# "wha-what", "and-and": a spoken stutter repeats the start of the word.
_STUTTER = re.compile(r"\b(\w+)-(?=\1)", FLAGS)
# Where a new clause may start inside a question: a dash, a comma or colon, or a joining
# word right before a wh-word ("…and I know you've started, and how's that going?").
_CLAUSE_BREAK = re.compile(
    r"\s[-–—]\s|--|[,;:]\s|\s(?=(?:and|but|so|or|then) " + re.sub(r"\((?!\?)", "(?:", _WH) + r"\b)",
    FLAGS,
)
# A wh-word left in place at the end of a question ("You'd be moving when?").
_WH_IN_PLACE = re.compile(r"\b(what|how|why|when|where|who|which)\s*\?+\s*$", FLAGS)
# Words a spoken or typed question may start with before its wh-word ("Okay, um, so what…").
_FILLERS = re.compile(
    r"^((so|and|also|okay|ok|now|first|then|but|just|great|right|thanks|yeah|yes|mm+|hmm+|oh|"
    r"um+|uh+|erm|er|well|alright|all right|hey|look|sure|cool|good|and then|you know|I mean|"
    r"like|I guess|kind of|uh-huh|mm-hmm|mhm)[,.]?\s+)+",
    FLAGS,
)


@memo
def typed_questions(text: str) -> list[Hit]:
    """Question sentences, marked or not: those `questions` finds (a "?" or an invitation
    to explain) and questions typed without the mark ("whats going on with it")."""
    asked = {q.start for q in questions(text)}
    return [s for s in sentences(text) if s.start in asked or find(UNPUNCTUATED_QUESTION, s.text)]


@memo
def open_questions(text: str) -> list[Hit]:
    """The questions typed open: an answer in the other person's own words is invited (not a
    yes/no, a choice between options, or a question asked for effect). A closed-looking
    question that asks for the other's view or leaves room for anything more counts, and so
    does a question put as a statement ("I'm curious, now it's fixed, how it feels")."""
    typed = typed_questions(text)
    out = []
    for q in typed:
        kind = question_type(text, q)
        if kind == "open" or (kind == "closed" and find(OPEN_INVITE, q.text)):
            out.append(q)
    asked = {q.start for q in typed}
    out += [s for s in sentences(text) if s.start not in asked and find(INDIRECT_QUESTION, s.text)]
    return sorted(out, key=lambda h: h.start)


OPEN_INVITE = pattern_set("open_invite")
INDIRECT_QUESTION = pattern_set("indirect_question")


def is_choice_question(sentence: str) -> bool:
    """Asks the customer to choose among options."""
    return bool(
        re.search(
            r"\b(which (one|option|of (these|those|them|the)|would you (prefer|like)|works|sounds|"
            r"do you (prefer|want|like|fancy|choose)|suits|is better|would suit|would work)|"
            r"what (suits|works) (you )?(best|better)|your (preference|pick)|"
            r"(?<!what )(?<!how )(?<!where )would you (prefer|rather|like (me to|one|the))|"
            r"what would you prefer|"
            r"your choice|(?<!did )(?<!do )(?<!does )you cho(ice|ose)\b(?! (to|not)\b)|"
            r"up to you|prefer one|either of (these|those)|"
            r"(this|that|the first|the second) or (the|that|this)|or would you)\b",
            sentence,
            FLAGS,
        )
    )


def asks_identifier(sentence: str) -> re.Match[str] | None:
    """A question asking for an identifier or a case fact (order number, e-mail, date…)."""
    if not re.search(
        r"\?|\b(please (send|provide|confirm|give|share)|can I (have|get)|"
        r"I('ll| will) need|I need)\b",
        sentence,
        FLAGS,
    ):
        return None
    return re.search(
        r"\b(what('s|s| is| was)|can (I|you|u)|could (I|you|u)|may I|please|pls|confirm|provide|"
        r"share|send|give|need|have)\b[^.?!]{0,30}?\b(your |ur |the )?(" + _ID_ASK + r")\b",
        sentence,
        FLAGS,
    )


UNPUNCTUATED_QUESTION = pattern_set("unpunctuated_question")
SUGGESTION_QUESTION = pattern_set("suggestion_question")
DECLARATIVE_CHECK = pattern_set("declarative_check")


@memo
def asks_questions(text: str) -> list[Hit]:
    """Questions that ask the other person to tell the agent something: sentences ending in
    "?" and questions typed without the mark ("whats going on with it"), but not rhetorical
    ones, advice put as a question ("have you tried…?"), a statement checked back with a
    question mark ("so you were charged twice?") or an invitation to correct ("is that
    right?")."""
    rhetorical = {r.start for r in rhetorical_questions(text)}
    out: list[Hit] = []
    for s in sentences(text):
        marked = s.text.rstrip().endswith("?")
        if not marked and not find(UNPUNCTUATED_QUESTION, s.text):
            continue
        if s.text.rstrip().endswith("!") or s.start in rhetorical:
            continue
        if find(SUGGESTION_QUESTION, s.text) or invites_correction(s.text):
            continue
        if marked and find(DECLARATIVE_CHECK, s.text):
            continue
        out.append(s)
    return out


RHETORICAL = pattern_set("rhetorical")
GENERIC_ASK = pattern_set("generic_ask")
ASKS_FOR_TIME = pattern_set("asks_for_time")
SELF_QUESTION = pattern_set("self_question")
ANSWER_LEAD = pattern_set("answer_lead")


@memo
def rhetorical_questions(text: str) -> list[Hit]:
    """Questions asked for effect ("guess what?") or answered by the agent itself straight
    after ("So what happened? Our depot…"): not questions for the customer."""
    out: list[Hit] = []
    found = sentences(text)
    for index, sentence in enumerate(found):
        if not sentence.text.endswith("?"):
            continue
        following = found[index + 1].text if index + 1 < len(found) else ""
        answered = bool(following) and not following.endswith("?")
        if find(RHETORICAL, sentence.text) or (
            answered and (find(SELF_QUESTION, sentence.text) or find(ANSWER_LEAD, following))
        ):
            out.append(sentence)
    return out


def asks(text: str) -> list[Hit]:
    """Questions that ask the customer for something: not rhetorical, not a check that the
    agent understood or that the plan works ("Is that right?", "Does that work?")."""
    rhetorical = {r.start for r in rhetorical_questions(text)}
    return [
        q
        for q in questions(text)
        if q.start not in rhetorical
        and not invites_correction(q.text)
        and not confirm_satisfaction(q.text)
        and not find(CLOSERS, q.text)
    ]


def question_type(text: str, question: Hit) -> str:
    """One question of `text` typed: rhetorical, choice, open or closed."""
    if any(r.start == question.start for r in rhetorical_questions(text)):
        return "rhetorical"
    if is_choice_question(question.text):
        return "choice"
    return "open" if is_open_question(question.text) else "closed"


def open_invitations(text: str) -> list[Hit]:
    """Stock open questions that invite the customer to tell it in their own words ("How
    can I help today?", "What is the issue with your order?"): they hold a fix back,
    though they dig for nothing in particular."""
    rhetorical = {r.start for r in rhetorical_questions(text)}
    return [q for q in questions(text) if q.start not in rhetorical and find(GENERIC_ASK, q.text)]


@memo
def exploratory_questions(text: str) -> list[Hit]:
    """Open questions that uncover what is at stake (not asking for an ID or a choice)."""
    out: list[Hit] = []
    rhetorical = {r.start for r in rhetorical_questions(text)}
    for q in typed_questions(text):
        if q.start in rhetorical or find(GENERIC_ASK, q.text):
            continue
        if invites_correction(q.text) or confirm_satisfaction(q.text):
            continue
        if asks_identifier(q.text) or is_choice_question(q.text) or find(CLOSERS, q.text):
            continue
        if is_open_question(q.text) or re.search(_STAKES, q.text, FLAGS):
            out.append(q)
    return _with_semantic("exploratory_questions", text, out)


def stakes_questions(text: str) -> list[Hit]:
    """Questions that dig for what is really at stake: open questions that do not just
    gather a fact ("Which account?", "When did it start?"), and yes/no questions that
    probe for the need behind the request ("Is there anything time-sensitive in it?")."""
    out: list[Hit] = []
    rhetorical = {r.start for r in rhetorical_questions(text)}
    for q in questions(text):
        if q.start in rhetorical or find(GENERIC_ASK, q.text) or find(CLOSERS, q.text):
            continue
        if find(ASKS_FOR_TIME, q.text):  # "Could I have two minutes to look first?"
            continue
        probes = find(PROBE, q.text) or _situation_alternatives(q.text)
        checks = invites_correction(q.text) + confirm_satisfaction(q.text)
        # "Have I got that right, or is there more to it?" checks and probes at once.
        if checks and not probes and not _asks_before_check(q.text, checks):
            continue
        fact = (
            asks_identifier(q.text)
            or is_choice_question(q.text)
            or find(FACT_ASK, q.text)
            or q.text.count(",") >= 3  # a checklist of details to send
        )
        stakes = is_open_question(q.text) or re.search(_STAKES, q.text, FLAGS)
        if probes or (stakes and not fact):
            out.append(q)
    return _with_semantic("exploratory_questions", text, out)


_CLAUSE_END = re.compile(r"(\s[-–—]\s|[,;:]|\b(or|and))\s*$", FLAGS)


def _asks_before_check(question: str, checks: list[Hit]) -> bool:
    """An open question comes first and a check-like phrase only follows it ("Tell me what
    you've noticed - has anything changed, or does this feel out of the blue?"): the
    question asks, it does not check a plan or a summary."""
    head = question[: min(h.start for h in checks)]
    return len(head.split()) >= 3 and bool(_CLAUSE_END.search(head)) and is_open_question(head)


# An either-or question about the situation ("Is it the data at home, or everywhere you
# go?", "Are files still missing, or is everything rebuilt?", "the depth, the softness, or
# both?"): not a yes/no question, it asks the customer which picture is true.
_ALTERNATIVE = re.compile(
    r",? or (is|was|are|were|has|have|had|does|do|did|is there|are there|both|something|"
    r"anything|everywhere|only|just|somewhere)\b[^?]*\?$",
    FLAGS,
)


# "Did you buy the full cover or just the basic?": which product, a fact, not the stakes
_PAST_PURCHASE = re.compile(
    r"\W*(so |and |okay,? |ok,? )?(did|have|had) you (\w+ )?(buy|bought|purchase|purchased|order|"
    r"ordered|pay|paid|choose|chose|select|selected|add|added)\b",
    FLAGS,
)


def _situation_alternatives(question: str) -> list[Hit]:
    """An alternative question about the customer's situation, not a choice between
    offers, a check of a plan or summary, or an ask for an identifier."""
    if (
        is_choice_question(question)
        or invites_correction(question)
        or confirm_satisfaction(question)
        or asks_identifier(question)
        or _PAST_PURCHASE.match(question)
    ):
        return []
    m = _ALTERNATIVE.search(question)
    return [Hit(m.start(), m.end(), m.group(0))] if m else []


CLOSERS = pattern_set("closers")
PROBE = pattern_set("probe")
FACT_ASK = pattern_set("fact_ask")
_STAKES = fragment("stakes")


_ASK_WORD = re.compile(
    r"\b(what|which|who|whose|when|where|why|how|can|could|would|will|do|does|did|is|are|"
    r"was|were|have|has|had|should|may|shall)\b|'s\b",
    FLAGS,
)
_ASK_LIST = re.compile(r",[^,?]+(,|\band\b|\bor\b)[^?]*\?$", FLAGS)


def _answer_options(question: str) -> bool:
    """A verbless fragment that lists answers to the question before it ("Video call, big
    files, something else?"): part of that question, not a new one."""
    return not _ASK_WORD.search(question) and bool(re.search(r",|\bor\b", question, FLAGS))


def _chained_asks(question: str) -> int:
    """How many asks one sentence chains with commas or "and" ("what's the number, when
    was it sent, who's the sender…?")."""
    parts = [_CONNECTOR.sub("", p.strip()) for p in re.split(r",|;|\band\b", question, flags=FLAGS)]
    parts = _without_ask_opener(parts)
    return sum(bool(_ASK_WORD.match(part)) for part in parts)


def _without_ask_opener(parts: list[str]) -> list[str]:
    """The parts of a question without a leading "Can I ask," that only announces it."""
    return parts[1:] if len(parts) > 1 and _ASK_OPENER.fullmatch(parts[0]) else parts


_PURPOSE = re.compile(
    r"(so|so that|to|because|as(?! well as)|in case|just so|that way)\b|"
    r"(please|pls|thanks|thank you|cheers|ideally|if (possible|you can|you have it)|"
    r"when you (can|get a (chance|minute)))\b",
    FLAGS,
)
_CONNECTOR = re.compile(r"^(also|and|so|then|plus|oh|ok(ay)?|right)\b[\s,]*", FLAGS)
_ASK_OPENER = re.compile(
    r"(can|could|may|might) I (just )?(ask|check)( you)?( (a|one) (quick )?(thing|question))?",
    FLAGS,
)
_SUPPLY_ASK = re.compile(
    r"^(can|could|may) (I|we) (have|take|get|grab|confirm|check)\b|"
    r"^(can|could|would) you (please )?(send|give|dm|pm|provide|confirm|share|tell|pop|"
    r"text|email|e-mail|message)\b|^please (send|give|provide|confirm|share)\b",
    FLAGS,
)


_LIST_ITEM = re.compile(
    r"(your|the|whether|if|when|what|which|who|where|why|how|roughly|also)\b", FLAGS
)


def _listed_asks(question: str) -> int:
    """How many things one question asks the customer to supply as a list joined by commas
    and "and" ("can you confirm your reference, your date of birth and whether…?"); the
    options of a choice ("a refund, a credit or a swap?"), nor the answers offered after a
    dash or colon ("what you use most — the phone, the internet, the TV?"), are a list of
    asks."""
    head = re.split(r"\s[-\u2013\u2014]\s|:\s", question, maxsplit=1)[0]
    options = head != question and not _ASK_WORD.search(question[len(head) :])
    if options and re.search(r"\b(what|which|how)\b", head, FLAGS) and not _SUPPLY_ASK.match(head):
        question = head + "?"
    parts = [p.strip() for p in re.split(r",|;|\band\b", question, flags=FLAGS)]
    # a purpose clause ("…, so we can plan around it?") is not one more thing to supply
    parts = [p for p in parts if p.strip(" ?.!") and not _PURPOSE.match(p)]
    parts = _without_ask_opener(parts)
    if len(parts) < 3 or (not asks_identifier(question) and not _ASK_WORD.match(parts[0])):
        return 0
    if _SUPPLY_ASK.match(_CONNECTOR.sub("", question.strip())) and re.search(
        r"\band\b", question, FLAGS
    ):
        # "Could you send your account number, postcode and a photo of the error?": every
        # item of an "and" list is one more thing to supply
        return len(parts)
    return 1 + sum(bool(_LIST_ITEM.match(p) or _ASK_WORD.match(p)) for p in parts[1:])


def stacked_questions(found: list[Hit]) -> bool:
    """Several questions fired at once: three or more; two where one lists several case
    facts to supply ("your order number, and when was it delivered?"); one sentence
    chaining three asks, or one question listing three things to supply. Options listed
    after a question belong to it."""
    real = [q for i, q in enumerate(found) if not (i and _answer_options(q.text))]
    listy = [q for q in real if _ASK_LIST.search(q.text) and asks_identifier(q.text)]
    chained = any(_chained_asks(q.text) >= 3 or _listed_asks(q.text) >= 3 for q in real)
    return len(real) >= 3 or (len(real) >= 2 and bool(listy)) or chained


@memo
def closed_questions(text: str) -> list[Hit]:
    """Yes/no questions."""
    rhetorical = {r.start for r in rhetorical_questions(text)}
    return [
        q
        for q in questions(text)
        if q.start not in rhetorical
        and not is_open_question(q.text)
        and not is_choice_question(q.text)
    ]


PLAYBACK = pattern_set("playback")
SO_SUMMARY = pattern_set("so_summary")
INVITE_CORRECTION = pattern_set("invite_correction")


PLAN_RECAP = pattern_set("plan_recap")


def plan_recap(sentence: str) -> bool:
    """A recap of the agreed plan or next steps ("To confirm: refund in 3-5 days, and I'll
    call Friday"): a teach-back, not a playback of the customer's problem."""
    return bool(find(PLAN_RECAP, sentence))


@memo
def playback(text: str) -> list[Hit]:
    """Summarises the problem back in the agent's own words (not a recap of the plan)."""
    hits = find(PLAYBACK, text)
    if not hits and invites_correction(text):
        hits = [sentence_of(text, h) for h in find(SO_SUMMARY, text)]
    hits = [h for h in hits if not plan_recap(sentence_of(text, h).text)]
    return _with_semantic("playback", text, hits)


RESTATEMENT_FRAME = pattern_set("restatement_frame")
_GENERIC_WORD = re.compile("^" + fragment("generic_word") + "$", FLAGS)
_WORD = re.compile(r"[A-Za-z0-9£$€'’]+")


def _stem(word: str) -> str:
    word = word.lower().strip("'’")
    for suffix in ("'s", "’s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=4_096)
def content_stems(text: str) -> frozenset[str]:
    """Crude stems of the words that carry content (numbers and amounts included); cached,
    as the same customer turns are compared with every agent reply."""
    out = set()
    for word in _WORD.findall(text):
        if any(ch.isdigit() for ch in word) or (len(word) >= 4 and not _GENERIC_WORD.match(word)):
            out.add(_stem(word))
    return frozenset(out)


def restatement(text: str, customer_text: str, shared: int = 3) -> list[Hit]:
    """Sentences that restate the customer's situation in plain words: framed as a recap
    ("So…", "Right, so…", "From what you've said…") and sharing at least `shared` content
    words with what the customer said. Questions count only when they end by checking
    ("…, is that right?"), and then one shared word is enough: a recap put to the customer
    to confirm is a restatement even in other words ("So just to check, the suit won't
    make the big day, is that right?"), unless all it shares is an identifier or a number
    ("So, to check, the order number is 4471, is that right?")."""
    said = content_stems(customer_text)
    if len(said) < shared:
        return []
    out = []
    for sentence in sentences(text):
        question = sentence.text.endswith("?")
        if question and not invites_correction(sentence.text):
            continue
        if not find(RESTATEMENT_FRAME, sentence.text) or plan_recap(sentence.text):
            continue
        common = set(content_stems(sentence.text) & said)
        if question:  # a check of a detail ("the order number is 4471, right?") is no recap
            common = {w for w in common if not _ID_STEM.match(w) and not w[:1].isdigit()}
        need = 1 if question else shared
        if len(common) >= need and not _agent_account(sentence.text):
            out.append(sentence)
    return out


# An identifier's own words ("order", "number", "postcode"): shared with the customer, they
# show a detail being checked, not the problem being played back.
_ID_STEM = re.compile(r"^(" + _ID_ASK + r"|number|numb|code|detail)$", FLAGS)


def _agent_account(sentence: str) -> bool:
    """The agent's own account (a no, a policy, a cause placed elsewhere), which a "So…"
    frame does not turn into a playback of the customer's problem."""
    return bool(
        refusals(sentence)
        or policy_only(sentence)
        or deflects(sentence)
        or (bool(_AGENT_FINDING.search(sentence)) and not sentence.rstrip().endswith("?"))
    )


# the agent's findings or ruling put in a "So…" sentence ("Okay, so the wire's on hold for
# a callback check because…", "So the early termination fee applies.")
_AGENT_FINDING = re.compile(
    r"\b(applies|doesn'?t apply|does not apply|won'?t apply|so the thing is)\b|"
    r"\b(it )?looks like the \w+ (was|is|were|are|has|had)\b|"
    r"\b(is|are|was|were|'s) (on hold|held|flagged|paused) (for|because|until|while|pending)\b",
    FLAGS,
)


_AGENT_LEAD = re.compile(r"^\W*(I|we)\b(?! (understand|gather|hear)\b)", FLAGS)


def echoes(text: str, customer_text: str, shared: int = 3) -> list[Hit]:
    """Statements that retell the customer's own account in plain words, with no recap
    frame ("You've written three times and been told twice it would sort itself out"):
    they share at least `shared` content words with what the customer wrote. Questions,
    the agent's own actions ("I've...", "We...") and recaps of the plan do not count;
    "I understand that you..." and "I gather..." retell the customer's account."""
    said = content_stems(customer_text)
    return [
        s
        for s in sentences(text)
        if not s.text.endswith("?")
        and not _AGENT_LEAD.match(s.text)
        and not plan_recap(s.text)
        and len(content_stems(s.text) & said) >= shared
    ]


invites_correction = set_detector(
    "invites_correction", INVITE_CORRECTION, "Checks its understanding with the customer."
)


weighs_situation = set_detector(
    "weighs_situation",
    pattern_set("weighs_situation"),
    "Weighs the customer's situation for them (\"no wonder you're not sleeping\").",
)


_YOU_LEAD = re.compile(r"^\W*(I (hear|understand|gather|get)( that)?\W+)?(you|your)\b", FLAGS)


def retells(text: str, customer_text: str) -> list[Hit]:
    """Plain retellings of the customer's situation that do not check it: an echo of
    their account either told to them ("You waited in all morning and nobody came") or
    weighed for them ("Three weeks without a cooker is a long time"). An echo that
    states policy, the agent's findings or the agent's actions is not a retelling."""
    weighed = [h.start for h in (*validates(text), *names_emotion(text))]
    candidates = [
        s
        for s in sentences(text)
        if not s.text.endswith("?")
        and (_YOU_LEAD.match(s.text) or any(s.start <= at < s.end for at in weighed))
    ]
    if not candidates:
        return []
    said = content_stems(customer_text)
    return [
        s
        for s in candidates
        if len(content_stems(s.text) & said) >= 3
        and not _AGENT_LEAD.match(s.text)
        and not plan_recap(s.text)
        and not (_agent_account(s.text) or action_done(s.text) or offers(s.text))
    ]


def plays_back(text: str, said: str, told: str | None = None) -> list[Hit]:
    """The problem played back (the `defuse.playback` skill): a recap formula, a framed
    restatement sharing detail with `said` (what the customer said, plus any case facts),
    or, when the reply checks its understanding, a plain retelling of `told` (the
    customer's own words; `said` when not given)."""
    summary = playback(text) or restatement(text, said)
    if not summary and invites_correction(text):
        summary = echoes(text, said if told is None else told)
    return summary


AFFIRMATION = pattern_set("affirmation")


def affirmations(text: str) -> list[Hit]:
    """Brief signals of listening ("got it", "thanks for explaining", "I hear you")."""
    return find(AFFIRMATION, text)


# A lone "Understood." / "Noted." acknowledges receipt, like a bare "I understand".
_BARE_TOKEN = re.compile(r"(understood|noted)", FLAGS)


def listening_words(text: str) -> list[Hit]:
    """Listening words ("got it", "I hear you", "thanks for explaining"), not a lone
    "Understood." or "Noted."."""
    return [h for h in affirmations(text) if not _BARE_TOKEN.fullmatch(h.text.strip(" ,.;:!?-"))]


@memo
def listening_signals(text: str) -> list[Hit]:
    """Signs the agent took in what the customer said: a listening word (not a lone
    "Understood."), a named feeling (not a bare "I understand your frustration"), a
    validation, or the problem played back."""
    bare = bare_understand(text)
    hits = listening_words(text)
    hits += [h for h in names_emotion(text) if not any(b.start <= h.start < b.end for b in bare)]
    hits += validates(text) + playback(text)
    return sorted(hits, key=lambda h: h.start)


# ---------------------------------------------------------------- offers and options

ACTION_VERB = fragment("action_verb")
_OFFER_LEAD = fragment("offer_lead")
_OPTION_SPLIT = re.compile(
    r"(?:[;\n•]|\.\s+|\bor\b|\balternatively\b|\banother option\b|\bsecond(ly)?\b|\bthird\b|"
    r"\b(option|choice) (\d|[a-c]|one|two|three)\b|\(\d\)|\b\d\)|\b[a-c]\))",
    FLAGS,
)


_CONTINUATION = fragment("continuation")


@memo
def offers(text: str) -> list[Hit]:
    """Clauses that put a concrete action on the table (one per option)."""
    out: list[Hit] = []
    pos, joiner = 0, ""
    for m in [*_OPTION_SPLIT.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        stripped = chunk.strip(" ,:-")
        lead = re.search(r"(" + _OFFER_LEAD + r")", chunk, FLAGS)
        has_verb = re.search(
            r"\b" + ACTION_VERB + r"\w*\b", chunk[lead.start() :] if lead else chunk, FLAGS
        )
        is_offer = bool(lead and has_verb)
        continues_options = bool(
            out
            and re.match(_CONTINUATION, joiner.strip(), FLAGS)
            and len(stripped.split()) >= 2
            and not stripped.endswith("?")
        )
        if stripped and (is_offer or continues_options):
            start = pos + chunk.index(stripped)
            out.append(Hit(start, start + len(stripped), stripped))
        joiner = m.group(0) if m else ""
        pos = m.end() if m else len(text)
    return out


_HANDOVER = re.compile(
    r"\b(transfer(ring)?( you| your call| the call| this call)?(?! ([£$€]|\d|it\b|them\b|"
    r"(the|your|that|this) (prescription|money|funds|balance|credit|booking|points|ticket|"
    r"order|stock|account|number|plan|licen[cs]e|subscription|membership|deposit|payment)))|"
    r"connect|"
    r"put you through|hand (you|this) over|manager|supervisor)\b",
    FLAGS,
)


def fixes(text: str) -> list[Hit]:
    """Offers of a fix (not offers to hand the customer to someone else)."""
    return [h for h in offers(text) if not _HANDOVER.search(h.text)]


_CONCRETE_REMEDY = re.compile(
    r"\b(refund|replac|credit|reship|resend|re-send|send|waiv|book|cancel|extend|upgrade|"
    r"discount|voucher|compensat|reimburs|swap|exchang|deliver|courier|overnight|rebook|"
    r"reschedul|reverse|reinstat|restor|repair|unlock|reset|reconnect|dispatch|ship|"
    r"collect|pay|match|free of charge|no charge)\w*|[$£€]\s?\d|\b\d+(\.\d+)?\s?(%|percent)",
    FLAGS,
)


def concrete_fixes(text: str) -> list[Hit]:
    """Fixes that name a remedy (a refund, a replacement, a credit, an amount), not a bare
    promise to sort it out ("we'll sort something out", "let's get this sorted")."""
    return [h for h in fixes(text) if _CONCRETE_REMEDY.search(h.text)]


ADDED_EXTRA = pattern_set("added_extra")
CONTINGENT_CLAUSE = pattern_set("contingent_clause")


def added_extras(text: str) -> list[Hit]:
    """Extras put on top of the fix by how they are said: amends framed up front ("For
    the hassle, I'll put a tank of fuel in"), one added "too" ("the labour's waived too"),
    or a step the agent takes on personally and unconditionally ("I'll chase them myself
    tomorrow", "I'll put my direct line on that email"). A promise that holds only if the
    plan slips ("if it hasn't come, I'll chase it myself") is the fallback, not an extra;
    a term of one of the options on offer is the fix itself."""
    hits = find(ADDED_EXTRA, text)
    if not hits:
        return []
    out = []
    for hit in hits:
        sentence = sentence_of(text, hit).text
        if find(CONTINGENT_CLAUSE, sentence) or options_offered(sentence):
            continue
        out.append(hit)
    return out


OPTIONS_MARKER = pattern_set("options_marker")


OPTION_FRAME = pattern_set("option_frame")
_OR = re.compile(
    r"(?:,\s*|\s+)\bor\b(?!\s+(so|not|anything|something|two|more|less|later|whatever|other|"
    r"otherwise)\b)|^\W*or\b",
    FLAGS,
)


_DURATION = re.compile(
    r"\b\d+(\s?(-|to)\s?\d+)?\s?(min(ute)?s?|h(ou)?rs?|(working |business )?days?|weeks?)\b", FLAGS
)


# A day or period named as a slot ("Tuesday or Thursday", "next month's run").
_SLOT = re.compile(r"\b((mon|tues|wednes|thurs|fri|satur|sun)day|next (week|month))\b", FLAGS)


def _remedy_or_time(text: str) -> bool:
    return bool(
        _CONCRETE_REMEDY.search(text)
        or precise_timeline(text)
        or _DURATION.search(text)
        or _SLOT.search(text)
    )


def remedies_side_by_side(text: str) -> list[Hit]:
    """Two remedies joined by "or" under a choice frame ("You can have the £38 back on
    your card, or as credit right now"; "If I upgrade it arrives tomorrow. Or I can
    refund you now"): each side names a remedy, an amount or a time."""
    found = sentences(text)
    for n, sentence in enumerate(found):
        framed = find(OPTION_FRAME, sentence.text) or (
            n > 0 and find(OPTION_FRAME, found[n - 1].text)
        )
        joint = _OR.search(sentence.text)
        if not framed or not joint:
            continue
        if joint.start() == 0 and n:  # "... tomorrow. Or I can refund you now."
            left, right = found[n - 1], sentence
        else:
            cut = sentence.start + joint.start()
            left = Hit(sentence.start, cut, text[sentence.start : cut])
            right = Hit(cut, sentence.end, text[cut : sentence.end])
        if _remedy_or_time(left.text) and _remedy_or_time(right.text):
            return [left, right]
    return []


# Ways to get back in touch ("ring back or email us"): a sign-off, not a choice of fixes.
_CONTACT = "ring|call|phone|email|e-mail|message|reply|contact|reach|chat|start|text|write|dm|visit"
# "You could pick it up from the depot, or we can redeliver Tuesday": one speaker can,
# could or will do a thing, and "or" adds a second course of action (the word after it is
# a verb, or a speaker and a verb, not "the 5th" or "not").
_ACTION_FRAME = re.compile(
    r"\b(you|u|I|we)(?: (?:can|could|might|may)|'ll| will)(?:,? (?:like|um|uh|maybe|perhaps|"
    r"either|also|always|just),?)* "
    rf"(?!(?:be|see|tell|understand|imagine|hear|check|look|not|never|{_CONTACT})\b)[a-z]+\b",
    FLAGS,
)
_ACTION_OR = re.compile(
    r",?\s+or\s+(?:else\s+)?(?:(?:I|we|you|u)(?: (?:can|could|might|may)|'ll| will)?\s+)?"
    r"(?:(?:just|maybe|perhaps|even)\s+)?(?P<word>[a-z]+)\b",
    FLAGS,
)
_NOT_AN_ACTION = frozenset(_CONTACT.split("|")) | {
    "the",
    "a",
    "an",
    "on",
    "at",
    "in",
    "by",
    "to",
    "for",
    "from",
    "with",
    "of",
    "my",
    "your",
    "our",
    "their",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "one",
    "two",
    "some",
    "any",
    "all",
    "both",
    "more",
    "less",
    "not",
    "so",
    "anything",
    "something",
    "whatever",
    "otherwise",
    "else",
    "later",
    "sooner",
}


def actions_side_by_side(text: str) -> list[Hit]:
    """Two courses of action joined by "or" in one sentence: "you could ride there or
    walk", "we can refund it or send a new one", "you can pick it up, or I'll redeliver"."""
    for sentence in sentences(text):
        frame = _ACTION_FRAME.search(sentence.text)
        if not frame:
            continue
        for joint in _ACTION_OR.finditer(sentence.text, frame.end()):
            if joint.group("word").lower() in _NOT_AN_ACTION:
                continue
            start, cut = sentence.start + frame.start(), sentence.start + joint.start()
            return [
                Hit(start, cut, text[start:cut]),
                Hit(cut, sentence.end, text[cut : sentence.end]),
            ]
    return []


@memo
def options_offered(text: str) -> list[Hit]:
    """Two or more alternatives in one reply."""
    found = offers(text)
    marker = find(OPTIONS_MARKER, text)
    if marker:
        return found if len(found) >= 2 else [*marker, *found, *marker][:2]
    side_by_side = remedies_side_by_side(text)
    if side_by_side and len(found) < 2:
        return side_by_side
    if len(found) < 2 and (choice := alternatives_to_choose(text)):
        return choice
    if len(found) < 2 and (acts := actions_side_by_side(text)):
        return acts
    if len(found) >= 2 and re.search(
        r"\b(or|either|option|options|alternatively|which|prefer|choose|choice|two ways|"
        r"a few ways|couple of)\b",
        text,
        FLAGS,
    ):
        return found
    return []


bundled_fixes = set_detector(
    "bundled_fixes",
    pattern_set("bundled_fixes"),
    "Puts two fixes together for the customer instead of a choice between them.",
)


# Two alternatives joined by "or" ("Tuesday at 11, or Thursday at 3"); not "or so",
# "or not", "or anything" and other tails that add no second option.
_OR_ALTERNATIVES = re.compile(
    r"(?P<a>\b(?:[^.!?;:]|[.:](?=\d))*?\w)\s*,?\s+\bor\b\s+(?!(so|not|less|more|anything|"
    r"something|later|sooner|two|else|otherwise|whatever|similar)\b)"
    r"(?P<b>\w(?:[^.!?;:]|[.:](?=\d))*?)(?=\s*[.!?;:](?!\d)|$)",
    FLAGS,
)


def alternatives_to_choose(text: str) -> list[Hit]:
    """Alternatives set side by side and then offered as a choice: "I've got Tuesday at 11,
    or Thursday at 3. Which is better?", "refund or replacement, your call". The two
    sides of the first "or" at or before the choice question are the options."""
    asks = choice_questions(text)
    if not asks:
        return []
    last = max(a.end for a in asks)
    for m in _OR_ALTERNATIVES.finditer(text, 0, last):
        a, b = m.group("a").strip(), m.group("b").strip()
        if len(b.split()) > 12:
            continue
        start_a = m.start("a") + m.group("a").index(a)
        return [Hit(start_a, start_a + len(a), a), Hit(m.start("b"), m.start("b") + len(b), b)]
    return []


RECOMMEND = pattern_set("recommend")


recommends = set_detector("recommends", RECOMMEND, "Recommends one option.")


def choice_questions(text: str) -> list[Hit]:
    """Lets the customer choose."""
    return [q for q in questions(text) if is_choice_question(q.text)] + [
        h for h in find([r"\blet me know which\b", r"\bup to you\b", r"\byour call\b"], text)
    ]


# ---------------------------------------------------------------- timelines and commitments

_DAY = fragment("day")
PRECISE_TIME = pattern_set("precise_time")
VAGUE_TIME = pattern_set("vague_time")
COMMITMENT = pattern_set("commitment")


def precise_timeline(text: str) -> list[Hit]:
    """A timeline that names a time ("within 15 minutes", "by Tuesday noon")."""
    return find(PRECISE_TIME, text)


FUTURE_ACTION = pattern_set("future_action")
_NOT_A_PROMISE = re.compile(r"\b(hope|hoping|wish|too soon|ask (them |him |her )?for)\b", FLAGS)


def vague_timeline(text: str) -> list[Hit]:
    """A vague timeline ("soon", "shortly", "ASAP") on something the agent or the company
    will do; not a wish ("I hope he's home soon"), the customer's own plans ("unless you
    travel soon") or a past fact ("rejected as too soon")."""
    out = []
    for hit in find(VAGUE_TIME, text):
        sentence = sentence_of(text, hit).text
        if _NOT_A_PROMISE.search(sentence):
            continue
        if commitments(sentence) or find(FUTURE_ACTION, sentence):
            out.append(hit)
    return out


commitments = memo(set_detector("commitments", COMMITMENT, "Commits to an action."))


SCHEDULED_OUTCOME = pattern_set("scheduled_outcome")


def timed_promises(text: str) -> list[Hit]:
    """Sentences that say what will happen and when ("I'll ring the shop at 10am
    tomorrow"), whatever the verb, including plans written in the present tense or
    without a verb ("The engineer arrives Thursday", "£40 back to your card in 3 days")."""
    return [
        s
        for s in sentences(text)
        if not s.text.endswith("?")
        and (find(FUTURE_ACTION, s.text) or find(SCHEDULED_OUTCOME, s.text))
        and precise_timeline(s.text)
    ]


# ---------------------------------------------------------------- saying no

REFUSAL = pattern_set("refusal")
POLICY_ONLY = pattern_set("policy_only")
REASON = pattern_set("reason")
ALTERNATIVE = pattern_set("alternative")
CAVE = pattern_set("cave")


refusals = set_detector("refusals", REFUSAL, "Says no to something.")


def policy_only(text: str) -> list[Hit]:
    """ "That's our policy" as the answer."""
    return find(POLICY_ONLY, text)


reasons = set_detector(
    "reasons", REASON, "Explains why (policy reason, fairness/precedent or capability)."
)


# "There's nothing I can do", "not much we can offer": the can-do frame denied.
_NOTHING_BEFORE = re.compile(
    r"\b(nothing|(not|isn'?t|aren'?t|is not) (much|a lot|anything)|little|no more|"
    r"none of (it|that))( (else|more))?( that)?\s*$",
    FLAGS,
)


def _not_after(found: list[Hit], text: str, denial: re.Pattern[str]) -> list[Hit]:
    """The hits that the text just before them does not deny."""
    return [h for h in found if not denial.search(text[: h.start])]


def alternatives(text: str) -> list[Hit]:
    """Offers something it can do instead (not "there's nothing I can do")."""
    return _not_after(find(ALTERNATIVE, text), text, _NOTHING_BEFORE)


rule_stated = set_detector(
    "rule_stated", pattern_set("rule_stated"), "Names the rule or condition a no rests on."
)


_NEGATED_BEFORE = re.compile(
    r"\b(can'?t|cannot|won'?t|will not|not able to|unable to|don'?t|do not|never|no)\b"
    r"[^.?!]{0,12}$",
    FLAGS,
)


def caves(text: str) -> list[Hit]:
    """Gives in under pressure (not a refusal to: "we can't make an exception")."""
    return _not_after(find(CAVE, text), text, _NEGATED_BEFORE)


# ---------------------------------------------------------------- abuse and the ladder

NAME_CALLING = pattern_set("name_calling")
INSULT = pattern_set("insult")
THREAT = pattern_set("threat")
HARASSMENT = pattern_set("harassment")
SLUR = pattern_set("slur")
PROFANITY_AT_YOU = pattern_set("profanity_at_you")
NOT_AT_AGENT = pattern_set("not_at_agent")
PERSONAL = fragment("personal")
_YOU = re.compile(r"\b(you|u|ya|ur|your|yourself|youre)\b", FLAGS)
IDENTITY_HATE = pattern_set("identity_hate")
ALWAYS_ABUSIVE = THREAT + HARASSMENT + SLUR + PROFANITY_AT_YOU + IDENTITY_HATE

severe_abuse = set_detector(
    "severe_abuse",
    THREAT + HARASSMENT + SLUR + IDENTITY_HATE,
    "Threats, sexual harassment, slurs or hate: abuse that may end a contact at once.",
)


@memo
def abusive(text: str) -> list[Hit]:
    """Abuse aimed at the agent, staff or company: threats, slurs, sexual harassment,
    name-calling, insults about the person and swearing at them. Not abuse: swearing at
    the situation, insulting oneself or a third party, criticising the service."""
    hits = find(ALWAYS_ABUSIVE, text)
    for hit in find(NAME_CALLING + INSULT, text):
        clause = clause_of(text, hit)
        if not _YOU.search(hit.text) and find(NOT_AT_AGENT, clause):
            continue
        hits.append(hit)
    hits.sort(key=lambda h: h.start)
    merged: list[Hit] = []
    for hit in hits:
        if not merged or hit.start >= merged[-1].end:
            merged.append(hit)
    return merged


_OFFENSIVE_WORD = re.compile(
    r"\b("
    + "|".join(fragment(name) for name in ("insult_noun", "insult_adj", "offensive_word"))
    + r")(?!\w)|"
    + "|".join(SLUR),
    FLAGS,
)


def offensive_words(text: str) -> list[Hit]:
    """The insulting, slurring or profane words inside abusive spans (what masking hides);
    the rest of an insult ("you're", "the lot of you") is left readable."""
    out: list[Hit] = []
    for span in abusive(text):
        for m in _OFFENSIVE_WORD.finditer(text, span.start, span.end):
            if m.group(0).strip():
                out.append(Hit(m.start(), m.end(), m.group(0)))
    return out


def insult_words(text: str) -> list[Hit]:
    """Every insulting, slurring or profane word of a message that is abusive somewhere
    (so "You're useless. Genuinely useless." masks both); none in a message that is not."""
    if not abusive(text):
        return []
    return [
        Hit(m.start(), m.end(), m.group(0))
        for m in _OFFENSIVE_WORD.finditer(text)
        if m.group(0).strip()
    ]


UPSET = pattern_set("upset")


def upset(text: str) -> list[Hit]:
    """Signs that the customer is upset (anger, worry or distress), abuse included."""
    return sorted(find(UPSET, text) + abusive(text), key=lambda h: h.start)


ATTACK = pattern_set("attack")


def attacks_agent(text: str) -> list[Hit]:
    """Attacks the agent or the company (insults or "you people are…")."""
    return sorted(abusive(text) + find(ATTACK, text), key=lambda h: h.start)


insults_someone = set_detector(
    "insults_someone", pattern_set("insults_someone"), "Calls a third person names."
)
staff_reported = set_detector(
    "staff_reported", pattern_set("staff_reported"), "Talks about a member of staff."
)


MANAGER_ASK = pattern_set("manager_ask")


asks_manager = set_detector("asks_manager", MANAGER_ASK, "Asks for a manager or supervisor.")


THREATENS_TO_LEAVE = pattern_set("threatens_to_leave")


pressure = set_detector(
    "pressure", THREATENS_TO_LEAVE, "Threatens to leave, post publicly, charge back or sue."
)


RUNG_REDIRECT = pattern_set("rung_redirect")
RUNG_NAME = pattern_set("rung_name")
RUNG_BOUNDARY = pattern_set("rung_boundary")
AGENT_ENDS = pattern_set("agent_ends")
PATH_BACK = pattern_set("path_back")
END_REASON = pattern_set("end_reason")


def ladder_rungs(text: str) -> set[int]:
    """Every escalation-ladder rung a reply stands on (one reply can name the behaviour
    and set a boundary at once): 1 redirect, 2 name the behaviour, 3 set a boundary,
    4 end the interaction."""
    conditional = threatens_end(text)
    out: set[int] = set()
    if find(AGENT_ENDS, text) and not conditional:
        out.add(4)
    if find(RUNG_BOUNDARY, text) or conditional:
        out.add(3)
    if find(RUNG_NAME, text):
        out.add(2)
    if find(RUNG_REDIRECT, text):
        out.add(1)
    return out


def ladder_rung(text: str) -> int:
    """Which escalation-ladder rung a reply stands on: 0 none, 1 redirect, 2 name the
    behaviour, 3 set a boundary, 4 end the interaction (the highest, when several)."""
    return max(ladder_rungs(text), default=0)


# A warning that the contact will end on a condition: "if it carries on I'll end the call",
# "mind your language or I'll have to close this chat", "otherwise I'll disconnect".
_ENDS_ON_CONDITION = re.compile(
    r"\bif\b[^.?!]*\b(end|clos|disconnect|hang)|"
    r"\b(or( else)?|otherwise|else)\W+(I|we)(''?ll| will| may| might| would| am going to|"
    r"''?m going to|''?re going to)( (have|need) to| be forced to)?( \w+)? "
    r"(end|clos|disconnect|hang|terminat|stop)",
    FLAGS,
)


def threatens_end(text: str) -> list[Hit]:
    """A warning that the contact will end if the behaviour goes on (rung 3, not 4)."""
    return [Hit(m.start(), m.end(), m.group(0)) for m in _ENDS_ON_CONDITION.finditer(text)]


def rung_beside_threat(text: str) -> list[Hit]:
    """Sentences that redirect or name the behaviour on their own, beside a warning to end
    ("You're being abusive and I won't accept that. If it goes on I'll end the call"), not
    only as the warning's condition ("if you insult me again, I'm hanging up")."""
    return [
        s for s in sentences(text) if ladder_rungs(s.text) & {1, 2} and not threatens_end(s.text)
    ]


def ends_conversation(text: str) -> list[Hit]:
    """The agent ends the conversation (a "goodbye" beside a warning to end does not count)."""
    if threatens_end(text):
        return [h for h in find(AGENT_ENDS, text) if h.text.lower() != "goodbye"]
    return find(AGENT_ENDS, text)


path_back = set_detector("path_back", PATH_BACK, "Tells the customer how to come back.")


announces_end = set_detector(
    "announces_end", pattern_set("announces_end"), "Says in words that it is ending now."
)


end_reason = set_detector("end_reason", END_REASON, "Says why it is ending the conversation.")


WARNS_CUSTOMER = pattern_set("warns_customer")


WARNING_REPORTED = pattern_set("warning_reported")
CLOSE_AS_GOAL = pattern_set("close_as_goal")
CLOSE_FOR_SILENCE = pattern_set("close_for_silence")


def closes_for_silence(sentence: str) -> bool:
    """The sentence closes the contact because the customer has gone quiet ("I haven't heard
    back, so I'll close this chat for now"): neither a warning nor cutting them off."""
    return bool(find(CLOSE_FOR_SILENCE, sentence))


polices_tone = set_detector(
    "polices_tone",
    pattern_set("polices_tone"),
    "Labels the customer's manner as aggression or tells them off for their tone.",
)


def warns_customer(text: str) -> list[Hit]:
    """Polices the customer's tone or threatens to end the conversation (not a sentence
    reporting how an earlier contact was ended: "she was right to end the call", nor one
    naming the end of the contact as the goal: "get it sorted before we close this chat",
    nor closing a chat the customer has gone quiet on: "I haven't heard back, so I'll close
    this chat for now")."""
    return [
        hit
        for hit in find(WARNS_CUSTOMER, text)
        if not find(WARNING_REPORTED + CLOSE_AS_GOAL, sentence_of(text, hit).text)
        and not closes_for_silence(sentence_of(text, hit).text)
    ]


DEFENSIVE = pattern_set("defensive")
WOUNDED = pattern_set("wounded")
PLEADS_EFFORT = pattern_set("pleads_effort")


def defensive(text: str) -> list[Hit]:
    """Defensive, wounded or retaliatory answers to an attack."""
    return (
        find(DEFENSIVE, text)
        + find(PLEADS_EFFORT, text)
        + find(WOUNDED, text)
        + [h for h in abusive(text)]
    )


pleads_effort = set_detector(
    "pleads_effort", PLEADS_EFFORT, "Pleads its own effort after an attack (not a retort)."
)


def retorts(text: str) -> list[Hit]:
    """Defensive or retaliatory answers aimed back at the customer: `defensive` without the
    self-pity about the job ("I don't get paid enough for this")."""
    return find(DEFENSIVE, text) + find(PLEADS_EFFORT, text) + [h for h in abusive(text)]


# ---------------------------------------------------------------- escalation

ESCALATE = pattern_set("escalate")
AUTHORITY = pattern_set("authority")
TRANSFER_OFFER = pattern_set("transfer_offer")
RESPECT_REQUEST = pattern_set("respect_request")
ASK_CHANCE = pattern_set("ask_chance")
PROMISE_TRANSFER = pattern_set("promise_transfer")
STONEWALL = pattern_set("stonewall")


NOT_ESCALATING = pattern_set("not_escalating")


def escalates(text: str) -> list[Hit]:
    """Mentions escalating to a supervisor/specialist (not the agent introducing its own
    team, nor denying the customer a manager: "a manager would tell you the same")."""
    out = []
    for hit in find(ESCALATE, text):
        sentence = sentence_of(text, hit).text
        if not find(NOT_ESCALATING, sentence) and not find(STONEWALL, sentence):
            out.append(hit)
    return out


authority_limit = set_detector(
    "authority_limit", AUTHORITY, "Says the fix is outside its authority."
)

PROMISES_OUTCOME = pattern_set("promises_outcome")
HEDGES_OUTCOME = pattern_set("hedges_outcome")


def promises_outcome(text: str) -> list[Hit]:
    """Guarantees a decision that is someone else's to make ("it'll be approved for sure");
    not when the same sentence hedges it first ("I can't say for sure it will be approved")."""
    return [
        h
        for h in find(PROMISES_OUTCOME, text)
        if not find(HEDGES_OUTCOME, text[sentence_of(text, h).start : h.start])
    ]


refers_on = set_detector(
    "refers_on",
    pattern_set("refers_on"),
    "Passes the request on to a named person or office who can decide it.",
)


BACKS_TEAM = pattern_set("backs_team")
UNDERMINES_TEAM = pattern_set("undermines_team")


backs_team = set_detector("backs_team", BACKS_TEAM, "(Manager) backs the team member's decision.")

_SENIOR = re.compile(r"\b(manager|supervisor|team ?lead(er)?|someone senior|senior)\b", FLAGS)
_NO_MANAGER = re.compile(
    r"\b(no need for|don'?t need|do not need|not (available|possible))\b|\b(managers?|supervisors?)"
    r" (aren'?t|are not|isn'?t|is not|don'?t|do not|can'?t|won'?t)\b",
    FLAGS,
)


def grants_manager_request(text: str) -> list[Hit]:
    """Sentences that accept a request for a manager ("you can absolutely speak to a
    manager", "of course, I can bring my supervisor in") in a reply that also offers to
    help first: validating the request. Not "there's no need for a manager" nor a bare
    hand-over."""
    if not find(ASK_CHANCE, text) and not fixes(text):
        return []  # only passes the customer on ("Sure, I'll transfer you now.")
    return [
        s
        for s in sentences(text)
        if _SENIOR.search(s.text)
        and find(TRANSFER_OFFER + RESPECT_REQUEST, s.text)
        and not _NO_MANAGER.search(s.text)
    ]


undermines_team = set_detector(
    "undermines_team", UNDERMINES_TEAM, "(Manager) blames or undermines the team member."
)


# ---------------------------------------------------------------- resolution and close

ACCEPTANCE = pattern_set("acceptance")
AFFIRMATIVE_START = pattern_set("affirmative_start")
REJECTION = pattern_set("rejection")


def accepts(text: str) -> list[Hit]:
    """The customer accepts an offer (explicitly, or by a short affirmative reply); a
    grudging yes ("Brilliant. Fine.", "fine, put the voucher on, but I'm not happy")
    accepts too, whatever grumbling comes with it."""
    grudging = find(RELUCTANT_YES, text)
    if find(REJECTION, text):
        return grudging
    hits = find(ACCEPTANCE, text) or grudging
    if not hits and len(text.split()) <= 25:
        hits = find(AFFIRMATIVE_START, text)
    return hits


RELUCTANT_YES = pattern_set("reluctant_yes")
TEACH_BACK = pattern_set("teach_back")
CONFIRM_SATISFACTION = pattern_set("confirm_satisfaction")
FOLLOW_UP = pattern_set("follow_up")
EMPOWER = pattern_set("empower")
PICKLE = pattern_set("pickle")
OPENER_GREETING = pattern_set("opener_greeting")
OPENER_PURPOSE = pattern_set("opener_purpose")
OPENER_GOAL = pattern_set("opener_goal")
UNSURE = pattern_set("unsure")
GUESS = pattern_set("guess")


action_done = set_detector(
    "action_done", pattern_set("action_done"), "Reports an action already carried out."
)


customer_closes = set_detector(
    "customer_closes", pattern_set("customer_closes"), "The customer closes the contact content."
)


def teach_back(text: str) -> list[Hit]:
    """Restates the agreed next step ("To confirm, …")."""
    return find(TEACH_BACK, text)


confirm_satisfaction = set_detector(
    "confirm_satisfaction",
    CONFIRM_SATISFACTION,
    "Checks that the plan meets the customer's expectations.",
)


follow_up = set_detector("follow_up", FOLLOW_UP, "Promises or describes a follow-up.")


FOLLOW_UP_CONTINGENCY = pattern_set("follow_up_contingency")


follow_up_contingency = set_detector(
    "follow_up_contingency",
    FOLLOW_UP_CONTINGENCY,
    "What to do if the plan slips, or a feedback ask.",
)


empower = set_detector(
    "empower", EMPOWER, "Shows the customer how to avoid the problem or how the fix works."
)


option_merit = set_detector(
    "option_merit",
    pattern_set("option_merit"),
    "Singles out one option by its merit without picking it outright.",
)


pickle = set_detector("pickle", PICKLE, "An unexpected extra beyond the fix.")


_INSTEAD_FRAME = re.compile(
    r"\b(what (I|we) (can|could|'?m able to|am able to) (do|offer)|here'?s what (I|we) can|"
    r"instead|(I|we) can only)\b",
    FLAGS,
)
_AMENDS = re.compile(
    r"\b(thank[- ]?you|thanks|goodwill|gesture|sorry|apolog\w*|hassle|inconvenience|trouble|"
    r"the wait|complimentary|on the house|on top|bonus)\b",
    FLAGS,
)


def extras(text: str) -> list[Hit]:
    """An unexpected extra beyond the fix, not a term of one of the options on offer
    ("an exchange with free shipping both ways, or a refund" is the fix itself), nor one
    the agent says it cannot give ("I can't move you to premium for free"), nor the
    alternative put in place of an earlier refusal ("I can't waive the charge. What I can
    do is a voucher for your next rental") unless it is framed as amends ("...for the
    hassle", "as a thank-you")."""
    out = []
    for hit in pickle(text):
        sentence = sentence_of(text, hit)
        # "I can't override the refund, but I can add 1,000 gems as a thank-you": the no
        # is another clause
        clause = action_clause(text, hit)
        said_no = refusals(clause.text if _after_but(text, clause) else sentence.text)
        if options_offered(sentence.text) or said_no:
            continue
        refused_before = any(r.start < sentence.start for r in refusals(text))
        in_place_of_no = refused_before and _INSTEAD_FRAME.search(sentence.text)
        if in_place_of_no and not _AMENDS.search(sentence.text):
            continue
        out.append(hit)
    return out


# Kinds of remedy a request or a grant can name: asking for the money back and being
# refunded, or asking for compensation and getting a credit, is the same request granted.
_REMEDY_KINDS: dict[str, re.Pattern[str]] = {
    "money back": re.compile(
        r"\b(refund\w*|reimburs\w*|repa(y|id)|waiv\w*|written off|write (it|them|that) off|"
        r"(money|fee|charge|cash|it|that|this|them|deposit|fare) back|pay (me|it|that) back|"
        r"(remove|cancel|take off|drop|reverse)\w* (the|that|this|those|my) (\w+ )?"
        r"(fees?|charges?)|"
        r"(fees?|charges?) (removed|cancell?ed|taken off|dropped|reversed))",
        FLAGS,
    ),
    "compensation": re.compile(
        r"\b(compensat\w*|credit\w*|goodwill|gesture|recogni[stz]\w*|voucher|discount\w*|"
        r"make (it|this|that) up|(something|anything) for (my|the|our) (trouble|time|hassle)|"
        r"for (my|the|our) (wasted|lost) \w+|(that|it|this|the (cost|loss)) covered|"
        r"cover (it|that|this|the (cost|loss)|my (costs?|loss(es)?)))",
        FLAGS,
    ),
    "upgrade": re.compile(r"\b(upgrad\w*|premium|business class|first class)\b", FLAGS),
    "free": re.compile(r"\b(free|no charge|at no cost|free of charge|on the house)\b", FLAGS),
}


def _remedy_kinds(text: str) -> set[str]:
    return {kind for kind, pattern in _REMEDY_KINDS.items() if pattern.search(text)}


_ASKS = re.compile(
    r"\b(I|we)( want| need| expect| would like|'d like|’d like)\b|\b(can|could|will) (you|I|we)\b|"
    r"\b(give|get) (me|us|my|our)\b|\bplease\b|\bentitled\b|\bthe least\b|\?|"
    r"^\W*(is|are|do|does|can|could|will|would|should|am I|do I)\b",  # a question without "?"
    FLAGS,
)


_CLAUSE_SPLIT = re.compile(
    r";\s*|\s+[-\u2013\u2014]\s+|,?\s+\bbut\b\s+|"
    r",?\s+\band\b\s+(?=(I|I'?ve|I'?ll|I'?m|we|we'?ve|we'?ll|also|throw|thrown|add|added)\b)",
    FLAGS,
)


def action_clause(text: str, hit: Hit) -> Hit:
    """The clause of its sentence that holds a hit: the sentence cut at "; ", a dash, "but"
    and an "and" that starts a new action ("I'll refund the $186 and throw in a voucher")."""
    for clause in action_clauses(text):
        if clause.start <= hit.start < clause.end:
            return clause
    return sentence_of(text, hit)


def _after_but(text: str, clause: Hit) -> bool:
    """The clause opens after a "but" ("I can't …, but I can add …")."""
    return bool(re.search(r"\bbut\s*$", text[max(0, clause.start - 12) : clause.start], FLAGS))


def action_clauses(text: str) -> list[Hit]:
    """Every action clause of every sentence (see `action_clause`)."""
    out: list[Hit] = []
    for sentence in sentences(text):
        start = 0
        for cut in [*_CLAUSE_SPLIT.finditer(sentence.text), None]:
            end = cut.start() if cut else len(sentence.text)
            piece = sentence.text[start:end]
            if piece.strip():
                out.append(Hit(sentence.start + start, sentence.start + end, piece))
            start = cut.end() if cut else start
    return out


_NAMED_FEE = re.compile(
    r"\b(?:the|this|that|your|a|an)\s+(?:[£$€]\s?[\d.,]+\s+|month'?s\s+|\w+'s\s+)?"
    r"([a-z][\w-]*)\s+(fee|charge|surcharge)\b",
    FLAGS,
)
_WAIVES = re.compile(
    r"\b(waiv(e|ed|ing)|refund(ed|ing)?|cancell?(ed|ing)|knock(ed|ing)? off|"
    r"tak(e|en|ing) off|remov(e|ed|ing)|cover(ed|ing)?|absorb(ed|ing)?)\b",
    FLAGS,
)


_FIRM_WAIVER = re.compile(
    r"\b(I'?ve|I have|I'?ll|I will|I'?m|I am|we'?ve|we have|we'?ll|we will|we'?re)\b|"
    r"\b(has|have) been\b|\b(is|are) (now )?(waived|refunded|removed)\b",
    FLAGS,
)


def unasked_fee(clause: str, customer: str) -> bool:
    """The clause waives or refunds a fee the customer never mentioned ("I've waived the
    £7.50 express fee since none of this was your doing" when only the card was raised):
    a fee named by a word, or an amount, that appears nowhere in what the customer said."""
    if not _FIRM_WAIVER.search(clause) or _OR.search(clause):
        return False
    said = customer.lower()
    for fee in _NAMED_FEE.finditer(clause):
        lead = clause[max(0, fee.start() - 30) : fee.start()]
        if re.search(
            r"\b(minus|less|deduct\w*|excluding|except|apart from|after|but)\b", lead, FLAGS
        ):
            continue  # "refunded the part minus the £15 restocking fee": a deduction
        if not _WAIVES.search(lead) and not re.match(
            r"\s+(waived|refunded|removed|cancell?ed|taken off|covered)", clause[fee.end() :], FLAGS
        ):
            continue  # "the refund is for the months left, minus a £15 admin fee"
        name = fee.group(1).lower()
        amounts = [a.rstrip(".,") for a in re.findall(r"[\d][\d.,]*", fee.group(0))]
        # the customer named that fee ("the locker fee"), its amount, or its kind when no
        # amount is given ("the late fee" after "why a late charge?")
        if re.search(rf"\b{re.escape(name)}\s+(fee|charge|surcharge)", said) or (
            any(re.search(rf"(?<![\d.,]){re.escape(a)}(?!\d)", said) for a in amounts)
            or (not amounts and re.search(rf"\b{re.escape(name)}\b", said))
        ):
            continue
        return True
    return False


def grants_request_at(text: str, hit: Hit, customer: str) -> bool:
    """`grants_request` for the clause that holds an extra when that clause names a remedy
    or frames amends of its own ("The £180 voucher will be emailed by Thursday, and I've
    added 2,000 points for the trouble"), else for its whole sentence."""
    clause = action_clause(text, hit).text
    if _remedy_kinds(clause) or _AMENDS.search(clause):
        return grants_request(clause, customer)
    return grants_request(sentence_of(text, hit).text, customer)


def grants_request(sentence: str, customer: str) -> bool:
    """The sentence gives what the customer asked for ("I want my joining fee back" ...
    "I'll refund the joining fee as a goodwill gesture"): granting the demand is the fix,
    not an extra beyond it. Both name the same kind of remedy (money back, compensation,
    an upgrade, something free), and the customer's sentence asks for it (a fee or product
    they only mention is not a request)."""
    if unasked_fee(sentence, customer):
        return False
    asked = " ".join(s.text for s in sentences(customer) if _ASKS.search(s.text))
    return bool(_remedy_kinds(sentence) & _remedy_kinds(asked))


unsure = set_detector("unsure", UNSURE, "Admits not knowing.")


guesses = set_detector("guesses", GUESS, "Hedged guesses about facts or policy.")


# ---------------------------------------------------------------- repeat asks

_FACT_KEYS: dict[str, tuple[str, ...]] = {
    "order": ("order",),
    "account": ("account", "customer_id", "member"),
    "reference": ("reference", "ref", "ticket", "case", "booking", "_id"),
    "ticket": ("ticket", "case", "reference"),
    "case": ("case", "ticket", "reference"),
    "tracking": ("tracking",),
    "confirmation": ("confirmation", "order"),
    "invoice": ("invoice", "bill"),
    "e-mail": ("email", "e-mail"),
    "email": ("email", "e-mail"),
    "address": ("address", "property", "postcode"),
    "name": ("name",),
    "plan": ("plan", "tier", "subscription"),
    "phone": ("phone", "mobile"),
    "serial": ("serial", "model"),
    "date of birth": ("dob", "birth"),
    "birth date": ("dob", "birth"),
    "birthdate": ("dob", "birth"),
    "birthday": ("dob", "birth"),
    "dob": ("dob", "birth"),
    "date": ("date", "ordered", "purchase", "bought", "_on", "since"),
    "when": ("date", "ordered", "purchase", "bought", "_on"),
    "membership": ("member", "account"),
    "policy": ("policy",),
    "claim": ("claim",),
    "booking": ("booking", "reservation", "pnr"),
    "pnr": ("pnr", "booking"),
    "pir": ("pir", "bag", "file_reference"),
    "tag": ("bag", "tag"),
    "consignment": ("consignment", "tracking"),
    "card": ("card",),
    "last": ("card",),
    "rental": ("rental", "agreement"),
    "agreement": ("agreement", "rental"),
    "trip": ("trip",),
}
FACT_REQUEST = pattern_set("fact_request")
_ASKED_WORD = re.compile(
    r"(order|account|reference|ticket|case|tracking|confirmation|invoice|e-?mail|address|"
    r"name|plan|phone|serial|date of birth|birth ?date|birthday|dob|date|when|membership|"
    r"policy|claim|booking|pnr|pir|tag|"
    r"consignment|card|last|rental|agreement|trip)",
    FLAGS,
)
# "what's been happening with the account", "the new address": not a fact already known.
_NOT_A_KNOWN_FACT = re.compile(
    r"\b(happen(ing|ed)|going on|(has|have|had) changed|new|updated|correct|different|"
    r"other|alternative|tell me (a bit |more )?about|(give|tell|show) them)\b",
    FLAGS,
)
_ID_TOKEN = re.compile(r"\b(?=[A-Z0-9-]*\d)[A-Z0-9]{1,5}-?\d{3,}[A-Z0-9-]*\b|#\s?\d{3,}")


already_given = set_detector(
    "already_given",
    pattern_set("already_given"),
    "The customer protests that they already gave the detail just asked for.",
)


# A request that lists what it wants: "Can I have your name, the claim number and ...?"
_LIST_ASK = re.compile(
    r"\b(can|could|may) (I|you|u) (just |please |quickly )?(have|get|take|grab|confirm|provide|"
    r"share|send|give)\b|\b(please|kindly|pls) (confirm|provide|share|send|give)\b",
    FLAGS,
)
_FACT_ITEM = re.compile(r"\b(" + fragment("fact") + r")\b", FLAGS)
# the item comes with its value: the agent reads a detail back, it does not ask for it
_READ_BACK = re.compile(
    r"\s*(ending|ends|starting|beginning|[:#=]|is\b)?\s*(in |with )?[\d#]", FLAGS
)


def repeat_asks(text: str, context: Mapping[str, Any], earlier_customer_text: str) -> list[Hit]:
    """Questions asking for a fact the case context or the customer already gave."""
    out: list[Hit] = []
    keys = [str(k).lower() for k in context]
    customer_ids = bool(_ID_TOKEN.search(earlier_customer_text))
    for sentence in sentences(text):
        m = asks_identifier(sentence.text)
        candidates = [(m.group(m.lastindex or 0), m.group(0))] if m else []
        candidates += [(h.text, h.text) for h in find(FACT_REQUEST, sentence.text)]
        lead = _LIST_ASK.search(sentence.text)
        if lead:  # every item of a listed ask, not only the first ("your name, X and Y?")
            rest = sentence.text[lead.end() :]
            candidates += [
                (f.group(0), sentence.text)
                for f in _FACT_ITEM.finditer(rest)
                if not _READ_BACK.match(rest, f.end())  # "account ending 7719": a check
            ]
        if any(_known_fact(asked, whole, keys, customer_ids) for asked, whole in candidates):
            out.append(sentence)
    return out


_GIVEN_IDS = {
    "order",
    "account",
    "reference",
    "ticket",
    "case",
    "tracking",
    "confirmation",
    "invoice",
    "claim",
    "booking",
    "pnr",
    "pir",
    "consignment",
}


def _known_fact(asked: str, whole: str, keys: list[str], customer_ids: bool) -> bool:
    """Whether an asked-for fact is in the case context, or is an identifier while the
    customer already gave one."""
    asked_word = _ASKED_WORD.search(asked)
    if not asked_word or _NOT_A_KNOWN_FACT.search(whole):
        return False
    word = asked_word.group(1).lower().replace("e-mail", "email")
    if word == "name":
        return "customer_name" in keys
    wanted = _FACT_KEYS.get(word, (word,))
    in_context = any(any(w in key for w in wanted) for key in keys)
    return in_context or (customer_ids and word in _GIVEN_IDS)


GIVES_UP = pattern_set("gives_up")
HANDS_OVER = pattern_set("hands_over")


gives_up = set_detector(
    "gives_up", GIVES_UP, "The customer gives up, leaves or refuses the plan outright."
)

scorn_last_word = set_detector(
    "scorn_last_word",
    pattern_set("scorn_last_word"),
    'A last word of scorn ("Typical."); means giving up only on the customer\'s final turn.',
)


hands_over = set_detector(
    "hands_over", HANDS_OVER, "The agent passes the customer on to someone else now."
)


POLICY_MENTION = pattern_set("policy_mention")


def policy_mention(text: str) -> list[Hit]:
    """Puts the rules forward ("our policy says…")."""
    return find(POLICY_MENTION, text)


authority_in_policy = set_detector(
    "authority_in_policy",
    pattern_set("authority_in_policy"),
    "A case-file policy that reserves a decision for someone above the agent.",
)


# ---------------------------------------------------------------- limits on the agent's authority

_CURRENCY = (
    r"(?:[£$€₦₹¥]|\b(?:GBP|USD|EUR|AUD|CAD|NZD|SGD|AED|PHP|BBD|NGN|INR|JPY|Rs\.?|A\$|S\$)\s?)"
)
_AMOUNT = re.compile(_CURRENCY + r"\s?(\d[\d,]*(?:\.\d+)?)", FLAGS)
# "up to £50", "maximum $180", "no more than EUR 230": a cap the agent may grant up to.
_CAP = re.compile(
    r"\b(up to|max(imum)?( of)?|no more than|at most|as much as|limit(ed)? (of|to)|capped at)\b"
    r"[^.;]{0,25}?" + _CURRENCY + r"\s?(\d[\d,]*(?:\.\d+)?)",
    FLAGS,
)
_REMEDY_STEM = re.compile(
    r"\b(refund|credit|compensat|goodwill|voucher|waiv|discount|reimburs|write[- ]?off|"
    r"written off)",
    FLAGS,
)
# A grant that waits on someone else's yes, or that someone else already gave, is not the
# agent's own promise ("once the manager approves", "Marta has approved $300").
_ON_APPROVAL = re.compile(
    r"\b(if|once|when|after|subject to|pending|until)\b[^.!?]{0,40}"
    r"\b(approv|agree|sign|decid|review|authori|okay|ok)\w*|"
    r"\b(?!I\b)\w+ (has|have|had) (now |just |already )?(approved|agreed|signed|authori[sz]ed|"
    r"okayed|cleared)\b|\b(approved|authori[sz]ed|signed off|agreed|okayed) by\b|"
    r"\bwith (my|the|our|your|his|her|their) (\w+ ){0,2}(approval|sign-?off|go-ahead)\b",
    FLAGS,
)


def _remedy_stems(text: str) -> set[str]:
    """The remedy words a clause names, cut to a common stem ("refund", "credit", "waiv")."""
    return {m.group(1).lower()[:6] for m in _REMEDY_STEM.finditer(text)}


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_BREAK.split(text) if c and c.strip()]


def authority_caps(case_file: str) -> list[tuple[float, set[str]]]:
    """The money limits a case file sets on the agent ("agents may credit up to $180"):
    each cap with the kinds of remedy its clause names (refund, credit, goodwill…)."""
    out = []
    for m in _CAP.finditer(case_file):
        begin = max(case_file.rfind(c, 0, m.start()) for c in ".;(\n") + 1
        ends = [i for i in (case_file.find(c, m.end()) for c in ".;)\n") if i >= 0]
        clause = case_file[begin : min(ends) if ends else len(case_file)]
        out.append((float(m.group(m.lastindex or 0).replace(",", "")), _remedy_stems(clause)))
    return out


def over_cap(sentence: str, caps: list[tuple[float, set[str]]]) -> bool:
    """The sentence names an amount above a cap on the same kind of remedy ("I'll get you
    the $2,000 credit" against "credit up to $180"); a clause that names no remedy itself
    takes the sentence's ("the full £200 for your hours, as a credit")."""
    whole = _remedy_stems(sentence)
    for clause in _clauses(sentence):
        kinds = _remedy_stems(clause) or whole
        for m in _AMOUNT.finditer(clause):
            value = float(m.group(1).replace(",", ""))
            if any(value > cap and kinds & capped for cap, capped in caps):
                return True
    return False


def grants_reserved(sentence: str, reserved: str, caps: list[tuple[float, set[str]]]) -> bool:
    """A firm grant or promise of what the case file reserves for someone above the agent:
    a commitment or a done action (not a refusal, a hand-over or a grant waiting on someone
    else's approval) that caves, names an amount over the agent's cap, or names the
    reserved remedy ("full refunds need approval" ... "I'll make sure you get a full
    refund")."""
    if refusals(sentence) or escalates(sentence) or authority_limit(sentence):
        return False
    if hands_over(sentence) or find(TRANSFER_OFFER, sentence) or "?" in sentence:
        return False
    if _ON_APPROVAL.search(sentence):
        return False
    if caves(sentence):
        return True
    if not (commitments(sentence) or action_done(sentence)):
        return False
    if over_cap(sentence, caps):
        return True
    shared = content_stems(sentence) & content_stems(reserved)
    return len(shared) >= 2 and bool(_remedy_stems(sentence) & _remedy_stems(reserved))


# ---------------------------------------------------------------- granting what is restricted

RESTRICTION = pattern_set("restriction")
GRANT = pattern_set("grant")
_GIVEN_REMEDY = {"refund": pattern_set("remedy_refund"), "waive": pattern_set("remedy_waive")}
_RESTRICTED_BREAK = re.compile(r"[.;:()\n]|\s[-–—]\s")


def restricted_clauses(case_file: str) -> list[str]:
    """The clauses of a case file that restrict what may be given ("Advance Saver
    non-refundable", "agents may not waive it", "refundable within 30 days only")."""
    return [
        c.strip()
        for c in _RESTRICTED_BREAK.split(case_file)
        if c and c.strip() and find(RESTRICTION, c)
    ]


def remedy_kinds(text: str) -> set[str]:
    """The kinds of remedy a text names: money back ("refund", "reversed") or a charge let
    off ("waived", "no charge", "taken off")."""
    return {kind for kind, patterns in _GIVEN_REMEDY.items() if find(patterns, text)}


def grants(sentence: str) -> list[Hit]:
    """The sentence gives or firmly commits to a remedy or change (not a refusal, a
    question, a hand-over or a grant waiting on someone else's approval)."""
    if refusals(sentence) or escalates(sentence) or authority_limit(sentence):
        return []
    if hands_over(sentence) or find(TRANSFER_OFFER, sentence) or "?" in sentence:
        return []
    if _ON_APPROVAL.search(sentence):
        return []
    return find(GRANT, sentence) or commitments(sentence) or caves(sentence)


def grants_restricted(sentence: str, clauses: Sequence[str], asked: str) -> bool:
    """A grant of what a restricted case-file clause (`restricted_clauses`) rules out,
    after the customer asked for it: a remedy the clause rules out ("non-refundable" ...
    "I'll refund the £297"), with the customer asking for one or about that clause, or two
    content words shared by the grant, the clause and the request ("30 days notice on all
    cancellations" ... "I'll waive the notice")."""
    if not grants(sentence):
        return False
    said, wanted = _roots(sentence), _roots(asked)
    gives_remedy, asks_remedy = bool(remedy_kinds(sentence)), bool(remedy_kinds(asked))
    for clause in clauses:
        limit = _roots(clause)
        # Money back and a charge let off are one remedy here: a fee refunded is a fee
        # waived ("waive only if the driver was at the wrong point" ... "I'll refund it").
        if gives_remedy and remedy_kinds(clause):
            if asks_remedy or wanted & limit:
                return True
        elif len(said & limit & wanted) >= 2:
            return True
    return False


def _roots(text: str) -> set[str]:
    """Content stems cut to five letters, so derived forms meet ("cancel" and
    "cancellations", "transfer" and "non-transferable")."""
    return {stem[:5] for stem in content_stems(text)}
