"""Practice chats in the browser: `harness.chat.ChatSession` behind a session id.

The engine is the terminal's (same customer, hints, rewind, grading and saving); this
module only keeps the open sessions (at most `MAX_OPEN`, each dropped after `IDLE_SECONDS`
unused), serialises each one's use with a lock, and saves a finished chat as a normal chat
run directory under the results folder. Trainee progress is read back from those runs.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.chat import ChatSession, mask_abuse, pick_persona, trainee_spec
from harness.debrief import Debrief, Hint
from harness.errors import InputError, UsageError
from harness.models import Scorecard, Turn
from harness.store import RunStore, default_out
from harness.web.library import RunLibrary

MAX_OPEN = 32
IDLE_SECONDS = 2 * 3600


@dataclass
class Practice:
    """One open practice chat and what the page shows beside the transcript."""

    id: str
    session: ChatSession
    raw: bool = False
    hints: list[Hint] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    saved: Path | None = None
    card: Scorecard | None = None
    debrief: Debrief | None = None
    used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def shown_text(self, turn: Turn) -> str:
        """A turn's text as shown: the customer's insults masked unless `raw`."""
        if turn.role == "customer" and not self.raw:
            return mask_abuse(turn.text)
        return turn.text


@dataclass(frozen=True)
class PracticeRequest:
    """What the Practise form asks for."""

    name: str = ""
    persona: str = ""  # empty: a random persona
    difficulty: int | None = None
    customer: str = "scripted"
    seed: int = 0
    raw: bool = False


class PracticeRoom:
    """The open practice chats of one server."""

    def __init__(self, results: Path) -> None:
        self.results = results
        self._open: dict[str, Practice] = {}
        self._lock = threading.Lock()

    def start(self, wanted: PracticeRequest) -> Practice:
        """Open a chat: the customer's first message is already there."""
        if wanted.difficulty is not None and not 1 <= wanted.difficulty <= 5:
            raise UsageError("difficulty is 1 to 5 (or the persona's own)")
        if wanted.customer != "scripted" and not wanted.customer.startswith("model:"):
            raise UsageError("the customer is `scripted` or `model:ID`")
        self._drop_idle()
        with self._lock:
            if len(self._open) >= MAX_OPEN:
                raise UsageError(
                    f"{MAX_OPEN} practice chats are open; finish one or wait for idle ones to close"
                )
        persona, path = pick_persona(wanted.persona or None)
        session = ChatSession(
            persona,
            path,
            agent=trainee_spec(wanted.name),
            customer_spec=wanted.customer,
            seed=wanted.seed,
            difficulty=wanted.difficulty,
        )
        practice = Practice(secrets.token_urlsafe(12), session, raw=wanted.raw)
        with self.use(practice):
            session.open()
        with self._lock:
            self._open[practice.id] = practice
        return practice

    def get(self, practice_id: str) -> Practice:
        """An open (or just finished) chat; KeyError when there is none by that id."""
        with self._lock:
            return self._open[practice_id]

    @contextmanager
    def use(self, practice: Practice) -> Iterator[ChatSession]:
        """The chat's engine, for one request at a time."""
        with practice.lock:
            practice.used = time.monotonic()
            yield practice.session

    def finish(self, practice: Practice) -> Path:
        """Grade and save the chat as a run directory; keep its debrief for the page."""
        with self.use(practice) as session:
            if practice.saved is not None:
                return practice.saved
            out = self.results / default_out(f"chat-{session.persona.id}").name
            while out.exists():  # two chats saved in the same second
                out = out.with_name(out.name + "-" + secrets.token_hex(2))
            practice.card, practice.debrief = session.save(out)
            practice.saved = out
            session.close()
            return out

    def discard(self, practice_id: str) -> None:
        """Close a chat without saving it."""
        with self._lock:
            practice = self._open.pop(practice_id, None)
        if practice is not None:
            with practice.lock:
                practice.session.close()

    def _drop_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [k for k, p in self._open.items() if now - p.used > IDLE_SECONDS]
        for key in idle:
            self.discard(key)

    def close_all(self) -> None:
        """Close every open chat (the server stops)."""
        with self._lock:
            keys = list(self._open)
        for key in keys:
            self.discard(key)


# ---------------------------------------------------------------- trainee progress


@dataclass(frozen=True)
class Attempt:
    """One saved practice chat."""

    run_id: str
    conversation_id: str
    started: str
    persona: str
    difficulty: int | None
    stop: str
    score: float | None


@dataclass(frozen=True)
class Trainee:
    """A trainee's saved chats, oldest first, and their mean score."""

    name: str
    attempts: list[Attempt]

    @property
    def mean_score(self) -> float | None:
        """Mean over the attempts that have a score."""
        scores = [a.score for a in self.attempts if a.score is not None]
        return sum(scores) / len(scores) if scores else None


def trainees(library: RunLibrary) -> list[Trainee]:
    """Every `human:<name>` agent in the chat runs under the results folder."""
    found: dict[str, list[Attempt]] = defaultdict(list)
    refs, _ = library.runs()
    for ref in refs:
        if ref.manifest.kind != "chat":
            continue
        try:
            cards = library.cached(ref.path, "cards", RunStore(ref.path).load_scorecards)
        except InputError:
            continue  # unreadable: the Runs page names it
        for card in cards:
            if not card.agent.startswith("human:"):
                continue
            found[card.agent.removeprefix("human:")].append(
                Attempt(
                    run_id=ref.id,
                    conversation_id=card.conversation_id,
                    started=ref.manifest.started,
                    persona=card.persona or "-",
                    difficulty=card.difficulty,
                    stop=card.outcome.stop_reason.value,
                    score=card.score,
                )
            )
    return [
        Trainee(name, sorted(attempts, key=lambda a: a.started))
        for name, attempts in sorted(found.items())
    ]
