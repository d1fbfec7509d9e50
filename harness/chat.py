"""`toughtalk chat`: a person plays the agent against a simulated customer in the terminal.

`ChatSession` is the engine (no terminal): the customer's turns, the trainee's replies,
`/rewind` (rebuild the customer and replay the kept agent replies, so the scripted customer
is back exactly where it was), hints from the rule graders, and saving the conversation as
a normal run directory (`run.json`, `transcripts.jsonl`, `scorecards.jsonl`) under the
agent spec `human:<name>`. `run_chat` is the terminal loop around it (Rich); it reads lines
from any stdin, so piped input works as well as a keyboard.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness import signals as sig
from harness.batch import gateway_for
from harness.catalog import all_personas, file_hash, load_persona, load_rubric, reactions_path
from harness.customers import Customer, make_customer
from harness.debrief import (
    Debrief,
    Hint,
    anger_before,
    build_debrief,
    grade_now,
    next_hint,
    render_debrief,
    shown,
)
from harness.episode import AGENT_STOPS, CaseBrief, step
from harness.errors import UsageError
from harness.inputs import typed_text
from harness.judging import Case, make_judge
from harness.llm import Gateway
from harness.models import (
    AbuseLevel,
    Attempt,
    GuidelineResult,
    Persona,
    RunSettings,
    Scorecard,
    StopReason,
    Turn,
)
from harness.plan import Job, cap_abuse
from harness.preflight import check_models, run_models
from harness.scoring import run_grading, scorecard, transcript_record
from harness.store import RunStore, default_out, new_manifest

COMMANDS = (
    ("/hint", "one coaching nudge for what is happening now"),
    ("/rewind N", "go back to turn N and answer it again (every attempt is kept)"),
    ("/end [MESSAGE]", "close the conversation as the agent, with your closing words"),
    ("/transfer [MESSAGE]", "escalate to a manager, with what you tell the customer"),
    ("/quit", "leave without saving"),
    ("/help", "this list"),
)
# What a bare /end or /transfer says to the customer.
DEFAULT_WORDS = {
    "end": "Thank you for your time today. I'm closing this conversation now; you can reach "
    "us again on this channel at any time.",
    "transfer": "I'm transferring you to my manager now and I'll pass on everything you've "
    "told me, so you won't need to repeat it.",
}
STOP_MESSAGES = {
    StopReason.resolved: "The customer accepted your resolution.",
    StopReason.agent_ended: "You ended the conversation.",
    StopReason.customer_left: "The customer left the conversation.",
    StopReason.escalated: "The conversation went to a manager.",
    StopReason.max_turns: "The turn limit was reached.",
    StopReason.error: "The conversation stopped on an error.",
}


def trainee_spec(name: str | None) -> str:
    """`human:<name>` (spaces and colons removed), `human:trainee` by default."""
    clean = re.sub(r"[\s:]+", "-", (name or "").strip()).strip("-")
    return f"human:{clean or 'trainee'}"


def pick_persona(ref: str | None, *, rng: random.Random | None = None) -> tuple[Persona, Path]:
    """The persona named by id/path, or a random built-in one when `ref` is None."""
    if ref:
        return load_persona(ref)
    personas = all_personas()
    if not personas:
        raise UsageError("no personas installed")
    return (rng or random.SystemRandom()).choice(personas)


# ---------------------------------------------------------------- masking and the meter


def mask_abuse(text: str) -> str:
    """Mask insults, slurs and profanity (not threats, not ordinary words) as their first
    letter and asterisks, in a message that is abusive somewhere."""
    out = text
    for hit in sorted(sig.insult_words(text), key=lambda h: h.start, reverse=True):
        masked = hit.text[0] + re.sub(r"\w", "*", hit.text[1:])
        out = out[: hit.start] + masked + out[hit.end :]
    return out


def meter(anger: float, before: float | None = None, width: int = 10) -> str:
    """`anger ██████░░░░ 6/10 ▲1.5`."""
    filled = round(max(0.0, min(10.0, anger)) / 10 * width)
    trend = ""
    if before is not None and abs(anger - before) >= 0.01:
        arrow = "▲" if anger > before else "▼"
        trend = f" {arrow}{abs(anger - before):g}"
    return f"anger {'█' * filled}{'░' * (width - filled)} {anger:g}/10{trend}"


# ---------------------------------------------------------------- the engine


@dataclass
class ChatSession:
    """One conversation between a simulated customer and a person playing the agent."""

    persona: Persona
    persona_path: Path
    agent: str = "human:trainee"
    customer_spec: str = "scripted"
    judge_spec: str = "rules"
    rubric_ref: str = "default"
    seed: int = 0
    difficulty: int | None = None
    max_turns: int = 24
    max_intensity: AbuseLevel | None = None
    turns: list[Turn] = field(default_factory=list)
    stop: StopReason | None = None
    error: str | None = None
    hinted: list[str] = field(default_factory=list)
    rewinds: int = 0
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.persona = cap_abuse(self.persona, self.max_intensity)
        self.brief = CaseBrief.from_persona(self.persona)
        self.rubric, self.rubric_path = load_rubric(self.rubric_ref)
        self._gateway: Gateway | None = None
        models = run_models(customer=self.customer_spec, judges=[self.judge_spec])
        if models:
            check_models(self._gateway_for(), models)  # before the trainee types a word
        self.customer = self._new_customer()
        self._runner = asyncio.Runner()

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the event loop the customer (and judge) run in."""
        self._runner.close()

    def __enter__(self) -> ChatSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def settings(self) -> RunSettings:
        """The run settings this chat is recorded under."""
        return RunSettings(
            personas=[self.persona.id],
            agents=[self.agent],
            customer=self.customer_spec,
            judge=self.judge_spec,
            rubric=self.rubric_ref,
            seeds=[self.seed],
            max_turns=self.max_turns,
            difficulty=self.difficulty,
            concurrency=1,
            max_intensity=self.max_intensity,
        )

    def _gateway_for(self) -> Gateway:
        if self._gateway is None:
            self._gateway = gateway_for(self.settings())
        return self._gateway

    def _new_customer(self) -> Customer:
        kwargs: dict[str, Any] = {"seed": self.seed, "difficulty": self.difficulty}
        if self.customer_spec != "scripted":
            kwargs["gateway"] = self._gateway_for()
        return make_customer(self.customer_spec, self.persona, **kwargs)

    # ------------------------------------------------------------ turns

    @property
    def level(self) -> int:
        """The difficulty the customer plays at."""
        return self.difficulty or self.persona.difficulty

    def open(self) -> list[Turn]:
        """The customer's opening message."""
        if self.turns:
            raise RuntimeError("the conversation has already started")
        return self._customer_turn()

    def answer(self, text: str, action: str | None = None) -> list[Turn]:
        """Record the trainee's reply (optionally ending or transferring); the customer's next
        turn, if the conversation goes on."""
        if self.stop is not None:
            raise RuntimeError("the conversation is over")
        if not text.strip():
            raise UsageError("a reply needs some text")
        if len(self.turns) >= self.max_turns:
            self.stop = StopReason.max_turns
            return []
        self.turns.append(Turn(role="agent", text=text.strip(), action=action))
        if action in AGENT_STOPS:
            self.stop = AGENT_STOPS[action]
            return []
        return self._customer_turn()

    def _customer_turn(self) -> list[Turn]:
        done = self._runner.run(
            step(self.turns, "customer", self.customer, max_turns=self.max_turns)
        )
        self.stop, self.error = done.stop, done.error
        if done.turn is None:
            return []
        if self.stop is None and len(self.turns) >= self.max_turns:
            self.stop = StopReason.max_turns  # no room left for a reply
        return [done.turn]

    def rewind(self, number: int) -> tuple[int, bool]:
        """Go back to (1-based) turn `number`: an agent turn is dropped with everything after
        it, a customer turn is kept. A fresh customer replays the kept agent replies.
        Returns (turns kept, whether the customer's replayed lines differ from before)."""
        if not 1 <= number <= len(self.turns):
            raise UsageError(f"/rewind takes a turn number from 1 to {len(self.turns)}")
        keep = number - 1 if self.turns[number - 1].role == "agent" else number
        kept = self.turns[:keep]
        # the branch left behind is kept in the record, never lost
        self.attempts.append(Attempt(rewound_to=keep, turns=list(self.turns)))
        self.customer = self._new_customer()
        self.turns, self.stop, self.error = [], None, None
        changed = False
        for turn in kept:  # alternates customer/agent and ends on a customer turn
            if turn.role == "agent":
                self.turns.append(turn)
                continue
            replayed = self._customer_turn()
            if not replayed:
                break
            changed = changed or replayed[0].text != turn.text
        self.rewinds += 1
        return len(self.turns), changed

    # ------------------------------------------------------------ coaching

    def results_now(self) -> list[GuidelineResult]:
        """The rule graders' verdicts on the conversation so far."""
        return grade_now(
            self.turns,
            self.rubric,
            context=self.brief.visible_context(),
            persona=self.persona,
            stop_reason=self.stop,
        )

    def hint(self) -> Hint | None:
        """The next coaching nudge (each guideline is hinted once per session)."""
        found = next_hint(
            self.results_now(), self.rubric, self.turns, self.hinted, persona=self.persona
        )
        if found is not None:
            self.hinted.append(found.guideline.id)
        return found

    # ------------------------------------------------------------ saving

    def job(self) -> Job:
        """This conversation as the job a simulated run would have planned."""
        return Job(self.persona, self.agent, self.seed, self.difficulty)

    def conversation_id(self) -> str:
        """Same shape as a simulated run's conversation id."""
        return self.job().conversation_id

    def save(self, out: Path) -> tuple[Scorecard, Debrief]:
        """Grade the conversation and write it as a run directory; return card and debrief."""
        store = RunStore(out)
        stop = self.stop or StopReason.agent_ended
        files = {
            str(self.persona_path): file_hash(self.persona_path),
            str(self.rubric_path): file_hash(self.rubric_path),
            str(reactions_path()): file_hash(reactions_path()),
        }
        manifest = new_manifest(name="chat", kind="chat", settings=self.settings(), files=files)
        store.create(manifest)
        labels = self.job().labels(manifest.run_id, self.customer_spec)
        case = Case(
            turns=self.turns,
            context=self.brief.visible_context(),
            persona=self.persona,
            stop_reason=stop,
        )
        coaching = {"hints": len(self.hinted), "rewinds": self.rewinds}
        faults = list(self.customer.faults)
        record = transcript_record(
            case, stop, labels, error=self.error, sim_faults=faults, coaching=coaching
        ).model_copy(update={"attempts": list(self.attempts)})
        scope = self._gateway_for().scope()  # the judges' calls only
        csat = self.customer.satisfaction(stop == StopReason.resolved)
        card = self._runner.run(
            scorecard(
                case,
                stop,
                labels,
                run_grading(self.settings(), scope),
                csat=csat,
                usage=scope.usage,
                sim_faults=faults,
            )
        )
        store.append(record, card)
        store.finish(manifest)
        return card, build_debrief(
            card, self.turns, self.rubric, persona=self.persona, attempts=len(self.attempts) + 1
        )


