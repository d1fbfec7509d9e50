"""Fuzz every file the CLI reads: hundreds of mutated files through `toughtalk validate`
and through the command that consumes each one.

Every file kind (persona, reactions, rubric, macro library, eval suite, transcript JSONL in
both shapes, a run's run.json / scorecards.jsonl / transcripts.jsonl) gets every mutation
class of issue 12: other encodings and random bytes, deep nesting, huge integers, a list or
mapping where a string is expected, Rich markup in values and paths, invalid regexes, blank
names, lone surrogates, duplicate keys, truncation, empty files, wrong top-level types,
FIFOs / directories / /dev/zero as the file, a bad --out, a foreign run.json. A case is
clean when no command raises (no traceback), a bad file exits 1 naming the file, a valid one
exits 0, and a file `validate` accepts also runs. Deterministic (fixed seed).

`python -m tests.test_fuzz_inputs` prints the tried / clean / failed table per attack class
(docs/robustness.md); the tests assert zero failures.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
import typer
import yaml
from click.testing import CliRunner, Result

from harness.cli import app

SEED = 20261201
REPO = Path(__file__).resolve().parent.parent
MACROS = "macros:evals/macros/seed-playbook.yaml"
HANG_SECONDS = 20  # a hang guard, not a timing assertion: a FIFO read blocks forever
MEMORY_CAP = 3_000_000_000  # bytes of address space while the cases run
ENV = {"COLUMNS": "250", "NO_COLOR": "1"}

Expect = Literal["reject", "accept", "either"]

# Sentinels replaced in the dumped text by syntax a dumper cannot produce.
HUGE = "ZZHUGEZZ"
DEEP_LIST = "ZZDEEPLISTZZ"
DEEP_MAP = "ZZDEEPMAPZZ"
SURROGATE = "ZZSURROGATEZZ"
MARKUP = "[/bold] a [red]b[/red] [link=file:///etc/passwd]c[/link] [bold"


# ---------------------------------------------------------------- file kinds


@dataclass(frozen=True)
class Kind:
    """One kind of file the CLI reads, its base content and where to mutate it."""

    name: str
    fmt: Literal["yaml", "jsonl", "json"]
    file_name: str
    strings: tuple[tuple[Any, ...], ...]  # paths of string fields (values stay valid)
    numbers: tuple[tuple[Any, ...], ...] = ()
    regexes: tuple[tuple[Any, ...], ...] = ()  # paths of regex strings or regex lists
    blanks: tuple[tuple[Any, ...], ...] = ()  # names that must not be blank
    in_run: bool = False  # a file inside a run directory (the argument is the directory)


KINDS: tuple[Kind, ...] = (
    Kind(
        "persona",
        "yaml",
        "late-gift.yaml",
        strings=(("title",), ("customer_name",), ("complaint",), ("hidden_issue", "summary")),
        numbers=(("version",), ("emotion", "anger")),
        regexes=(
            ("policy", "allows", 0, "patterns", 0),
            ("policy", "forbids", 0, "patterns", 0),
            ("policy", "forbids", 0, "unless", 0),
            ("policy", "allows", 1, "unless"),
        ),
        blanks=(("customer_name",),),
    ),
    Kind(
        "reactions",
        "yaml",
        "reactions.yaml",
        strings=(("reactions", "vent", 0), ("reactions", "accept", 0)),
    ),
    Kind(
        "rubric",
        "yaml",
        "rubric.yaml",
        strings=(("title",), ("guidelines", 0, "title"), ("guidelines", 0, "description")),
        numbers=(("version",), ("guidelines", 0, "weight")),
    ),
    Kind(
        "macros",
        "yaml",
        "macros.yaml",
        strings=(("description",), ("macros", 1, "text"), ("macros", 2, "text")),
        numbers=(("version",), ("macros", 1, "priority")),
        regexes=(("macros", 1, "when"), ("macros", 2, "when")),
        blanks=(("id",), ("macros", 1, "id")),
    ),
    Kind(
        "suite",
        "yaml",
        "suite.yaml",
        strings=(("description",), ("name",)),
        numbers=(("seeds",), ("max_turns",)),
        blanks=(("name",),),
    ),
    Kind(
        "transcripts",
        "jsonl",
        "recorded.jsonl",
        strings=((0, "id"), (0, "turns", 0, "text"), (1, "turns", 1, "text")),
        numbers=((0, "context", "order_id"),),
        blanks=((0, "id"),),
    ),
    Kind(
        "openai-transcripts",
        "jsonl",
        "openai.jsonl",
        strings=((0, "id"), (0, "messages", 1, "content"), (0, "messages", 2, "content")),
        blanks=((0, "id"),),
    ),
    Kind(
        "run.json",
        "json",
        "run.json",
        strings=(("name",), ("settings", "agents", 0)),
        numbers=(("conversations",), ("settings", "seeds", 0)),
        in_run=True,
    ),
    Kind(
        "scorecards.jsonl",
        "jsonl",
        "scorecards.jsonl",
        strings=((0, "agent"), (0, "results", 0, "rationale")),
        numbers=((0, "score"), (0, "seed")),
        in_run=True,
    ),
    Kind(
        "run-transcripts.jsonl",
        "jsonl",
        "transcripts.jsonl",
        strings=((0, "turns", 1, "text"), (0, "agent")),
        numbers=((0, "seed"),),
        in_run=True,
    ),
)

SUITE = {
    "name": "fuzz",
    "description": "One persona, one macro library, one seed.",
    "personas": ["late-gift"],
    "agents": [MACROS],
    "seeds": 1,
    "max_turns": 6,
}


def _recorded() -> list[dict[str, Any]]:
    turns = [
        ("customer", "My order CR-4417 is four days late and nobody told me why."),
        ("agent", "I can hear how stressful this is. Let's sort it out together today."),
        ("customer", "It's a birthday present for tomorrow."),
        ("agent", "I will overnight a replacement so it reaches you by noon tomorrow."),
    ]
    return [
        {
            "id": f"conv-{n}",
            "persona": "late-gift",
            "context": {"order_id": "CR-4417"},
            "turns": [{"role": role, "text": text} for role, text in turns],
        }
        for n in range(2)
    ]


def _openai() -> list[dict[str, Any]]:
    return [
        {
            "id": f"chat-{n}",
            "messages": [
                {"role": "system", "content": "You are a support agent."},
                {"role": "user", "content": "You charged me twice for one order."},
                {"role": "assistant", "content": "That sounds really frustrating; let me look."},
            ],
        }
        for n in range(2)
    ]


class Workspace:
    """Where cases are built: a scratch folder and one finished run to copy."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.count = 0
        self.run = self.root / "base-run"
        result = invoke(
            ["run", "--persona", "late-gift", "--agent", MACROS, "--out", str(self.run)]
        )
        assert result.exit_code == 0, result.output
        self.good_transcripts = self.root / "good.jsonl"
        self.good_transcripts.write_text(dump_jsonl(_recorded()), encoding="utf-8")

    def fresh(self, label: str = "case") -> Path:
        """A new empty folder for one case."""
        self.count += 1
        folder = self.root / f"{self.count:04d}-{label}"
        folder.mkdir()
        return folder

    def base(self, kind: Kind) -> Any:
        """The unmutated content of a kind, as data."""
        if kind.name == "persona":
            return yaml.safe_load((REPO / "personas/late-gift.yaml").read_text("utf-8"))
        if kind.name == "reactions":
            return yaml.safe_load((REPO / "personas/common/reactions.yaml").read_text("utf-8"))
        if kind.name == "rubric":
            return yaml.safe_load((REPO / "rubrics/default.yaml").read_text("utf-8"))
        if kind.name == "macros":
            return yaml.safe_load((REPO / "evals/macros/seed-playbook.yaml").read_text("utf-8"))
        if kind.name == "suite":
            return copy.deepcopy(SUITE)
        if kind.name == "transcripts":
            return _recorded()
        if kind.name == "openai-transcripts":
            return _openai()
        path = self.run / kind.file_name
        if kind.fmt == "json":
            return json.loads(path.read_text("utf-8"))
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


