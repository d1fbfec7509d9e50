"""Sections 6-7 of GUIDELINES.md: ownership, resolution, opening and close
(001, 002 §4 and §8, 003, 004 §4-5)."""

from __future__ import annotations

import re

from harness import signals as sig
from harness.graders.base import Finding, GradeInput, Quote, finding, grader


@grader("resolve.ownership")
def ownership(g: GradeInput) -> Finding:
    """resolve.ownership (001 own the issue, 002 §4, 004 §5): owns the issue."""
    deflect = g.first(sig.deflects, g.agent)
    if deflect:
        later = [(i, t) for i, t in g.agent if i > deflect.turn and not sig.deflects(t)]
        recovered = g.first(_takes_it_on, later)
        if recovered:
            return finding("partial", "deflects at first, then takes the fix on itself", recovered)
        if not _points_elsewhere(sig.sentence_of(g.turns[deflect.turn].text, deflect.hit).text):
            # blaming the customer, "the system" or "nothing I can do" is blame
            # (deesc.no_blame_passing); the issue is simply not owned
            return finding("missed", "never owns the issue; blames the customer or the system")
        return finding("violated", "deflects the issue or pins it on someone else", deflect)
    # a stock "let's get this sorted" sets a goal; it owns the issue only when the agent
    # goes on to carry out or commit to something
    backed = any(
        sig.action_done(t) or sig.commitments(t) or sig.precise_timeline(t) for _, t in g.agent
    )
    owned = g.first(lambda t: [h for h in _owns(t) if backed or not _PEP.match(h.text)], g.agent)
    if owned:
        return finding("met", "owns the issue", owned)
    acted = g.first(sig.action_done, g.agent)
    if acted:
        return finding("partial", "acts on the issue without saying it is theirs to fix", acted)
    # working the issue without owning it in words: a fix put forward or a step promised
    # with its time ("I can cap it at £100", "the export will be with you by 5pm"), unless
    # the customer gave up on it (then nothing was taken on)
    worked = None if g.walked_away else g.first(_puts_forward, g.agent)
    if worked:
        return finding("partial", "puts a fix or a timed step forward without owning it", worked)
    return finding("missed", "looked for ownership (I'll take care of this, that's on us)")


_PEP = re.compile(r"let'?s\b", re.I)


# a step that waits on the customer's own action ("if you resell it, the money reaches
# you within 5 days"): what the customer can do, not what the agent takes on
_ON_THE_CUSTOMER = sig.pattern_set("step_on_customer")


def _puts_forward(text: str) -> list[sig.Hit]:
    """A fix put forward or a step promised with its time, not an ask for details ("so
    we can look into it, what's your order number?") nor a step left to the customer."""
    hits = sig.fixes(text) + sig.timed_promises(text)
    out = []
    for hit in hits:
        sentence = sig.sentence_of(text, hit).text
        if not sig.find(sig.FACT_REQUEST, sentence) and not sig.find(_ON_THE_CUSTOMER, sentence):
            out.append(hit)
    return out


# a deflection that pushes the issue onto another party ("that's with the loss adjusters",
# "it's on their side, not ours"), as opposed to blaming the customer or the system
_ELSEWHERE = re.compile(
    r"\b((not|rather than) (with )?(us|ours|our \w+|me)|they|they'?re|their|theirs|them|"
    r"partners?|third[- ]party|"
    r"contractors?|department|franchise|agency|outside|separate|another team|other team|"
    r"(contact|call|ring|phone|email|speak to|talk to|go to|take it up with|raise it with) "
    r"(the|your|them)\b)\b",
    re.I,
)
_AT_CUSTOMER = re.compile(r"\b(you|your|you'?d|you'?ve|you'?re|u|ur)\b", re.I)
_WITH_THE = re.compile(r"\b(with|on|up to) the\b", re.I)  # "that's with the warehouse"


