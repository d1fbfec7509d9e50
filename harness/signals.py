"""Pure text detectors for what an agent or a customer does in one message.

Graders (to score a reply) and the scripted customer (to react to it) share these, so
that the customer reacts to exactly what the graders reward or punish. Every detector
returns `Hit`s: spans of the original text, so evidence quotes are exact substrings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from typing import Any

FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Hit:
    """A span of a message that shows a behaviour."""

    start: int
    end: int
    text: str


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, FLAGS)


def find(patterns: Iterable[str], text: str) -> list[Hit]:
    """All non-overlapping matches of any pattern, in text order (memoised per text)."""
    return list(_find(tuple(patterns), text))


_MEMOS: list[Any] = []


def memo(fn: Callable[[str], list[Hit]]) -> Callable[[str], list[Hit]]:
    """Memoise a text detector (results are copied out; cleared by `clear_caches`)."""
    cached = lru_cache(maxsize=5_000)(lambda text: tuple(fn(text)))
    _MEMOS.append(cached)

    @wraps(fn)
    def wrapper(text: str) -> list[Hit]:
        return list(cached(text))

    return wrapper


def clear_caches() -> None:
    """Forget memoised detector results (the judge does this per conversation, so that
    timings stay honest and memory stays bounded)."""
    _find.cache_clear()
    _sentences.cache_clear()
    for cached in _MEMOS:
        cached.cache_clear()


@lru_cache(maxsize=20_000)
def _find(patterns: tuple[str, ...], text: str) -> tuple[Hit, ...]:
    hits: list[Hit] = []
    for pattern in patterns:
        hits.extend(Hit(m.start(), m.end(), m.group(0)) for m in _rx(pattern).finditer(text))
    hits.sort(key=lambda h: h.start)
    merged: list[Hit] = []
    for hit in hits:
        if merged and hit.start < merged[-1].end:
            continue
        merged.append(hit)
    return tuple(merged)


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


def sentences(text: str) -> list[Hit]:
    """Split into sentences, keeping exact spans (leading space trimmed)."""
    return list(_sentences(text))


@lru_cache(maxsize=5_000)
def _sentences(text: str) -> tuple[Hit, ...]:
    out: list[Hit] = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        stripped = raw.strip()
        if not stripped:
            continue
        start = m.start() + raw.index(stripped)
        out.append(Hit(start, start + len(stripped), stripped))
    return tuple(out)


def sentence_of(text: str, hit: Hit) -> Hit:
    """The sentence that contains a hit (for a readable evidence quote)."""
    for sentence in sentences(text):
        if sentence.start <= hit.start < sentence.end:
            return sentence
    return hit


# ---------------------------------------------------------------- feelings and empathy

FEELING = (
    r"(frustrat\w*|upset\w*|angry|anger|annoy\w*|stress\w*|worr\w*|anxious|anxiety|"
    r"disappoint\w*|urgent|infuriat\w*|exasperat\w*|fed up|overwhelm\w*|embarrass\w*|"
    r"scar\w*|panick?\w*|nervous|let down|maddening|unsettl\w*|distress\w*|furious|"
    r"aggravat\w*|irritat\w*|upsetting|hurt|tough spot|awful position|difficult position|"
    r"a lot of pressure|under pressure|on edge|exhaust\w*|tired of|sick of|uneasy|"
    r"concerning|concerned|afraid|stuck|blindsided|shaken|heartbreak\w*|galling|sting|"
    r"frighten\w*|livid|gutt\w*|alarm\w*|fuming|rattled|caught in the middle|"
    r"at (your|the end of your) wits'? end|at the end of your tether|nerve-?wracking|"
    r"a (real )?(blow|shock|nightmare|headache|worry))"
)
_FEELING_LEAD = (
    r"(I can (hear|see|tell|imagine|only imagine|understand)( how| that| why)?|"
    r"it (sounds|seems|must (be|feel|have been))|that( sounds|'s| is| was| must (be|feel|"
    r"have been)| would)|this( sounds|'s| is| must (be|feel|have been))|"
    r"(you|you're|you are|you've been|you have been|you must be|you must feel|you'd be|"
    r"you feel|you're feeling|you are feeling|you felt)|"
    r"no wonder you('re| are)?|I('d| would) (be|feel)|anyone would (be|feel)|"
    r"I know how|I get how|I hear how|I hear that|what a)"
)
EMOTION_NAMING = (
    _FEELING_LEAD + r"\b[^.!?]{0,45}?\b" + FEELING,
    r"\b(that|this)('s| is) (so |really |incredibly |genuinely )?(stressful|frustrating|"
    r"upsetting|worrying|maddening|infuriating|disappointing|nerve-?wracking|embarrassing)",
    r"\bof course you('re| are) (upset|frustrated|angry|worried|annoyed|disappointed)",
    r"\bwould (upset|frustrate|annoy|worry|anger|stress out|rattle) (anyone|anybody|me|most)",
    r"\b(is|was|must be|must have been|sounds|feels|felt|seems) (genuinely |really |so |"
    r"incredibly |truly |deeply |pretty |very )?(stressful|frustrating|upsetting|worrying|"
    r"galling|maddening|infuriating|disappointing|frightening|scary|alarming|annoying|gutting|"
    r"exhausting|overwhelming|embarrassing|nerve-?wracking|distressing|unsettling)\b",
    r"\bI('d| would) be (livid|furious|alarmed|upset|annoyed|frustrated|worried|angry|fuming|"
    r"gutted|cross|fed up)\b",
    r"\bcaught in the middle\b",
)
JUDGEMENTAL_LABEL = (
    r"\byou('re| are) (being )?(so |very |too |overly )?(emotional|hysterical|dramatic|"
    r"irrational|unreasonable|aggressive|over-?reacting|hostile)",
    r"\b(over-?reacting|overreaction|no need to (be|get) so (emotional|upset|worked up|dramatic))",
    r"\bgetting (so )?(emotional|worked up|hysterical)",
)


@memo
def names_emotion(text: str) -> list[Hit]:
    """Labels the customer's feeling specifically ("it sounds really stressful")."""
    out = []
    for hit in find(EMOTION_NAMING, text):
        sentence = sentence_of(text, hit).text
        asked = sentence.endswith("?") and re.match(
            r"\W*(why|what|how|are|is|do)\b", sentence, FLAGS
        )
        if not _negated(text, hit) and not asked:
            out.append(hit)
    return out


def judgemental_label(text: str) -> list[Hit]:
    """Labels a feeling judgementally ("you're being dramatic")."""
    return find(JUDGEMENTAL_LABEL, text)


def _negated(text: str, hit: Hit) -> bool:
    before = text[max(0, hit.start - 12) : hit.start].lower()
    if re.search(r"\b(no|not|don't|isn't)\s*$", before):
        return True
    clause = re.split(r"[,;:.!?]", text[max(0, hit.start - 60) : hit.start])[-1].lower()
    return bool(re.search(r"\b(don'?t|do not|never|won'?t) (let|make|get)\b", clause))


VALIDATION = (
    r"\b(that|it|this)('s| is) (completely |totally |entirely |a )?(fair|reasonable|understandable|"
    r"legitimate|valid)\b",
    r"\bI (can |completely |totally |fully )?(see|get|understand) why\b",
    r"\b(makes|made) (complete |total |perfect )?sense\b",
    r"\bI('d| would) (want|expect|feel) the same\b",
    r"\byou('re| are) (absolutely |completely |totally )?right\b",
    r"\bthat (should|shouldn't|should not) (not )?have happened\b",
    r"\b(shouldn't|should not|never should) have (happened|to)\b",
    r"\bI hear you\b",
    r"\b(is|was|sounds|that'?s|it'?s) (just |really |so |genuinely )?(awful|terrible|horrible|"
    r"unacceptable|a nightmare|a mess|rough|not on|no good|so wrong)\b",
    r"\bthank you for (your patience|bearing with|sticking with)",
    r"\bthanks for (your patience|bearing)",
    r"\bnot (ok|okay|acceptable|good enough|what you (deserve|expected|should))\b",
    r"\byou('ve| have) (every right|been (a )?(loyal|patient|with us))",
)


def validates(text: str) -> list[Hit]:
    """Validates the customer's experience or request (not necessarily naming a feeling)."""
    return find(VALIDATION, text)


@memo
def empathy(text: str) -> list[Hit]:
    """Any empathic acknowledgement: a named feeling, a validation or a specific apology."""
    hits = names_emotion(text) + validates(text) + specific_apology(text)
    return sorted(hits, key=lambda h: h.start)


# ---------------------------------------------------------------- language and register

WE_FRAMING = (
    r"\blet'?s\b",
    r"\blet us\b",
    r"\btogether\b",
    r"\bwe('ll| will| can| could| are going to|'re going to| should| need to)\s+"
    r"(\w+\s+){0,2}?(get|sort|fix|figure|work|find|make|resolve|look|solve|handle|put|sorted|"
    r"tackle|go through|turn|set|straighten|track|chase|check|review|walk)\b",
    r"\b(you and I|you and me|between us|with you on this|on this with you|I'm with you)\b",
    r"\bwe('re| are) (in this|on it|going to)\b",
)


