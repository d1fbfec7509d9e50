"""Section 2 of GUIDELINES.md: the D.E.F.U.S.E. framework (seed 000 §2)."""

from __future__ import annotations

from harness import signals as sig
from harness.graders.base import Finding, GradeInput, Quote, finding, grader


def _keeps_helping(text: str) -> list[sig.Hit]:
    """Signs a reply keeps working the problem: a redirect, ownership, empathy, an offer."""
    return (
        sig.find(sig.RUNG_REDIRECT, text)
        or sig.ownership(text)
        or sig.empathy(text)
        or sig.offers(text)
        or sig.we_language(text)
    )


@grader("defuse.dont_take_personally")
def dont_take_personally(g: GradeInput) -> Finding:
    """defuse.dont_take_personally (000 §2 D): stay professional after an insult."""
    if not g.attack_turns:
        return finding("na", "the customer did not attack the agent or the company")
    replies = [r for i in g.attack_turns if (r := g.next_agent(i))]
    if not replies:
        return finding("na", "no reply after the attack")
    # Wounded or retaliatory replies count for the rest of the contact, not only the
    # reply right after the attack.
    after = [(i, t) for i, t in g.agent if i > g.attack_turns[0]]
    hurt = g.first(_hurt, after) or g.first(sig.shouting, replies)
    pleads_only = all(len(sig.pleads_effort(t)) == len(sig.defensive(t)) for _, t in after)
    if hurt and pleads_only and not g.first(sig.shouting, replies):
        # Only pleading its own effort ("I'm doing my best here"): wounded, not hitting back.
        return finding("partial", "pleads its own effort after an attack", hurt)
    if hurt:
        return finding("violated", "defensive or retaliatory after an attack", hurt)
    siding = g.first(sig.undermines_team, replies)
    if siding:
        return finding("missed", "sides with the attack on a colleague", siding)
    index, text = replies[0]
    if sig.ladder_rung(text) == 4 and sig.end_reason(text) and sig.path_back(text):
        # Ending at once, saying why and how to come back, is the boundary held calmly
        # (a threat or a slur may end the contact at the first turn), not a retort.
        return finding(
            "met",
            "ends calmly, saying why and how to come back",
            Quote(index, sig.sentences(text)[0]),
        )
    # a warning beside the behaviour named in a sentence of its own is a calm rung, not
    # only a threat (ending there and then still is)
    rung = sig.ladder_rung(text)
    named = rung == 3 and sig.rung_beside_threat(text)
    # a threat, harassment or a slur may end the contact at once: cutting it off without a
    # word of why is curt, but it answers the attack with a boundary, not with hurt
    severe = any(sig.severe_abuse(t) for i, t in g.customer if i in g.attack_turns)
    if rung >= 3 and not (_keeps_helping(text) or named):
        if severe and rung == 4:
            return finding(
                "partial",
                "ends at once after a threat or harassment, without saying why",
                Quote(index, sig.sentences(text)[0]),
            )
        return finding(
            "violated",
            "answers the first attack with a threat to end, and nothing else",
            Quote(index, sig.sentences(text)[0]),
        )
    # Ending without a word of why or how to come back is cutting the customer off, unless
    # an earlier reply had already named the behaviour or warned (the ladder's last rung),
    # whether or not that reply answered a turn the attack detector caught.
    warned = False
    curt: Quote | None = None
    for index, text in after:
        if sig.ladder_rung(text) == 4 and not warned:
            if not sig.path_back(text) and not sig.end_reason(text):
                curt = Quote(index, sig.ends_conversation(text)[0])
            break
        warned = warned or sig.ladder_rung(text) in (2, 3)
    if curt:
        if severe:
            return finding("partial", "ends after a threat or harassment, without saying why", curt)
        return finding("violated", "cuts the customer off after the attack", curt)
    helpful = g.first(_keeps_helping, replies)
    if helpful:
        return finding("met", "stays neutral and keeps working the problem", helpful)
    return finding("partial", "not defensive, but does not steer back to helping")


def _hurt(text: str) -> list[sig.Hit]:
    """Defensive or retaliatory words, except the behaviour named as the reason in a
    professional ending ("I'm not going to be spoken to like that. I'm ending the call
    now. You can email the adverts to …"): that is the last rung, not a retort."""
    hits = sig.defensive(text)
    if sig.ladder_rung(text) == 4 and sig.path_back(text):
        hits = [h for h in hits if not sig.end_reason(sig.sentence_of(text, h).text)]
    return hits


