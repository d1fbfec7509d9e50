"""Section 1 of GUIDELINES.md: de-escalation (seed 000 §1, 001, 002 §1-2, 003)."""

from __future__ import annotations

import re

from harness import signals as sig
from harness.graders.base import Finding, GradeInput, Quote, finding, grader

# "you're unhappy with the charges" restates the complaint; it names no particular feeling
_COMPLAINT_ADJ = re.compile(r"\b(unhappy|dissatisfied|displeased)$", re.I)
_COMPLAINT_OBJ = re.compile(r"\s+(with|about|that)\b", re.I)


def _feelings(text: str) -> list[sig.Hit]:
    """Named feelings, not a complaint restated as dissatisfaction ("you're unhappy with
    the mattress")."""
    return [
        h
        for h in sig.names_emotion(text)
        if not (_COMPLAINT_ADJ.search(h.text) and _COMPLAINT_OBJ.match(text, h.end))
    ]


def _named_outside_stock(text: str) -> list[sig.Hit]:
    """Named feelings that are not inside a stock "I understand your frustration"."""
    stock = sig.bare_understand(text)
    return [h for h in _feelings(text) if not any(b.start <= h.start < b.end for b in stock)]


@grader("deesc.name_emotion")
def name_emotion(g: GradeInput) -> Finding:
    """deesc.name_emotion (000 §1 golden rules): names the customer's feeling early."""
    judged = g.first(sig.judgemental_label, g.agent)
    if judged:
        return finding("violated", "labels the customer's feeling judgementally", judged)
    named = g.first(_feelings, g.agent)
    if named is None:
        # "I can see why you want a manager": the reaction is validated, the feeling unnamed
        reaction = g.first(sig.reaction_understood, g.agent[:2])
        if reaction:
            return finding(
                "partial",
                "says the customer's reaction is understandable, naming no feeling",
                reaction,
            )
        return finding("missed", "looked for a named feeling (frustrated, stressful, worried…)")
    early = [i for i, _ in g.agent[:2]]
    own = g.first(_named_outside_stock, g.agent)
    if own is not None and own.turn in early:
        return finding("met", "names the customer's feeling in its first two replies", own)
    if named.turn in early:
        return finding(
            "partial",
            "names the feeling early only in a stock 'I understand your frustration'",
            named,
        )
    return finding("partial", "names the feeling, but only after its second reply", named)


@grader("deesc.we_language")
def we_language(g: GradeInput) -> Finding:
    """deesc.we_language (000 §1): collaborative "we / let's / together" within two replies."""
    # framing that brings the customer in; the company's "we'll get it sorted" does not
    early = g.first(sig.we_language, g.agent[:2])
    if early:
        return finding("met", "moves to collaborative framing in its first two replies", early)
    later = g.first(sig.we_language, g.agent[2:])
    if later:
        return finding("partial", "collaborative framing appears, but late", later)
    return finding("missed", "looked for we / let's / together framing; found only you/policy")


def _names(g: GradeInput) -> frozenset[str]:
    """Capitalised codes and acronyms the customer or the case file used ("SSO", "INFY"):
    capitals never written in lower case anywhere in the conversation."""
    said = " ".join([*(t for _, t in g.customer), *map(str, g.context.values())])
    words = {w for _, t in [*g.customer, *g.agent] for w in re.findall(r"\b[a-z][a-z']*\b", t)}
    return frozenset(w for w in sig.caps_words(said) if w.lower() not in words)


@grader("deesc.calm_register")
def calm_register(g: GradeInput) -> Finding:
    """deesc.calm_register (000 §1, 002 §2): short calm sentences; no caps, '!!' or sarcasm."""
    names = _names(g)
    heat = g.first(lambda t: sig.shouting(t, names), g.agent)
    if heat:
        return finding("violated", "shouting capitals, '!!' or sarcasm in a reply", heat)
    if not g.agent:
        return finding("na", "no agent replies")
    rambling = g.first(sig.long_sentences, g.agent)
    if rambling:
        return finding("met", "calm throughout, though some sentences run long", rambling)
    return finding("met", "short, calm sentences throughout")


@grader("deesc.no_calm_down")
def no_calm_down(g: GradeInput) -> Finding:
    """deesc.no_calm_down (000 §1): never "calm down", "relax", "as I said", "you misunderstood"."""
    # labelling the customer's feeling ("you're being aggressive", "you're overreacting")
    # talks down to them as surely as "calm down"
    hit = g.first(sig.tells_calm_down, g.agent) or g.first(sig.judgemental_label, g.agent)
    if hit:
        return finding("violated", "tells the customer to calm down or talks down to them", hit)
    policed = _unprovoked_warning(g)
    if policed:
        return finding(
            "violated", "polices the tone of a customer who had not been abusive", policed
        )
    return finding("met", "never tells the customer to calm down")