def we_language(text: str) -> list[Hit]:
    """Collaborative framing: we / let's / together."""
    return find(WE_FRAMING, text)


CALM_DOWN = (
    r"\b(calm(ing)? down|relax|settle down|chill( out)?|cool (it|down|off)|simmer down)\b",
    r"\btake (a|some) (deep |few )?breaths?\b",
    r"\bdeep breath\b",
    r"\bno need to (get|be|shout|yell|raise|use)\b",
    r"\b(don't|do not) (get|be) (so )?(upset|worked up|angry|emotional|excited|mad)\b",
    r"\bas I (already |just |previously )?(said|mentioned|explained|stated|told you)\b",
    r"\blike I (already |just )?(said|told you|mentioned)\b",
    r"\bas (previously |already )?(stated|mentioned|explained)\b",
    r"\byou (must have |have |)(misunderstood|misread|are mistaken|didn't read|did not read|"
    r"must be confused|got it wrong|are confused)\b",
    r"\b(lower|watch) your (voice|tone)\b",
    r"\bthere'?s no (need|reason) to (shout|yell|be upset|get upset|panic|worry so)\b",
    r"\bit'?s (really )?not (that|a) big (of a )?deal\b",
    r"\bstop (shouting|yelling|panicking|overreacting)\b",
)


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


def shouting(text: str) -> list[Hit]:
    """Capitals for shouting, '!!', or sarcasm."""
    hits: list[Hit] = []
    caps = [m for m in re.finditer(r"\b[A-Z]{3,}\b", text) if m.group(0) not in _ACRONYMS]
    if len(caps) >= 2 or any(len(m.group(0)) >= 6 for m in caps):
        hits.extend(Hit(m.start(), m.end(), m.group(0)) for m in caps)
    hits.extend(find([r"[!?]*![!?]*!+", r"\?{2,}"], text))
    hits.extend(find(SARCASM, text))
    return sorted(hits, key=lambda h: h.start)


SARCASM = (
    r"\b(obviously|clearly) you\b",
    r"\bgood luck with that\b",
    r"\bif you had (actually )?(read|listened|checked)\b",
    r"\bcongratulations\b",
    r"\bwhatever\b",
    r"\bnot my problem\b",
    r"\bthanks for nothing\b",
    r"\bnice try\b",
    r"\bI'?m sure you did\b",
    r"\bwow\b",
)


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
    r"\bI (completely |totally |fully |really |do |definitely )?(understand|get it|hear you)\b"
    r"(?P<rest>[^.!?;]*)",
    FLAGS,
)
_GENERIC_REST = re.compile(
    r"\b(your|the|my|this|that|how|you|feel|frustration|frustrations|concerns?|situation|point|"
    r"feelings?|completely|totally|fully|perfectly|where|coming|from|you're|are|but|sir|madam|"
    r"ma'am|and|so|I|it|is|upset|annoyance|position|please|though|however|just|very|well|all|"
    r"of|why|what|mean|saying|trying|to|say|a|an|do|am|sorry|yes|ok|okay|right|now|here|can|"
    r"really|know|see)\b",
    FLAGS,
)


def understand_claims(text: str) -> list[tuple[Hit, bool]]:
    """Each "I understand" with whether it is backed by specifics (True) or bare (False)."""
    out: list[tuple[Hit, bool]] = []
    for m in _UNDERSTAND.finditer(text):
        if m.group(2).lower() == "hear you":
            continue
        rest = m.group("rest")
        cut = re.split(r",?\s+\b(but|however|unfortunately)\b", rest, maxsplit=1, flags=FLAGS)[0]
        content = _GENERIC_REST.sub(" ", cut)
        words = [w for w in re.findall(r"[A-Za-z0-9$%']+", content) if len(w) > 1]
        specific = len(words) >= 3
        end = m.start() + len(m.group(0).rstrip())
        out.append((Hit(m.start(), end, text[m.start() : end]), specific))
    return out


def bare_understand(text: str) -> list[Hit]:
    """A bare or generic "I understand" with no specifics."""
    return [hit for hit, specific in understand_claims(text) if not specific]


# ---------------------------------------------------------------- apologies

APOLOGY = (
    r"\b(I'?m|I am|we'?re|we are) (so |very |really |truly |sincerely |deeply |terribly )?sorry\b",
    r"\bsorry\b",
    r"\b(I|we) (sincerely |truly |do )?apologi[sz]e\b",
    r"\b(my|our) apologies\b",
    r"\bapologies\b",
    r"\b(I|we) regret\b",
)
ROBOTIC_APOLOGY = (
    r"\b(sorry|apologi[sz]e|apologies|regret)\b[^.!?]{0,20}\b(for |about )?(any|the|this|all the) "
    r"(inconvenience|trouble|issues?|problems?|confusion|hassle|frustration|delay|"
    r"difficulties|disruption)( (this|that) (has|may have|might have) caused( you)?)?"
    r"(?=\s*[.!,]|\s*$)",
    r"\bsorry (about|for) that\b(?=\s*[.!]|\s*$)",
    r"\bwe regret any\b",
    r"\bsorry to hear (that|this)\b(?=\s*[.!]|\s*$)",
    r"\bapologies for any\b",
)


def apologies(text: str) -> list[Hit]:
    """Any apology."""
    return find(APOLOGY, text)


def robotic_apology(text: str) -> list[Hit]:
    """Boilerplate apology ("sorry for the inconvenience")."""
    return find(ROBOTIC_APOLOGY, text)


@memo
def specific_apology(text: str) -> list[Hit]:
    """An apology that names the specific impact or the company's part in it."""
    out: list[Hit] = []
    robotic = robotic_apology(text)
    for hit in apologies(text):
        if any(r.start <= hit.start < r.end for r in robotic):
            continue
        sentence = sentence_of(text, hit)
        after = sentence.text[hit.end - sentence.start :]
        if re.match(r"\s*(to hear|,? but)\b", after, FLAGS) and len(after.split()) < 5:
            continue
        content = re.findall(r"[A-Za-z0-9$']{3,}", after)
        if len(content) >= 3 or re.search(r"\b(on us|our (fault|mistake|error))", after, FLAGS):
            out.append(sentence)
    return out


# ---------------------------------------------------------------- blame and ownership

BLAME = (
    r"\b(that'?s|it'?s|this is|it was|that was|this was)( all| entirely| really)? (the|our|their)"
    r" (\w+ ){0,2}(department|team|partner|company|courier|carrier|warehouse|supplier|"
    r"manufacturer|system|vendor|bank|people)('s)? (fault|mistake|problem|doing|error)",
    r"\b(the|our|their) (courier|carrier|warehouse|system|computer|other department|billing"
    r"( team| department)?|shipping( team| department)?|delivery (company|partner|driver)|"
    r"supplier|manufacturer|driver|post office|vendor|bank|tech team|IT( team)?|previous (agent|"
    r"rep|representative)|other (agent|rep)|night shift|third[- ]party)"
    r" (\w+ ){0,2}(messed|screwed|mixed) up\b",
    r"\b(the|our|their) (courier|carrier|warehouse|system|shipping department|billing department|"
    r"supplier|manufacturer|driver|vendor|bank|previous (agent|rep)|delivery (company|partner)|"
    r"third[- ]party|tech team|other team)[^.!?]{0,30}\b(is|are|was|were) (to blame|responsible|"
    r"at fault|the (problem|issue))",
    r"\bblame (the|our|their|it on)\b",
    r"\b(not|isn't|wasn't) (my|our) (fault|department|problem|responsibility|mistake)\b",
    r"\b(that'?s|it'?s|this is) (out of|outside) (my|our) (hands|control)\b",
    r"\b(you|u) should (have|'ve) (read|checked|ordered|known|looked|called|contacted)\b",
    r"\bif you had (read|checked|ordered|entered|called|looked)\b",
    r"\b(your|the customer's) (own )?(fault|mistake|error)\b",
    r"\byou (entered|typed|gave|put in|selected|chose|picked) (the |a )?wrong\b",
    r"\b(the|our) system (did|does|won't|wouldn't|messed|glitched|errored|failed|made)\b",
    r"\b(glitch|bug) in (the|our) system\b",
    r"\b(they|the warehouse|the courier|the carrier|the driver|the other team|billing|shipping)"
    r" (lost|dropped|damaged|broke|forgot|mislabell?ed|delayed) (it|your|the)\b",
)


def blame(text: str) -> list[Hit]:
    """Passes the blame to another department, a partner, "the system" or the customer."""
    return find(BLAME, text)


