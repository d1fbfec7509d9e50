"""Customer realism: does the scripted customer answer what the agent actually did?

Plays every persona x {seed-playbook, anti-patterns, uneven, stonewall} x seeds in process (scripted
customer, 16 turns) and measures, per conversation turn by turn:

- **verbatim repeats**: customer turns whose text equals an earlier customer turn of the same
  conversation (target 0), and repeated sentences of four words or more (for information);
- **contingency**: of the customer turns that follow an agent move with a checkable answer,
  the share that answers it by the rule: an offer gets an offer reaction (accept, haggle,
  refuse with a reason, the breach when forbidden), a refusal gets push-back on it, a
  boundary gets compliance or escalation, a question gets an answer. The customer's answer
  is read from its text: which situation's line pool each sentence came from;
- **agreement**: the customer's recorded reactions (`state.reactions`) against the rule
  graders' verdict on that same agent reply graded alone (`grade_reply`), per mapped pair
  (a told-to-calm-down reaction and `deesc.no_calm_down` violated, a named feeling and
  `deesc.name_emotion` met, ...): the share of (turn, pair) where they agree, over the pairs
  where either says yes (target at least 95%);
- **inflaming effects**: the anger change after each inflaming move, per persona; never
  negative is the target.

`uneven` and `stonewall` are agents of this benchmark: for `uneven` a seeded coin picks the
playbook's or the anti-patterns' reply each turn, so good and clumsy replies mix as a
trainee's do; `stonewall` cycles three replies that never move the case on, so the
customer must keep finding new words (the hardest test of the repeat rate).

    .venv/bin/python benchmarks/customer_realism.py [--seeds 4] [--personas all] [--no-doc]

Exit status 1 if a target is missed. `tests/test_customer_realism.py` runs a reduced form.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # running the file directly from a checkout
    sys.path.insert(0, str(REPO))

from benchmarks.common import md_table, provenance, write_doc  # noqa: E402
from harness.agents import AgentContext, make_agent  # noqa: E402
from harness.catalog import all_personas, load_reactions, load_rubric  # noqa: E402
from harness.customers.moves import agent_move  # noqa: E402
from harness.customers.pools import situations_in  # noqa: E402
from harness.customers.scripted import INFLAMING, ScriptedCustomer  # noqa: E402
from harness.episode import CaseBrief, Participant, Reply, run_episode  # noqa: E402
from harness.judging import Case  # noqa: E402
from harness.judging.rules import RulesJudge  # noqa: E402
from harness.models import Persona, Rubric, Turn  # noqa: E402

PLAYBOOK = "macros:evals/macros/seed-playbook.yaml"
ANTI = "macros:evals/macros/anti-patterns.yaml"
AGENTS = ("seed-playbook", "anti-patterns", "uneven", "stonewall")
# The stonewalling agent's replies, in turn: it never offers, refuses or escalates, so the
# customer has to find something new to say for as long as its patience lasts.
STONEWALL = ("Can you tell me what happened?", "I hear you.", "Is there anything else?")
MAX_TURNS = 16
DOC = REPO / "docs" / "customer-realism.md"
REPEAT_TARGET = 0.0
AGREEMENT_TARGET = 0.95
CONTINGENCY_TARGET = 0.95
# customer turns that end the conversation (walking out, escalating by itself) answer a move
# by ending it: counted apart from contingency
ENDINGS = ("leave", "manager")
# customer reaction -> (guideline, verdicts that mean the grader saw the same behaviour)
PAIRS: dict[str, tuple[str, frozenset[str]]] = {
    "calm_down": ("deesc.no_calm_down", frozenset({"violated"})),
    "bare_understand": ("deesc.no_generic_understand", frozenset({"violated"})),
    "blame": ("deesc.no_blame_passing", frozenset({"violated"})),
    "vague_timeline": ("resolve.precise_timeline", frozenset({"violated"})),
    "repeat_ask": ("resolve.no_repeat_asks", frozenset({"violated"})),
    "shouting": ("deesc.calm_register", frozenset({"violated"})),
    "named_emotion": ("deesc.name_emotion", frozenset({"met", "partial"})),
    "we_language": ("deesc.we_language", frozenset({"met", "partial"})),
    "playback": ("defuse.playback", frozenset({"met", "partial"})),
}
# the agent's move -> the customer situations that answer it
ANSWERS: dict[str, frozenset[str]] = {
    "offer": frozenset({"accept", "accept_forbidden", "reject_offer", "premature_fix", "haggle"}),
    "refusal": frozenset({"refused_no_alt", "refused_with_alt", "policy_only"}),
    "boundary": frozenset({"boundary_ack", "boundary_push", "leave"}),
    "names_behaviour": frozenset({"behaviour_named", "boundary_ack"}),
    # the first rung: the caller refocuses on the problem, or goes on insulting (which is
    # what makes the next rung due)
    "redirect": frozenset({"insult", "detail", "vent", "less_angry", "calmer", "boundary_ack"}),
    "question": frozenset(
        {"detail", "short", "reveal", "playback_confirm", "repeat_ask", "give_id", "no_id"}
    ),
    "manager_offer": frozenset({"give_chance", "demand_manager", "demand_again"}),
}


# How the customer answers (the rules the figures below check).
HOW = [
    "## How the scripted customer answers",
    "",
    "- **One move, answered in kind.** Each agent reply is read as one move "
    "(`harness/customers/moves.py`, with the graders' detectors): a manager offer, an offer, "
    "a boundary, a named behaviour, a redirect, a refusal, a question. An offer gets a "
    "reaction to that offer (accept; haggle once if the seed made a sceptic; too early, too "
    "upset or beside the point; a forbidden offer is accepted and recorded as a breach). A "
    "refusal gets push-back on it, a boundary compliance or push-back, a question an answer "
    "(details for open questions, a word for closed ones, its own account number when asked "
    'for one it has, "I told you" when asked again).',
    "- **The manager rule is persona data** (`manager.acts_after`, 3 in every shipped "
    "persona that asks for a manager). Offering the transfer and asking for a chance gets "
    "the chance; offering one of the two counts half; ignoring or stonewalling the demand "
    "counts one, and the customer repeats it, then sharpens it. Only the `acts_after`-th "
    "ignored reply makes the customer escalate by itself; otherwise escalating is the "
    "agent's move (`/transfer`).",
    "- **Abuse follows the persona's schedule and the ladder**: insults from "
    "`abuse.starts_at_turn` while anger is at least 4; a redirect gets the next insult or a "
    "refocus, a named behaviour a retort and the next insult, a boundary compliance (always "
    "at difficulty 1, or once anger is below 6) or push-back; an offer is always answered as "
    "an offer.",
    "- **Never the same line twice, never words the agent did not write**: each situation "
    "has the persona's lines, then the shared ones of `personas/common/reactions.yaml`, then "
    "a neighbouring situation's (`harness/customers/pools.py`), drawn by the seed. A line "
    "quoting the agent is used only when the agent wrote those words; a line with the "
    "`{issue}` or `{desired_outcome}` slot never answers an offer, nor a reply that already "
    "names them.",
    "- **Customer and graders agree**: an inflaming move (told to calm down, blame, a bare "
    '"I understand", a boilerplate apology, policy as the answer, a vague timeline, a '
    "repeat ask, shouting, a flat no) in a reply means its kind words calm nothing, and "
    "anger never falls on that turn; one kind reply calms by at most 3 points (times the "
    "seed's calm factor), so a furious caller is not content after one line.",
]


class UnevenAgent:
    """Each turn, a seeded coin picks the playbook's reply or the anti-patterns'."""

    spec = "uneven"

    def __init__(self, brief: CaseBrief, seed: int) -> None:
        context = AgentContext(brief=brief, seed=seed)
        self.good = make_agent(PLAYBOOK, context)
        self.bad = make_agent(ANTI, context)
        self.rng = random.Random(f"uneven|{seed}")

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """The reply of whichever library the coin picks."""
        who = self.good if self.rng.random() < 0.6 else self.bad
        return await who.next_turn(transcript)


class StonewallAgent:
    """Answers every customer turn with the next of `STONEWALL`, round and round."""

    spec = "stonewall"

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """The next stonewalling reply."""
        replies = sum(t.role == "agent" for t in transcript)
        return Reply(text=STONEWALL[replies % len(STONEWALL)])


def make(agent: str, brief: CaseBrief, seed: int) -> Participant:
    """One of the benchmark's agents for a conversation."""
    if agent == "uneven":
        return UnevenAgent(brief, seed)
    if agent == "stonewall":
        return StonewallAgent()
    return make_agent(PLAYBOOK if agent == "seed-playbook" else ANTI, AgentContext(brief=brief))


