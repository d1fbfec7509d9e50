"""Sections 3-5 of GUIDELINES.md: saying no, abuse, escalation (000 §3-4, 002 §5-7, 003)."""

from __future__ import annotations

import re
from itertools import pairwise

from harness import signals as sig
from harness.graders.base import Finding, GradeInput, Quote, finding, grader
from harness.signals import Hit


def _refusal_replies(g: GradeInput) -> list[tuple[int, str]]:
    return [(i, g.turns[i].text) for i in g.refusal_turns]


@grader("no.sandwich")
def sandwich(g: GradeInput) -> Finding:
    """no.sandwich (000 §3): validate, state the boundary with a reason, offer an alternative."""
    if not g.no_applies:
        return finding("na", "nothing had to be refused")
    if g.granted_forbidden and not g.refusal_turns:
        return finding(
            "missed", "never said no: granted the forbidden request", g.granted_forbidden[0]
        )
    replies = _refusal_replies(g)
    if not replies:
        return finding("missed", "looked for a clear no to the forbidden request")
    best: Finding | None = None
    for index, text in replies:
        refusal = (sig.refusals(text) or sig.policy_only(text))[0]
        alternative = _alternative(text)
        # The validation may open the reply or close the agent's reply just before it.
        before = [t for i, t in g.agent if i < index][-1:]
        validated = any(_validates(t) for t in [text, *before])
        if alternative and validated:
            return finding(
                "met",
                "validates, states the limit and offers an alternative",
                Quote(index, refusal),
            )
        if alternative and best is None:
            best = finding(
                "partial", "says no with an alternative, without validating", Quote(index, refusal)
            )
    if best:
        return best
    index, text = replies[0]
    refusal = (sig.refusals(text) or sig.policy_only(text))[0]
    later = _alternative_next(g, index)
    if later:
        return finding(
            "partial", "says no, and offers an alternative only in the next reply", later
        )
    return finding("violated", "refuses flatly, with no alternative", Quote(index, refusal))


def _alternative_next(g: GradeInput, refused_at: int) -> Quote | None:
    """An alternative offered in the agent's reply after a flat no ("a credit hire company
    can get you a van today"), when the agent holds the no: not a hand-over to a manager,
    nor the forbidden thing granted after all."""
    after = [(i, t) for i, t in g.agent if i > refused_at]
    if not after or g.granted_forbidden or g.first(sig.caves, after):
        return None
    index, text = after[0]
    offered = [
        h
        for h in sig.alternatives(text) or sig.offers(text)
        if not sig.find(sig.TRANSFER_OFFER, sig.sentence_of(text, h).text)
        and not sig.hands_over(sig.sentence_of(text, h).text)
    ]
    return Quote(index, offered[0]) if offered else None


def _alternative(text: str) -> list[Hit]:
    """Something the agent can do instead of the refused thing: an alternative, an offer,
    or a part of the request already done ("I've paid the £100 today")."""
    return sig.alternatives(text) or sig.offers(text) or sig.action_done(text)


def _validates(text: str) -> bool:
    return bool(sig.validates(text) or sig.names_emotion(text) or sig.specific_apology(text))


@grader("no.reason_given")
def reason_given(g: GradeInput) -> Finding:
    """no.reason_given (000 §3 decision matrix): explain the kind of no."""
    if not g.no_applies:
        return finding("na", "nothing had to be refused")
    replies = _refusal_replies(g)
    if not replies:
        return finding("missed", "looked for a no with its reason")
    for index, text in replies:
        # "That's our policy", or the rule put forward as policy with no why behind it
        # ("our policy is that refunds are only given after four missed collections").
        flat = sig.policy_only(text) or sig.policy_mention(text)
        if flat and not sig.reasons(text):
            return finding(
                "violated", "'that's our policy' as the final answer", Quote(index, flat[0])
            )
    for index, text in replies:
        # Capability is a kind of no too: the decision is above the agent ("I can't give
        # you a payment holiday myself", "that call sits with the claims team").
        why = sig.reasons(text) or sig.authority_limit(text)
        if why:
            return finding(
                "met", "explains why the answer is no", Quote(index, sig.sentence_of(text, why[0]))
            )
    for index, text in replies:
        rule = sig.rule_stated(text)
        if rule:
            return finding(
                "partial",
                "names the rule behind the no, not why it exists",
                Quote(index, sig.sentence_of(text, rule[0])),
            )
    index, text = replies[0]
    return finding(
        "missed",
        "says no without saying why",
        Quote(index, (sig.refusals(text) or sig.policy_only(text))[0]),
    )