def _about_colleague(text: str, hit: sig.Hit) -> bool:
    """Sympathy whose sentence, or the sentence right after it, faults a colleague ("I'm
    really sorry about how Lina handled that. She shouldn't have closed the chat")."""
    said = sig.sentences(text)
    at = next((i for i, s in enumerate(said) if s.start <= hit.start < s.end), None)
    around = said[at : at + 2] if at is not None else [hit]
    return any(sig.undermines_team(s.text) for s in around)


def _care(text: str) -> list[sig.Hit]:
    """Empathy for the customer's case, or the case weighed for them ("A letter like that
    would give anybody a fright"): sympathy for how a colleague behaved is about the
    colleague, not the case."""
    hits = sig.empathy(text) + sig.weighs_situation(text)
    return sorted((h for h in hits if not _about_colleague(text, h)), key=lambda h: h.start)


@grader("defuse.empathize_first")
def empathize_first(g: GradeInput) -> Finding:
    """defuse.empathize_first (000 §2 E, 002 §1): validate before anything else."""
    replies = g.agent
    if len(replies) > 1 and g.customer and replies[0][0] < g.customer[0][0]:
        replies = replies[1:]  # the agent spoke first (a greeting): reply to the complaint
    if not replies:
        return finding("na", "no agent replies")
    index, text = replies[0]
    # A manager may open on the colleague's call and validate in the next reply.
    on_colleague = sig.backs_team(text) or sig.undermines_team(text)
    if g.is_manager_role and len(replies) > 1 and not _care(text) and on_colleague:
        index, text = replies[1]
    care = _care(text)
    care = sorted(care + g.condolences(index, text), key=lambda h: h.start)
    if any(i < index for i in g.manager_asks):  # accepting the request validates it
        care = sorted(care + sig.grants_manager_request(text), key=lambda h: h.start)
    firsts = (
        sig.questions(text)
        + sig.concrete_fixes(text)
        + sig.policy_mention(text)
        + sig.refusals(text)
    )
    first_other = min(firsts, key=lambda h: h.start) if firsts else None
    stock = sig.bare_understand(text)
    if care and all(any(b.start <= h.start < b.end for b in stock) for h in care):
        # only a stock "I understand your frustration": a nod, not the experience validated
        return finding(
            "partial", "validates only with a stock 'I understand'", Quote(index, care[0])
        )
    if care and (first_other is None or care[0].start <= first_other.start):
        return finding(
            "met", "the first reply validates the experience first", Quote(index, care[0])
        )
    if care:
        return finding(
            "partial", "validates, but only after a question, policy or fix", Quote(index, care[0])
        )
    if g.is_manager_role and sig.backs_team(replies[0][1]):
        return finding(
            "partial",
            "a manager backing the colleague first, with no validation of the experience",
            g.first(sig.backs_team, replies[:1]),
        )
    if first_other is not None:
        return finding(
            "violated",
            "opens with policy, questions or a fix, without empathy",
            Quote(index, first_other),
        )
    return finding("missed", "looked for validation in the first reply")


@grader("defuse.find_real_issue")
def find_real_issue(g: GradeInput) -> Finding:
    """defuse.find_real_issue (000 §2 F, 002 §3): open questions that uncover the stakes."""
    open_q = g.all(sig.stakes_questions, g.agent)
    revealed = any(s.real_issue_revealed for s in g.states) if g.states else None
    if open_q and revealed is False and g.persona is not None:
        return finding(
            "partial", "asks open questions, but the real issue stayed hidden", open_q[0]
        )
    if open_q:
        return finding("met", "asks open questions about what is really at stake", open_q[0])
    closed = g.first(sig.closed_questions, g.agent)
    if closed:
        return finding("missed", "only closed yes/no questions", closed)
    return finding("missed", "looked for open questions (full picture, ideal outcome, deadline)")


@grader("defuse.playback")
def playback(g: GradeInput) -> Finding:
    """defuse.playback (000 §2 U): summarise back in its own words and invite correction."""
    unchecked: Quote | None = None
    echoed: Quote | None = None
    for index, text in g.agent:
        told = " ".join(t for i, t in g.customer if i < index)
        said = " ".join([told, *map(str, g.context.values())])
        summary = sig.plays_back(text, said, told)
        if summary and sig.invites_correction(text):
            return finding("met", "plays the problem back and checks it", Quote(index, summary[0]))
        if summary and unchecked is None:
            unchecked = Quote(index, summary[0])
        if unchecked is None and echoed is None:  # a first summary or echo outranks it
            retold = sig.retells(text, told)
            if retold:
                echoed = Quote(index, retold[0])
    unchecked = unchecked or echoed
    if unchecked:
        return finding("partial", "plays the problem back without inviting correction", unchecked)
    return finding("missed", "looked for a summary of the problem in the agent's own words")