def grade_reply(turns: list[Turn], index: int, persona: Persona, rubric: Rubric) -> dict[str, str]:
    """The rule graders' verdicts on one agent reply alone (with the customer's turns before
    it), guideline id -> verdict."""
    kept = [t for t in turns[:index] if t.role == "customer"] + [turns[index]]
    case = Case(
        turns=kept, context=CaseBrief.from_persona(persona).visible_context(), persona=persona
    )
    return {r.guideline: r.verdict for r in RulesJudge().grade(case, rubric)}


@dataclass
class Tally:
    """Counts over a set of conversations."""

    conversations: int = 0
    customer_turns: int = 0
    repeated_turns: int = 0
    repeated_sentences: int = 0
    sentences: int = 0
    answerable: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)
    pairs: int = 0
    agreed: int = 0
    disagreements: list[str] = field(default_factory=list)
    inflame: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    endings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    endings_after_move: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s.split()) >= 4]


def measure(turns: list[Turn], persona: Persona, rubric: Rubric, tally: Tally, where: str) -> None:
    """Add one conversation's turns to the tally."""
    reactions = load_reactions()
    said: set[str] = set()
    said_sentences: set[str] = set()
    tally.conversations += 1
    for i, turn in enumerate(turns):
        if turn.role != "customer":
            continue
        tally.customer_turns += 1
        if turn.text in said:
            tally.repeated_turns += 1
        said.add(turn.text)
        for sentence in _sentences(turn.text):
            tally.sentences += 1
            if sentence in said_sentences:
                tally.repeated_sentences += 1
            said_sentences.add(sentence)
        if i == 0 or turns[i - 1].role != "agent":
            continue
        agent_text = turns[i - 1].text
        move = agent_move(agent_text, turns[: i - 1], persona)
        accepted = any(t.action in ("accept", "accept_forbidden") for t in turns[:i])
        if move is not None and turn.action in ENDINGS:
            tally.endings_after_move[turn.action] += 1
        elif move is not None and turns[i - 1].action is None and not accepted:
            tally.answerable[move] += 1
            found = situations_in(turn.text, persona, reactions)
            if found & ANSWERS[move]:
                tally.answered[move] += 1
            elif len(tally.misses) < 12:
                tally.misses.append(
                    f"{where} turn {i}: {move} -> {sorted(found) or '?'}: "
                    f"agent {agent_text[:90]!r} / customer {turn.text[:90]!r}"
                )
        state = turn.state
        before = next((t.state for t in reversed(turns[:i]) if t.state is not None), None)
        if state is None:
            continue
        verdicts = grade_reply(turns, i - 1, persona, rubric)
        for reaction, (guideline, yes) in PAIRS.items():
            verdict = verdicts.get(guideline, "na")
            if verdict == "na" and reaction not in state.reactions:
                continue
            customer_says = reaction in state.reactions
            grader_says = verdict in yes
            if not (customer_says or grader_says):
                continue
            tally.pairs += 1
            if customer_says == grader_says:
                tally.agreed += 1
            elif len(tally.disagreements) < 12:
                tally.disagreements.append(
                    f"{where} turn {i - 1}: {reaction} customer={customer_says} "
                    f"{guideline}={verdict}: {agent_text[:100]!r}"
                )
        if before is not None:
            for reaction in state.reactions:
                if reaction in INFLAMING:
                    tally.inflame[(persona.id, reaction)].append(state.anger - before.anger)


