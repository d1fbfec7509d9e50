"""Loaders for the public, human-labelled data in the shared data folder (read-only).

The folder is `$TOUGHTALK_DATA`, by default `<repo>/../shared/data`. Nothing here copies the
data anywhere: loaders return in-memory records, and the Twitter converter builds
`Conversation` objects that callers may write to a temporary file only.

Formats (checked against the files and their READMEs):
- `esconv/{train,valid}.jsonl`: one dialog per line; `dialog` is a list of
  `{"speaker": "usr"|"sys", "text", "strategy"?}`; supporter (`sys`) turns carry one
  `strategy` each (8 values, e.g. "Question", "Reflection of feelings").
- `annomi/AnnoMI-full.csv`: one row per (utterance, annotator); 7 transcripts were
  annotated by all 10 annotators (ids 0-9), the other 126 by one.
- `twcs_frustration/dprocessed.txt`: dialogs separated by `----- [tweet ids] -----` lines;
  each line `USER: text {a,b,c}` or `SUPP: text`; `a,b,c` are three experts' 0-4
  frustration ratings of that customer turn, blank or `n` when missing; ` /// ` joins
  consecutive tweets of one turn.
"""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from harness.models import Conversation, Turn

ROOT = Path(__file__).resolve().parents[1]


class DataMissing(RuntimeError):
    """A shared-data file is not where it should be."""


def data_root() -> Path:
    """`$TOUGHTALK_DATA`, else `<repo>/../shared/data`."""
    return Path(os.environ.get("TOUGHTALK_DATA") or ROOT.parent / "shared" / "data").resolve()


def data_file(*parts: str) -> Path:
    """A file under the data root, or a clear error."""
    path = data_root().joinpath(*parts)
    if not path.is_file():
        raise DataMissing(f"{path} not found (set TOUGHTALK_DATA to the shared data folder)")
    return path


# ---------------------------------------------------------------- ESConv


@dataclass(frozen=True)
class SupporterTurn:
    """One ESConv supporter message with its self-chosen strategy."""

    dialog: int
    index: int
    text: str
    strategy: str
    previous_seeker: str
    seeker_before: str = ""  # every earlier seeker message, oldest first


def load_esconv(split: str = "valid") -> Iterator[SupporterTurn]:
    """Every supporter turn of an ESConv split (`train` or `valid`)."""
    path = data_file("esconv", f"{split}.jsonl")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if not line.strip():
                continue
            dialog = json.loads(line)["dialog"]
            seeker = ""
            before: list[str] = []
            for index, turn in enumerate(dialog):
                if turn["speaker"] == "usr":
                    seeker = turn["text"]
                    before.append(seeker)
                elif turn["speaker"] == "sys":
                    yield SupporterTurn(
                        number,
                        index,
                        turn["text"],
                        turn.get("strategy", ""),
                        seeker,
                        " ".join(before),
                    )


# ---------------------------------------------------------------- AnnoMI


@dataclass
class Utterance:
    """One AnnoMI therapist utterance with every annotator's labels."""

    transcript: str
    utterance: int
    text: str
    mi_quality: str
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)  # annotator -> row
    client_before: str = ""  # every earlier client utterance of the transcript, oldest first

    @property
    def multi(self) -> bool:
        """Annotated by more than one annotator."""
        return len(self.annotations) > 1

    def votes(self, column: str) -> Counter[str]:
        """How many annotators chose each value of a column."""
        return Counter(row[column] for row in self.annotations.values())

    def majority(self, column: str) -> str:
        """The most common value; ties go to the value of the lowest annotator id."""
        votes = self.votes(column)
        top = max(votes.values())
        tied = {v for v, c in votes.items() if c == top}
        for annotator in sorted(self.annotations, key=int):
            if self.annotations[annotator][column] in tied:
                return self.annotations[annotator][column]
        raise AssertionError("unreachable")