# ---------------------------------------------------------------- the terminal loop


@dataclass
class ChatOptions:
    """What `toughtalk chat` was asked for."""

    persona: str | None = None
    random: bool = False
    difficulty: int | None = None
    customer: str = "scripted"
    judge: str = "rules"
    rubric: str = "default"
    seed: int = 0
    name: str | None = None
    meter: bool = False
    raw: bool = False
    max_intensity: AbuseLevel | None = None
    max_turns: int = 24
    out: Path | None = None


ReadLine = Callable[[str], str]


def terminal_reader(console: Console) -> ReadLine:
    """Read one line: Rich's prompt on a terminal; plain stdin (echoed) when piped."""
    interactive = sys.stdin.isatty()
    if isinstance(sys.stdin, io.TextIOWrapper):  # bytes that are not UTF-8 reach typed_text
        sys.stdin.reconfigure(errors="surrogateescape")

    def read(prompt: str) -> str:
        if interactive:
            return typed_text(console.input(Text(prompt, style="bold cyan")))
        console.print(prompt, end="", highlight=False, markup=False)
        line = sys.stdin.readline()
        if not line:
            console.print()
            raise EOFError
        line = typed_text(line.rstrip("\r\n"))
        console.print(line, highlight=False, markup=False)
        return line

    return read