async def _play(persona: Persona, agent: str, seed: int) -> tuple[list[Turn], str]:
    customer = ScriptedCustomer(persona, load_reactions(), seed=seed)
    result = await run_episode(
        customer, make(agent, CaseBrief.from_persona(persona), seed), max_turns=MAX_TURNS
    )
    return result.turns, str(result.stop_reason)


def collect(
    personas: Iterable[str] = ("all",),
    seeds: Iterable[int] = range(4),
    agents: Sequence[str] = AGENTS,
) -> Tally:
    """Play and measure every persona x agent x seed."""
    chosen = [p for p, _ in all_personas() if "all" in personas or p.id in personas]
    rubric, _ = load_rubric("default")
    tally = Tally()
    for persona in chosen:
        for agent in agents:
            for seed in seeds:
                turns, stop = asyncio.run(_play(persona, agent, seed))
                tally.endings[f"{agent}:{stop}"] += 1
                measure(turns, persona, rubric, tally, f"{persona.id}/{agent}/s{seed}")
    return tally


@dataclass(frozen=True)
class Figures:
    """The headline numbers and whether each meets its target."""

    repeat_rate: float
    contingency: float
    agreement: float
    worst_inflame: float

    @property
    def passed(self) -> bool:
        """Every target met."""
        return (
            self.repeat_rate <= REPEAT_TARGET
            and self.contingency >= CONTINGENCY_TARGET
            and self.agreement >= AGREEMENT_TARGET
            and self.worst_inflame >= 0
        )


