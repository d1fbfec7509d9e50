"""What a grader sees (`GradeInput`), what it returns (`Finding`) and the registry."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness import signals as sig
from harness.models import CustomerState, Persona, StopReason, Turn, Verdict
from harness.signals import Hit

# A case-file note of an earlier contact that the colleague cut short.
_ENDED_CONTACT = (
    r"\b(ended|closed|terminated|disconnected|hung up|hang up|put the phone down|cut off)\b"
)
# A case-file key recording an earlier contact ("previous_chat", "prior_contact").
# A sentence about how a colleague ended or handled the earlier contact (apology.yaml).
_COLLEAGUE_ENDING = sig.pattern_set("colleague_ending")
# Clause breaks of a case file, and a clause that sets a limit (refusals.yaml).
_LIMIT_BREAK = re.compile(r"[.;:()\n]|,\s|\s[-–—]\s")
_LIMIT_CLAUSE = sig.pattern_set("limit_clause")
_EARLIER_KEY = re.compile(r"previous|prior|history|earlier", re.IGNORECASE)
# The agent introduces themself by a manager's rank ("I'm Carol, I'm the team leader",
# "this is Dee Shah, duty manager"), not "I'm afraid managers don't take chats".
_MANAGER_INTRO = re.compile(
    r"\b(I'?m|I am|this is|it'?s|my name is)\b(?! (afraid|sorry|not)\b)[^.?!\n]{0,40}?"
    r"\b(the|a|your|one of the|duty|service|support|team|customer \w+)\b[^.?!\n]{0,20}?"
    r"\b(managers?|supervisors?|team ?lead(er)?s?|head of)\b",
    re.IGNORECASE,
)
# A rank a manager taking over a call holds itself (not another team above it).
_RANK = re.compile(r"\b(managers?|supervisors?|team ?lead(er)?s?|directors?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Quote:
    """Evidence: a span of one turn."""

    turn: int
    hit: Hit


@dataclass(frozen=True)
class Finding:
    """A grader's verdict with its evidence and a one-line rationale."""

    verdict: Verdict
    rationale: str
    evidence: tuple[Quote, ...] = ()


def finding(verdict: Verdict, rationale: str, *evidence: Quote | None) -> Finding:
    """Build a Finding, dropping missing evidence."""
    return Finding(verdict, rationale, tuple(e for e in evidence if e is not None))