def _unprovoked_warning(g: GradeInput) -> Quote | None:
    """A warning about the customer's language or tone before any abuse: telling off a
    customer who swore at the situation, not at the agent, talks down to them as surely
    as "calm down" (after abuse the same warning is a rung of the ladder)."""
    if g.persona is not None and g.persona.abuse.level == "abusive":
        return None
    first_abuse = min(g.abusive_turns, default=None)
    before = [(i, t) for i, t in g.agent if first_abuse is None or i < first_abuse]
    return g.first(_polices_language, before)


# what a tone warning is about: the customer's words or manner, not ending the contact
_MANNER = re.compile(
    r"language|tone|swear|profan|curs|respect|civil|polite|courteous|manner|words|attitude",
    re.I,
)
_SHARED = re.compile(r"\b(we|us|let'?s)\b", re.I)


def _polices_language(text: str) -> list[sig.Hit]:
    """Tells the customer off for their language or tone ("please mind your language"),
    not a shared ground rule ("I'm happy to carry on if we keep it civil")."""
    return [
        h
        for h in sig.warns_customer(text)
        if _MANNER.search(h.text) and not _SHARED.search(sig.sentence_of(text, h).text)
    ]


@grader("deesc.no_generic_understand")
def no_generic_understand(g: GradeInput) -> Finding:
    """deesc.no_generic_understand (000 §1 what not to do): no bare "I understand"."""
    bare = g.first(sig.bare_understand, g.agent)
    if bare:
        return finding("violated", "a bare 'I understand' with nothing specific behind it", bare)
    backed = [
        Quote(i, hit)
        for i, text in g.agent
        for hit, specific in sig.understand_claims(text)
        if specific
    ]
    if backed:
        return finding("met", "every 'I understand' names what was understood", backed[0])
    return finding("met", "no empty 'I understand'")


def _replies(g: GradeInput) -> list[tuple[int, str]]:
    """The agent's replies to the customer: an opening greeting the agent spoke before the
    customer said anything (a call-back, a phone greeting) is not a reply to the complaint."""
    if len(g.agent) > 1 and g.customer and g.agent[0][0] < g.customer[0][0]:
        return g.agent[1:]
    return g.agent


# a goal or a promise to look, not yet a fix ("I'm going to get this settled with you")
_GOAL = re.compile(
    r"\b(settle|settled|sort|sorted|resolve|resolved|look|looking|check|checking|help|"
    r"get to the bottom|find out|figure|work out|fix (this|it|that|things))\b",
    re.I,
)


@grader("deesc.no_premature_solution")
def no_premature_solution(g: GradeInput) -> Finding:
    """deesc.no_premature_solution (000 §1): acknowledge before proposing a fix."""
    # Upset at any point (a customer who turns upset at the answer was owed the pause too),
    # or grieving: a customer reporting a death is owed the acknowledgement first; or shaken
    # in words no complaint list holds ("I'm in shock", "I can't cope with this"); or
    # calm, but saying at the outset what rides on it (a baby without heat, money they
    # cannot spare, a visa date): an emotional moment to acknowledge all the same.
    if not (g.customer_upset or any(sig.upset(t) for _, t in g.customer) or g.customer_shaken):
        return finding("na", "the customer was not upset")
    replies = _replies(g)
    if not replies:
        return finding("na", "no agent replies")
    index, text = replies[0]
    # a step put to the customer ("you'll need to update the card", "have you tried
    # restarting it?") is a fix too
    fix = sorted(
        sig.concrete_fixes(text) + sig.customer_steps(text) + sig.action_done(text),
        key=lambda h: h.start,
    )
    # asking after the customer's safety first ("are you okay?") acknowledges the moment
    # too, as does an "I understand" that says what was understood ("I understand you've
    # paid the full rate since May while living alone")
    ack = (
        sig.empathy(text)
        or sig.listening_words(text)
        or g.condolences(index, text)
        or sig.welfare_check(text)
        or [hit for hit, specific in sig.understand_claims(text) if specific]
    )
    if not ack and any(i < index for i in g.manager_asks):  # accepting the request
        ack = sig.grants_manager_request(text)
    # a stock "I understand how you feel" or "sorry for the inconvenience": the customer
    # was acknowledged, if only by rote
    generic = sorted(sig.bare_understand(text) + sig.sorry_for_problem(text), key=lambda h: h.start)
    conduct = sig.backs_team(text) or (sig.ladder_rung(text) >= 2 and g.customer_abusive)
    if conduct and not ack:  # an abusive or escalated call: the conduct comes first
        return finding(
            "met",
            "deals with the conduct or the escalation before any fix",
            g.first(sig.backs_team, [(index, text)]),
        )
    if fix and not ack and generic and generic[0].start < fix[0].start:
        return finding(
            "partial",
            "only a stock 'I understand' or apology before the fix",
            Quote(index, generic[0]),
        )
    if fix and not ack:
        return finding(
            "violated",
            "offers a fix in the first reply without acknowledging",
            Quote(index, fix[0]),
        )
    if ack:
        return finding(
            "met", "acknowledges the upset before putting any fix forward", Quote(index, ack[0])
        )
    room = sig.exploratory_questions(text) or sig.open_invitations(text)
    offered = [h for h in sig.fixes(text) if not _GOAL.search(h.text)]
    if room and offered and offered[0].start < room[0].start:
        # "I can organise a redelivery. What items were left?": the fix came first, and the
        # question only gathers what that fix needs
        return finding(
            "violated",
            "offers a fix in the first reply without acknowledging",
            Quote(index, offered[0]),
        )
    if room:
        return finding(
            "met", "holds the fix back and asks the customer to say more", Quote(index, room[0])
        )
    if generic:
        return finding(
            "partial",
            "acknowledges only with a stock 'I understand' or apology",
            Quote(index, generic[0]),
        )
    return finding("missed", "first reply neither acknowledges nor lets the customer finish")