# ---------------------------------------------------------------- writing mutated content


def dump_jsonl(rows: list[Any]) -> str:
    """One JSON value per line (non-ASCII as is, so a re-encoding changes its bytes)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def dump(kind: Kind, data: Any) -> str:
    """The data as the kind's text, with the sentinels replaced by their raw syntax."""
    if kind.fmt == "yaml":
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1_000_000)
    elif kind.fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = dump_jsonl(data)
    raw = {
        HUGE: "9" * 5000,
        DEEP_LIST: "[" * 3000 + "]" * 3000,
        DEEP_MAP: '{"a": ' * 3000 + "1" + "}" * 3000,
        SURROGATE: '"text \\ud800 more"',
    }
    for sentinel, syntax in raw.items():
        text = text.replace(f'"{sentinel}"', syntax).replace(f"'{sentinel}'", syntax)
        text = text.replace(sentinel, syntax)
    return text


def put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `data` with the value at `path` replaced."""
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


# ---------------------------------------------------------------- cases


@dataclass
class Target:
    """What a case passes on the command line."""

    path: Path  # the file argument (a run directory for in-run kinds)
    named: list[str]  # an error must contain one of these
    out: Path | None = None  # --out (default: a fresh folder of the case)
    shared_out: bool = False  # every command gets exactly `out` (a bad --out)
    shows: str | None = None  # commands with --out must print this as written
    argv: list[list[str]] | None = None  # explicit command lines (options cases)
    input: bytes | None = None  # stdin of every command line


@dataclass(frozen=True)
class Case:
    """One mutated input and what must happen to it."""

    attack: str
    kind: str
    label: str
    build: Callable[[Path], Target]
    expect: Expect  # of validate and of the command alike
    command_expect: Expect | None = None  # when the command differs (a bad --out)


@dataclass
class Outcome:
    """How one case went."""

    case: Case
    problems: list[str] = field(default_factory=list)
    invocations: int = 0
    seconds: float = 0.0


def _place(kind: Kind, ws: Workspace, folder: Path, content: bytes | None) -> Target:
    """Write a kind's content (None: the unmutated base) into `folder`; in-run kinds get a
    copy of the base run with that one file replaced."""
    if kind.in_run:
        run = folder / "run"
        shutil.copytree(ws.run, run, ignore=shutil.ignore_patterns(".lock"))
        target = run / kind.file_name
        if content is not None:
            target.unlink()
            target.write_bytes(content)
        return Target(run, [str(run)])
    target = folder / kind.file_name
    target.write_bytes(dump(kind, ws.base(kind)).encode() if content is None else content)
    return Target(target, [str(target)])


def content_case(
    ws: Workspace, attack: str, kind: Kind, label: str, make: Callable[[], bytes], expect: Expect
) -> Case:
    """A case whose file holds `make()`'s bytes."""

    def build(folder: Path) -> Target:
        return _place(kind, ws, folder, make())

    return Case(attack, kind.name, label, build, expect)