OWNERSHIP = (
    r"\bI('ll| will| am going to|'m going to) (personally )?(take care|handle|sort|fix|own|look "
    r"after|get this|get it|make (this|it|that) right|take ownership|take responsibility|"
    r"see (this|it) through|stay on|follow this|chase|make sure|put this right)\b",
    r"\b(that'?s|this is|it'?s) on us\b",
    r"\b(our|my) (mistake|fault|error|bad|slip|failure|oversight|doing)\b",
    r"\bwe (got|made|dropped|messed|let you|should have|fell|didn't|did not)\b",
    r"\b(this|that|it) (is|was) (our|my) (fault|error|mistake|responsibility)\b",
    r"\blet me (make (this|it) right|fix|take care|sort|own|handle|get this)\b",
    r"\bI take (full )?(responsibility|ownership)\b",
    r"\bleave (it|this) with me\b",
    r"\bI('ve| have) (already |just )?(gone ahead|started|reversed|refunded|issued|arranged|"
    r"credited|sent|booked|escalated|processed|applied|placed|submitted|cancelled|created|"
    r"flagged|upgraded|waived|set up)\b",
    r"\bI own (this|it)\b",
    r"\bI'?m on it\b",
    r"\bI('ve| have) (just |already |now )?(put|sent|set|made|got|booked|ordered|queued|"
    r"opened|logged|raised|added|removed|fixed|moved|switched|changed|updated|arranged|"
    r"scheduled|credited|refunded|reversed|cancelled|dispatched|approved|found)\b",
    r"^\W*(done|sorted|all done|that'?s done)\b",
    r"\blet'?s (get|sort|fix|put) (you|this|it|that|your)\b",
    r"\bI('ll| will| am going to|'m going to) (\w+ ){0,2}(process|send|ship|book|refund|credit|"
    r"arrange|dispatch|courier|call|email|update|check|look into|chase|apply|reverse|"
    r"reship|replace|fix|sort|get|have|waive|reimburse|remove|cancel|pay)\b",
    r"\bwe('ll| will) (make (this|it) right|take care|fix|own)\b",
)
DEFLECTION = (
    r"\b(not|isn't) (my|our) (problem|department|responsibility|job)\b",
    r"\bnothing (I|we) can do\b",
    r"\byou('ll| will)? (have|need) to (contact|call|reach|ask|email|take it up with|speak to) "
    r"(the|our|another|your|a different)\b",
    r"\b(that'?s|it'?s) (up to|with|handled by) (the|another|a different)\b",
    r"\bI (just|only) work here\b",
    r"\bout of my hands\b",
    r"\bmy hands are tied\b",
    r"\bI don'?t make the (rules|policy|policies)\b",
    r"\bcan'?t help you( with that)?\b",
)


@memo
def ownership(text: str) -> list[Hit]:
    """Owns the issue ("I'll take care of this", "that's on us")."""
    return find(OWNERSHIP, text)


def deflection(text: str) -> list[Hit]:
    """Deflects the issue elsewhere."""
    return find(DEFLECTION, text)


# ---------------------------------------------------------------- questions

_WH = r"(what|how|why|when|which|where|who|whose)"
_OPEN_LEAD = (
    r"(can|could|would|will) you (please )?(help me understand|tell me|walk me|describe|share|"
    r"explain|say more|fill me in|give me a sense|let me know (what|how|why|more))|"
    r"tell me (more|about|what|how)|walk me through|help me understand|"
    r"I'?d (love|like) to (hear|understand|know) (more|what|how|why)|"
    r"would you (mind )?(telling|sharing|walking|describing)|"
    r"is there (anything|something) (else )?(I|we) should know|"
    r"is there a (time|deadline|date)|are there any (deadlines|time)|"
    r"(can|could|may) I ask (what|how|why|when|which|where|who|about|if there)|"
    r"(was|is) there a (reason|particular|specific)|tell (us|me) (what|how|why|more)"
)
_ID_ASK = (
    r"(order|account|reference|ticket|case|tracking|confirmation|invoice|customer|policy|"
    r"membership|phone|serial)( number| no\.?| #| id| ID)?|e-?mail( address)?|"
    r"(postal |street |home |billing |shipping )?address|full name|your name|"
    r"date of (birth|purchase|order)|zip( code)?|post ?code|last (four|4) digits|plan|username|"
    r"when (did you|you) (order|purchase|buy|place)"
)


@memo
def questions(text: str) -> list[Hit]:
    """Every question sentence."""
    return [s for s in sentences(text) if s.text.rstrip().endswith("?")]


def is_open_question(sentence: str) -> bool:
    """Opens with a wh-word or an invitation to explain; not a yes/no question."""
    s = sentence.strip().lstrip("-•*\"' ").lower()
    filler = (
        r"^(so|and|also|okay|ok|now|first|then|but|just|great|right|thanks|yeah|mm+|oh)[,.]?\s+"
    )
    for clause in re.split(r"\s[-–—]\s|[,;:]\s", s):
        clause = re.sub(filler, "", clause.strip())
        if re.match(_WH + r"\b", clause):
            return True
    return bool(re.search(r"\b(" + _OPEN_LEAD + r")", s, FLAGS))


def is_choice_question(sentence: str) -> bool:
    """Asks the customer to choose among options."""
    return bool(
        re.search(
            r"\b(which (one|option|of (these|those|them|the)|would you (prefer|like)|works|sounds|"
            r"do you (prefer|want|like|fancy|choose)|suits|is better|would suit|would work)|"
            r"what (suits|works) (you )?(best|better)|your (preference|pick)|"
            r"would you (prefer|rather|like (me to|one|the))|what would you prefer|"
            r"(your|you) cho(ice|ose)|up to you|prefer one|either of (these|those)|"
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
        r"\b(what('s| is| was)|can (I|you)|could (I|you)|may I|please|confirm|provide|share|"
        r"send|give|need|have)\b[^.?!]{0,30}?\b(your |the )?(" + _ID_ASK + r")\b",
        sentence,
        FLAGS,
    )


@memo
def exploratory_questions(text: str) -> list[Hit]:
    """Open questions that uncover what is at stake (not asking for an ID or a choice)."""
    out: list[Hit] = []
    for q in questions(text):
        if asks_identifier(q.text) or is_choice_question(q.text) or find(CLOSERS, q.text):
            continue
        if is_open_question(q.text) or re.search(_STAKES, q.text, FLAGS):
            out.append(q)
    return out


# Questions that close a conversation rather than open it up.
CLOSERS = (
    r"\banything else (I|we) can\b",
    r"\banything else (you'?d like|you need|to help|for you today)\b",
    r"\b(is there )?anything else\?",
    r"\bis that all\b",
    r"\bhelp (you )?with anything else\b",
    r"\bhow (are|is) (you|your day)( doing)?( today)?\?",
)
# A closed question can still dig for the real issue when it asks about the stakes.
_STAKES = (
    r"\b(matters? (most )?(to you|most)|at stake|deadline|time (constraint|pressure)|by when|"
    r"riding on|depend(s|ing)? on|a reason|in particular|for you|the full picture|affect(ing|s)?|"
    r"impact(ing|s)?|need (it|this|them) (by|for)|for an? (event|trip|party|occasion|meeting)|"
    r"what('s| is) (driving|behind)|use it for|mainly for|looks? like)\b"
)


def stacked_questions(found: list[Hit]) -> bool:
    """Several questions fired at once: three or more, or two with a list of asks."""
    listy = sum(bool(re.search(r",[^,?]+(,|\band\b|\bor\b)[^?]*\?$", q.text)) for q in found)
    return len(found) >= 3 or (len(found) >= 2 and listy >= 1)


@memo
def closed_questions(text: str) -> list[Hit]:
    """Yes/no questions."""
    return [
        q
        for q in questions(text)
        if not is_open_question(q.text) and not is_choice_question(q.text)
    ]


PLAYBACK = (
    r"\b(so |just )?(to|let me) (make sure|check|confirm|be sure) I('ve| have)? "
    r"(got|get|understand|understood|heard|have)\b",
    r"\bif I('ve| have)? (got|understood|understand|heard) (this|that|you|everything|it)"
    r"( all)?( right| correctly)?\b",
    r"\blet me (play|read|say|repeat|summari[sz]e|recap|reflect)( (that|this|it|what))?"
    r"( (back|I heard))?\b",
    r"\bso what (I'?m hearing|you'?re saying|I hear)( is)?\b",
    r"\bwhat I'?m hearing( is)?\b",
    r"\bit sounds like (what|the (real|main|bigger|biggest)|your (main|real|biggest)|"
    r"the key|what matters)\b",
    r"\b(to summari[sz]e|in summary|to recap|in other words|so in short|putting it together)\b",
    r"\bif I understand (you |this |that )?(correctly|right)\b",
    r"\bso (the|your) (real|main|bigger|biggest|key) (issue|problem|worry|concern|thing)\b",
    r"\bso,? (you|your|the)\b[^.?!]{10,}\b(and|but) (now|you|the|it|what)\b[^.?!]*\?",
    r"\bso you('re| are| have|'ve|'d)\b[^.?!]{8,}",
    r"\bjust so I('m| am) (clear|sure)\b",
    r"\bam I (right|understanding)\b",
    r"\b(to )?play (it|that|this) back\b",
    r"\bwhat I'?m taking away\b",
)
# "So it's the rug edges, daily…" counts as a playback when the reply also checks it.
SO_SUMMARY = (
    r"(^|[.!?:]\s+|[-–—]\s+|\b(okay|ok|right|mm+|got it|i see|thanks)[,.!]?\s+)so,?\s+"
    r"(?!I('ll| will|'m| am| can)\b)(it'?s|it is|it was|the|you|your|what|there|that'?s|this|"
    r"two|if|basically|in short|really|essentially)\b",
)
INVITE_CORRECTION = (
    r"\b(did|have) I (get|got|understand|understood|capture|miss)\b[^.?!]{0,30}\?",
    r"\bis that (right|correct|accurate|fair|a fair summary|it)\?",
    r"\b(correct|tell) me if\b",
    r"\bam I (right|missing|understanding)\b",
    r"\bdoes that (sound|capture|cover|sum)\b[^.?!]{0,30}\?",
    r"\banything I('ve| have)? (missed|got wrong|left out)\b",
    r"\bhave I got (that|this|it|everything)\b",
    r"\b(right|correct|yes|no)\?",
    r"\bis that (it|the gist|about right|a fair summary|what you mean|what'?s happening)\b",
    r"\b(have|did) I (read|got|get|understood|understand|heard|hear|misread|missed)\b",
    r"\btell me if I('ve| have)? (missed|got|misunderstood)\b",
    r"\banything (else )?(I should know|I'?ve missed|I missed|to add)\b",
    r"\bdoes that (match|sound right|fit)\b",
)


def playback(text: str) -> list[Hit]:
    """Summarises the problem back in the agent's own words."""
    hits = find(PLAYBACK, text)
    if not hits and invites_correction(text):
        hits = [sentence_of(text, h) for h in find(SO_SUMMARY, text)]
    return hits


def invites_correction(text: str) -> list[Hit]:
    """Checks its understanding with the customer."""
    return find(INVITE_CORRECTION, text)


AFFIRMATION = (
    r"\bI hear you\b",
    r"^(got it|understood|I see|mm+-?hm+|uh-huh)\b",
    r"\b(got it|understood|I see|that makes sense|fair enough|noted)\b",
    r"\bthank(s| you) for (telling|explaining|sharing|walking|letting me know|laying|"
    r"spelling|the detail|that|clarifying|bearing)\b",
    r"\b(go on|take your time|tell me more|I'?m listening|keep going)\b",
    r"\bthat helps\b",
)


def affirmations(text: str) -> list[Hit]:
    """Brief signals of listening ("got it", "thanks for explaining", "I hear you")."""
    return find(AFFIRMATION, text)


# ---------------------------------------------------------------- offers and options

ACTION_VERB = (
    r"(send|refund|replace|credit|ship|waive|upgrade|overnight|reship|re-?send|issue|arrange|"
    r"escalate|transfer|set up|give|offer|apply|book|schedule|expedite|cancel|switch|repair|swap|"
    r"reverse|reimburse|match|extend|connect|courier|exchange|restore|reinstate|discount|"
    r"compensate|cover|pay|move|bump|add|put|hold|reserve|order|process|get|look into|"
    r"review|raise|open|file|fix|sort|try|update|change|downgrade|pause|remove|sent|"
    r"refunded|credited|shipped|booked)"
)
_OFFER_LEAD = (
    r"\b(I|we)(\s+(can(?!'?t|not| see| hear| imagine| only| tell| understand| get why)|"
    r"could(?!n'?t)|will(?! not)|am able to|are able to|would be happy to|would like to|"
    r"want to|also)|'ll|'d be happy to|'d like to|'m able to)|I'?m going to|option|"
    r"alternatively|how about|what if I|one (thing|choice)|another (thing|choice)|happy to"
)
_OPTION_SPLIT = re.compile(
    r"(?:[;\n•]|\.\s+|\bor\b|\balternatively\b|\banother option\b|\bsecond(ly)?\b|\bthird\b|"
    r"\b(option|choice) (\d|[a-c]|one|two|three)\b|\(\d\)|\b\d\)|\b[a-c]\))",
    FLAGS,
)


_CONTINUATION = r"(or|alternatively|another option|second|third|option|choice|\(?\d|[a-c]\))"


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
    r"\b(transfer|connect|put you through|hand (you|this) over|manager|supervisor)\b", FLAGS
)