def _impact_then_sorry(text: str) -> list[sig.Hit]:
    """Apologies whose sentence names the impact before the 'sorry' ("Two missed deliveries
    and two lost days off work - I'd be livid too, and I'm sorry.")."""
    return [
        sig.sentence_of(text, h)
        for h in sig.own_apologies(text)
        if not sig.robotic_apology(sig.sentence_of(text, h).text) and sig.impact_before(text, h)
    ]


def _impact_then_admission(text: str) -> list[sig.Hit]:
    """An admission of fault after the impact in its sentence ("a week with no word would
    wear anyone down, and that silence is on us")."""
    return [h for h in sig.admits_fault(text) if sig.impact_before(text, h)]


def _own_specific(text: str) -> list[sig.Hit]:
    """A specific apology for the company's part (not one for how a colleague behaved)."""
    own = sig.own_apologies(text)
    return [s for s in sig.specific_apology(text) if any(s.start <= h.start < s.end for h in own)]


def _sorry_beside_impact(text: str) -> list[sig.Hit]:
    """A short apology next to a sentence naming the impact or the company's slip ("Three
    nights without heating with a baby. I'm sorry.")."""
    out = []
    for h in sig.apologies_for_problem(text):
        sentence = sig.sentence_of(text, h)
        if not sig.robotic_apology(sentence.text) and sig.impact_beside(text, sentence):
            out.append(sentence)
    return out


@grader("deesc.specific_apology")
def specific_apology(g: GradeInput) -> Finding:
    """deesc.specific_apology (000 §1): apologise for the specific impact, once, then move on."""
    if not g.apology_due:
        return finding("na", "no apology was due")
    robotic = g.first(sig.robotic_apology, g.agent)
    if robotic:
        return finding("violated", "boilerplate apology", robotic)
    apologising = [i for i, text in g.agent if sig.apologies(text)]
    if len(apologising) >= 3 and len(apologising) >= len(g.agent) - 1:
        first = g.first(sig.apologies, g.agent)
        return finding(
            "violated", f"apologises in {len(apologising)} of {len(g.agent)} replies", first
        )
    apologising = [i for i, text in g.agent if sig.apologies_for_problem(text)]
    specific = (
        g.first(_own_specific, g.agent)
        or g.first(_impact_then_sorry, g.agent)
        or g.first(_sorry_beside_impact, g.agent)
    )
    if specific and len(apologising) <= 2:
        return finding("met", "apologises for the specific impact and moves on", specific)
    if specific:
        return finding("partial", "specific apology, but repeated", specific)
    if apologising:
        return finding(
            "partial",
            "apologises, but not for anything specific",
            g.first(sig.apologies_for_problem, g.agent),
        )
    admitted = g.first(_impact_then_admission, g.agent)
    if admitted:
        return finding("partial", "names the impact and owns it, without saying sorry", admitted)
    return finding("missed", "looked for an apology naming the impact; found none")


@grader("deesc.no_blame_passing")
def no_blame_passing(g: GradeInput) -> Finding:
    """deesc.no_blame_passing (000 §1, 002 §4): own it as a team; never blame others."""
    hit = g.first(sig.blame, g.agent)
    if hit:
        return finding("violated", "passes the blame", hit)
    colleague = g.first(sig.undermines_team, g.agent)
    if colleague:
        return finding("violated", "blames a colleague instead of owning it as a team", colleague)
    owned = g.first(sig.ownership, g.agent)
    return finding("met", "no blame passed" + (", and owns the problem" if owned else ""), owned)


@grader("deesc.affirmations")
def affirmations(g: GradeInput) -> Finding:
    """deesc.affirmations (002 §1, 003): brief listening signals; one question at a time."""
    stacked = [
        Quote(i, qs[0]) for i, text in g.agent if sig.stacked_questions(qs := sig.asks(text))
    ]
    if stacked:
        return finding("violated", "stacks several questions in one reply", stacked[0])
    # "I can see why you want a manager" shows the customer was heard as much as "got it"
    signal = g.first(sig.listening_signals, g.agent) or g.first(sig.reaction_understood, g.agent)
    if signal:
        return finding("met", "signals it is listening and asks one thing at a time", signal)
    return finding("missed", "looked for listening signals (got it, I hear you, thanks for…)")