def data_case(
    ws: Workspace, attack: str, kind: Kind, label: str, data: Any, expect: Expect
) -> Case:
    """A case whose file holds the mutated data, dumped in the kind's format."""
    return content_case(ws, attack, kind, label, constant(dump(kind, data).encode()), expect)


def constant(content: bytes) -> Callable[[], bytes]:
    """A maker of fixed content (the bytes are computed when the case is listed)."""
    return lambda: content


def cases_for(ws: Workspace, kind: Kind, rng: random.Random) -> Iterator[Case]:
    """Every mutation of one kind."""
    base = ws.base(kind)
    text = dump(kind, base)
    yield data_case(ws, "control (unmutated)", kind, "base", base, "accept")

    # ------------------------------------------------ encodings and bytes
    for path in kind.strings[:3]:
        mutated = dump(kind, put(base, path, "café crème")).encode("latin-1")
        yield content_case(ws, "Latin-1", kind, f"latin1 {path}", constant(mutated), "reject")
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        yield content_case(ws, "UTF-16", kind, codec, constant(text.encode(codec)), "reject")
    for size in (1, 64, 4096):
        blob = b"\x80" + rng.randbytes(size - 1)  # a continuation byte cannot start UTF-8
        yield content_case(ws, "random bytes", kind, f"{size} bytes", constant(blob), "reject")
    raw = text.encode("utf-8")
    for n in range(3):
        at = rng.randrange(len(raw))
        noise = bytes(rng.randrange(0x80, 0x100) for _ in range(8))
        spliced = raw[:at] + noise + raw[at:]
        yield content_case(ws, "random bytes", kind, f"spliced {n}", constant(spliced), "reject")

    # ------------------------------------------------ structure
    for path in kind.strings[:2]:
        for sentinel in (DEEP_LIST, DEEP_MAP):
            yield data_case(
                ws, "deep nesting", kind, f"{sentinel} {path}", put(base, path, sentinel), "reject"
            )
    for path in (*kind.numbers, kind.strings[0]):
        yield data_case(ws, "huge integer", kind, f"{path}", put(base, path, HUGE), "reject")
    for path in kind.strings:
        for value in (["a", "list"], {"a": "mapping"}):
            yield data_case(
                ws, "list/mapping for a string", kind, f"{path}", put(base, path, value), "reject"
            )
    if kind.fmt == "jsonl" and not kind.in_run:
        role_path = (0, "turns", 0, "role") if kind.name == "transcripts" else (0, "messages", 1)
        if kind.name == "transcripts":
            yield data_case(
                ws, "list/mapping for a string", kind, "role", put(base, role_path, ["x"]), "reject"
            )
    for path in kind.strings:
        yield data_case(ws, "markup in values", kind, f"{path}", put(base, path, MARKUP), "accept")
    for path in kind.regexes:
        for pattern in ("(unclosed", "[z-a]", "*lead", "(?P<n>a)(?P<n>b)"):
            value: Any = [pattern] if path[-1] in ("when", "unless") else pattern
            yield data_case(
                ws, "invalid regex", kind, f"{pattern} {path}", put(base, path, value), "reject"
            )
    for path in kind.blanks:
        for blank in ("", "   ", "\t"):
            yield data_case(
                ws, "blank name", kind, f"{blank!r} {path}", put(base, path, blank), "reject"
            )
    for path in kind.strings[:3]:
        yield data_case(ws, "lone surrogate", kind, f"{path}", put(base, path, SURROGATE), "reject")
    yield from _duplicates(ws, kind, text)

    # ------------------------------------------------ truncation, empty, wrong type
    for _ in range(4):
        cut = rng.randrange(1, len(raw))
        yield content_case(ws, "truncation", kind, f"at {cut}", constant(raw[:cut]), "either")
    empty_expect: Expect = "either" if kind.in_run and kind.fmt == "jsonl" else "reject"
    for label, blank_bytes in (("empty", b""), ("newline", b"\n"), ("spaces", b"  \n\t\n")):
        yield content_case(ws, "empty file", kind, label, constant(blank_bytes), empty_expect)
    wrongs = ["[]", "42", "null", '"text"', "true"]
    if kind.fmt == "yaml":
        wrongs += ["- a\n- b", "just words"]
    for wrong in wrongs:
        top = constant((wrong + "\n").encode())
        yield content_case(ws, "wrong top-level type", kind, wrong.splitlines()[0], top, "reject")

    # ------------------------------------------------ the file system
    yield from _special_files(ws, kind)
    yield from _markup_paths(ws, kind)
    yield from _bad_out(ws, kind)
    if kind.name == "run.json":
        for label, foreign in (
            ("another tool's", {"name": "webapp", "version": "2.1.0", "private": True}),
            ("future schema", {**base, "schema_version": 99, "surprise": {"x": 1}}),
            ("list", [base]),
        ):
            yield data_case(ws, "foreign run.json", kind, label, foreign, "reject")