def fixes(text: str) -> list[Hit]:
    """Offers of a fix (not offers to hand the customer to someone else)."""
    return [h for h in offers(text) if not _HANDOVER.search(h.text)]


OPTIONS_MARKER = (
    r"\b(two|three|a couple of|a few|some|these|the|your|both) (options|ways|choices|routes|"
    r"possibilities)\b",
    r"\bhere are (the|your|some|two|three) (options|choices)\b",
    r"\b(one|1|first)[:.)]\s[^?]*\b(two|2|second)[:.)]\s",
    r"\beither\b[^.?!]{3,}\bor\b",
    r"\boption (a|1|one)\b",
)


@memo
def options_offered(text: str) -> list[Hit]:
    """Two or more alternatives in one reply."""
    found = offers(text)
    marker = find(OPTIONS_MARKER, text)
    if marker:
        return found if len(found) >= 2 else [*marker, *found, *marker][:2]
    if len(found) >= 2 and re.search(
        r"\b(or|either|option|options|alternatively|which|prefer|choose|choice|two ways|"
        r"a few ways|couple of)\b",
        text,
        FLAGS,
    ):
        return found
    return []


RECOMMEND = (
    r"\bI('d| would)( personally)? (recommend|suggest|go with|lean towards?|pick|choose)\b",
    r"\bmy (recommendation|suggestion|advice|pick|vote)\b",
    r"\b(the|my) (best|quickest|fastest|simplest|safest) (option|choice|bet|route|path)\b",
    r"\bif I were (you|in your (shoes|position))\b",
    r"\bI think (the )?(first|second|third|option|replacement|refund|credit)\b[^.?!]*\b(best|"
    r"better|quickest|fastest|right)\b",
    r"\b(recommended|recommend)\b",
)


def recommends(text: str) -> list[Hit]:
    """Recommends one option."""
    return find(RECOMMEND, text)


def choice_questions(text: str) -> list[Hit]:
    """Lets the customer choose."""
    return [q for q in questions(text) if is_choice_question(q.text)] + [
        h for h in find([r"\blet me know which\b", r"\bup to you\b", r"\byour call\b"], text)
    ]


# ---------------------------------------------------------------- timelines and commitments

_DAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
PRECISE_TIME = (
    r"\bby (the )?(end of (the )?(day|today|business( day)?|tomorrow|the week)|tomorrow|tonight|"
    r"noon|midday|midnight|this (afternoon|evening|morning)|" + _DAY + r"|\d{1,2}(:\d\d)?"
    r"( ?[ap]\.?m\.?)?|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.? \d)",
    r"\bwithin (the next )?(\d+|one|two|three|four|five|six|ten|fifteen|twenty|thirty|"
    r"forty[- ]eight|twenty[- ]four|a few|an?) (minutes?|mins?|hours?|hrs?|business days?|"
    r"working days?|days?)\b",
    r"\bin (the next )?(\d+|one|two|three|five|ten|fifteen|twenty|thirty|an?) (minutes?|mins?|"
    r"hours?|hrs?|business days?|working days?|days?)\b",
    r"\b\d{1,2}(:\d\d)? ?([ap]\.?m\.?)\b",
    r"\b(today|tomorrow|tonight|this (afternoon|evening|morning))\b",
    r"\b(on|this|next|before|until) " + _DAY + r"\b",
    r"\bright (now|away)\b",
    r"\bimmediately\b",
    r"\b(\d{1,2}(st|nd|rd|th)? (of )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
    r"\d{4}-\d{2}-\d{2})\b",
    r"\bbefore (the end of )?(your|the) (call|chat|conversation|trip|party|launch|meeting)\b",
    r"\bwhile (we'?re|you'?re) (still )?(on the (phone|line|call)|chatting|here)\b",
)
VAGUE_TIME = (
    r"\b((?<!as )soon(?! as)|shortly|asap|as soon as (possible|we can|I can)|in a bit|"
    r"in a while|at some point|"
    r"in due course|eventually|in the coming (days|weeks)|a few (days|weeks)|some time|sometime|"
    r"when (we|I) (can|get a chance)|in the near future|before long|down the line|"
    r"at our earliest|as quickly as (we|I) can|once (we|they) can)\b",
    r"\b(someone|somebody|a member of (our|the) team|the team|they) will (be in touch|get back|"
    r"contact|reach out|follow up)\b(?![^.?!]*\b(by|within|today|tomorrow|\d))",
    r"\b(we'?ll|I'?ll) (get back to you|be in touch|let you know)\b(?![^.?!]*\b(by|within|"
    r"today|tomorrow|tonight|\d|this (afternoon|evening|morning)))",
)
COMMITMENT = (
    r"\b(I'?ll|I will|we'?ll|we will|I'?m going to|we'?re going to|I am going to|let me)\s+"
    r"(\w+\s+){0,4}?" + ACTION_VERB + r"\w*\b",
    r"\b(you'?ll|you will) (receive|get|see|have|hear)\b",
    r"\b(will|should) be (processed|sent|refunded|credited|shipped|fixed|resolved|delivered|"
    r"restored|applied|reversed|back|there|with you|in your)\b",
    r"\bI('ve| have) (already |just )?(gone ahead|reversed|refunded|issued|arranged|credited|"
    r"sent|booked|escalated|processed|applied|placed|submitted|waived|set up)\b",
)