def _points_elsewhere(sentence: str) -> bool:
    """The deflecting sentence hands the issue to another party, not back to the customer."""
    if _ELSEWHERE.search(sentence):
        return True
    return not _AT_CUSTOMER.search(sentence) and bool(_WITH_THE.search(sentence))


def _owns(text: str) -> list[sig.Hit]:
    """Ownership, not counting a sentence that hands the customer on ("I'll put you
    through to my manager now"): passing the issue to someone else is not owning it."""
    return [h for h in sig.ownership(text) if not sig.hands_over(sig.sentence_of(text, h).text)]


def _takes_it_on(text: str) -> list[sig.Hit]:
    """The agent itself owns or carries out a fix (not a hand-over to someone else)."""
    if sig.hands_over(text):
        return []
    hits = sig.ownership(text) + sig.action_done(text) + sig.concrete_fixes(text)
    return [h for h in hits if not sig.passes_on(sig.sentence_of(text, h).text)]


_WE_OWN = re.compile(
    r"\b(sorry|apologi[sz]e)\b[^.?!]{0,40}\b(we|our)\b|\b(we|our)\b[^.?!]{0,40}\b(sorry|apologi[sz]e)\b|"
    r"\b(we|our)\b[^.?!]{0,30}\b(promise|standard|fault|failure|mistake|error)",
    re.I,
)


def _fix_in(text: str) -> bool:
    """A fix put forward or carried out (not a hand-over to someone else)."""
    if sig.hands_over(text):
        return bool(sig.fixes(text) or sig.action_done(text))
    return bool(sig.fixes(text) or sig.commitments(text) or sig.action_done(text))


@grader("resolve.apology_formula")
def apology_formula(g: GradeInput) -> Finding:
    """resolve.apology_formula (001 apologise without blame, 003): impact, ownership, fix."""
    if not g.apology_due:
        return finding("na", "no apology was due")
    best: tuple[int, Quote] | None = None
    for n, (index, text) in enumerate(g.agent):
        fixed = any(_fix_in(t) for _, t in g.agent[n:])  # the fix may come later
        specific = sig.specific_apology(text)
        disowns = bool(sig.deflects(text))  # "not our fault, sorry for the inconvenience"
        for said in sig.own_apologies(text):  # not one for how a colleague behaved
            sentence = sig.sentence_of(text, said)
            if sig.robotic_apology(sentence.text):  # boilerplate names no impact, owns nothing
                impact, owned = False, bool(sig.ownership(text))
            else:
                impact = (
                    sig.impact_before(text, said)
                    or any(sentence.start <= h.start < sentence.end for h in specific)
                    or (fixed and sig.impact_beside(text, sentence))
                )
                owned = bool(sig.ownership(text) or _WE_OWN.search(sentence.text))
            owned = owned and not disowns
            parts = sum([impact, owned, fixed])
            if parts == 1 and fixed and not disowns and not sig.robotic_apology(sentence.text):
                parts = 2  # a plain "Sorry." that comes with the fix is half the formula
            if best is None or parts > best[0]:
                best = (parts, Quote(index, sentence))
    if best is None:
        admitted = g.first(sig.admits_fault, g.agent)
        if admitted and any(_fix_in(t) for i, t in g.agent if i >= admitted.turn):
            return finding("partial", "owns the fault and fixes it, without apologising", admitted)
        return finding("missed", "looked for an apology that names impact, ownership and fix")
    if best[0] >= 3:
        return finding("met", "the apology names the impact, owns it and comes with a fix", best[1])
    if best[0] == 2:
        return finding("partial", "the apology has two of impact, ownership and fix", best[1])
    return finding("missed", "an apology that names no impact, or comes with nothing else", best[1])