class ChatUI:
    """Prints the case, the customer's messages, hints and the debrief."""

    def __init__(self, session: ChatSession, console: Console, options: ChatOptions) -> None:
        self.session = session
        self.console = console
        self.options = options
        self.shown_anger: float | None = None

    def case(self) -> None:
        """The case file the agent may see, before the first message."""
        brief = self.session.brief
        persona = self.session.persona
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold")
        facts.add_column()
        facts.add_row("customer", brief.customer_name)
        facts.add_row("the problem, as you'd put it", brief.issue)
        facts.add_row("channel", brief.channel)
        facts.add_row("you are", "the manager" if brief.role == "manager" else "the agent")
        for key, value in brief.context.items():
            facts.add_row(key.replace("_", " "), str(value))
        policy = Table.grid(padding=(0, 2))
        policy.add_column(style="bold")
        policy.add_column()
        for offer in brief.allowed:
            policy.add_row(Text("you may say", style="green"), f'"I can {offer.text}."')
        for offer in brief.forbidden:
            reason = f" Why not: {offer.reason}." if offer.reason else ""
            policy.add_row(Text("you may not say", style="red"), f'"I can {offer.text}."{reason}')
        for offer in brief.needs_supervisor:
            policy.add_row(Text("only with a manager", style="yellow"), f'"I can {offer.text}."')
        self.console.print(
            Panel(
                facts,
                title=Text(f"Case: {persona.title}"),  # a str title would be read as markup
                subtitle=Text(
                    f"{persona.id} · difficulty {self.session.level} · seed {self.session.seed}"
                ),
            )
        )
        self.console.print(Panel(policy, title="Policy limits"))
        self.help()

    def help(self) -> None:
        """The in-chat commands."""
        line = Text("Type your reply and press Enter. Commands: ")
        for n, (command, what) in enumerate(COMMANDS):
            line.append(", " if n else "")
            line.append(command, style="bold")
            line.append(f" ({what})")
        self.console.print(line, highlight=False)

    def customer(self, turns: list[Turn]) -> None:
        """Print customer turns (masked unless --raw), with the mood meter if asked."""
        name = self.session.brief.customer_name.split()[0]
        for turn in turns:
            index = next(i for i, t in enumerate(self.session.turns) if t is turn)
            text = turn.text if self.options.raw else mask_abuse(turn.text)
            line = Text(f"[{shown(index)}] {name}: ", style="bold magenta")
            line.append(text)
            self.console.print(line)
            if self.options.meter and turn.state is not None:
                self.console.print(
                    Text("    " + meter(turn.state.anger, self.shown_anger), style="yellow")
                )
            if turn.state is not None:
                self.shown_anger = turn.state.anger
            if turn.action in ("accept", "accept_forbidden"):
                self.console.print(
                    "The customer accepted. Write your closing message (/end is for "
                    "ending the conversation yourself, and is graded as such).",
                    style="dim",
                )

    def hint(self, hint: Hint | None) -> None:
        """Print a hint, or say there is nothing left to hint."""
        if hint is None:
            self.console.print("No hint: the graders see nothing left undone.", style="dim")
            return
        lines = hint.lines()
        body = Text(lines[0] + "\n", style="bold")
        body.append("\n".join(lines[1:]))
        self.console.print(Panel(body, title="Hint", border_style="cyan"))

    def stopped(self) -> None:
        """Why the conversation ended."""
        stop = self.session.stop or StopReason.agent_ended
        message = STOP_MESSAGES.get(stop, str(stop))
        if self.session.error:
            message += f" ({self.session.error})"
        self.console.print(message, style="bold", highlight=False, markup=False)