def precise_timeline(text: str) -> list[Hit]:
    """A timeline that names a time ("within 15 minutes", "by Tuesday noon")."""
    return find(PRECISE_TIME, text)


def vague_timeline(text: str) -> list[Hit]:
    """A vague timeline ("soon", "shortly", "ASAP")."""
    return find(VAGUE_TIME, text)


@memo
def commitments(text: str) -> list[Hit]:
    """Commits to an action."""
    return find(COMMITMENT, text)


# ---------------------------------------------------------------- saying no

REFUSAL = (
    r"\b(I'?m|I am|we'?re|we are) (not able|unable|not allowed|not permitted|not authori[sz]ed)"
    r" to\b",
    r"\b(I|we) (can'?t|cannot|can not|won'?t be able to|am not able to)\b",
    r"\b(I|we) (don'?t|do not) (offer|allow|do|provide|have a way|price[- ]match|match)\b",
    r"\b(that'?s|that is|it'?s|it is|this is|this isn'?t|it isn'?t) not (possible|something (I|we)"
    r" can|an option|available|allowed|permitted|covered|eligible)\b",
    r"\b(isn'?t|is not|aren'?t|are not) (possible|eligible|covered|allowed|permitted|available|"
    r"an option)\b",
    r"\b(no longer|not) (eligible|covered|available|in stock|possible)\b",
    r"\boutside (of )?(our|the|your) (\w+ )?(return|refund|policy|warranty|window)\b",
    r"\b(won'?t|will not) be (able|possible)\b",
    r"\bunfortunately,? (no|not|we|I)\b",
    r"\b(has been|was|is) (permanently )?discontinued\b",
    r"\bI have to (say no|decline)\b",
    r"\b(there'?s|there is) no way\b",
)
POLICY_ONLY = (
    r"\b(that'?s|that is|it'?s|it is|this is)( just| simply)? (our|the|company|store) "
    r"(policy|rules?|procedure)\b",
    r"\b(the |our )?(policy|rules?) (is|are) (the policy|the rules?|clear|final)\b",
    r"\b(rules are rules|policy is policy|I don'?t make the (rules|policy|policies)|"
    r"my hands are tied|nothing (more )?(I|we) can do|it is what it is)\b",
    r"\b(according to|per|as per) (our |the )?policy\b[^.?!]*[.!]?$",
)
REASON = (
    r"\bbecause\b",
    r"\bsince\b",
    r"\bso that\b",
    r"\bin order to\b",
    r"\bto (keep|protect|ensure|make sure|stay|prevent|be fair|remain|avoid|cover)\b",
    r"\b(fair|fairness|unfair)\b",
    r"\b(every|other|all( our)?) customers?\b",
    r"\b(legal|legally|regulat\w+|safety|security|fraud|compliance|hygiene)\b",
    r"\bprecedent\b",
    r"\b(the |our )?system (doesn'?t|does not|can'?t|cannot|isn'?t able|won'?t)\b",
    r"\b(exists|is there|is in place) (to|so|because)\b",
    r"\b(the reason|the why|that'?s why|which is why|the idea is)\b",
    r"\b(costs? (us )?more|priced|pricing|margin)\b",
    r"\bthe manufacturer\b",
    r"\bno (remaining )?stock\b",
)
ALTERNATIVE = (
    r"\b(but|however|instead|though)\b[^.?!]{0,60}\b(I|we) (can|could|'?ll|will|'?d)\b",
    r"\bwhat (I|we) (can|could|'?m able to|am able to) (do|offer)\b",
    r"\bhere'?s what (I|we) can\b",
    r"\b(I|we) can (offer|do|give|send|arrange|set up|provide|apply|credit|suggest|look)\b",
    r"\b(I|we) could\b",
    r"\balternatively\b",
    r"\b(another|an alternative|a different) (option|route|way|choice)\b",
    r"\binstead\b",
    r"\bwhat I'?d like to do\b",
    r"\bhow about\b",
)
CAVE = (
    r"\b(make|making) an exception\b",
    r"\bjust this (once|one time)\b",
    r"\b(fine|ok(ay)?|alright),? (I'?ll|I will|you win|we'?ll)\b",
    r"\bI'?ll (bend|override|waive the (policy|rule))\b",
    r"\b(since|given) (you('re| are) (threatening|going to post)|the threat)\b",
    r"\bplease don'?t (post|leave a review|tweet|go public)\b",
)


def refusals(text: str) -> list[Hit]:
    """Says no to something."""
    return find(REFUSAL, text)


def policy_only(text: str) -> list[Hit]:
    """ "That's our policy" as the answer."""
    return find(POLICY_ONLY, text)


def reasons(text: str) -> list[Hit]:
    """Explains why (policy reason, fairness/precedent or capability)."""
    return find(REASON, text)


def alternatives(text: str) -> list[Hit]:
    """Offers something it can do instead."""
    return find(ALTERNATIVE, text)


def caves(text: str) -> list[Hit]:
    """Gives in under pressure."""
    return find(CAVE, text)


# ---------------------------------------------------------------- abuse and the ladder

NAME_CALLING = (
    r"\b(idiots?|morons?|imbeciles?|cretins?|clowns?|halfwits?|muppets?|losers?|liars?|"
    r"thie(f|ves)|scammers?|crooks?|parasites?|donkeys?|buffoons?|numpties|numpty|dimwits?|"
    r"jokers?|bozos?|fools?|incompetents|amateurs|chimps?)\b",
)
INSULT = (
    r"\b(incompetent|useless|worthless|pathetic|stupid|dumb|brain-?dead|braindead|joke of a|"
    r"clueless|dense|lazy|spineless|robot|thick|hopeless|a joke)\b",
    r"\bf+u+c*k+\w*|\bsh[i1]t\w*|\bbastards?\b|\bcrap\b|\bdamn\b|\bhell\b|\bf\*+\w*|\bbs\b|"
    r"\bb\*+\w*|\bscrew (you|this|off)\b|\bpiss\w*|\basshole|\bcrap\b",
    r"\bshut up\b",
    r"\bgo to hell\b",
)
THREAT = (
    r"\b(I'?ll|I will|I'?m going to|gonna) (find|come (down|for)|hurt|get|ruin|destroy|sue) you\b",
    r"\bwatch your back\b",
    r"\byou'?ll (regret|pay for)\b",
    r"\bget you fired\b",
    r"\bI know where\b",
)
PERSONAL = (
    r"\b(you|you'?re|you are|your|u|ur|ya|yourself|you people|you lot|this company|"
    r"your company|your team|your staff)\b"
)


def abusive(text: str) -> list[Hit]:
    """Personal attacks, slurs, threats or profanity aimed at the agent or the company."""
    hits = find(THREAT, text) + find(NAME_CALLING, text)
    for hit in find(INSULT, text):
        window = text[max(0, hit.start - 40) : hit.end + 25]
        profanity = re.match(r"(f|sh|b\*|bastard|screw|piss|ass|shut|go to)", hit.text, FLAGS)
        if profanity or re.search(PERSONAL, window, FLAGS):
            hits.append(hit)
    return sorted(hits, key=lambda h: h.start)


UPSET = (
    r"\b(angry|furious|livid|ridiculous|unacceptable|frustrat\w*|fed up|sick (of|and tired)|"
    r"disgust\w*|outrage\w*|terrible|awful|worst|joke|third time|again|still (no|not|waiting|"
    r"nothing|haven'?t)|upset|annoy\w*|unbelievable|seriously|what the|nobody|no one|never "
    r"(arrived|came|got|received)|waste|pathetic|incompetent|useless|done with|cancel|"
    r"leaving|switch(ing)? to|disappoint\w*|horrible|shocking|insane|absurd|appalling|"
    r"worried|anxious|panic\w*|scared|stress\w*|embarrass\w*|desperate|urgent|"
    r"overdraft|charged twice|double[- ]charged|promised|lied|manager|supervisor|robbery|"
    r"rubbish|garbage|irritat\w*|wits'? end|tether|mug|fuming|gutted|scam\w*|"
    r"(yet|once) again|again\?|lost|ruined|missing|broken|damaged|wrong|late|nightmare|"
    r"shambles|disgrace\w*|ridiculous|hours?|days|weeks|refund|compensation)\b",
    r"!!+|\?!",
    r"(?-i:\b[A-Z]{4,}\b)",
)


def upset(text: str) -> list[Hit]:
    """Signs that the customer is upset (anger, worry or distress), abuse included."""
    return sorted(find(UPSET, text) + abusive(text), key=lambda h: h.start)


ATTACK = (
    r"\byou people\b",
    r"\byou lot\b",
    r"\b(your|this) (company|team|staff|service|outfit|store|business) (is|are) (a )?\w+",
    r"\bincompeten\w+\b",
    r"\b(worst|terrible|awful|useless|pathetic|joke) (company|service|support|team|agent|rep)\b",
)