@grader("resolve.precise_timeline")
def precise_timeline(g: GradeInput) -> Finding:
    """resolve.precise_timeline (001 close the loop, 004 §4): exact action, owner and time."""
    committing = [(i, t) for i, t in g.agent if sig.commitments(t) or sig.timed_promises(t)]
    vague = g.first(sig.vague_timeline, g.agent)
    if vague:
        return finding("violated", "a vague timeline", vague)
    if not committing:
        return finding("na", "the agent committed to no action")
    precise = g.first(sig.precise_timeline, committing)
    if precise:
        return finding("met", "names a concrete time for the action", precise)
    return finding(
        "partial", "commits to an action without saying when", g.first(sig.commitments, committing)
    )


@grader("resolve.recommend")
def recommend(g: GradeInput) -> Finding:
    """resolve.recommend (001 simple choices): two clear choices and a recommendation."""
    options = [(i, t) for i, t in g.agent if sig.options_offered(t)]
    if not options:
        return finding("na", "no options were offered")
    rec = (
        g.first(sig.recommends, options)
        or g.first(sig.recommends, g.agent)
        or g.first(_picks_an_option, options)
    )
    if rec:
        return finding("met", "recommends one of the options", rec)
    lean = g.first(sig.option_merit, options)
    if lean:
        return finding("partial", "says what one option has going for it, without a pick", lean)
    return finding("missed", "offers options without recommending one")


_WOULD_DO = re.compile(
    r"^\W*(\w+,\s*)?(honestly|personally|myself|for me|if it were me)?,?\s*"
    r"I(?:'d| would)(?: \w+ly)? (?!(?:like|love|be|need|have|hate|want|rather|prefer|say|"
    r"hope|imagine|expect|feel|think|guess|ask|also|still)\b)[a-z]+\b",
    re.I,
)


_COMPARES = re.compile(
    r"\b(is|are|'s|would be|will be|tends to be|works out)( usually| generally| normally| often|"
    r" probably| much| a (bit|lot|little))? (quicker|faster|cheaper|easier|simpler|safer|better|"
    r"lighter|smoother|sooner|kinder|gentler)\b|"
    r"\b(keeps|would keep|'d keep) (it|things|the \w+) "
    r"(lighter|lower|simpler|cheaper|smaller|easier)\b|"
    r"\b(means|would mean|'d mean) (no|less|fewer|lower|smaller|more|one (less|fewer))\b",
    re.I,
)


def _picks_an_option(text: str) -> list[sig.Hit]:
    """A sentence after the choices that picks one in the words of the choices: what the
    agent would do ("...lift the block, or pay the hotel directly. I'd lift the block, it
    covers the taxis too") or which one is better ("The form is usually quicker", "If money's
    tight, the longer plan keeps it lighter")."""
    offered = sig.options_offered(text)
    if not offered:
        return []
    for sentence in sig.sentences(text):
        if sentence.end <= offered[0].start or sig.options_offered(sentence.text):
            continue
        stems = sig.content_stems(text[offered[0].start : sentence.start])
        said = _WOULD_DO.match(sentence.text)
        if said and sig.content_stems(sentence.text[said.start() :]) & stems:
            return [sentence]
        better = _COMPARES.search(sentence.text)
        if better and sig.content_stems(sentence.text[: better.start()]) & stems:
            return [sentence]
    return []


def _after_agreement(g: GradeInput) -> list[tuple[int, str]]:
    accepted = g.acceptance_turn
    if accepted is None:
        return g.agent[-2:]
    return [(i, t) for i, t in g.agent if i > accepted] or g.agent[-1:]


def _closing_turns(g: GradeInput) -> list[tuple[int, str]]:
    """The agent turns about the plan that was finally agreed: from the reply the customer
    accepted onwards (a check on an offer the customer then turned down does not count),
    or the last two replies when no acceptance was recorded."""
    accepted = g.acceptance_turn
    if accepted is None:
        return g.agent[-2:]
    before = [i for i, _ in g.agent if i < accepted]
    start = before[-1] if before else accepted
    return [(i, t) for i, t in g.agent if i >= start]