def _duplicates(ws: Workspace, kind: Kind, text: str) -> Iterator[Case]:
    if kind.fmt == "yaml":
        lines = text.splitlines(keepends=True)
        top = next(line for line in lines if not line.startswith((" ", "-", "#")))
        doubled_top = (text + top).encode()
        yield content_case(ws, "duplicate keys", kind, "top level", constant(doubled_top), "reject")
        nested = [n for n, ln in enumerate(lines) if re.match(r"^ +[A-Za-z_]+:( |$)", ln)]
        if nested:
            n = nested[0]
            doubled = "".join([*lines[: n + 1], lines[n], *lines[n + 1 :]]).encode()
            yield content_case(ws, "duplicate keys", kind, "nested", constant(doubled), "reject")
        return
    first = text.index("{") + 1
    key = text[first:].split(":", 1)[0].strip()
    doubled_json = (text[:first] + f"{key}: 1, " + text[first:]).encode()
    yield content_case(ws, "duplicate keys", kind, "object", constant(doubled_json), "reject")


def _special_files(ws: Workspace, kind: Kind) -> Iterator[Case]:
    def fifo(folder: Path) -> Target:
        target = _place(kind, ws, folder, None)
        path = target.path / kind.file_name if kind.in_run else target.path
        path.unlink(missing_ok=True)
        os.mkfifo(path)
        return target

    def directory(folder: Path) -> Target:
        target = _place(kind, ws, folder, None)
        path = target.path / kind.file_name if kind.in_run else target.path
        path.unlink(missing_ok=True)
        path.mkdir()
        return target

    def dev_zero_link(folder: Path) -> Target:
        target = _place(kind, ws, folder, None)
        path = target.path / kind.file_name if kind.in_run else target.path
        path.unlink(missing_ok=True)
        path.symlink_to("/dev/zero")
        return target

    for label, build in (("FIFO", fifo), ("directory", directory), ("-> /dev/zero", dev_zero_link)):
        yield Case("FIFO / directory / device", kind.name, label, build, "reject")
    if not kind.in_run:
        yield Case(
            "FIFO / directory / device",
            kind.name,
            "/dev/zero",
            lambda folder: Target(Path("/dev/zero"), ["/dev/zero"]),
            "reject",
        )