def attacks_agent(text: str) -> list[Hit]:
    """Attacks the agent or the company (insults or "you people are…")."""
    return sorted(abusive(text) + find(ATTACK, text), key=lambda h: h.start)


MANAGER_ASK = (
    r"\b(manager|supervisor|team lead(er)?|someone (senior|in charge|higher|above you|else)|"
    r"your (boss|superior)|higher[- ]up|escalate (this|me|it))\b",
)


def asks_manager(text: str) -> list[Hit]:
    """Asks for a manager or supervisor."""
    return find(MANAGER_ASK, text)


THREATENS_TO_LEAVE = (
    r"\b(cancel\w*|switch\w*|leav\w+|clos\w+ my account|take my business|competitor|done with "
    r"(you|this)|chargeback|dispute|post\w*|tweet\w*|review|social media|twitter|instagram|"
    r"tiktok|facebook|lawyer|sue|small claims|bbb|trading standards|go public|everyone know)\b",
)


def pressure(text: str) -> list[Hit]:
    """Threatens to leave, post publicly, charge back or sue."""
    return find(THREATENS_TO_LEAVE, text)


RUNG_REDIRECT = (
    r"\bI (want|'?d like|am trying|'?m trying|really want) to help\b",
    r"\bI'?m here to help\b",
    r"\b(let'?s|can we|could we|if we can) (focus|keep|stay|get back|work)\b",
    r"\b(focus(ed)?|concentrate) on (solving|fixing|getting|the (issue|problem|order|fix))\b",
    r"\bkeep (this|the conversation|us|things) (focused|on track|productive|moving)\b",
    r"\bbest (way|if we)\b[^.?!]{0,40}\b(help|solve|fix)\b",
    r"\b(we'?ll|we will|we can) get further\b",
    r"\b(stick|stay|keep) (to|on|with) (the|this|your) (\w+ )?(fee|order|issue|problem|point|"
    r"refund|delivery|bill|claim|question)\b",
    r"\bthe quickest way is\b",
)
RUNG_NAME = (
    r"\b(name-?calling|insults?|swearing|profanity|personal attacks?|abusive|that (kind of|sort "
    r"of|type of) (language|talk|comment)|that language|those (words|comments|remarks)|"
    r"offensive|being (called|insulted|sworn at)|call(ing)? me names)\b",
    r"\b(not able|unable|can'?t|cannot|won'?t be able) to (continue|keep going|carry on|help)"
    r"[^.?!]{0,30}\b(if|while|when|with)\b",
    r"\b(keep|stay|be) (it |this |things )?(respectful|civil|courteous|polite)\b",
    r"\bplease (don'?t|do not|stop) (call|insult|swear|speak to me|talk to me|use)\b",
    r"\bI (won'?t|will not|can'?t) accept\b",
    r"\bspoken to like that\b",
)
RUNG_BOUNDARY = (
    r"\bpause (this|the|our) (call|conversation|chat)\b",
    r"\b(I'?m going to|I need to|I'?ll|let'?s|I have to) pause( here| now| for now| this)?\b",
    r"\b(continue|pick (this|it) up|carry on|follow up) (by|over|via|on) e-?mail\b",
    r"\b(take a|short) (break|pause)\b",
    r"\bcontinue (this )?(by|over|via|through|on|in) (e-?mail|writing|chat|message)\b",
    r"\b(connect|transfer|pass|hand) (you|this)( over)? (to|with) (my |a |our )?(manager|"
    r"supervisor|team lead|colleague|senior)\b",
    r"\bif (this|the (language|name-?calling|insults?|abuse)) (continues|carries on|keeps up)\b",
    r"\b(one more|last) (warning|time)\b",
    r"\bstep (away|back) (from )?(this|the)\b",
    r"\b(e-?mail|write to) (us|me) (instead|so)\b",
)
AGENT_ENDS = (
    r"\b(I'?m|I am|I'?ll|I will|I have to|I need to|I must|I'?m going to|I am going to|"
    r"I'?m now|we'?ll|we will|we'?re going to|I'?ve (got|decided) to) (now )?(end|close|"
    r"disconnect|terminate|conclude)( (this|the|our))? (call|chat|conversation|session|"
    r"interaction)\b",
    r"\b(I'?m|I am|we'?re|we are) (now )?(ending|closing|disconnecting|terminating) (this|the|"
    r"our) (call|chat|conversation|session|interaction)\b",
    r"\b(I'?m|I am|I'?ll|I will|I'?m going to) (now )?(hang(ing)? up|disconnect(ing)?)\b",
    r"^\W*(ok(ay)?\W+)?(bye|goodbye)\W*$",
    r"\bthis (call|chat|conversation) (is|will be|has been) (ended|closed|over|terminated)\b",
    r"\bgoodbye\b",
)
PATH_BACK = (
    r"\b(call|ring|write|reach|contact|message|email|e-?mail) (us|me|back|the team|our team|"
    r"support)\b",
    r"\bcome back\b",
    r"\bwelcome to (call|reach|contact|come|write|get)\b",
    r"\breply to (this|that|the) (e-?mail|message|thread)\b",
    r"\breopen\b",
    r"\b(by|via|over) e-?mail\b",
    r"\bwhen you('re| are) ready\b",
    r"\bticket (number|reference) is\b",
    r"\banother (time|agent|day)\b",
    r"\b(is|stays|remains) open\b",
)
END_REASON = (
    r"\b(language|abusive|abuse|insults?|name-?calling|swearing|threats?|the way (I'?m|I am) being"
    r" (spoken|talked) to|personal attacks?|not able to continue|can'?t continue|cannot continue|"
    r"unable to continue)\b",
    r"\bbecause\b",
)


def ladder_rung(text: str) -> int:
    """Which escalation-ladder rung a reply stands on: 0 none, 1 redirect, 2 name the
    behaviour, 3 set a boundary, 4 end the interaction."""
    conditional = re.search(r"\bif\b[^.?!]*\b(end|clos|disconnect|hang)", text, FLAGS)
    if find(AGENT_ENDS, text) and not conditional:
        return 4
    if find(RUNG_BOUNDARY, text) or conditional:
        return 3
    if find(RUNG_NAME, text):
        return 2
    if find(RUNG_REDIRECT, text):
        return 1
    return 0


def ends_conversation(text: str) -> list[Hit]:
    """The agent ends the conversation."""
    if re.search(r"\bif\b[^.?!]*\b(end|close|disconnect)\b", text, FLAGS):
        return [h for h in find(AGENT_ENDS, text) if h.text.lower() != "goodbye"]
    return find(AGENT_ENDS, text)


def path_back(text: str) -> list[Hit]:
    """Tells the customer how to come back."""
    return find(PATH_BACK, text)


def end_reason(text: str) -> list[Hit]:
    """Says why it is ending the conversation."""
    return find(END_REASON, text)


WARNS_CUSTOMER = (
    r"\b(your|that) tone\b",
    r"\b(end|terminate|disconnect|close) (this|the) (call|chat|conversation)\b",
    r"\b(not able|unable|can'?t|cannot|won'?t) (continue|carry on|keep going)\b",
    r"\b(keep|stay|be) (it |this )?(respectful|civil|polite)\b",
    r"\bif you (continue|keep|carry on)\b",
    r"\b(abusive|inappropriate|offensive|unacceptable) (language|behaviou?r)\b",
    r"\bwatch your (language|tone|words)\b",
    r"\b(no need|there'?s no need) (to|for) (that|be rude|the attitude|shout)\b",
    r"\b(don'?t|do not) (speak|talk) to me (like|that way)\b",
    r"\bI won'?t tolerate\b",
)


def warns_customer(text: str) -> list[Hit]:
    """Polices the customer's tone or threatens to end the conversation."""
    return find(WARNS_CUSTOMER, text)


DEFENSIVE = (
    r"\bI'?m (just |only )?(doing my (best|job)|trying my best|one person|human too|a person)\b",
    r"\b(it'?s|that'?s|it is|that is) not my fault\b",
    r"\bI (just|only) work here\b",
    r"\bI didn'?t (do|cause|make|break|ship|write|set) (it|this|that|the)\b",
    r"\b(how dare|excuse me\?|that'?s (rude|uncalled for|out of line)|you'?re (being )?rude)\b",
    r"\bI don'?t (appreciate|deserve|have to take)\b",
    r"\b(no need|there'?s no need) (to|for) (be rude|the attitude|that)\b",
    r"\bwatch your (tone|language|mouth)\b",
    r"\b(don'?t|do not) (speak|talk) to me (like|that way)\b",
    r"\byou'?re the one\b",
    r"\bnot (personally )?responsible for\b",
    r"\bI'?m not going to be (spoken|talked) to\b",
    r"\bI don'?t come to your\b",
    r"\bat least I\b",
    r"\bno need to (shout|yell|be rude|swear)\b",
    r"\b(won'?t|will not) tolerate\b",
    r"\bI don'?t think that'?s fair\b",
    r"\b(maybe|perhaps) (don'?t|you should(n'?t)?|try not)\b",
    r"\bthreat(s|ening)( \w+)? won'?t\b",
    r"\b(at|on) your end\b",
    r"\bsorry you feel that way\b",
    r"\bif you can'?t be (civil|polite|nice)\b",
)