@grader("resolve.teach_back")
def teach_back(g: GradeInput) -> Finding:
    """resolve.teach_back (001 close the loop): restate the agreed next step once."""
    if not g.resolved:
        return finding("na", "no resolution was agreed")
    hit = g.first(sig.teach_back, _after_agreement(g)) or g.first(sig.teach_back, g.agent[-3:])
    if hit:
        return finding("met", "confirms the agreed next step", hit)
    restated = _next_step_restated(g)
    if restated:
        return finding("partial", "repeats the agreed step and its time, not as a recap", restated)
    return finding("missed", "ends without restating the agreed next step")


def _next_step_restated(g: GradeInput) -> Quote | None:
    """After the customer said yes to a plan or picked one of the options, a reply that
    says again what happens and when, in words of the plan put forward before that yes
    ("Submitted, 400 euro to your card within 7 business days" after "I can submit it now,
    paid within 7 business days"). Any yes counts, not only the first: an early "fine, go
    on" lets the agent look into it, the plan comes later. The first statement of a plan
    restates nothing."""
    for accepted in g.take_up_turns:
        plan = sig.content_stems(" ".join(t for i, t in g.agent if i < accepted))
        for index, text in g.agent:
            if index < accepted or not (
                sig.action_done(text) or sig.commitments(text) or sig.timed_promises(text)
            ):
                continue
            for hit in sig.precise_timeline(text):
                sentence = sig.sentence_of(text, hit)
                if len(sig.content_stems(sentence.text) & plan) >= 2:
                    return Quote(index, sentence)
    return None


@grader("resolve.confirm_satisfaction")
def confirm_satisfaction(g: GradeInput) -> Finding:
    """resolve.confirm_satisfaction (001, 003): check the plan meets expectations."""
    if not g.resolved:
        return finding("na", "no resolution was agreed")
    hit = g.first(sig.confirm_satisfaction, _closing_turns(g))
    if hit:
        return finding("met", "checks that the plan works for the customer", hit)
    return finding("missed", "closes without checking the plan works for the customer")


@grader("resolve.no_guessing")
def no_guessing(g: GradeInput) -> Finding:
    """resolve.no_guessing (004 §4): when unsure, say so and commit to a time to come back."""
    for index, text in g.agent:
        doubt = sig.unsure(text)
        if doubt:
            if sig.precise_timeline(text):
                return finding(
                    "met",
                    "admits not knowing and says when it will come back",
                    Quote(index, doubt[0]),
                )
            return finding(
                "partial", "admits not knowing, without a time to come back", Quote(index, doubt[0])
            )
    guess = g.first(sig.guesses, g.agent)
    if guess:
        return finding("violated", "guesses instead of checking", guess)
    return finding("na", "the agent did not lack an answer")


@grader("resolve.no_repeat_asks")
def no_repeat_asks(g: GradeInput) -> Finding:
    """resolve.no_repeat_asks (001 know the context, 002 §3): never ask for known facts."""
    context = dict(g.context)
    if g.persona is not None:
        context = {**g.persona.context, "customer_name": g.persona.customer_name, **context}
    for index, text in g.agent:
        earlier = " ".join(t for i, t in g.customer if i < index)
        asked = sig.repeat_asks(text, context, earlier)
        if asked:
            return finding(
                "violated", "asks for information it already has", Quote(index, asked[0])
            )
    for index, text in g.agent:  # the customer's answer shows the detail was already given
        asked = sig.questions(text)
        reply = next((t for i, t in g.customer if i > index), "")
        if asked and sig.already_given(reply):
            return finding(
                "violated",
                "asks for a detail the customer had already given",
                Quote(index, asked[0]),
            )
    return finding("met", "does not ask for anything already known")


_HEADER = re.compile(r"\s*subject:[^\n]*\n\s*", re.I)


def _greeting(text: str) -> list[sig.Hit]:
    return sig.find(sig.OPENER_GREETING, text)