@dataclass
class GradeInput:
    """A conversation as graders see it, with facts derived once and shared."""

    turns: list[Turn]
    context: Mapping[str, Any] = field(default_factory=dict)
    persona: Persona | None = None
    stop_reason: StopReason | None = None

    # ------------------------------------------------------------ turn access

    @cached_property
    def agent(self) -> list[tuple[int, str]]:
        """(turn index, text) of every agent turn."""
        return [(i, t.text) for i, t in enumerate(self.turns) if t.role == "agent"]

    @cached_property
    def customer(self) -> list[tuple[int, str]]:
        """(turn index, text) of every customer turn."""
        return [(i, t.text) for i, t in enumerate(self.turns) if t.role == "customer"]

    @cached_property
    def turns_text(self) -> list[tuple[int, str]]:
        """(turn index, text) of every turn."""
        return [(i, t.text) for i, t in enumerate(self.turns)]

    @cached_property
    def states(self) -> list[CustomerState]:
        """Recorded customer states (simulated runs only)."""
        return [t.state for t in self.turns if t.state is not None]

    def first(
        self, detector: Callable[[str], list[Hit]], turns: list[tuple[int, str]]
    ) -> Quote | None:
        """The first hit of a detector across the given turns."""
        for index, text in turns:
            hits = detector(text)
            if hits:
                return Quote(index, hits[0])
        return None

    def all(
        self, detector: Callable[[str], list[Hit]], turns: list[tuple[int, str]]
    ) -> list[Quote]:
        """Every hit of a detector across the given turns."""
        return [Quote(index, h) for index, text in turns for h in detector(text)]

    def condolences(self, index: int, text: str) -> list[Hit]:
        """Sympathy for a death in the agent turn at `index`, once a customer turn before it
        reported one ("I'm so sorry about Peter" after "my husband Peter passed away")."""
        if any(sig.bereavement(t) for i, t in self.customer if i < index):
            return sig.condolence(text)
        return []

    def next_agent(self, customer_index: int) -> tuple[int, str] | None:
        """The agent reply right after a customer turn."""
        for index, text in self.agent:
            if index > customer_index:
                return index, text
        return None

    # ------------------------------------------------------------ derived facts

    @cached_property
    def customer_upset(self) -> bool:
        """The customer is upset (recorded anger, or the text says so)."""
        if self.states:
            return max(s.anger for s in self.states) >= 4
        return any(sig.upset(text) for _, text in self.customer[:2]) or self.customer_shaken

    @cached_property
    def customer_shaken(self) -> bool:
        """Upset in words no complaint list holds: grieving, shaken ("I'm in shock", "I
        can't cope"), or saying at the outset what rides on the problem (rent due, a sick
        child): a customer owed patience all the same."""
        return any(sig.bereavement(t) or sig.distress(t) for _, t in self.customer) or any(
            sig.stakes(t) for _, t in self.customer[:2]
        )

    @cached_property
    def abusive_turns(self) -> list[int]:
        """Customer turns that are abusive."""
        from_text = [i for i, text in self.customer if sig.abusive(text)]
        if self.turns and any(t.state for t in self.turns):
            from_state = [
                i
                for i, t in enumerate(self.turns)
                if t.role == "customer" and t.state and t.state.abuse_level >= 2
            ]
            return sorted(set(from_text) | set(from_state))
        return from_text

    @cached_property
    def customer_abusive(self) -> bool:
        """The customer was abusive at least once (or the persona is abusive)."""
        if self.persona is not None and self.persona.abuse.level == "abusive":
            return True
        return bool(self.abusive_turns)

    @cached_property
    def attack_turns(self) -> list[int]:
        """Customer turns attacking the agent or the company, or a colleague: names called
        once the customer is talking about staff ("your lad hung up on me ... he's a
        muppet"), not a neighbour or a relative."""
        out = []
        about_staff = False
        for i, text in self.customer:
            about_staff = about_staff or bool(sig.staff_reported(text))
            if sig.attacks_agent(text) or (about_staff and sig.insults_someone(text)):
                out.append(i)
        return out

    @cached_property
    def manager_asks(self) -> list[int]:
        """Customer turns asking for a manager."""
        if self.is_manager_role:
            return [i for i, text in self.customer[1:] if sig.asks_manager(text)]
        return [i for i, text in self.customer if sig.asks_manager(text)]

    @cached_property
    def is_manager_role(self) -> bool:
        """The agent under test plays a manager taking over an escalated conversation."""
        if self.persona is not None:
            return self.persona.agent_role == "manager"
        role = str(self.context.get("agent_role", "")).lower()
        if role == "manager" or self._case_file_manager_takeover:
            return True
        first_customer = self.customer[0][1] if self.customer else ""
        cut_off = re.search(
            r"\b(hung up|hang up|cut (me|my call|the call|the chat) off|cut my call|"
            r"(ended|closed|close|shut|cut|terminated|disconnected) (the|my|our|that) "
            r"(call|chat|conversation)|disconnected me|put the phone down|kicked me off)\b",
            first_customer,
            sig.FLAGS,
        )
        first_agent = self.agent[0][1] if self.agent else ""
        is_manager = re.search(
            r"\b(managers?|supervisors?|team leads?|team leaders?|head of)\b|"
            r"\bI (manage|lead|run|head( up)?|look after) (the|our|a) (\w+ ){0,2}team\b",
            first_agent,
            sig.FLAGS,
        )
        about_colleague = sig.backs_team(first_agent) or sig.undermines_team(first_agent)
        return bool(cut_off and (is_manager or about_colleague)) or self._manager_on_earlier_contact

    @cached_property
    def _manager_on_earlier_contact(self) -> bool:
        """A manager who introduces themself on a contact whose case file records an earlier
        one ("I'm Rachel, a team manager. I've read your chat with Jamie"): a take-over,
        even when that contact ended in a disputed no rather than a hang-up."""
        if self.persona is not None or not self.agent:
            return False
        earlier = any(_EARLIER_KEY.search(str(key)) for key in self.context)
        return earlier and bool(_MANAGER_INTRO.search(self.agent[0][1]))

    @cached_property
    def _case_file_manager_takeover(self) -> bool:
        """A case file that names the agent's role as a manager (team leader, head of…)
        and records an earlier contact that a colleague ended: the agent is taking over."""
        manager = any(
            re.search(r"role|handler|speaker|^agent$", str(key), re.I)
            and re.search(r"\b(manager|supervisor|team lead(er)?|head of)\b", str(value), re.I)
            for key, value in self.context.items()
        )
        earlier = any(
            re.search(r"previous|prior|history", str(key), re.I)
            and re.search(_ENDED_CONTACT, str(value), re.I)
            for key, value in self.context.items()
        )
        return manager and earlier

    @cached_property
    def agent_ended_at(self) -> int | None:
        """Turn index where the agent ended the conversation."""
        for index, turn in enumerate(self.turns):
            if turn.role == "agent" and turn.action == "end":
                return index
        if self.stop_reason == StopReason.agent_ended and self.agent:
            return self.agent[-1][0]
        if self.agent and self.stop_reason in (None, StopReason.imported):
            index, text = self.agent[-1]
            if sig.ends_conversation(text) and (
                self.customer_abusive
                or sig.end_reason(text)
                or sig.warns_customer(text)
                # a sign-off nobody agreed to is cut short, not one answering "ok thx"
                or (self.acceptance_turn is None and not self._signed_off_before(index))
            ):
                return index
        return None

    def _signed_off_before(self, index: int) -> bool:
        """The customer turn right before the agent's at `index` closes content ("ok
        thx", "thanks, that's all")."""
        before = [t for i, t in self.customer if i < index][-1:]
        return any(sig.customer_closes(t) and not sig.find(sig.REJECTION, t) for t in before)

    @cached_property
    def forbidden_asks(self) -> list[int]:
        """Customer turns asking for something the persona's policy forbids."""
        if self.persona is None or not self.persona.policy.forbids:
            return []
        out = []
        for index, text in self.customer:
            for offer in self.persona.policy.forbids:
                if offer_matches(offer.patterns, offer.unless, text):
                    out.append(index)
                    break
        return out

    @cached_property
    def refusal_turns(self) -> list[int]:
        """Agent turns that say no (not the ones ending an abusive call)."""
        return [
            i
            for i, text in self.agent
            if (sig.refusals(text) or sig.policy_only(text))
            and not sig.ends_conversation(text)
            and not (sig.find(sig.RUNG_NAME, text) and not sig.alternatives(text))
        ]

    @cached_property
    def no_applies(self) -> bool:
        """A no was due (what the no.* graders apply to): the case file's policy limit was
        asked about (`said_no_applies`), or, when a recorded case file names its limit under
        another heading ("warranty: excludes clutches", "file note: cannot be issued
        until…"), the agent refuses the very thing the customer asked for and the case file
        records: the refused sentence shares content words with both the customer's request
        and the case file."""
        if self.said_no_applies:
            return True
        if self.persona is not None or self.policy_text or not self.context:
            return False
        recorded = sig.content_stems(
            " ".join(c for c in _LIMIT_BREAK.split(self.case_file) if sig.find(_LIMIT_CLAUSE, c))
        )
        for index in self.refusal_turns:
            text = self.turns[index].text
            if sig.authority_limit(text) or sig.escalates(text):
                continue  # "I can't amend it, the compliance team can": a hand-up, not a no
            asked = sig.content_stems(" ".join(t for i, t in self.customer if i < index))
            for hit in sig.refusals(text) + sig.policy_only(text):
                said = sig.content_stems(sig.sentence_of(text, hit).text)
                if said & asked & recorded:
                    return True
        return False

    @cached_property
    def said_no_applies(self) -> bool:
        """The customer asked for something the agent must refuse."""
        if self.persona is not None:
            return bool(self.persona.policy.forbids) and (
                bool(self.forbidden_asks) or bool(self.granted_forbidden)
            )
        if self.granted_forbidden:  # never said no, and gave what the case file rules out
            return True
        if not self.policy_text:
            return False
        # A no about the limit the case file sets (the reply cites the policy or shares its
        # words), not any "I can't".
        limit = sig.content_stems(self.policy_text)

        def about_limit(index: int) -> bool:
            text = self.turns[index].text
            hand_up = sig.authority_limit(text) or sig.escalates(text)
            if self.reserved_in_case_file and hand_up and not sig.policy_only(text):
                # "not mine to approve, the team can": a hand-up, not a no; but "it's our
                # policy" stays the answer even beside "that's the team's call".
                return False
            shared = sig.content_stems(text) & limit
            asked = " ".join(t for i, t in self.customer if i < index)
            return bool(
                sig.policy_only(text)
                or len(shared) >= 2
                or shared & sig.content_stems(asked)  # the no answers a request on it
            )

        return any(about_limit(i) for i in self.refusal_turns) or any(
            sig.caves(t) for _, t in self.agent
        )

    @cached_property
    def policy_text(self) -> str:
        """Policy limits written in a recorded transcript's case context (keys naming a
        policy, rules, terms, limits or authority); empty when there are none."""
        return " ".join(
            str(value)
            for key, value in self.context.items()
            if re.search(r"polic|rule|term|limit|authori|allow|exclu", str(key), re.IGNORECASE)
        )

    @cached_property
    def granted_forbidden(self) -> list[Quote]:
        """Agent turns that grant what the persona's policy forbids, or (recorded
        transcripts) what a restricted clause of the case file rules out."""
        if self.persona is None:
            return self._granted_restricted
        out = []
        for index, text in self.agent:
            for offer in self.persona.policy.forbids:
                hits = offer_hits(offer.patterns, offer.unless, text)
                if hits and not sig.refusals(sig.sentence_of(text, hits[0]).text):
                    out.append(Quote(index, sig.sentence_of(text, hits[0])))
        return out

    @cached_property
    def _granted_restricted(self) -> list[Quote]:
        """Agent sentences, before any no, that grant what a restricted case-file clause
        rules out ("non-refundable" ... "I'll refund the £297 now") after the customer
        asked for it; a grant after a no is a cave, read by the cave wording instead."""
        clauses = sig.restricted_clauses(self.case_file)
        if not clauses:
            return []
        first_no = self.refusal_turns[0] if self.refusal_turns else len(self.turns)
        out = []
        for index, text in self.agent:
            if index >= first_no:
                break
            asked = " ".join(t for i, t in self.customer if i < index)
            if not asked:
                continue
            for sentence in sig.sentences(text):
                if sig.grants_restricted(sentence.text, clauses, asked):
                    out.append(Quote(index, sentence))
                    break
        return out

    @cached_property
    def acceptance_turn(self) -> int | None:
        """The customer turn that accepted a resolution (typed action, or its words)."""
        for index, turn in enumerate(self.turns):
            if turn.role == "customer" and turn.action in ("accept", "accept_forbidden"):
                return index
        if self.states or self.stop_reason not in (None, StopReason.imported):
            return None
        offered = False
        last_agent = ""
        for index, turn in enumerate(self.turns):
            if turn.role == "agent":
                last_agent = turn.text
                offered = offered or bool(
                    sig.offers(turn.text) or sig.commitments(turn.text) or sig.ownership(turn.text)
                )
            elif self._takes_up(index, turn.text, offered, last_agent):
                return index
        return None

    @cached_property
    def take_up_turns(self) -> list[int]:
        """Every customer turn that takes up what the agent put forward (a yes, or a pick
        of one of the options, even one that goes on to ask about it: "Walnut please. Is
        that before the 24th?"), in order; a typed acceptance when the run recorded one."""
        typed = [
            i
            for i, t in enumerate(self.turns)
            if t.role == "customer" and t.action in ("accept", "accept_forbidden")
        ]
        if typed or self.states or self.stop_reason not in (None, StopReason.imported):
            return typed
        out = []
        offered, last_agent = False, ""
        for index, turn in enumerate(self.turns):
            if turn.role == "agent":
                last_agent = turn.text
                offered = offered or bool(
                    sig.offers(turn.text) or sig.commitments(turn.text) or sig.ownership(turn.text)
                )
            elif self._takes_up(index, turn.text, offered, last_agent) or _opens_with_pick(
                last_agent, turn.text
            ):
                out.append(index)
        return out

    def _takes_up(self, index: int, text: str, offered: bool, last_agent: str) -> bool:
        """The customer's turn accepts: a yes or a pick after an offer, or a plain yes the
        agent then carries out."""
        if offered and (sig.accepts(text) or _picks_option(last_agent, text)):
            return True
        return "?" not in text and bool(sig.accepts(text)) and self._carried_out_after(index)

    def _carried_out_after(self, customer_index: int) -> bool:
        """The agent's next reply reports done what the customer just said yes to ("ok,
        submit it" ... "Submitted, reference DB-2093"): an offer the detectors missed was
        still made and taken up. A yes that goes on to ask something ("Yes, exactly. Can you
        get one here today?") only confirms the facts."""
        reply = self.next_agent(customer_index)
        return reply is not None and bool(sig.action_done(reply[1]))

    @cached_property
    def resolved(self) -> bool:
        """A resolution was agreed.

        Simulated runs: the customer accepted. Recorded transcripts: the agent put a plan in
        place and the contact did not end in a hand-over, an agent-ended call or a customer
        who gave up (a reluctant "fine" still counts, as a trainer would read it)."""
        if self.stop_reason == StopReason.resolved:
            return True
        if self.states or self.stop_reason not in (None, StopReason.imported):
            return self.acceptance_turn is not None
        if self.agent_ended_at is not None or not self.agent:
            return False
        if sig.hands_over(self.agent[-1][1]):
            return False
        last_customer = self.customer[-1] if self.customer else None
        if self.walked_away:
            return False  # the customer's last word withdraws an earlier "ok"
        if self.acceptance_turn is not None:
            return True
        planned = [
            i
            for i, text in self.agent
            if sig.fixes(text) or sig.commitments(text) or sig.action_done(text)
        ]
        closes = bool(
            last_customer
            and last_customer[0] > self.agent[0][0]
            and sig.customer_closes(last_customer[1])
            and not sig.find(sig.REJECTION, last_customer[1])
        )
        if not planned:
            return closes  # a question answered, and the customer signs off content
        return not self._left_pending

    @cached_property
    def walked_away(self) -> bool:
        """The customer gives up ("forget it, I'll book something myself", "I'll take it
        to my bank") and never takes anything up afterwards: a curt "No. Bye." to the
        agent's "anything else?" does not undo walking away. A last word of scorn
        ("Typical.") counts only as the customer's final turn, not earlier in the contact."""
        last = len(self.customer) - 1
        for n in range(last, -1, -1):
            text = self.customer[n][1]
            if self._gives_up(text) or (n == last and sig.scorn_last_word(text)):
                return True
            if sig.accepts(text) or sig.customer_closes(text):
                return False
        return False

    @staticmethod
    def _gives_up(text: str) -> bool:
        """The customer walks away ("nah, don't bother", "I'll take it to the ombudsman"),
        not a content close that happens to hold a give-up word ("Thanks... never mind,
        thank you")."""
        return bool(sig.gives_up(text)) and not sig.customer_closes(text)

    @cached_property
    def _left_pending(self) -> bool:
        """The contact ends on an agent reply that leaves the customer's last question or
        objection open ("Soon? I need a date." answered by another vague promise): no
        resolution was reached, only a plan the customer was still disputing."""
        if not self.customer or self.turns[-1].role != "agent":
            return False
        index, text = self.customer[-1]
        if "?" not in text or sig.accepts(text) or sig.customer_closes(text):
            return False
        replies = [t for i, t in self.agent if i > index]
        answered = any(re.match(r"\W*(yes|yeah|yep)\b", t, sig.FLAGS) for t in replies)
        return not answered and not any(sig.action_done(t) for t in replies)

    @cached_property
    def fix_offered(self) -> bool:
        """The agent put at least one concrete fix on the table."""
        return any(
            sig.offers(text) or sig.commitments(text) or sig.ownership(text)
            for _, text in self.agent
        )

    @cached_property
    def apology_due(self) -> bool:
        """The customer complained about something the company got wrong, or the agent
        owns a fault of the company's ("that is our error")."""
        if self.persona is not None and self.is_manager_role:
            return True  # taking over a call a colleague cut short
        if self.persona is not None:
            return any(sig.apologies(text) for _, text in self.agent) or (
                self.persona.archetype
                not in (
                    "anxious",
                    "external_pressure",
                    "manager_demanding",
                )
            )
        # A recorded transcript: what the customer reports, not whether the agent said
        # sorry (sympathy for a bereavement or a "sorry, but no" is not an apology due).
        opening = [text for _, text in self.customer[:3]]
        if any(sig.own_fault(text) for text in opening[:2]):
            return False
        # the case file may record the company's own slip ("fee taken in error")
        case_file = " . ".join(str(v) for v in self.context.values())
        if self.is_manager_role:
            # taking over from a colleague who ended the contact: that ending is the
            # colleague's call, not a slip owed an apology, so only the issue underneath
            # ("and my vase arrived smashed") makes one due
            opening = [_without_ending(text) for text in opening]
            case_file = _without_ending(case_file)
        return (
            any(sig.company_fault(text) for text in opening)
            or any(sig.owns_fault(text) for _, text in self.agent)
            or bool(
                sig.case_file_company_fault(case_file)
                or sig.owns_fault(case_file)
                or sig.case_file_fault(case_file)
            )
        )

    @cached_property
    def exceeds_authority(self) -> bool:
        """The customer's request exceeds the agent's authority."""
        if self.persona is not None:
            limits = self.persona.policy.needs_supervisor
            return any(
                offer_matches(o.patterns, o.unless, text)
                for o in limits
                for _, text in self.turns_text
            )
        if str(self.context.get("needs_supervisor", "")).lower() in ("true", "yes", "1"):
            return True
        if any(sig.authority_limit(text) for _, text in self.agent):
            return True
        # A case file that reserves something for another team, when the agent then refuses,
        # escalates, caves or grants it anyway: the request went beyond the agent's authority.
        return bool(self.reserved_in_case_file)

    @cached_property
    def case_file(self) -> str:
        """The recorded transcript's case context as one text ("policy note: …. …")."""
        return " ".join(
            f"{str(key).replace('_', ' ')}: {value}." for key, value in self.context.items()
        )

    @cached_property
    def reserved_in_case_file(self) -> str:
        """The case-file sentences that reserve a decision for someone above the agent
        ("full refunds need Customer Resolutions approval"); empty when none does. For a
        manager taking over, its own rank is not above it: only another team is."""
        hits = sig.authority_in_policy(self.case_file)
        if self.is_manager_role:
            hits = [h for h in hits if not _RANK.search(h.text)]
        return " ".join(dict.fromkeys(sig.sentence_of(self.case_file, h).text for h in hits))

    @cached_property
    def promised_beyond_authority(self) -> list[Quote]:
        """Agent sentences that grant or firmly promise what the case file reserves for
        someone above the agent (recorded transcripts; personas use needs_supervisor)."""
        if self.persona is not None or not self.reserved_in_case_file:
            return []
        caps = sig.authority_caps(self.case_file)
        return [
            Quote(index, sentence)
            for index, text in self.agent
            for sentence in sig.sentences(text)
            if sig.grants_reserved(sentence.text, self.reserved_in_case_file, caps)
        ]