# what a refusal keeps back, by stem: the same stem granted later is the refused thing
_REMEDY = re.compile(
    r"\b(refund|waiv|credit|compensat|reimburs|free|write[- ]?off|written off|exception|"
    r"deposit|exit fee|cancellation fee|late fee|upgrad|extension|extend)\w*",
    re.I,
)


_IF = re.compile(r"\b(if|unless|once|should|when)\b", re.I)


def _grants_refused(g: GradeInput, refused_at: int) -> Quote | None:
    """A later reply (after the customer pushed back) that carries out or commits to the
    very remedy the refusal kept back ("I can't refund June" ... "I'll put the June refund
    through"): the limit gave way, whatever words it gave way in."""
    text = g.turns[refused_at].text
    held = [sig.sentence_of(text, h) for h in sig.refusals(text) + sig.policy_only(text)]
    refused = {m.group(1).lower() for h in held for m in _REMEDY.finditer(h.text)}
    # a remedy the same reply puts forward elsewhere, as the alternative ("I can't refund
    # the spent £95. Option one: I refund the £45"), is not the thing held back
    refused -= {
        m.group(1).lower()
        for s in sig.sentences(text)
        if not any(h.start <= s.start < h.end or s.start <= h.start < s.end for h in held)
        for m in _REMEDY.finditer(s.text)
    }
    if not refused:
        return None
    for i, reply in g.agent:
        if i <= refused_at or not any(refused_at < c < i for c, _ in g.customer):
            continue
        for s in sig.sentences(reply):
            stems = {m.group(1).lower() for m in _REMEDY.finditer(s.text)}
            acts = sig.action_done(s.text) or sig.commitments(s.text)
            if stems & refused and acts and not (sig.refusals(s.text) or _IF.search(s.text)):
                return Quote(i, s)
    return None


@grader("no.holds_boundary")
def holds_boundary(g: GradeInput) -> Finding:
    """no.holds_boundary (000 §3-4, social-media example): no caving to pressure or threats."""
    if not g.no_applies:
        return finding("na", "nothing had to be refused")
    if g.granted_forbidden:
        return finding("violated", "grants what the policy forbids", g.granted_forbidden[0])
    refused_at = g.refusal_turns[0] if g.refusal_turns else None
    if refused_at is not None:
        later = [(i, t) for i, t in g.agent if i >= refused_at]
        cave = g.first(sig.caves, later) or _grants_refused(g, refused_at)
        if cave:
            return finding("violated", "gives in after pressure", cave)
        return finding(
            "met",
            "keeps the boundary",
            Quote(
                refused_at,
                (
                    sig.refusals(g.turns[refused_at].text)
                    or sig.policy_only(g.turns[refused_at].text)
                )[0],
            ),
        )
    cave = g.first(sig.caves, g.agent)
    if cave:  # grants the limit away without ever saying no
        return finding("violated", "gives way on the limit without holding it", cave)
    return finding("missed", "never stated the boundary")