@grader("open.calm_opener")
def calm_opener(g: GradeInput) -> Finding:
    """open.calm_opener (001 prepare a calm opening): greet by name, purpose, goal."""
    if not g.agent:
        return finding("na", "no agent replies")
    index, text = g.agent[0]
    if not text.strip():
        return finding("missed", "the first reply is empty")
    name = str(g.context.get("customer_name") or (g.persona.customer_name if g.persona else ""))
    body = _HEADER.match(text)
    skip = body.end() if body else 0  # an email's "Subject: RE: ..." line
    greet = [sig.Hit(h.start + skip, h.end + skip, h.text) for h in _greeting(text[skip:])]
    opening = text[skip : skip + 80]
    # Any part of the name ("Dear Mr Okafor", "Hi Wei Ling"); a name in the opening words
    # with no greeting word ("Mr Whitaker, this is Renee") greets by name too.
    names = re.findall(r"[^\W\d_]{2,}", name)
    by_name = any(re.search(rf"\b{re.escape(n)}\b", opening) for n in names)
    purpose = sig.find(sig.OPENER_PURPOSE, text)
    goal = sig.find(sig.OPENER_GOAL, text)
    greeted = by_name if names else bool(greet)
    parts = sum([greeted, bool(purpose), bool(goal)])
    quote = Quote(index, (greet or purpose or goal or sig.sentences(text))[0])
    if parts == 3:
        return finding("met", "greets by name, states its purpose and a goal", quote)
    if parts == 2:
        return finding("partial", "opener has 2 of greeting by name, purpose and goal", quote)
    return finding(
        "missed", f"opener has {parts} of greeting by name, purpose and goal (2 needed)", quote
    )


@grader("close.follow_up")
def close_follow_up(g: GradeInput) -> Finding:
    """close.follow_up (002 §8, 001 close the loop): promise and describe a follow-up."""
    if not g.resolved:
        return finding("na", "the conversation was not resolved")
    timed = [
        Quote(i, sig.sentence_of(text, h))
        for i, text in g.agent
        for h in [*sig.follow_up(text), *sig.teach_back(text)]  # a timed summary counts
        if sig.precise_timeline(sig.sentence_of(text, h).text)
    ]
    promised = timed or [
        q
        for q in g.all(sig.follow_up, g.agent)
        if not sig.vague_timeline(sig.sentence_of(g.turns[q.turn].text, q.hit).text)
    ]
    backup = g.first(sig.follow_up_contingency, g.agent)
    if backup and not timed:
        # "If he hasn't shown by 8:15, text me": the contingency names the time itself.
        # or, in the same reply, the time the agreed step is due ("Thursday by 6pm. If it
        # hasn't come by then, text back"): what the fallback is measured against.
        reply = g.turns[backup.turn].text
        own = sig.sentence_of(reply, backup.hit)
        due = sig.precise_timeline(own.text) or sig.precise_timeline(reply)
        timed = [Quote(backup.turn, sig.sentence_of(reply, due[0]))] if due else []
    if timed and backup:
        return finding("met", "promises a timed follow-up and what to do if it slips", timed[0])
    if promised or backup:
        return finding(
            "partial",
            "a follow-up without a time, or without what to do if it slips",
            (promised[0] if promised else backup),
        )
    return finding("missed", "looked for a follow-up (summary, what if it slips, feedback)")


@grader("close.empower")
def close_empower(g: GradeInput) -> Finding:
    """close.empower (004 practical tips, 001 prevent repeat issues): show how to avoid it."""
    if not g.resolved:  # a fix only offered, refused or handed on changed nothing
        return finding("na", "no fix was made")
    hit = g.first(sig.empower, g.agent)
    if hit:
        return finding("met", "shows the customer how to avoid it next time", hit)
    return finding("missed", "looked for how to avoid the problem or how the fix works")