def _markup_paths(ws: Workspace, kind: Kind) -> Iterator[Case]:
    def placed(folder: Path, content: bytes | None) -> Target:
        odd = folder / "[red]in[/bold] red[/red]"
        odd.mkdir(parents=True)
        target = _place(kind, ws, odd, content)
        target.out = odd / "out[/bold][red]"
        target.shows = str(target.out)  # a markup-parsing console would drop the tags
        return target

    yield Case("markup in paths", kind.name, "valid file", lambda f: placed(f, None), "accept")
    yield Case(
        "markup in paths", kind.name, "broken file", lambda f: placed(f, b"[: :\n"), "reject"
    )


def _bad_out(ws: Workspace, kind: Kind) -> Iterator[Case]:
    if kind.name == "reactions":
        return  # no command takes a reactions file

    def is_file(folder: Path) -> Target:
        target = _place(kind, ws, folder, None)
        target.out = folder / "taken.txt"
        target.out.write_text("not a folder\n", encoding="utf-8")
        target.named = [str(target.out)]
        target.shared_out = True
        return target

    def below_file(folder: Path) -> Target:
        target = is_file(folder)
        assert target.out is not None
        target.named = [str(target.out)]
        target.out = target.out / "sub"
        return target

    for label, build in (("--out is a file", is_file), ("--out below a file", below_file)):
        yield Case("bad --out", kind.name, label, build, "accept", command_expect="reject")


