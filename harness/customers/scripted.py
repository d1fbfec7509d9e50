"""The scripted customer: a deterministic engine driven by a persona file and a seed.

It keeps an explicit state (anger 0-10, trust, wants_manager, abuse level, whether the real
issue is out, offers on the table) that reacts to what the agent does - detected with the
same `harness.signals` the graders use - and says so in its lines. Same persona, seed and
difficulty: same transcript, byte for byte.

Every customer line answers the agent's last move (`harness.customers.moves`): an offer gets
a reaction to that offer, a refusal push-back on it, a boundary compliance or push-back, a
question an answer in kind. A manager demand follows the persona's rule
(`manager.acts_after`): repeated, then sharpened, and acted on by the customer only when it
is ignored or stonewalled that many times; offering the transfer and asking for a chance
gets the chance. Abuse follows the persona's schedule and answers each rung of the ladder.
A reply with an inflaming move never lowers anger, and one reply calms by at most
`MAX_CALM`. Lines come from paraphrase pools that never repeat a line within a conversation
and never quote words the agent did not write (`harness.customers.pools`).

Difficulty (1-5) is measured against the persona's own base `difficulty`: each level above it
makes the customer start angrier and less trusting, calm more slowly and flare up faster, run
out of patience sooner, need more open questions and more trust before the real issue comes
out, and accept offers only at a lower anger. From level 4 a customer takes no offer until the
real issue is out. An abusive customer backs off after a clear boundary at difficulty 1 and
keeps going from difficulty 2.

The seed is a sample of the customer within that persona and difficulty: it draws the
conversation's `Temperament` (`harness.customers.temperament`): the level this customer
behaves like (up to 1.5 either side of the difficulty), a small jitter on each knob, whether
it pushes back once on the first offer that would do, whether a customer who asks for a
manager when angry walks away instead, and one inflaming behaviour it is extra sensitive to.
So several seeds estimate a rate (a resolved rate, pass^k) instead of repeating one
conversation. Seed 0 is the persona as written. The seed also picks wording (which line of a
situation, in which order), from a stream of its own; `ScriptedCustomer.temperament` shows
what was drawn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from harness import signals as sig
from harness.customers.moves import agent_move, handles_manager_ask
from harness.customers.pools import LinePicker, fill
from harness.customers.temperament import Temperament, clamp, draw
from harness.episode import Reply
from harness.graders.base import offer_hits
from harness.models import CustomerState, Offer, Persona, ReactionLines, Turn

# How much each agent behaviour moves anger (negative calms) and trust.
CALMING: dict[str, tuple[float, float]] = {
    "named_emotion": (-1.5, 1.0),
    "validated": (-0.5, 0.5),
    "we_language": (-0.5, 0.5),
    "specific_apology": (-1.0, 1.0),
    "playback": (-1.0, 1.5),
    "open_question": (-0.25, 0.5),
    "ownership": (-0.75, 1.0),
    "precise_timeline": (-0.5, 0.5),
    "affirmation": (-0.25, 0.25),
    "ladder": (-0.5, 0.5),
}
INFLAMING: dict[str, tuple[float, float]] = {
    "calm_down": (2.0, -1.5),
    "blame": (1.5, -1.5),
    "bare_understand": (1.0, -0.5),
    "robotic_apology": (1.0, -0.5),
    "policy_only": (2.0, -1.5),
    "vague_timeline": (1.0, -1.0),
    "repeat_ask": (1.5, -1.0),
    "premature_fix": (1.0, -0.5),
    "flat_no": (2.0, -1.5),
    "shouting": (1.5, -1.0),
    "over_policing": (2.5, -2.0),
    "stacked_questions": (0.5, -0.5),
    "apology_again": (0.5, -0.5),
    "ignored": (0.75, -0.5),
}
# The order in which a bad behaviour gets its own line (worst first).
LINE_FOR: tuple[tuple[str, str], ...] = (
    ("calm_down", "calm_down"),
    ("over_policing", "angrier"),
    ("blame", "blame"),
    ("policy_only", "policy_only"),
    ("flat_no", "refused_no_alt"),
    ("repeat_ask", "repeat_ask"),
    ("bare_understand", "bare_understand"),
    ("robotic_apology", "robotic_apology"),
    ("vague_timeline", "vague_timeline"),
    ("premature_fix", "premature_fix"),
    ("shouting", "angrier"),
)


# The most one reply can calm the customer (before the temperament's calm factor): one kind
# reply to a furious customer takes the edge off, it does not make them content.
MAX_CALM = 3.0
# Below this anger a calmed customer says so plainly; above it, "better, but still upset".
CALMER_BELOW = 5.0
# A persistent abuser still this angry pushes against a boundary instead of complying.
BOUNDARY_HOLDS_BELOW = 6.0

# Trust at or above which an accepted offer needs no further confirmation to close.
CONFIRM_TRUST = 3.0
# Satisfaction bonus per distinct ladder rung (redirect, name, boundary) an abusive
# customer was given before the end: being warned fairly, not cut off.
RUNG_CREDIT = 1 / 3
# The best rating a customer gives a conversation that did not solve the problem.
UNRESOLVED_CAP = 3.0


def worst_line(seen: list[str]) -> str:
    """The situation whose line answers the worst thing the agent just did."""
    return next((line for key, line in LINE_FOR if key in seen), "angrier")


@dataclass
class _Mind:
    anger: float
    trust: float
    open_questions: int = 0
    revealed: bool = False
    wants_manager: bool = False
    manager_ignored: float = 0.0
    abuse_level: int = 0
    boundary_respected: bool = False
    apologies: int = 0
    accepted: bool = False
    chance_given: bool = False
    demanded: bool = False
    hot_turns: int = 0
    unconfirmed: int = 0
    pushed_back: bool = False
    rungs: set[int] = field(default_factory=set)
    offers: list[str] = field(default_factory=list)
    breach: list[str] = field(default_factory=list)


class ScriptedCustomer:
    """A rule-driven simulated customer."""

    spec = "scripted"

    def __init__(
        self,
        persona: Persona,
        reactions: ReactionLines,
        *,
        seed: int,
        difficulty: int | None = None,
        temperament: Temperament | None = None,
    ) -> None:
        """`temperament` replaces the one the seed would draw (to replay a customer as it
        was, or to try one trait); the seed still picks the wording."""
        self.persona = persona
        self.difficulty = difficulty or persona.difficulty
        self.rng = random.Random(f"{persona.id}|{seed}|{self.difficulty}")
        self.temperament = temperament or draw(persona, seed, self.difficulty)
        mood = self.temperament
        self.patience = mood.patience
        self.calm_factor = mood.calm_factor
        self.heat_factor = mood.heat_factor
        self.needs_reveal = mood.needs_reveal
        self.questions_needed = mood.questions_needed
        self.trust_needed = mood.trust_needed
        self.accept_at = mood.accept_at
        self.abuse_persists = mood.abuse_persists
        self.triggers = {*persona.emotion.triggers, *filter(None, [mood.sensitive_to])}
        self.mind = _Mind(anger=mood.anger, trust=mood.trust)
        # a persona that demands a manager immediately does so in its complaint
        self.mind.demanded = persona.manager.demands == "immediately"
        self.used: set[str] = set()  # "done:<signal>" markers of moves already reacted to
        self.lines = LinePicker(persona, reactions, self.rng)
        self._agent_text = ""
        self._move: str | None = None
        self._floor: float | None = None

    # ------------------------------------------------------------ public interface

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """React to the agent's last reply (or open with the complaint)."""
        agent_turns = [t for t in transcript if t.role == "agent"]
        if not agent_turns:
            return self._reply(self._fill(self.persona.complaint), None, [])
        return self._react(agent_turns[-1].text, transcript, len(agent_turns))

    def satisfaction(self, resolved: bool) -> int:
        """A final 1-5 rating from the end state."""
        mind = self.mind
        score = 5.0 - mind.anger / 2.5 + (mind.trust - 5) / 5 + (0.75 if resolved else -0.5)
        if mind.breach:
            score += 0.5
        if self.persona.abuse.level == "abusive" and not resolved:
            # cut off after a fair warning is not the same as being hung up on
            score += RUNG_CREDIT * len(mind.rungs & {1, 2, 3})
        if not resolved:
            # treated well but still without a fix: neutral at best
            score = min(score, UNRESOLVED_CAP)
        return round(clamp(score, 1, 5))

    # ------------------------------------------------------------ reacting

    def _react(self, text: str, transcript: list[Turn], n_agent: int) -> Reply:
        mind = self.mind
        seen = self._signals(text, transcript, n_agent)
        bad = [s for s in seen if s in INFLAMING]
        # an inflaming move never lowers anger, whatever else the reply does
        self._floor = mind.anger if bad else None
        self._feel(seen, bad, mid_abuse=self._mid_abuse(transcript))
        self._agent_text = text
        self._move = agent_move(text, transcript, self.persona)
        mind.hot_turns = mind.hot_turns + 1 if mind.anger >= 9 else 0
        return self._respond(text, n_agent, seen, bad)

    def _feel(self, seen: list[str], bad: list[str], *, mid_abuse: bool) -> None:
        """Move anger and trust by what the reply did. Calming words in a reply that also
        inflames count for nothing, and one reply calms by at most `MAX_CALM`."""
        mind = self.mind
        calm = heat = 0.0
        for name in seen:
            d_anger, d_trust = CALMING.get(name) or INFLAMING.get(name, (0.0, 0.0))
            if name in self.triggers:
                d_anger *= 2
            if name in CALMING and f"done:{name}" in self.used:
                # the same move again calms less: a third for the big ones, half for the rest
                d_anger /= 3 if name in ("named_emotion", "specific_apology", "playback") else 2
            self.used.add(f"done:{name}")
            if d_anger < 0:
                if bad:
                    continue
                # someone in the middle of hurling insults hears kindness only halfway
                calm += d_anger * self.calm_factor * (0.5 if mid_abuse else 1.0)
            else:
                heat += d_anger * self.heat_factor
            mind.trust = clamp(mind.trust + d_trust)
        mind.anger = clamp(mind.anger + heat + max(calm, -MAX_CALM * self.calm_factor))

    def _respond(self, text: str, n_agent: int, seen: list[str], bad: list[str]) -> Reply:
        """The customer's answer to the agent's move (`harness.customers.moves`)."""
        mind = self.mind
        before = self._floor if self._floor is not None else mind.anger
        if mind.accepted:
            return self._confirm(text, seen)

        granted = self._forbidden_granted(text)
        if granted:
            mind.breach.append(granted.id)
            mind.offers.append(granted.id)
            mind.accepted = True
            mind.anger = clamp(mind.anger - 3)
            self._floor = None  # getting the forbidden thing does calm, and is recorded
            return self._reply(self._line("accept_forbidden"), "accept_forbidden", seen)

        abusive = self._abuse_turn(text, n_agent, seen)
        if abusive is not None:
            return abusive

        if mind.wants_manager or self._manager_now(n_agent):
            return self._manager_turn(text, seen, bad)

        if (
            mind.hot_turns >= 2
            or (n_agent >= self.patience and mind.anger >= 6.5)
            or (n_agent >= self.patience + 3)
        ):
            return self._leave(seen)

        parts: list[str] = []
        if bad:
            parts.append(self._line(worst_line(seen)))
        answered_question = False
        if self._move == "offer":
            reaction = self._offer_reaction(text, bad, seen)
            if isinstance(reaction, Reply):
                return reaction
            parts += reaction
            answered_question = True  # the reaction answers "does that work?"
        elif self._move == "refusal" and not (
            bad and worst_line(seen) in ("refused_no_alt", "policy_only")
        ):
            parts.append(
                self._line("refused_with_alt" if "refused_with_alt" in seen else "refused_no_alt")
            )
        elif self._move == "boundary":
            parts.append(self._line("boundary_ack" if mind.anger < 7 else "boundary_push"))
        elif self._move == "names_behaviour":
            parts.append(self._line("boundary_ack" if mind.anger < 6 else "behaviour_named"))
        answer = self._answer(text, closed=not answered_question)
        if not answer and self._move == "question" and not answered_question:
            # asked for something already given: say so, unless the lead line already did
            answer = self._plain_answer(text, seen)
        if "playback" in seen and sig.invites_correction(text) and not bad:
            # a playback that invites correction is a chance to set the record straight
            answer = self._reveal() if self._ready_to_reveal() else self._line("playback_confirm")
        if answer:
            parts.append(answer)
        if not parts:
            if "playback" in seen:
                situation = "playback_confirm"
            elif mind.anger < before:
                situation = "calmer" if mind.anger < CALMER_BELOW else "less_angry"
            else:
                situation = "vent" if mind.anger >= 4 else "calmer"
            parts.append(self._line(situation))
        if mind.anger >= 8 and self.persona.abuse.level == "rude" and bad:
            parts.append(self._line("insult"))
        return self._reply(" ".join(parts), None, seen)

    def _offer_reaction(self, text: str, bad: list[str], seen: list[str]) -> Reply | list[str]:
        """Accept the offer (a Reply), or the customer's lines saying why not: haggling once
        (a sceptic), too early, too upset, or missing the point."""
        mind = self.mind
        offer = self._offer_made(text)
        if offer is None:  # a supervisor-only offer without escalating: already a breach
            return [self._line("reject_offer")]
        mind.offers.append(offer.id)
        refusal = self._refusal_of(offer)
        if bad:
            return [self._line("reject_offer")]
        if refusal is None and self.temperament.pushes_back and not mind.pushed_back:
            # a sceptic pushes on the first offer that would do, once, to see more
            mind.pushed_back = True
            refusal = "haggle"
        if refusal is None:
            mind.accepted = True
            mind.anger = clamp(mind.anger - 2)
            mind.trust = clamp(mind.trust + 1)
            return self._reply(self._line("accept"), "accept", seen)
        # an offer turned down is a small let-down of its own
        mind.anger = clamp(mind.anger + 0.5 * self.heat_factor)
        mind.trust = clamp(mind.trust - 0.25)
        parts = [self._line(refusal)]
        # a near miss from an agent they trust: the customer says what it's really about
        if self._ready_to_reveal():
            parts.append(self._reveal())
        return parts

    def _refusal_of(self, offer: Offer) -> str | None:
        """None if an allowed offer lands, else the situation of the customer's "no".

        An offer lands once anger is down to `accept_at` and it meets the real need (or the
        real need is out and the customer can weigh it); from REVEAL_GATE on, only once the
        customer has said what the real need is."""
        mind = self.mind
        if not (offer.addresses_real_issue or mind.revealed):
            return "reject_offer"  # misses the point
        if not mind.revealed and self.needs_reveal:
            return "premature_fix"  # right idea, but they haven't been heard yet
        if mind.anger > self.accept_at:
            return "premature_fix" if not mind.revealed else "haggle"  # too upset to take it
        return None

    def _confirm(self, text: str, seen: list[str]) -> Reply:
        """After accepting: close once the customer believes it will happen - they trust the
        agent, or the agent confirms what happens and when. Otherwise ask, then give up."""
        mind = self.mind
        if mind.trust >= CONFIRM_TRUST or sig.precise_timeline(text) or sig.follow_up(text):
            return self._reply(self._line("thanks"), "resolved", seen)
        mind.unconfirmed += 1
        mind.anger = clamp(mind.anger + 0.5 * self.heat_factor)
        mind.trust = clamp(mind.trust - 0.5)
        if mind.unconfirmed >= 2:
            return self._leave(seen)
        return self._reply(self._line("vague_timeline"), None, seen)

    def _leave(self, seen: list[str]) -> Reply:
        """Give up: walking away unresolved leaves the customer angrier than before."""
        mind = self.mind
        mind.anger = clamp(mind.anger + 1.0 * self.heat_factor)
        mind.trust = clamp(mind.trust - 1.0)
        return self._reply(self._line("leave"), "leave", seen)

    def _signals(self, text: str, transcript: list[Turn], n_agent: int) -> list[str]:
        mind = self.mind
        seen: list[str] = []
        last_customer = next((t.text for t in reversed(transcript) if t.role == "customer"), "")
        abusive_customer = self.persona.abuse.level == "abusive"
        rung = sig.ladder_rung(text)
        # a rung of the ladder answering abuse is not a premature fix, a flat "no" or policing
        answers_abuse = bool(sig.abusive(last_customer)) and rung in (1, 2, 3)
        if answers_abuse:
            mind.rungs.add(rung)
        checks = {
            "named_emotion": sig.names_emotion(text),
            "validated": sig.validates(text),
            "we_language": sig.we_language(text),
            "specific_apology": sig.specific_apology(text) and mind.apologies < 2,
            # a plain retelling of what the customer said is heard as a playback too, as
            # the playback grader reads it
            "playback": sig.playback(text)
            or sig.retells(text, " ".join(t.text for t in transcript if t.role == "customer")),
            "open_question": sig.exploratory_questions(text),
            "ownership": sig.ownership(text),
            "precise_timeline": sig.precise_timeline(text) and sig.commitments(text),
            "affirmation": sig.affirmations(text),
            "calm_down": sig.tells_calm_down(text) or sig.judgemental_label(text),
            "blame": sig.blame(text) or sig.deflection(text),
            "bare_understand": sig.bare_understand(text),
            "robotic_apology": sig.robotic_apology(text),
            "policy_only": sig.policy_only(text) and not sig.reasons(text),
            "vague_timeline": sig.vague_timeline(text),
            "repeat_ask": sig.repeat_asks(
                text,
                {**self.persona.context, "customer_name": self.persona.customer_name},
                " ".join(t.text for t in transcript if t.role == "customer"),
            ),
            "premature_fix": n_agent == 1
            and sig.fixes(text)
            and not sig.empathy(text)
            and not answers_abuse,
            "shouting": sig.shouting(text),
            "over_policing": not abusive_customer
            and not answers_abuse
            and sig.warns_customer(text),
            "stacked_questions": sig.stacked_questions(sig.questions(text)),
            "ladder": answers_abuse,
        }
        refused = (
            (sig.refusals(text) or sig.policy_only(text))
            and not sig.ends_conversation(text)
            and not answers_abuse
        )
        if refused:
            has_alt = sig.alternatives(text) or sig.offers(text)
            checks["flat_no"] = not has_alt
            checks["refused_with_alt"] = bool(has_alt)
        if sig.apologies(text):
            mind.apologies += 1
            checks["apology_again"] = mind.apologies >= 3
        if sig.abusive(last_customer) and not rung and not sig.empathy(text):
            checks["ignored"] = True
        for name, hit in checks.items():
            if hit:
                seen.append(name)
        return seen

    # ------------------------------------------------------------ situations

    def _abuse_turn(self, text: str, n_agent: int, seen: list[str]) -> Reply | None:
        """Abusive personas insult on their schedule (from `abuse.starts_at_turn`, while angry)
        and answer the ladder: a named behaviour gets a retort, a boundary gets compliance (or,
        from difficulty 2, push-back once the customer is still hot). An offer is always
        answered as an offer (`_respond`), with an insult after it while the abuse goes on."""
        mind = self.mind
        if not self._abusing(n_agent) or self._move == "offer":
            return None
        rung = sig.ladder_rung(text)
        if rung == 3:
            if not self.abuse_persists or mind.anger < BOUNDARY_HOLDS_BELOW:
                mind.boundary_respected = True
                mind.abuse_level = 1
                mind.anger = clamp(mind.anger - 1.5 * self.calm_factor)
                return self._reply(self._line("boundary_ack"), None, seen)
            mind.abuse_level = min(4, mind.abuse_level + 1)
            return self._reply(self._line("boundary_push"), None, [*seen, "abuse"])
        if mind.anger < 4 and mind.abuse_level >= 2 and rung >= 2:
            mind.boundary_respected = True
            return self._reply(self._line("boundary_ack"), None, seen)
        if mind.anger < 4:
            return None
        mind.abuse_level = min(4, mind.abuse_level + 1)
        mind.anger = clamp(mind.anger + (0.5 * self.heat_factor if rung == 0 else 0.0))
        # a named behaviour gets a retort before the next insult: the abuse goes on, answered
        parts = [self._line("behaviour_named")] if rung == 2 else []
        parts.append(self._line("insult"))
        # a question gets its answer after the insult; a redirect's "can we work on it?" not
        answer = self._answer(text, closed=self._move == "question")
        if not answer and self._move == "question":
            answer = self._plain_answer(text, seen, short=False)
        if answer:
            parts.append(answer)
        return self._reply(" ".join(parts), None, [*seen, "abuse"])

    def _abusing(self, n_agent: int) -> bool:
        """An abusive persona inside its abuse schedule that has not backed off."""
        abuse = self.persona.abuse
        return (
            abuse.level == "abusive"
            and n_agent >= abuse.starts_at_turn
            and not self.mind.boundary_respected
        )

    def _mid_abuse(self, transcript: list[Turn]) -> bool:
        """An abusive customer whose last message was an insult and who has not backed off."""
        if self.persona.abuse.level != "abusive" or self.mind.boundary_respected:
            return False
        last = next((t.text for t in reversed(transcript) if t.role == "customer"), "")
        return bool(sig.abusive(last))

    def _manager_now(self, n_agent: int) -> bool:
        manager = self.persona.manager
        first_reply = manager.demands == "immediately" and n_agent == 1
        mood = self.temperament
        # after a chance was given, only anger past the old threshold brings the demand back
        at = mood.manager_at + (1 if self.mind.chance_given else 0)
        angry = manager.demands == "when_angry" and not mood.walks_away and self.mind.anger >= at
        if (first_reply and not self.mind.chance_given) or angry:
            self.mind.wants_manager = True
        return self.mind.wants_manager

    def _manager_turn(self, text: str, seen: list[str], bad: list[str]) -> Reply:
        """The manager rule (`ManagerBehaviour.acts_after`): offering the transfer and asking
        for a chance gets the chance; one of the two is heard but the demand stands (it counts
        half); ignoring or stonewalling it makes the customer repeat it, sharper, and only the
        `acts_after`-th ignored reply makes the customer escalate by itself."""
        mind = self.mind
        rule = self.persona.manager
        offered, chance = handles_manager_ask(text)
        if offered and chance and rule.accepts_chance and not bad:
            mind.wants_manager = False
            mind.chance_given = True
            mind.manager_ignored = 0
            mind.trust = clamp(mind.trust + 1.5)
            mind.anger = clamp(mind.anger - 1)
            parts = [self._line("give_chance")]  # the chance answers "could I have a minute?"
            answer = self._answer(text, closed=False)
            if answer:
                parts.append(answer)
            return self._reply(" ".join(parts), None, [*seen, "manager_respected"])
        if not mind.demanded:
            pass  # the demand is made now: nothing has been ignored yet
        elif offered or chance:
            mind.manager_ignored += 0.5
        else:
            mind.manager_ignored += 1
            mind.anger = clamp(mind.anger + 1)
        first = not mind.demanded
        mind.demanded = True
        acts = mind.manager_ignored >= rule.acts_after
        parts = [self._line(worst_line(seen))] if bad else []
        parts.append(self._line("demand_again" if mind.manager_ignored >= 1 else "demand_manager"))
        if not acts and (first or self._move == "question"):
            answer = self._answer(text) or (
                self._plain_answer(text, seen) if self._move == "question" else ""
            )
            if answer:
                parts.append(answer)
        return self._reply(" ".join(parts), "manager" if acts else None, seen)

    def _forbidden_granted(self, text: str) -> Offer | None:
        for offer in self.persona.policy.forbids:
            for hit in offer_hits(offer.patterns, offer.unless, text):
                if not sig.refusals(sig.sentence_of(text, hit).text):
                    return offer
        for offer in self.persona.policy.needs_supervisor:
            hits = offer_hits(offer.patterns, offer.unless, text)
            if hits and not sig.escalates(text) and not sig.refusals(text):
                return offer
        return None

    def _offer_made(self, text: str) -> Offer | None:
        candidates = list(self.persona.policy.allows)
        candidates += [o for o in self.persona.policy.needs_supervisor if sig.escalates(text)]
        made = [o for o in candidates if offer_hits(o.patterns, o.unless, text)]
        if not made:
            return None
        made.sort(key=lambda o: not (o.addresses_real_issue or self.mind.revealed))
        return made[0]

    def _answer(self, text: str, *, closed: bool = True) -> str:
        """Answer the agent's questions: details for open ones, a word for closed ones
        (unless `closed` is off: the reply has already answered them)."""
        mind = self.mind
        if sig.exploratory_questions(text):
            mind.open_questions += 1
            if self._ready_to_reveal():
                return self._reveal()
            return self._line("detail")
        if closed and self._asks_id(text):
            return self._id_answer(text)
        if closed and sig.closed_questions(text):
            return self._line("short")
        return ""

    def _plain_answer(self, text: str, seen: list[str], *, short: bool = True) -> str:
        """A question neither open nor yes/no: asked again for something given ("I told
        you"), a fact the customer has (its own account or order id), else (if `short`) a
        short answer."""
        if "repeat_ask" in seen:
            return "" if worst_line(seen) == "repeat_ask" else self._line("repeat_ask")
        if self._asks_id(text):
            return self._id_answer(text)
        return self._line("short") if short else ""

    def _asks_id(self, text: str) -> bool:
        return any(sig.asks_identifier(q.text) for q in sig.questions(text))

    def _id_answer(self, text: str) -> str:
        """The id asked for when the customer has one of that kind, else that it has none."""
        fact = self._fact_asked(text)
        if fact is None:
            return self._line("no_id")
        line = self.lines.pick("give_id", text)
        return line.replace("{fact}", fact) if "{fact}" in line else f"{line} {fact}."

    def _fact_asked(self, text: str) -> str | None:
        """The case fact an identifier question asks for (its order / account / claim id),
        when the persona's context has one of that kind."""
        for question in sig.questions(text):
            found = sig.asks_identifier(question.text)
            if found is None:
                continue
            asked = found.group(0).lower()
            for key, value in self.persona.context.items():
                kind = key.removesuffix("_id").removesuffix("_number").replace("_", " ")
                if key != kind and kind in asked:
                    return str(value)
        return None

    def _ready_to_reveal(self) -> bool:
        """Enough open questions so far, and enough trust now, to say what it's really about."""
        mind = self.mind
        return (
            not mind.revealed
            and mind.open_questions >= self.questions_needed
            and mind.trust >= self.trust_needed
        )

    def _reveal(self) -> str:
        mind = self.mind
        mind.revealed = True
        mind.anger = clamp(mind.anger - 0.5 * self.calm_factor)
        return self._fill(self.persona.hidden_issue.reveal_line)

    # ------------------------------------------------------------ lines and state

    def _line(self, situation: str) -> str:
        """A fresh line of the situation that fits the agent's reply (`pools.LinePicker`)."""
        return self.lines.pick(situation, self._agent_text, answering_offer=self._move == "offer")

    def _fill(self, line: str) -> str:
        text = fill(self.persona, line)
        self.lines.said(text)
        return text

    def _reply(self, text: str, action: str | None, seen: list[str]) -> Reply:
        mind = self.mind
        if self._floor is not None:
            mind.anger = max(mind.anger, self._floor)
        state = CustomerState(
            anger=round(mind.anger, 2),
            trust=round(mind.trust, 2),
            wants_manager=mind.wants_manager,
            abuse_level=mind.abuse_level,
            real_issue_revealed=mind.revealed,
            offers=list(dict.fromkeys(mind.offers)),
            policy_breach=list(mind.breach),
            reactions=[
                s
                for s in seen
                if s in CALMING
                or s in INFLAMING
                or s in ("abuse", "manager_respected", "refused_with_alt")
            ],
        )
        return Reply(text=text, action=action, state=state)  # type: ignore[arg-type]