def load_annomi() -> list[Utterance]:
    """Therapist utterances of AnnoMI-full, grouped over annotators, in transcript order."""
    path = data_file("annomi", "AnnoMI-full.csv")
    by_key: dict[tuple[str, int], Utterance] = {}
    client: dict[str, dict[int, str]] = {}  # transcript -> utterance id -> client text
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["interlocutor"] != "therapist":
                client.setdefault(row["transcript_id"], {})[int(row["utterance_id"])] = row[
                    "utterance_text"
                ]
                continue
            key = (row["transcript_id"], int(row["utterance_id"]))
            utt = by_key.get(key)
            if utt is None:
                utt = by_key[key] = Utterance(
                    key[0], key[1], row["utterance_text"], row["mi_quality"]
                )
            utt.annotations[row["annotator_id"]] = row
    ordered = sorted(by_key.values(), key=lambda u: (int(u.transcript), u.utterance))
    for transcript, utts in groupby(ordered, key=lambda u: u.transcript):
        said = sorted(client.get(transcript, {}).items())
        before: list[str] = []
        for utt in utts:  # in utterance order: take in the client turns that came first
            while len(before) < len(said) and said[len(before)][0] < utt.utterance:
                before.append(said[len(before)][1])
            utt.client_before = " ".join(before)
    return ordered


# ---------------------------------------------------------------- Twitter frustration


@dataclass(frozen=True)
class TwTurn:
    """One turn of a Twitter support dialog; customer turns carry expert ratings."""

    role: str  # "customer" | "agent"
    text: str
    ratings: tuple[int | None, int | None, int | None] = (None, None, None)

    @property
    def rated(self) -> list[int]:
        """The ratings that are present."""
        return [r for r in self.ratings if r is not None]

    @property
    def median(self) -> float | None:
        """Median of the present expert ratings (None when no expert rated it)."""
        return statistics.median(self.rated) if self.rated else None


@dataclass(frozen=True)
class TwDialog:
    """One Twitter support dialog."""

    number: int
    tweet_ids: tuple[str, ...]
    turns: tuple[TwTurn, ...]

    @property
    def id(self) -> str:
        """A stable id from the dialog's position in the file."""
        return f"twcs-{self.number:03d}"


_RATING = re.compile(r"\s*\{([^{}]*),([^{}]*),([^{}]*)\}\s*$")
_HEADER = re.compile(r"^-{5,}\s*\[([^\]]*)\]\s*-{5,}\s*$")


def _rating(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def load_twcs() -> list[TwDialog]:
    """The 376 dialogs of twcs_frustration/dprocessed.txt."""
    path = data_file("twcs_frustration", "dprocessed.txt")
    dialogs: list[TwDialog] = []
    ids: tuple[str, ...] = ()
    turns: list[TwTurn] = []

    def flush() -> None:
        if turns:
            dialogs.append(TwDialog(len(dialogs) + 1, ids, tuple(turns)))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header:
            flush()
            ids = tuple(i.strip() for i in header.group(1).split(",") if i.strip())
            turns = []
            continue
        speaker, _, text = line.partition(":")
        if speaker == "USER":
            m = _RATING.search(text)
            ratings = tuple(_rating(g) for g in m.groups()) if m else (None, None, None)
            body = text[: m.start()] if m else text
            turns.append(TwTurn("customer", _clean(body), ratings))  # type: ignore[arg-type]
        elif speaker == "SUPP":
            turns.append(TwTurn("agent", _clean(text)))
        else:
            raise ValueError(f"{path}: unexpected line {line[:60]!r}")
    flush()
    return dialogs


def _clean(text: str) -> str:
    """Tweets of one turn on their own lines; outer whitespace trimmed."""
    parts = [p.strip() for p in text.split("///")]
    return "\n".join(p for p in parts if p)


def twcs_to_conversation(dialog: TwDialog) -> Conversation:
    """A dialog in the transcript import format (USER → customer, SUPP → agent)."""
    turns = [Turn(role=t.role, text=t.text or "…") for t in dialog.turns]  # type: ignore[arg-type]
    return Conversation(
        id=dialog.id,
        turns=turns,
    )