def defensive(text: str) -> list[Hit]:
    """Defensive, wounded or retaliatory answers to an attack."""
    return find(DEFENSIVE, text) + [h for h in abusive(text)]


# ---------------------------------------------------------------- escalation

ESCALATE = (
    r"\b(escalat\w+|supervisor|manager|team lead(er)?|specialist|senior (agent|colleague|team)|"
    r"approval|sign[- ]off|billing team|finance team|claims team)\b",
)
AUTHORITY = (
    r"\b(above|beyond|outside|over|exceeds?) (my|what I can|the) (authority|limit|approval|"
    r"approve|sign[- ]off)\b",
    r"\b(need|needs|requires?) (a )?(supervisor|manager|team lead|senior|finance)('s)? "
    r"(approval|sign[- ]off|authori[sz]ation|review|ok)\b",
    r"\bI'?m not (authori[sz]ed|able to approve|allowed to approve)\b",
    r"\b(can'?t|cannot) approve\b",
    r"\b(more than|beyond what) I('m| am)? (can|able to|allowed to)?\s?(approve|authori[sz]e)\b",
)
TRANSFER_OFFER = (
    r"\b(connect|transfer|put|pass|bring|get|hand) (you|this)( through| over)? (to|with) "
    r"(my |a |the |our )?(manager|supervisor|team lead|senior)\b",
    r"\b(I can|I'?ll|I will|happy to|I'?d be happy to) (get|bring|fetch|call) (my |a |the )?"
    r"(manager|supervisor)\b",
    r"\b(manager|supervisor) (can|will) (join|call|speak|take|be with)\b",
)
RESPECT_REQUEST = (
    r"\b(absolutely|of course|certainly|sure|I respect that|that'?s (completely |totally )?"
    r"(fine|fair|reasonable|understandable)|happy to|no problem|I can do that|completely fair)\b",
)
ASK_CHANCE = (
    r"\bbefore I (do|transfer|connect|get)\b",
    r"\b(give|allow|let) me (a |two |three |five |a few )?(minutes?|moment|chance|shot|try)\b",
    r"\b(would|will|could|can) you (be open to|let me|allow me|give me)\b",
    r"\bmay I (try|have|take)\b",
    r"\blet me (try|see what I can|have a go|take a look)\b",
    r"\bI (may|might) be able to\b",
    r"\b(full )?authority to\b",
)
PROMISE_TRANSFER = (
    r"\bif (you'?re not|you are not|that doesn'?t|I can'?t|it doesn'?t|you still|you'?re still|"
    r"at any point)\b[^.?!]{0,80}\b(transfer|connect|manager|supervisor|hand)\b",
    r"\b(transfer|connect) you (right away|immediately|straight away|straightaway|at once|"
    r"no questions)\b",
    r"\bno run-?around\b",
)
STONEWALL = (
    r"\b(no|there'?s no) (manager|supervisor) (is )?(available|here|on shift)\b",
    r"\b(manager|supervisor) (will|would) (just )?(say|tell you) the same\b",
    r"\b(can'?t|cannot|won'?t|will not|not able to) (transfer|connect|put) you\b",
    r"\bI'?m the (only|highest|most senior)\b",
    r"\b(don'?t|do not) (need|get) (a|to speak to a) (manager|supervisor)\b",
    r"\b(there'?s )?no need (for|to involve|to get) (a |the )?(manager|supervisor)\b",
    r"\b(managers?|supervisors?) (don'?t|do not) (take|handle|do)\b",
)


def escalates(text: str) -> list[Hit]:
    """Mentions escalating to a supervisor/specialist."""
    return find(ESCALATE, text)


def authority_limit(text: str) -> list[Hit]:
    """Says the fix is outside its authority."""
    return find(AUTHORITY, text)


BACKS_TEAM = (
    r"\b(my|our|the) (colleague|team ?mate|team member|agent|rep|representative|associate|"
    r"teammate|team)\b[^.?!]{0,40}\b(made the right (call|decision)|did the right thing|was right|"
    r"acted (correctly|appropriately|properly)|followed (our|the) (policy|guidance|process)|"
    r"handled (it|that|this) (correctly|properly|appropriately|well)|made a (fair|reasonable|"
    r"sound) (call|decision))\b",
    r"\bI (fully |completely |100% )?(support|stand (by|behind)|back|agree with) (my|our|the|"
    r"that|their|his|her) (colleague|team|team member|agent|rep|decision|call)\b",
    r"\b(the|that) (call|decision) to end\b[^.?!]{0,40}\b(right|correct|appropriate|stand)\b",
    r"\b(right|correct|appropriate) (call|decision) to end\b",
    r"\b(made|was|is) the right (call|decision|thing)\b",
    r"\bdid the right thing\b",
    r"\bhad every right to (end|close|stop|hang up)\b",
    r"\bin line with our (guidance|policy|rules|process)\b",
    r"\bI (fully |completely |100% )?(support|back|stand by|stand behind|agree with) (that|her|"
    r"him|them|it|the decision|the call|this decision)\b",
    r"\bI (back|support) (her|him|them) fully\b",
)
UNDERMINES_TEAM = (
    r"\b(shouldn'?t|should not|should never) have (hung up|ended|cut you off|disconnected|"
    r"closed)\b",
    r"\b(I|we) apologi[sz]e (for|on behalf of) (my|our|the) (colleague|agent|rep|team member|"
    r"associate)\b",
    r"\bsorry (for|about) (how )?(my|our|the) (colleague|agent|rep|team member)\b",
    r"\b(he|she|they) (was|were) (wrong|out of line|rude|unprofessional|in the wrong|"
    r"mistaken)\b",
    r"\bwill be (disciplined|spoken to|dealt with|reprimanded|coached)\b",
    r"\bI'?ll (have a word|talk|speak|deal) (with|to) (him|her|them|that agent|the agent)\b",
    r"\b(that|the) (agent|rep|colleague) (is|was) (new|inexperienced|untrained)\b",
    r"\bnot (how|the way) we (treat|do)\b",
    r"\bapologi(es|se|ze) (for how|on (his|her|their) behalf)\b",
    r"\b(really |very )?unprofessional\b",
    r"\btak(e|ing) it up with (him|her|them)\b",
    r"\bcan'?t believe (s?he|they) (hung|cut|ended|closed)\b",
    r"\bto make up for (his|her|their) (conduct|behaviou?r|rudeness)\b",
)


def backs_team(text: str) -> list[Hit]:
    """(Manager) backs the team member's decision."""
    return find(BACKS_TEAM, text)


def undermines_team(text: str) -> list[Hit]:
    """(Manager) blames or undermines the team member."""
    return find(UNDERMINES_TEAM, text)


# ---------------------------------------------------------------- resolution and close

ACCEPTANCE = (
    r"\b(that (works|would work|sounds (good|great|fair|fine|ok|okay|reasonable))|ok(ay)?,? "
    r"(let'?s|do it|go|then|fine|that)|(let'?s|please) (do|go with) (that|it|the)|I'?ll (take|go "
    r"with)|deal\b|perfect|fine,? (do|go)|yes,? please|sounds (good|great|fair|fine)|that'?s "
    r"(fine|fair|great|perfect|good|all I)|thank(s| you)( so much)?[,.! ]+(that|this) (helps|works)"
    r"|I can live with|I accept|go ahead|do (that|it|the first|the second)( one)?\b|"
    r"(first|second) one|that (actually )?works|works for me)",
)
AFFIRMATIVE_START = (
    r"^\W*(ok(ay)?|yes|yeah|yep|yup|fine|sure|great|perfect|brilliant|lovely|alright|all right|"
    r"right|good|deal|go on then|please do|oh\W+yes|no,? that'?s (fine|great|all|perfect))\b",
)
REJECTION = (
    r"\b(not (good enough|acceptable|ok(ay)?|what I|enough|happy)|no way|that'?s not|doesn'?t "
    r"(help|work|cut it)|won'?t (do|work)|unacceptable|ridiculous|not interested|still (not|no)|"
    r"I (want|need|asked for) (a |my |the )?(full |proper )?(refund|manager|supervisor)|why "
    r"should I|you must be joking|useless|pathetic|forget it)\b",
)


def accepts(text: str) -> list[Hit]:
    """The customer accepts an offer (explicitly, or by a short affirmative reply)."""
    if find(REJECTION, text):
        return []
    hits = find(ACCEPTANCE, text)
    if not hits and len(text.split()) <= 25:
        hits = find(AFFIRMATIVE_START, text)
    return hits