def option_cases(ws: Workspace) -> Iterator[Case]:
    """Options and spec arguments that name files or sizes."""

    def argv(*lines: list[str], named: str) -> Callable[[Path], Target]:
        """Command lines in which {FIFO}, {FILE} and {DIR} become paths of the case."""

        def build(folder: Path) -> Target:
            fifo = folder / "pipe"
            os.mkfifo(fifo)
            (folder / "taken.txt").write_text("x\n", encoding="utf-8")
            paths = {"FIFO": str(fifo), "FILE": str(folder / "taken.txt"), "DIR": str(folder)}
            filled = [[arg.format(**paths) for arg in line] for line in lines]
            return Target(folder, [named.format(**paths)], argv=filled)

        return build

    run = ["run", "--persona", "late-gift", "--agent", MACROS]
    specs: list[tuple[str, Callable[[Path], Target]]] = [
        ("--seeds 100000000", argv([*run, "--seeds", "100000000", "--dry-run"], named="--seeds")),
        (
            "eval --seeds 100000000",
            argv(["eval", "demo", "--seeds", "100000000", "--dry-run"], named="--seeds"),
        ),
        (
            "--persona FIFO",
            argv([*run[:1], "--persona", "{FIFO}", *run[3:], "--dry-run"], named="{FIFO}"),
        ),
        (
            "--persona /dev/zero",
            argv(["chat", "--persona", "/dev/zero", "--out", "{DIR}/c"], named="/dev/zero"),
        ),
        (
            "--system-prompt /dev/zero",
            argv(
                [
                    "run",
                    "--persona",
                    "late-gift",
                    "--agent",
                    "model:local/none",
                    "--system-prompt",
                    "/dev/zero",
                    "--dry-run",
                ],
                named="/dev/zero",
            ),
        ),
        (
            "--system-prompt FIFO",
            argv(
                [
                    "run",
                    "--persona",
                    "late-gift",
                    "--agent",
                    "model:local/none",
                    "--system-prompt",
                    "{FIFO}",
                    "--dry-run",
                ],
                named="{FIFO}",
            ),
        ),
        (
            "macros:/etc/passwd",
            argv(["run", "--agent", "macros:/etc/passwd", "--dry-run"], named="/etc/passwd"),
        ),
        ("macros:FIFO", argv(["run", "--agent", "macros:{FIFO}", "--dry-run"], named="{FIFO}")),
        ("macros:DIR", argv(["run", "--agent", "macros:{DIR}", "--dry-run"], named="{DIR}")),
        (
            "http:ftp://",
            argv(["run", "--agent", "http:ftp://example.com/x", "--dry-run"], named="ftp://"),
        ),
        (
            "--rubric FIFO",
            argv(
                ["grade", str(ws.good_transcripts), "--rubric", "{FIFO}", "--out", "{DIR}/o"],
                named="{FIFO}",
            ),
        ),
        ("schema --out FILE", argv(["schema", "--out", "{FILE}"], named="{FILE}")),
        ("schema --out FILE/sub", argv(["schema", "--out", "{FILE}/sub"], named="{FILE}")),
        ("grade FIFO", argv(["grade", "{FIFO}", "--out", "{DIR}/o"], named="{FIFO}")),
        ("show FILE", argv(["show", "{FILE}"], named="{FILE}")),
        ("compare FILE", argv(["compare", "{FILE}"], named="{FILE}")),
        ("validate FIFO", argv(["validate", "{FIFO}"], named="{FIFO}")),
        ("validate a folder of no inputs", argv(["validate", "{DIR}"], named="{DIR}")),
        ("--persona ,", argv([*run[:1], "--persona", ",", *run[3:], "--dry-run"], named="persona")),
    ]
    for label, build in specs:
        yield Case("options and spec paths", "options", label, build, "reject")
    yield from typed_input_cases()


def typed_input_cases() -> Iterator[Case]:
    """Lines piped into `chat` that are not UTF-8 or hold markup: kept, graded and saved."""
    rng = random.Random(SEED + 1)
    lines = {
        "Latin-1 line": "I'm so sorry, that's très annoying.\n".encode("latin-1"),
        "UTF-16 line": "I'm sorry about that.\n".encode("utf-16"),
        "random bytes": b"\x80" + rng.randbytes(200).replace(b"\n", b" ") + b"\n",
        "markup": b"[/bold] I'm [red]sorry[/red], that sounds stressful [link=x]\n",
    }
    for label, line in lines.items():

        def build(folder: Path, line: bytes = line) -> Target:
            out = str(folder / "chat")
            argv = [["chat", "--persona", "late-gift", "--out", out]]
            return Target(folder, [out], argv=argv, input=line + b"/end Bye\n")

        yield Case("typed input (chat)", "chat stdin", label, build, "accept")


def all_cases(ws: Workspace) -> list[Case]:
    """Every case, in a fixed order from a fixed seed."""
    rng = random.Random(SEED)
    cases = [case for kind in KINDS for case in cases_for(ws, kind, rng)]
    return [*cases, *option_cases(ws)]


# ---------------------------------------------------------------- running a case


# Built once: Typer rebuilds the click command on every `invoke(app, ...)`, which costs more
# than most cases.
COMMAND = typer.main.get_command(app)