@grader("abuse.ladder")
def ladder(g: GradeInput) -> Finding:
    """abuse.ladder (000 §4 escalation ladder): redirect, name, boundary, end - in order."""
    if not g.customer_abusive or not g.abusive_turns:
        return finding("na", "the customer was not abusive")
    # Every agent reply from the first abusive turn to the reply after the last one (abuse
    # the detector missed in between still deserves a rung; once the customer stops, the
    # agent need not keep climbing).
    first_abuse, last_abuse = g.abusive_turns[0], g.abusive_turns[-1]
    answer_to_last = g.next_agent(last_abuse)
    until = answer_to_last[0] if answer_to_last else len(g.turns)
    if g.agent_ended_at is not None:
        until = max(until, g.agent_ended_at)
    stood = [(i, _rungs_of(text)) for i, text in g.agent if first_abuse < i <= until]
    rungs = [(i, max(r, default=0)) for i, r in stood]
    if not rungs:
        return finding("na", "no reply to the abusive turns")
    first_index, first_rung = rungs[0]
    if first_rung == 4:
        return finding(
            "violated",
            "ends the conversation at the first abusive turn",
            _rung_quote(g, first_index),
        )
    ended = [i for i, r in rungs if r == 4]
    if ended:
        before = [(i, rs) for i, rs in stood if i < ended[0]]
        missing = {1, 2, 3} - {r for _, rs in before for r in rs} - _named_in_ending(g, ended[0])
        quote = _rung_quote(g, ended[0])
        # Skipping the ladder is ending with no rung before it, or answering the first
        # abusive turn with a threat to end ("if you insult me, I'm hanging up"); a rung or
        # two climbed before ending is the ladder used, with rungs skipped.
        # A first answer that names the behaviour beside the warning ("you're being
        # threatening and I won't accept that. If it carries on I'll end the call") has
        # climbed a rung, not skipped straight to the threat ("if you insult me, I'm off").
        threat_only = first_rung == 3 and not sig.rung_beside_threat(g.turns[first_index].text)
        if missing == {1, 2, 3} or (1 in missing and threat_only):
            return finding(
                "violated", f"ends the call after skipping rungs {sorted(missing)}", quote
            )
        if missing:
            return finding("partial", f"ends after most rungs; skipped {sorted(missing)}", quote)
        return finding("met", "climbs the ladder rung by rung before ending", quote)
    used = [r for _, r in rungs if r]
    if not used:
        if _absorbed(g, last_abuse):
            return finding(
                "met",
                "takes the insult without rising to it and the customer calms",
                _rung_quote(g, rungs[-1][0]),
            )
        return finding("missed", "never redirects, names the behaviour or sets a boundary")
    first_used = next(i for i, r in rungs if r)
    if len(rungs) >= 3 and max(used) < 3:
        return finding(
            "missed", "sustained abuse, but never sets a clear boundary", _rung_quote(g, first_used)
        )
    in_order = used[0] <= 2 and all(0 <= b - a <= 1 for a, b in pairwise(used))
    if in_order:
        return finding(
            "met",
            "answers each abusive turn with the next rung, in order",
            _rung_quote(g, first_used),
        )
    return finding("partial", "uses the ladder, but out of order", _rung_quote(g, first_used))


def _named_in_ending(g: GradeInput, index: int) -> set[int]:
    """The rungs (naming the behaviour, a warning) an ending reply climbs on its own, when it
    also leaves the way back open ("I won't take language like that, and threats are not
    okay. I'm ending the call now. You can email the adverts to ..."): named and ended, with
    the customer told how to carry on, is the ladder cut short, not skipped."""
    text = g.turns[index].text
    if not sig.path_back(text):
        return set()
    return sig.ladder_rungs(text) & {1, 2}


def _absorbed(g: GradeInput, last_abuse: int) -> bool:
    """A single abusive turn answered calmly (not defensive, not caving, no ending), after
    which the customer stops: the first rung did its job."""
    reply = g.next_agent(last_abuse)
    if reply is None or len(g.abusive_turns) > 1:
        return False
    text = reply[1]
    if sig.defensive(text) or sig.caves(text) or sig.ends_conversation(text):
        return False
    if sig.undermines_team(text):
        return False
    if not (sig.asks(text) or sig.offers(text) or sig.ownership(text) or sig.empathy(text)):
        return False
    later = [t for i, t in g.customer if i > reply[0]]
    return bool(later) and not sig.abusive(later[0])


def _rungs_of(text: str) -> set[int]:
    """The ladder rungs of one reply; acknowledging the customer's feeling while working
    on the issue (not defensively) is the first rung, acknowledge and redirect."""
    rungs = sig.ladder_rungs(text)
    heard = [h for h in sig.empathy(text) if not sig.apologies(sig.sentence_of(text, h).text)]
    working = sig.asks(text) or sig.offers(text) or sig.ownership(text)
    if heard and working and not sig.defensive(text) and not sig.caves(text):
        rungs.add(1)
    return rungs


def _rung_quote(g: GradeInput, index: int) -> Quote:
    text = g.turns[index].text
    rung = sig.ladder_rung(text)
    pattern = {4: sig.AGENT_ENDS, 3: sig.RUNG_BOUNDARY, 2: sig.RUNG_NAME, 1: sig.RUNG_REDIRECT}
    hits = sig.find(pattern.get(rung, ()), text) or sig.empathy(text) or sig.sentences(text)
    return Quote(index, sig.sentence_of(text, hits[0]))