TEACH_BACK = (
    r"\b(to confirm|just to confirm|so to confirm|confirming|to recap|quick recap|so to "
    r"summari[sz]e|to sum up|here'?s what (happens|will happen|I'?ve done|we'?ve agreed)|"
    r"so the (plan|next step) is|we'?ve agreed|what (happens|will happen) next|next steps? "
    r"(is|are)|the plan is|so, in short)\b",
)
CONFIRM_SATISFACTION = (
    r"\bdoes (that|this|the)( plan| option| solution)? (work|sound|meet|cover|address|fix|"
    r"solve|help)\b",
    r"\b(is|would) (that|this) (ok|okay|alright|all right|acceptable|what you (need|needed|wanted"
    r"|had in mind|were hoping))\b",
    r"\bare you (happy|comfortable|ok|okay|satisfied|good) with\b",
    r"\b(will|would) (that|this) (work|do|help)\b",
    r"\bhow does (that|this) sound\b",
    r"\b(meets?|meet) your (needs|expectations)\b",
    r"\b(is there )?anything else (I can|you need|we can|you'?d like)\b",
    r"\bhave I (covered|addressed|answered|solved)\b",
    r"\bdid (that|this|I) (answer|solve|fix|help|cover)\b",
    r"\bdoes that feel\b",
    r"\bfeel (ok|okay|right|good) (about|with)\b",
)
FOLLOW_UP = (
    r"\b(I'?ll|I will|we'?ll|we will|I'?m going to)( also)? (follow up|check in|call you|ring "
    r"you|email you|e-?mail you|send you|text you|message you|reach out|touch base|be in touch)\b",
    r"\bfollow[- ]?up\b",
    r"\b(summary|recap|confirmation|written confirmation|update)\b[^.?!]{0,30}\b(email|e-?mail|"
    r"inbox|text|message)\b",
    r"\bif (anything|it|that|the \w+|this|something) (slips|changes|doesn'?t (arrive|show|work|"
    r"happen|come)|goes wrong|isn'?t|is late|hasn'?t)\b",
    r"\breply (to|directly to) (this|that|the|my)\b",
    r"\b(feedback|survey|how did (we|I) do|rate (this|our|the|your))\b",
    r"\bmy direct (line|email|e-?mail|number|contact)\b",
)
EMPOWER = (
    r"\bnext time\b",
    r"\b(in (the )?future|going forward|from now on)\b",
    r"\bto (avoid|prevent) (this|it|that)\b",
    r"\bso (this|it|that) (doesn'?t|does not|won'?t|will not) happen again\b",
    r"\byou can (also |always |now )?(track|check|see|set|use|turn on|enable|find|update|view|"
    r"manage|change|log in|sign up|get alerts|download|follow)\b",
    r"\bhere'?s how\b",
    r"\b(tip|pro tip)\b:",
    r"\b(I'?ll|I will|I'?ve) (show|walk) you (how|through)\b",
    r"\b(the|your) (app|portal|account page|dashboard|settings|tracking page)\b",
)
PICKLE = (
    r"\b(as a|a small) (thank[- ]you|goodwill gesture|gesture of goodwill|thanks|token)\b",
    r"\bgesture\b",
    r"\b(on top|extra|bonus|complimentary|courtesy|on the house)\b",
    r"\b(also|additionally)\b[^.?!]{0,40}\b(add(ed)?|credit(ed)?|include|throw in|upgrade|waive|"
    r"discount|voucher|gift|free)\b",
    r"\b(discount|voucher|coupon|gift card|promo code|\d+% off)\b[^.?!]{0,40}\b(next|future)\b",
    r"\bfree (upgrade|month|shipping|delivery|gift|accessory)\b",
    r"\b(I'?ll|I will) (personally )?(call|check in|ring|follow up)\b[^.?!]{0,40}\b(days?|week|"
    r"tomorrow|\w+day)\b",
    r"\bhandwritten\b",
    r"\bI'?ve (also )?(added|applied|included|thrown in|set up|set) (a|an|your)\b[^.?!]{0,40}"
    r"\b(voucher|credit|discount|code|gift|reminder|month|upgrade|refund)\b",
    r"\bI'?ll (also )?(ring|call|email|text|message|check in with|phone) you\b[^.?!]{0,60}\b"
    r"(to (check|make sure|see|confirm)|check)\b",
    r"\b(also|additionally|as well)\b[^.?!]{0,50}\b(refund\w*|credit\w*|voucher|waiv\w*|free|"
    r"discount\w*)\b",
    r"\bfor the (mix-?up|trouble|hassle|inconvenience|wait|delay)\b",
    r"\b(voucher|gift card)\b",
)
OPENER_GREETING = (
    r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|dear|thanks for (reaching out|calling|"
    r"contacting|writing|getting in touch|your message)|thank you for (reaching out|calling|"
    r"contacting|writing|getting in touch|your message))\b",
)
OPENER_PURPOSE = (
    r"\b(I'?m here to help|I can help|I'?m (\w+ )?(from|with|on) (the )?\w+|this is \w+|my name"
    r" is|here to (help|sort|look)|I'?ll be (helping|looking after)|I'?m (looking|taking a look) "
    r"(at|into))\b",
)
OPENER_GOAL = (
    r"\b(my goal|our goal|the goal|let'?s get|I want to (get|make sure|sort|fix|have)|today (we|"
    r"I)('ll| will)|I'?d like to (get|make|sort|have)|aim to|by the end of (this|our|the)|"
    r"before (we|you) (hang up|finish|leave)|I'?ll make sure|I'?m going to (get|make sure|sort))\b",
)
UNSURE = (
    r"\bI'?m not (sure|certain|100%)\b",
    r"\bI don'?t (know|have (that|the) (answer|information|info))\b",
    r"\bI'?d (need|have) to (check|confirm|look into|find out)\b",
    r"\blet me (check|find out|confirm|look into|verify)\b",
    r"\bI'?ll (find out|check|confirm|look into|verify)\b",
    r"\bI (need|want) to (check|confirm|verify) (that|this|with)\b",
)
GUESS = (
    r"\bI('m| am) (pretty|fairly|quite) (sure|confident)\b",
    r"\b(probably|I guess|I'?d guess|should be fine|most likely|I think (it|that|the|they|you)"
    r"('s| is| will| should| are)?|I believe (it|the|that|they)|usually|normally|typically)\b",
)


def teach_back(text: str) -> list[Hit]:
    """Restates the agreed next step ("To confirm, …")."""
    return find(TEACH_BACK, text)


def confirm_satisfaction(text: str) -> list[Hit]:
    """Checks that the plan meets the customer's expectations."""
    return find(CONFIRM_SATISFACTION, text)


def follow_up(text: str) -> list[Hit]:
    """Promises or describes a follow-up."""
    return find(FOLLOW_UP, text)


def empower(text: str) -> list[Hit]:
    """Shows the customer how to avoid the problem or how the fix works."""
    return find(EMPOWER, text)


def pickle(text: str) -> list[Hit]:
    """An unexpected extra beyond the fix."""
    return find(PICKLE, text)


def unsure(text: str) -> list[Hit]:
    """Admits not knowing."""
    return find(UNSURE, text)


def guesses(text: str) -> list[Hit]:
    """Hedged guesses about facts or policy."""
    return find(GUESS, text)


# ---------------------------------------------------------------- repeat asks

_FACT_KEYS: dict[str, tuple[str, ...]] = {
    "order": ("order",),
    "account": ("account", "customer_id", "member"),
    "reference": ("reference", "ticket", "case"),
    "ticket": ("ticket", "case", "reference"),
    "case": ("case", "ticket", "reference"),
    "tracking": ("tracking",),
    "confirmation": ("confirmation", "order"),
    "invoice": ("invoice", "bill"),
    "e-mail": ("email", "e-mail"),
    "email": ("email", "e-mail"),
    "address": ("address",),
    "name": ("name",),
    "plan": ("plan", "tier", "subscription"),
    "phone": ("phone", "mobile"),
    "serial": ("serial", "model"),
    "date": ("date", "ordered", "purchase", "bought", "_on", "since"),
    "when": ("date", "ordered", "purchase", "bought", "_on"),
    "membership": ("member", "account"),
    "policy": ("policy",),
}
_ID_TOKEN = re.compile(r"\b(?=[A-Z0-9-]*\d)[A-Z0-9]{1,5}-?\d{3,}[A-Z0-9-]*\b|#\s?\d{3,}")


def repeat_asks(text: str, context: Mapping[str, Any], earlier_customer_text: str) -> list[Hit]:
    """Questions asking for a fact the case context or the customer already gave."""
    out: list[Hit] = []
    keys = [str(k).lower() for k in context]
    customer_ids = bool(_ID_TOKEN.search(earlier_customer_text))
    for sentence in sentences(text):
        m = asks_identifier(sentence.text)
        if not m:
            continue
        asked = m.group(m.lastindex or 0).lower() if m.lastindex else m.group(0).lower()
        asked_word = re.search(
            r"(order|account|reference|ticket|case|tracking|confirmation|invoice|e-?mail|address|"
            r"name|plan|phone|serial|date|when|membership|policy)",
            asked,
        )
        if not asked_word:
            continue
        word = asked_word.group(1).replace("e-mail", "email")
        wanted = _FACT_KEYS.get(word, (word,))
        in_context = any(any(w in key for w in wanted) for key in keys)
        if word == "name" and "customer_name" not in keys:
            in_context = False
        said = customer_ids and word in {
            "order",
            "account",
            "reference",
            "ticket",
            "case",
            "tracking",
            "confirmation",
            "invoice",
        }
        if in_context or said:
            out.append(sentence)
    return out