class Hang(BaseException):
    """A command ran past the hang guard (CliRunner does not catch BaseException)."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def invoke(argv: list[str], stdin: str | bytes | None = None) -> Result | Hang:
    """Run the CLI in-process, stopped by the hang guard, within the memory cap."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        return CliRunner().invoke(COMMAND, argv, env=ENV, input=stdin)
    except Hang as hang:
        return hang
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def commands(kind: str, target: Target, out: Path, ws: Workspace) -> list[Command]:
    """The command lines that consume a file of this kind (after `validate`)."""
    path, o = str(target.path), str(out)
    chat_input = "I'm so sorry, that sounds stressful. Let's sort it out together.\n/end Bye\n"
    run = ["run", "--persona", "late-gift", "--agent", MACROS, "--max-turns", "6", "--out", o]
    table: dict[str, list[Command]] = {
        "persona": [
            Command(["run", "--persona", path, *run[3:]]),
            Command(
                ["chat", "--persona", path, "--out", o if target.shared_out else o + "-chat"],
                chat_input,
            ),
        ],
        "reactions": [],  # no command takes a reactions file
        "rubric": [Command(["grade", str(ws.good_transcripts), "--rubric", path, "--out", o])],
        "macros": [Command([*run[:3], "--agent", f"macros:{path}", *run[5:]])],
        "suite": [Command(["eval", path, "--out", o])],
        "transcripts": [Command(["grade", path, "--out", o])],
        "openai-transcripts": [Command(["grade", path, "--out", o])],
    }
    if kind in table:
        return table[kind]
    # a run directory: `show` reads all three files, `compare` the manifest and scorecards,
    # `grade` (a re-grade) the manifest and transcripts. `show` must run on a directory that
    # validates; `compare` and `grade` may refuse one with nothing to compare or re-grade.
    readers = [Command(["show", path])]
    if kind != "run-transcripts.jsonl":
        readers.append(Command(["compare", path], reader=False))
    return [*readers, Command(["grade", path, "--out", o], reader=False)]


@dataclass(frozen=True)
class Command:
    """One command line of a case; a reader must accept what `validate` accepted."""

    argv: list[str]
    stdin: str | None = None
    reader: bool = True


def _check(result: Result | Hang, expect: Expect, named: list[str], what: str) -> list[str]:
    if isinstance(result, Hang):
        return [f"{what}: hung (over {HANG_SECONDS} s)"]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        return [f"{what}: traceback {type(exc).__name__}: {str(exc)[:100]}"]
    output = result.output
    if "Traceback" in output:
        return [f"{what}: traceback in the output"]
    if result.exit_code not in (0, 1):
        return [f"{what}: exit code {result.exit_code}"]
    if expect == "accept" and result.exit_code != 0:
        return [f"{what}: a valid input was refused: {_last(output)}"]
    if expect == "reject" and result.exit_code == 0:
        return [f"{what}: an invalid input was accepted"]
    if result.exit_code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        naming = [line for line in lines if any(name in line for name in named)]
        if not naming:
            return [f"{what}: the error does not name {named[0]}: {_last(output)}"]
        if what != "validate" and not naming[-1].startswith("error: "):
            return [f"{what}: not a one-line error: {naming[-1][:160]}"]
        if any("errors.pydantic.dev" in line for line in lines):
            return [f"{what}: a multi-line validation dump: {_last(output)}"]
    return []