def _offered_remedies(g: GradeInput) -> bool:
    """Options were put on the table outside the escalation ladder (a "team leader or
    email?" pause offers ways to carry on, not resolutions)."""
    return any(sig.options_offered(t) and sig.ladder_rung(t) < 2 for _, t in g.agent)


@grader("defuse.options")
def options(g: GradeInput) -> Finding:
    """defuse.options (000 §2 S): two or three concrete options; the customer chooses."""
    if g.agent_ended_at is not None and g.customer_abusive and not _offered_remedies(g):
        return finding("na", "abuse ended the contact before a resolution")
    if g.agent and sig.hands_over(g.agent[-1][1]):
        return finding("na", "the route lay with another team: the contact was handed over")
    # options put side by side are on the table even when none is an "I can..." offer
    # ("The pharmacist can ask your insurer, or you can pay cash today")
    if not g.fix_offered and not g.first(sig.action_done, g.agent) and not _offered_remedies(g):
        # Only another team's route or abuse makes options moot: a flat no, a policy, a
        # "please hold" or a bare instruction is the single answer dictated.
        refusing = [(i, t) for i, t in g.agent if i in g.refusal_turns]
        refused = g.first(sig.refusals, refusing) or g.first(sig.policy_only, refusing)
        if refused:
            return finding("missed", "says no and offers no options", refused)
        return finding("missed", "puts no options on the table")
    bundled = g.first(
        sig.bundled_fixes,
        [(i, t) for i, t in g.agent if sig.bundled_fixes(t) and sig.ladder_rung(t) < 2],
    )
    if bundled:
        # Two fixes put together for the customer ("honestly, I'd do both"): options on
        # the table, but the choice made for them.
        return finding(
            "partial", "bundles the fixes instead of letting the customer choose", bundled
        )
    for index, text in g.agent:
        found = sig.options_offered(text)
        if found and sig.choice_questions(text):
            if len(found) > 4:
                return finding("partial", "offers too many options at once", Quote(index, found[0]))
            return finding(
                "met",
                f"offers {len(found)} options and lets the customer choose",
                Quote(index, found[0]),
            )
    picked = _options_then_picked(g)
    if picked:
        return finding("met", "offers options and the customer picks one", picked)
    found_any = g.first(sig.options_offered, g.agent)
    if found_any:
        return finding("partial", "offers options but does not let the customer choose", found_any)
    single = g.first(sig.offers, g.agent)
    return finding("missed", "dictates a single fix instead of offering options", single)


def _options_then_picked(g: GradeInput) -> Quote | None:
    """Options put side by side, then the customer's very next turn takes one up: the
    choice was left to the customer even without a question asking for it."""
    taken = set(g.take_up_turns)
    for index, text in g.agent:
        found = sig.options_offered(text)
        if found and 2 <= len(found) <= 4 and index + 1 in taken:
            return Quote(index, found[0])
    return None


@grader("defuse.pickle")
def pickle(g: GradeInput) -> Finding:
    """defuse.pickle (000 §2 E): an unexpected extra after resolving."""
    if not g.resolved:
        return finding("na", "the issue was not resolved")
    for index, text in g.agent:
        asked = " ".join(t for i, t in g.customer if i < index)
        if sig.caves(text):
            continue  # given way under pressure ("OK, as a one-off I'll waive it"): no extra
        for hit in sig.extras(text) + sig.added_extras(text):
            if not sig.grants_request_at(text, hit, asked):
                return finding("met", "adds an unexpected extra beyond the fix", Quote(index, hit))
        # a fee nobody named before (an amount the agent quoted earlier is the dispute)
        before = " ".join(t for i, t in g.turns_text if i < index)
        for clause in sig.action_clauses(text):
            if sig.unasked_fee(clause.text, before) and not sig.refusals(clause.text):
                return finding(
                    "met", "waives a fee the customer never raised", Quote(index, clause)
                )
    return finding("missed", "looked for an extra (credit, upgrade, personal follow-up)")