def run_chat(
    options: ChatOptions, console: Console, read_line: ReadLine | None = None
) -> Path | None:
    """Play one conversation in the terminal; save it and show the debrief.

    The end of input (Ctrl-D, a closed pipe) or Ctrl-C saves what was written, like `/end`.
    Returns the run directory, or None when the trainee quit (or wrote nothing)."""
    if options.persona and options.random:
        raise UsageError("pass --persona ID or --random, not both")
    persona, path = pick_persona(None if options.random else options.persona)
    make_judge(options.judge)  # a bad --judge fails now, not after the conversation
    read = read_line or terminal_reader(console)
    session = ChatSession(
        persona,
        path,
        agent=trainee_spec(options.name),
        customer_spec=options.customer,
        judge_spec=options.judge,
        rubric_ref=options.rubric,
        seed=options.seed,
        difficulty=options.difficulty,
        max_turns=options.max_turns,
        max_intensity=options.max_intensity,
    )
    out = options.out or default_out(f"chat-{persona.id}")
    with session:
        ui = ChatUI(session, console, options)
        ui.case()
        ui.customer(session.open())
        if not _loop(session, ui, read):
            console.print("Quit: nothing saved.")
            return None
        if not any(t.role == "agent" for t in session.turns):
            console.print("Nothing to save: you wrote no reply.")
            return None
        ui.stopped()
        card, debrief = session.save(out)
    extras = f"{len(session.hinted)} hint(s), {session.rewinds} rewind(s)"
    if session.attempts:
        extras += f", scored: the last of {len(session.attempts) + 1} attempts (all saved)"
    render_debrief(debrief, console, extras=extras)
    console.print(f"score {card.score} · saved: {out}", highlight=False)
    console.print(f"compare with: toughtalk compare {out} OTHER_RUN", highlight=False)
    return out