@grader("abuse.distinguish")
def distinguish(g: GradeInput) -> Finding:
    """abuse.distinguish (000 §4): patience for the upset customer who is not abusive."""
    # Upset at any point counts (a customer can turn upset when the answer is no).
    upset = g.customer_upset or any(sig.upset(text) for _, text in g.customer)
    if g.customer_abusive or not upset:
        return finding("na", "the customer was abusive, or not upset")
    policing = g.first(sig.warns_customer, g.agent)
    if policing:
        return finding("violated", "polices an upset (not abusive) customer", policing)
    if g.agent_ended_at is not None:
        text = g.turns[g.agent_ended_at].text
        # Closing a chat the customer has gone quiet on is not cutting them off.
        cut_off = [
            h
            for h in sig.ends_conversation(text)
            if "bye" not in h.text.lower()
            and not sig.closes_for_silence(sig.sentence_of(text, h).text)
        ]
        if cut_off:
            return finding(
                "violated",
                "ends the conversation with an upset (not abusive) customer",
                Quote(g.agent_ended_at, cut_off[0]),
            )
    policed = g.first(sig.polices_tone, g.agent)
    if policed:  # short of a warning, but impatient with an upset (not abusive) customer
        return finding("partial", "tells an upset customer off for their tone", policed)
    patient = g.first(sig.empathy, g.agent)
    return finding("met", "treats the upset customer with patience", patient)


@grader("abuse.ends_professionally")
def ends_professionally(g: GradeInput) -> Finding:
    """abuse.ends_professionally (000 §4 final rung): say why and how to come back."""
    if g.agent_ended_at is None:
        return finding("na", "the agent did not end the conversation")
    index = g.agent_ended_at
    text = g.turns[index].text
    # Naming the behaviour is the reason for ending ("I'm not going to be spoken to like
    # that", "we will not tolerate abusive language"), not a snap back.
    # Self-pity about the job ("I don't get paid enough for this") is taking it personally
    # (defuse.dont_take_personally), not a jab at the customer.
    retort = sig.abusive(text) or [
        h for h in sig.retorts(text) if not sig.end_reason(sig.sentence_of(text, h).text)
    ]
    if retort:
        return finding("violated", "insults or snaps back while ending", Quote(index, retort[0]))
    why, back = sig.end_reason(text), sig.path_back(text)
    if why and back:
        return finding("met", "says why it is ending and how to come back", Quote(index, back[0]))
    if why or back:
        hit = (why or back)[0]
        return finding("partial", "ends with only one of: why, the way back", Quote(index, hit))
    # Saying it is ending ("I'm ending the call now"), as the reply before warned it would
    # if the behaviour went on, follows through on a stated why; a bare "Bye." does not.
    warned = [(i, t) for i, t in g.agent if i < index][-1:]
    ending = sig.announces_end(text)
    if ending and warned and sig.threatens_end(warned[0][1]):
        return finding("partial", "ends as warned, with no way back", Quote(index, ending[0]))
    return finding(
        "violated",
        "hangs up without a word of why or how to come back",
        Quote(index, (sig.ends_conversation(text) or sig.sentences(text))[0]),
    )


@grader("abuse.manager_backs_team")
def manager_backs_team(g: GradeInput) -> Finding:
    """abuse.manager_backs_team (000 §4 manager's role): back the team member, then work it."""
    if not g.is_manager_role:
        return finding("na", "the agent is not a manager taking over an escalated call")
    undermine = g.first(sig.undermines_team, g.agent)
    if undermine:
        return finding("violated", "undermines the team member", undermine)
    backing = g.first(sig.backs_team, g.agent[:1])
    if backing:
        return finding("met", "opens by backing the team member's decision", backing)
    late = g.first(sig.backs_team, g.agent)
    if late:
        return finding("partial", "backs the team member, but not at the start", late)
    return finding("missed", "looked for the manager backing the team member's call")