def _last(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def run_case(case: Case, ws: Workspace) -> Outcome:
    """Build a case, run validate and the consuming commands, collect the problems."""
    outcome = Outcome(case)
    start = time.perf_counter()
    folder = ws.fresh(case.kind)
    target = case.build(folder)
    out = target.out or folder / "out"
    if target.argv is not None:
        for line in target.argv:
            outcome.invocations += 1
            result = invoke(line, target.input)
            outcome.problems += _check(result, case.expect, target.named, line[0])
    else:
        outcome.invocations += 1
        valid = invoke(["validate", str(target.path)])
        outcome.problems += _check(valid, case.expect, target.named, "validate")
        for command in commands(case.kind, target, out, ws):
            expect = case.expect
            if case.command_expect and "--out" in command.argv:
                expect = case.command_expect
            accepted = isinstance(valid, Result) and valid.exit_code == 0
            if expect == "either" and accepted and command.reader:
                expect = "accept"  # "valid" must mean "will run"
            outcome.invocations += 1
            result = invoke(command.argv, command.stdin)
            outcome.problems += _check(result, expect, target.named, command.argv[0])
            printed = isinstance(result, Result) and result.exit_code == 0
            if printed and target.shows and "--out" in command.argv:
                assert isinstance(result, Result)
                if target.shows not in result.output:
                    outcome.problems.append(f"{command.argv[0]}: --out not printed as written")
    outcome.seconds = time.perf_counter() - start
    return outcome


@contextmanager
def memory_cap(limit: int = MEMORY_CAP) -> Iterator[None]:
    """Cap this process's address space (an input read without limit is a MemoryError
    here, not a machine brought to its knees); the previous soft limit is restored."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_all(root: Path) -> list[Outcome]:
    """Build and run every case under `root`."""
    ws = Workspace(root)
    with memory_cap():
        return [run_case(case, ws) for case in all_cases(ws)]


# ---------------------------------------------------------------- the table


def table(outcomes: list[Outcome]) -> str:
    """Tried / clean / failed per attack class, as markdown."""
    tried: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    crashed: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    slowest: dict[str, float] = {}
    for outcome in outcomes:
        attack = outcome.case.attack
        tried[attack] += 1
        calls[attack] += outcome.invocations
        bad[attack] += bool(outcome.problems)
        crashed[attack] += any("traceback" in p or "hung" in p for p in outcome.problems)
        accepted[attack] += any("invalid input was accepted" in p for p in outcome.problems)
        slowest[attack] = max(slowest.get(attack, 0.0), outcome.seconds)
    rows = [
        "| attack class | files tried | commands run | clean | failed | with a traceback "
        "| invalid, accepted | slowest case (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for attack in tried:
        rows.append(
            f"| {attack} | {tried[attack]} | {calls[attack]} | {tried[attack] - bad[attack]} "
            f"| {bad[attack]} | {crashed[attack]} | {accepted[attack]} | {slowest[attack]:.2f} |"
        )
    total, failures = sum(tried.values()), sum(bad.values())
    rows.append(
        f"| **all** | **{total}** | **{sum(calls.values())}** | **{total - failures}** | "
        f"**{failures}** | **{sum(crashed.values())}** | **{sum(accepted.values())}** | "
        f"{max(slowest.values()):.2f} |"
    )
    return "\n".join(rows)


def failure_kinds(outcomes: list[Outcome]) -> Counter[str]:
    """How the failed cases failed: traceback, accepted invalid, not named, ..."""
    kinds: Counter[str] = Counter()
    for outcome in outcomes:
        for problem in outcome.problems:
            how = problem.split(": ", 1)[1]
            kinds[next((k for k in HOW if how.startswith(k)), how.split(":")[0])] += 1
    return kinds


HOW = (
    "traceback",
    "hung",
    "exit code",
    "a valid input was refused",
    "an invalid input was accepted",
    "the error does not name",
    "not a one-line error",
    "a multi-line validation dump",
    "--out not printed as written",
)


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    """Every case, run once for the module."""
    return run_all(tmp_path_factory.mktemp("fuzz"))


def test_hundreds_of_cases_cover_every_kind_and_attack(outcomes: list[Outcome]) -> None:
    assert len(outcomes) >= 300
    kinds = {o.case.kind for o in outcomes}
    assert kinds >= {k.name for k in KINDS} | {"options", "chat stdin"}
    attacks = Counter(o.case.attack for o in outcomes)
    assert len(attacks) >= 18 and min(attacks.values()) >= 3, attacks


def test_every_mutated_input_ends_cleanly(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.problems]
    listing = "\n".join(
        f"{o.case.attack} / {o.case.kind} / {o.case.label}: {'; '.join(o.problems)}"
        for o in failed[:40]
    )
    assert not failed, f"{len(failed)} of {len(outcomes)} cases failed:\n{listing}"


if __name__ == "__main__":
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        results = run_all(Path(scratch))
    elapsed = time.perf_counter() - started
    print(table(results))
    calls = sum(o.invocations for o in results)
    print(f"\n{len(results)} files, {calls} commands, {elapsed:.0f} s")
    print("failures by how:", dict(failure_kinds(results)))
    if "-v" in sys.argv:
        for o in results:
            if o.problems:
                where = f"{o.case.attack} / {o.case.kind} / {o.case.label}"
                print(f"- {where}: {'; '.join(o.problems)}")