def _loop(session: ChatSession, ui: ChatUI, read: ReadLine) -> bool:
    """Read replies and commands until the conversation stops or the input ends (True: save)
    or the trainee quits (False)."""
    while True:
        if session.stop is not None:
            if not _after_stop(session, ui, read):
                return True
            continue
        try:
            line = read(f"[{shown(len(session.turns))}] you> ").strip()
        except (EOFError, KeyboardInterrupt):
            ui.console.print("End of input: saving the conversation.", style="dim")
            return True
        if not line:
            continue
        if not line.startswith("/"):
            ui.customer(session.answer(line))
            continue
        command, _, rest = line[1:].partition(" ")
        command, rest = command.lower(), rest.strip()
        if command in ("quit", "q", "exit"):
            return False
        if command in ("end", "transfer"):
            words = rest or DEFAULT_WORDS[command]
            if not rest:
                ui.console.print(Text.assemble(("you: ", "dim"), (words, "dim")))
            session.answer(words, command)
        elif command == "hint":
            ui.hint(session.hint())
        elif command == "rewind":
            _rewind(session, ui, rest)
        elif command in ("help", "?"):
            ui.help()
        else:
            ui.console.print(f"Unknown command /{command}.", highlight=False)
            ui.help()


def _after_stop(session: ChatSession, ui: ChatUI, read: ReadLine) -> bool:
    """When the customer ended it: offer one /rewind before the debrief (True: rewound)."""
    last = session.turns[-1] if session.turns else None
    if session.stop == StopReason.error or last is None or last.role != "customer":
        return False
    ui.stopped()
    try:
        line = read("Enter for the debrief, or /rewind N to try again> ").strip()
    except (EOFError, KeyboardInterrupt):
        return False
    if line.lower().startswith("/rewind"):
        _rewind(session, ui, line[len("/rewind") :].strip())
        return session.stop is None
    return False


def _rewind(session: ChatSession, ui: ChatUI, arg: str) -> None:
    if not arg.isdigit():
        ui.console.print("Usage: /rewind N (a turn number shown in brackets)")
        return
    try:
        kept, changed = session.rewind(int(arg))
    except UsageError as exc:
        ui.console.print(str(exc), highlight=False, markup=False)
        return
    ui.shown_anger = None
    ui.console.print(
        Text.assemble(("Rewound:", "bold"), f" back at turn {kept}; answer it again."),
        highlight=False,
    )
    if changed:
        ui.console.print("(the customer's replayed lines differ from before)", style="dim")
    if session.turns and session.turns[-1].role == "customer":
        ui.shown_anger = anger_before(session.turns, len(session.turns) - 1)
        ui.customer([session.turns[-1]])