_PICK = re.compile(
    r"\b(both|either|(the )?(first|second|third|last)( one)?|option \w+|the \w+ one)\b", re.I
)


def _picks_option(offer: str, reply: str) -> bool:
    """A short reply that picks one of the options just put to the customer ("Email.",
    "The £2 one, I think.", "whole thing"): choosing is accepting."""
    if not sig.options_offered(offer) or "?" in reply or sig.find(sig.REJECTION, reply):
        return False
    if len(reply.split()) > 12:
        return False
    return bool(_PICK.search(reply) or sig.content_stems(reply) & sig.content_stems(offer))


def _opens_with_pick(offer: str, reply: str) -> bool:
    """The reply's first sentence picks one of the options, whatever follows it ("Option
    1. But I still think he was rude.", "Walnut please. Is that before the 24th?")."""
    said = sig.sentences(reply)
    return bool(said) and _picks_option(offer, said[0].text)


def offer_hits(patterns: list[str], unless: list[str], text: str) -> list[Hit]:
    """Matches of an offer's patterns, unless a cancelling pattern is in the same sentence."""
    out = []
    for hit in sig.find(patterns, text):
        sentence = sig.sentence_of(text, hit).text
        if unless and sig.find(unless, sentence):
            continue
        out.append(hit)
    return out


def offer_matches(patterns: list[str], unless: list[str], text: str) -> bool:
    """Whether an offer's patterns match the text (see `offer_hits`)."""
    return bool(offer_hits(patterns, unless, text))


Grader = Callable[[GradeInput], Finding]
REGISTRY: dict[str, Grader] = {}


def grader(guideline_id: str) -> Callable[[Grader], Grader]:
    """Register a rule grader under `rules:<guideline_id>`."""

    def register(fn: Grader) -> Grader:
        if guideline_id in REGISTRY:
            raise ValueError(f"two graders for {guideline_id}")
        REGISTRY[guideline_id] = fn
        return fn

    return register


def _without_ending(text: str) -> str:
    """The text without its sentences about how a colleague ended or handled an earlier
    contact: what is left is the customer's underlying issue."""
    return " ".join(s.text for s in sig.sentences(text) if not sig.find(_COLLEAGUE_ENDING, s.text))