def figures(tally: Tally) -> Figures:
    """Reduce a tally to the four headline figures."""
    answerable = sum(tally.answerable.values())
    worst = min((min(v) for v in tally.inflame.values() if v), default=0.0)
    return Figures(
        repeat_rate=tally.repeated_turns / max(1, tally.customer_turns),
        contingency=sum(tally.answered.values()) / max(1, answerable),
        agreement=tally.agreed / max(1, tally.pairs),
        worst_inflame=worst,
    )


def report(tally: Tally, seeds: int) -> str:
    """The markdown report."""
    f = figures(tally)
    lines = [
        "# Customer realism",
        "",
        "Does the scripted customer answer what the agent just did? "
        "`benchmarks/customer_realism.py` plays every persona x {seed-playbook, anti-patterns, "
        f"uneven, stonewall}} x {seeds} seeds (scripted customer, {MAX_TURNS} turns) and "
        "checks four things. `uneven` and `stonewall` are the benchmark's own agents: for "
        "`uneven` a seeded coin picks the playbook's or the anti-patterns' reply each turn "
        "(good and clumsy replies mixed, as a trainee writes them); `stonewall` cycles three "
        "replies that never move the case on, so the customer has to keep finding new words.",
        "",
        *HOW,
        "",
        *provenance(),
        "",
        md_table(
            ["measure", "result", "target", "met"],
            [
                [
                    "verbatim repeat rate (customer turns equal to an earlier one)",
                    f"{f.repeat_rate:.2%} ({tally.repeated_turns}/{tally.customer_turns})",
                    "0",
                    "yes" if f.repeat_rate <= REPEAT_TARGET else "no",
                ],
                [
                    "contingency (turns answering the agent's last move by the rule)",
                    f"{f.contingency:.1%}",
                    f">= {CONTINGENCY_TARGET:.0%}",
                    "yes" if f.contingency >= CONTINGENCY_TARGET else "no",
                ],
                [
                    "agreement of customer reactions and grader verdicts, same reply",
                    f"{f.agreement:.1%} ({tally.agreed}/{tally.pairs})",
                    f">= {AGREEMENT_TARGET:.0%}",
                    "yes" if f.agreement >= AGREEMENT_TARGET else "no",
                ],
                [
                    "smallest anger change after an inflaming move (any persona)",
                    f"{f.worst_inflame:+.2f}",
                    ">= 0",
                    "yes" if f.worst_inflame >= 0 else "no",
                ],
            ],
        ),
        "",
        f"Repeated sentences of four words or more (for information): "
        f"{tally.repeated_sentences}/{tally.sentences}.",
        "",
        "## Contingency by the agent's move",
        "",
        "A customer turn is checked when the agent reply before it made one of these moves "
        "(the highest when it made several: `MOVES` in `harness/customers/moves.py`), read "
        "with the detectors the graders use. The customer's answer is read from its text: "
        "the situation pool each sentence of it "
        "comes from (`harness/customers/pools.py`). Not checked: the agent's own last "
        "reply (`/end`, `/transfer`), turns after the customer accepted (the close), and "
        "customer turns that end the conversation (walking out or escalating by itself: "
        + (", ".join(f"{n} {k}" for k, n in sorted(tally.endings_after_move.items())) or "none")
        + ").",
        "",
        md_table(
            ["agent move", "customer turns", "answered in kind", "share", "answers that count"],
            [
                [
                    move,
                    tally.answerable[move],
                    tally.answered[move],
                    f"{tally.answered[move] / tally.answerable[move]:.1%}",
                    ", ".join(sorted(ANSWERS[move])),
                ]
                for move in ANSWERS
                if tally.answerable.get(move)
            ],
        ),
        "",
        "## Agreement pairs",
        "",
        "Each agent reply is graded alone (with the customer turns before it) and compared "
        "with the reactions the customer recorded for it:",
        "",
        md_table(
            ["customer reaction", "guideline", "verdicts that agree"],
            [[r, g, ", ".join(sorted(v))] for r, (g, v) in PAIRS.items()],
        ),
        "",
        "## Inflaming moves and anger",
        "",
        "Anger after the customer's turn minus anger before it, on turns where the customer "
        "recorded the move (an inflaming move is never outweighed by calming words in the "
        "same reply).",
        "",
    ]
    by_move: dict[str, list[float]] = defaultdict(list)
    worst_persona: dict[str, tuple[float, str]] = {}
    for (persona, move), deltas in tally.inflame.items():
        by_move[move] += deltas
        low = min(deltas)
        if move not in worst_persona or low < worst_persona[move][0]:
            worst_persona[move] = (low, persona)
    lines.append(
        md_table(
            ["inflaming move", "turns", "mean change", "smallest change", "persona of smallest"],
            [
                [m, len(d), f"{mean(d):+.2f}", f"{worst_persona[m][0]:+.2f}", worst_persona[m][1]]
                for m, d in sorted(by_move.items())
            ],
        )
    )
    lines += [
        "",
        "## Endings",
        "",
        md_table(["agent:stop reason", "conversations"], sorted(tally.endings.items())),
    ]
    if tally.misses:
        lines += ["", "## Turns that did not answer in kind (first 12)", ""]
        lines += [f"- {m}" for m in tally.misses]
    if tally.disagreements:
        lines += ["", "## Disagreements (first 12)", ""]
        lines += [f"- {d}" for d in tally.disagreements]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print, write the doc; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--personas", default="all")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    tally = collect(args.personas.split(","), range(args.seeds))
    text = report(tally, args.seeds)
    print(text)
    if not args.no_doc:
        print(f"wrote {write_doc(DOC, text)}")
    return 0 if figures(tally).passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