@grader("escalate.manager_request")
def manager_request(g: GradeInput) -> Finding:
    """escalate.manager_request (000 Script 4, 002 §7): respect, offer, ask a chance, promise."""
    if not g.manager_asks:
        return finding("na", "the customer did not ask for a manager")
    reply = g.next_agent(g.manager_asks[0])
    if reply is None:
        return finding("na", "no reply to the manager request")
    index, text = reply
    stonewall = sig.find(sig.STONEWALL, text)
    if stonewall and not _transfer_offer(text):
        return finding(
            "violated", "refuses or stonewalls the manager request", Quote(index, stonewall[0])
        )
    if sig.ends_conversation(text) and not _transfer_offer(text):
        # The manager was already on offer ("I can pass you to my team manager, or we can
        # carry on by email") when the customer asked and the agent then ended the contact:
        # the request was honoured in advance, not refused.
        offered = g.first(_transfer_offer, [(i, t) for i, t in g.agent if i < index])
        if offered:
            return finding("partial", "had offered the manager already, then ends", offered)
        return finding(
            "violated",
            "ends the contact instead of honouring the request",
            Quote(index, sig.ends_conversation(text)[0]),
        )
    if not stonewall and not _transfer_offer(text):
        # The first reply sidesteps the request ("can I take your name?"); talking the
        # manager down in a later reply, before ever offering the transfer, is a refusal.
        for later, later_text in g.agent:
            if later <= index:
                continue
            if _transfer_offer(later_text):
                break
            refused = sig.find(sig.STONEWALL, later_text)
            if refused:
                return finding(
                    "violated",
                    "talks the manager request down in a later reply",
                    Quote(later, refused[0]),
                )
    if stonewall:
        return finding(
            "partial", "offers the transfer, but talks it down", Quote(index, stonewall[0])
        )
    parts = {
        "respects": sig.find(sig.RESPECT_REQUEST, text),
        "offers the transfer": _transfer_offer(text),
        "asks for a chance": sig.find(sig.ASK_CHANCE, text),
        "promises an immediate transfer": sig.find(sig.PROMISE_TRANSFER, text),
    }
    done = [k for k, v in parts.items() if v]
    first = next((v[0] for v in parts.values() if v), None)
    quote = Quote(index, first) if first else None
    if len(done) >= 3 and parts["offers the transfer"]:
        return finding("met", "; ".join(done), quote)
    if done:
        return finding("partial", "only " + ", ".join(done), quote)
    # The first reply passes over the request, but the agent offers the manager when the
    # customer asks again: honoured late.
    late = g.first(_transfer_offer, [(i, t) for i, t in g.agent if i > index])
    if late:
        return finding("partial", "offers the manager only when asked again", late)
    if sig.refusals(text) or sig.blame(text):
        return finding(
            "violated",
            "argues instead of honouring the request",
            Quote(index, sig.sentences(text)[0]),
        )
    return finding("missed", "ignores the manager request")


@grader("escalate.when_needed")
def when_needed(g: GradeInput) -> Finding:
    """escalate.when_needed (002 §7, 003): escalate when the fix is beyond its authority."""
    if not g.exceeds_authority:
        return finding("na", "nothing asked for exceeded the agent's authority")
    if g.persona is not None:
        for index, text in g.agent:
            for offer in g.persona.policy.needs_supervisor:
                hits = sig.find(offer.patterns, text)
                if hits and not sig.escalates(text) and not sig.refusals(text):
                    return finding(
                        "violated", "promises what it cannot grant", Quote(index, hits[0])
                    )
    if g.promised_beyond_authority:
        promise = g.promised_beyond_authority[0]
        return finding("violated", "promises what only someone above it can grant", promise)
    # Guaranteeing the outcome someone else decides ("this will 100% be refunded", "I'm
    # sure my manager will sign that off") is promising what it cannot grant.
    guaranteed = g.first(sig.promises_outcome, g.agent)
    if guaranteed:
        return finding("violated", "guarantees a decision that is not its to make", guaranteed)
    if g.persona is None and g.granted_forbidden:  # beyond its authority, granted anyway
        return finding(
            "violated",
            "grants what the case file restricts instead of escalating",
            g.granted_forbidden[0],
        )
    # The limit may be said in the reply that hands over or in one before it ("I can't
    # move you into an urgent slot myself" ... "the duty nurse will ring you by noon").
    said_limit = False
    for index, text in g.agent:
        said_limit = said_limit or bool(sig.authority_limit(text))
        esc = _escalation(text)
        if esc and said_limit:
            return finding(
                "met", "escalates and says the fix is beyond its authority", Quote(index, esc[0])
            )
    escalated = g.first(_escalation, g.agent)
    if escalated:
        return finding("partial", "escalates without saying why", escalated)
    return finding("missed", "leaves the customer stuck without escalating")


def _escalation(text: str) -> list[Hit]:
    """Takes the request to someone who can decide it: a supervisor or team, a hand-over
    now, or a named person ("I've put your request to Mr Adeyemi")."""
    return sig.escalates(text) or sig.hands_over(text) or sig.refers_on(text)


def _transfer_offer(text: str) -> list[Hit]:
    """Offers to bring in a manager, or hands the customer over now ("Transferring you
    now, please hold")."""
    return sig.find(sig.TRANSFER_OFFER, text) or sig.hands_over(text)
