"""The small engine under the text detectors: hits, sentences, memoising, and pattern data.

Detector patterns live in `harness/signals/patterns/*.yaml`, one file per detector family.
Each file has `fragments` (named regex pieces, inserted into patterns as `{@name}`) and
`sets` (named lists of regexes, each with a one-line `meaning` and `match` / `no_match`
example sentences). Files are validated with pydantic at import; a bad file is an
`InputError` naming the file and the set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import InputError

FLAGS = re.IGNORECASE
PATTERN_DIR = Path(__file__).with_name("patterns")
_FRAGMENT_REF = re.compile(r"\{@([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Hit:
    """A span of a message that shows a behaviour."""

    start: int
    end: int
    text: str


class Examples(BaseModel):
    """Example sentences a detector must find (`match`) and must not find (`no_match`)."""

    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(default_factory=list)
    no_match: list[str] = Field(default_factory=list)


class PatternSet(Examples):
    """A named list of regexes with what they mean and examples."""

    meaning: str = Field(min_length=3)
    patterns: list[str] = Field(min_length=1)


class PatternFile(BaseModel):
    """One detector family's data file."""

    model_config = ConfigDict(extra="forbid")

    description: str
    fragments: dict[str, str] = Field(default_factory=dict)
    sets: dict[str, PatternSet] = Field(default_factory=dict)
    detectors: dict[str, Examples] = Field(
        default_factory=dict,
        description="Examples for a whole detector function (its guards included).",
    )


@dataclass(frozen=True)
class PatternLibrary:
    """Every family's patterns, fragments expanded and regexes checked."""

    files: dict[str, PatternFile]
    fragments: dict[str, str]
    sets: dict[str, tuple[str, ...]]
    origin: dict[str, str]  # set or fragment name -> file name

    def examples(self) -> Iterable[tuple[str, str, PatternSet]]:
        """(file, set name, set) for every pattern set."""
        for fname, data in self.files.items():
            for name, pset in data.sets.items():
                yield fname, name, pset

    def detector_examples(self) -> Iterable[tuple[str, str, Examples]]:
        """(file, detector function name, examples) for every detector-level entry."""
        for fname, data in self.files.items():
            for name, ex in data.detectors.items():
                yield fname, name, ex


def _expand(text: str, raw: dict[str, str], where: str, depth: int = 0) -> str:
    if depth > 8:
        raise InputError(where, "fragments refer to each other in a loop")

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in raw:
            raise InputError(where, f"unknown fragment {{@{name}}}")
        return _expand(raw[name], raw, where, depth + 1)

    return _FRAGMENT_REF.sub(sub, text)


def load_library(directory: Path = PATTERN_DIR) -> PatternLibrary:
    """Read, validate and compile every pattern file in `directory`."""
    files: dict[str, PatternFile] = {}
    origin: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
            data = PatternFile.model_validate(raw)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputError(path, f"cannot read pattern file: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise InputError(path, f"{loc}: {first['msg']}") from exc
        for name in [*data.fragments, *data.sets]:
            if name in origin:
                raise InputError(path, f"{name!r} is also defined in {origin[name]}")
            origin[name] = path.name
        files[path.name] = data
    raw_fragments = {k: v for data in files.values() for k, v in data.fragments.items()}
    fragments = {
        k: _expand(v, raw_fragments, f"{PATTERN_DIR / origin[k]}: fragment {k}")
        for k, v in raw_fragments.items()
    }
    sets: dict[str, tuple[str, ...]] = {}
    for fname, data in files.items():
        for name, pset in data.sets.items():
            where = f"{directory / fname}: set {name}"
            expanded = tuple(_expand(p, raw_fragments, where) for p in pset.patterns)
            for pattern in expanded:
                try:
                    re.compile(pattern, FLAGS)
                except re.error as exc:
                    raise InputError(where, f"bad regex {pattern!r}: {exc}") from exc
            sets[name] = expanded
    return PatternLibrary(files, fragments, sets, origin)


LIBRARY = load_library()


def pattern_set(name: str) -> tuple[str, ...]:
    """The expanded regexes of a named pattern set."""
    return LIBRARY.sets[name]


def fragment(name: str) -> str:
    """An expanded named regex fragment."""
    return LIBRARY.fragments[name]


@cache
def rx(pattern: str) -> re.Pattern[str]:
    """A compiled, case-insensitive regex (compiled once)."""
    return re.compile(pattern, FLAGS)


def find(patterns: Iterable[str], text: str) -> list[Hit]:
    """All non-overlapping matches of any pattern, in text order (memoised per text)."""
    return list(_find(tuple(patterns), text))


def set_detector(name: str, patterns: tuple[str, ...], doc: str) -> Callable[[str], list[Hit]]:
    """A detector that is one pattern set and nothing more: the hits of its patterns."""

    def detect(text: str) -> list[Hit]:
        return find(patterns, text)

    detect.__name__ = detect.__qualname__ = name
    detect.__doc__ = doc
    return detect


_MEMOS: list[Any] = []


def memo(fn: Callable[[str], list[Hit]]) -> Callable[[str], list[Hit]]:
    """Memoise a text detector (results are copied out; cleared by `clear_caches`)."""
    cached = lru_cache(maxsize=5_000)(lambda text: tuple(fn(text)))
    _MEMOS.append(cached)

    @wraps(fn)
    def wrapper(text: str) -> list[Hit]:
        return list(cached(text))

    return wrapper


def clear_caches() -> None:
    """Forget memoised detector results (the judge does this per conversation, so that
    timings stay honest and memory stays bounded)."""
    _find.cache_clear()
    _sentences.cache_clear()
    for cached in _MEMOS:
        cached.cache_clear()


# The parsed form of a pattern, for required_words (typeshed has no stubs for these modules).
sre_parse: Any = import_module("re._parser")
sre_constants: Any = import_module("re._constants")


@cache
def required_words(pattern: str) -> frozenset[str] | None:
    """Lower-case strings one of which must occur in any text the pattern matches, or None
    when no such set can be read off the pattern. A pattern whose words are all absent is
    not run: case-insensitive patterns that open with `\\b` get no prefix scan from `re`,
    so this skips most of the work on a typical reply without changing any result. Of the
    sets the pattern needs, the one least likely to be in a text is used: few members, none
    shorter than four characters ("…is exactly right" rather than a list of feeling words)."""
    return _least_likely(required_sets(pattern))


def _least_likely(found: Iterable[frozenset[str]]) -> frozenset[str] | None:
    """Of several required sets, the one a text is least likely to hold."""
    return min(found, key=lambda ws: (min(map(len, ws)) < 4, len(ws)), default=None)


@cache
def required_stretches(pattern: str) -> tuple[frozenset[str], ...]:
    """The pattern's contiguous literal stretches read with the alternatives inside them,
    each as the set of strings it can be ("not (us|ours)" needs "not us" or "not ours",
    where `required_sets` only has "not "). Too many members to index a set by, but a
    cheap extra check that rules out far more texts before the regex is run."""
    return tuple(dict.fromkeys(_stretches_all(sre_parse.parse(pattern, FLAGS).data)))


@cache
def required_sets(pattern: str) -> tuple[frozenset[str], ...]:
    """Every set of lower-case strings the pattern needs, in pattern order: one member of
    each occurs in any text it matches (its literal runs and word alternations)."""
    return tuple(dict.fromkeys(_required_all(sre_parse.parse(pattern, FLAGS).data)))


def _required_all(items: Any) -> list[frozenset[str]]:
    out: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is sre_constants.LITERAL:
            run += chr(av)
            continue
        if len(run) >= 2:
            out.append(frozenset({run.lower()}))
        run = ""
        if op is sre_constants.SUBPATTERN:
            out += _required_all(av[-1].data)
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            out += _required_all(av[2].data)
        elif op is sre_constants.BRANCH:
            words: set[str] = set()
            for branch in av[1]:
                one = _least_likely(_required_all(branch.data))
                if one is None:
                    break
                words |= one
            else:
                out.append(frozenset(words))
    if len(run) >= 2:
        out.append(frozenset({run.lower()}))
    return out


# Most strings a contiguous literal stretch may expand to before it is cut ("not (me|us)"
# is the two strings "not me", "not us"; a stretch with more alternatives is split).
_MAX_STRINGS = 16


def _strings(items: Any) -> set[str] | None:
    """Every string a parsed sub-pattern can match when it is made only of literals,
    zero-width assertions, literal alternatives, one-character classes and optional
    literal parts; None otherwise or when there would be more than _MAX_STRINGS."""
    out = {""}
    for op, av in items:
        if op is sre_constants.LITERAL:
            step = {chr(av)}
        elif op is sre_constants.AT:
            continue  # \b, ^, $: zero-width, the stretch stays contiguous
        elif op is sre_constants.IN and all(o is sre_constants.LITERAL for o, _ in av):
            step = {chr(v) for _, v in av}
        elif op is sre_constants.SUBPATTERN:
            found = _strings(av[-1].data)
            if found is None:
                return None
            step = found
        elif op is sre_constants.BRANCH:
            step = set()
            for branch in av[1]:
                found = _strings(branch.data)
                if found is None:
                    return None
                step |= found
        elif op is sre_constants.MAX_REPEAT and av[0] == 0 and av[1] == 1:
            found = _strings(av[2].data)
            if found is None:
                return None
            step = found | {""}
        else:
            return None
        out = {a + b for a in out for b in step}
        if len(out) > _MAX_STRINGS:
            return None
    return out


def _stretches_all(items: Any) -> list[frozenset[str]]:
    out: list[frozenset[str]] = []
    stretch = {""}  # the strings the current contiguous literal stretch can be

    def flush() -> None:
        if min(map(len, stretch)) >= 2:
            lowered = {w.lower() for w in stretch}
            # a member holding another member adds nothing ("idiots" holds "idiot")
            out.append(frozenset(w for w in lowered if not any(v != w and v in w for v in lowered)))

    for op, av in items:
        found = _strings([(op, av)])
        if found is not None:
            grown = {a + b for a in stretch for b in found}
            if len(grown) <= _MAX_STRINGS:
                stretch = grown
            else:
                flush()
                stretch = found
            continue
        flush()
        stretch = {""}
        if op is sre_constants.SUBPATTERN:
            out += _stretches_all(av[-1].data)
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            out += _stretches_all(av[2].data)
    flush()
    return out


# One step of a set's plan: the compiled pattern; the same pattern lower-cased and compiled
# without IGNORECASE, run on the lower-cased text (about 40% faster in `re`), or None when
# it must see the case ("(?-i:[A-Z])"); and the pattern's other required sets, each of
# which must also have a member in the lower-cased text before the pattern is run.
_Step = tuple[re.Pattern[str], re.Pattern[str] | None, tuple[frozenset[str], ...]]

# A set's plan: its steps in pattern order, the steps that need no word (always run), and
# per required word the steps that word unlocks (from each pattern's least likely set).
_Plan = tuple[tuple[_Step, ...], tuple[int, ...], tuple[tuple[str, tuple[int, ...]], ...]]


def lowered_rx(pattern: str) -> re.Pattern[str] | None:
    """`pattern` with its literal letters lower-cased (escapes such as \\W and \\S kept), for
    matching lower-cased text case-sensitively; None when the pattern reads case itself."""
    if "(?-i" in pattern:
        return None
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(char + next(chars, ""))
        else:
            out.append(char.lower())
    try:
        return re.compile("".join(out), FLAGS & ~re.IGNORECASE)
    except re.error:
        return None


@cache
def _plan(patterns: tuple[str, ...]) -> _Plan:
    """Each pattern of a set compiled with its prefilter, worked out once per set.

    A pattern is run only when every set of strings it requires (`required_sets`) has a
    member in the lower-cased text. The least likely set indexes the pattern, so one pass
    over the set's distinct words picks the candidates; the others are checked per
    candidate. On a typical reply about one pattern in nine is run."""
    steps: list[_Step] = []
    always: list[int] = []
    unlocks: dict[str, list[int]] = {}
    for at, pattern in enumerate(patterns):
        words = required_words(pattern)
        stretches = required_stretches(pattern)
        # the stretches first (they rule out most texts); a required set every member of
        # some stretch already contains is implied by it and not checked again
        implied = [
            need
            for need in required_sets(pattern)
            if any(all(any(w in m for w in need) for m in st) for st in stretches)
        ]
        needs = (*stretches, *(n for n in required_sets(pattern) if n not in implied))
        others = tuple(need for need in dict.fromkeys(needs) if need != words)
        steps.append((rx(pattern), lowered_rx(pattern), others))
        if words is None:
            always.append(at)
        else:
            for word in sorted(words):
                unlocks.setdefault(word, []).append(at)
    index = tuple((word, tuple(ats)) for word, ats in unlocks.items())
    return tuple(steps), tuple(always), index


def _has_all(lowered: str, needs: tuple[frozenset[str], ...]) -> bool:
    """Whether every required set has a member in the text."""
    for need in needs:
        for word in need:
            if word in lowered:
                break
        else:
            return False
    return True


@lru_cache(maxsize=20_000)
def _find(patterns: tuple[str, ...], text: str) -> tuple[Hit, ...]:
    hits: list[Hit] = []
    lowered = text.lower()
    steps, always, index = _plan(patterns)
    chosen = set(always)
    for word, ats in index:
        if word in lowered:
            chosen.update(ats)
    same_length = len(lowered) == len(text)  # lower() can lengthen a few non-ASCII letters
    for at in sorted(chosen):
        pattern, on_lowered, others = steps[at]
        if others and not _has_all(lowered, others):
            continue
        if on_lowered is not None and same_length:
            for m in on_lowered.finditer(lowered):
                hits.append(Hit(m.start(), m.end(), text[m.start() : m.end()]))
        else:
            for m in pattern.finditer(text):
                hits.append(Hit(m.start(), m.end(), m.group(0)))
    hits.sort(key=lambda h: h.start)
    merged: list[Hit] = []
    for hit in hits:
        if merged and hit.start < merged[-1].end:
            continue
        merged.append(hit)
    return tuple(merged)


_SENTENCE = re.compile(
    r"(?:[^.!?\n]|(?<=\w)\.(?=\w))+(?:[.!?]+|$)"
)  # "£6.50", "refunds@shop.example" are one sentence


def sentences(text: str) -> list[Hit]:
    """Split into sentences, keeping exact spans (leading space trimmed)."""
    return list(_sentences(text))


@lru_cache(maxsize=5_000)
def _sentences(text: str) -> tuple[Hit, ...]:
    out: list[Hit] = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        stripped = raw.strip()
        if not stripped:
            continue
        start = m.start() + raw.index(stripped)
        out.append(Hit(start, start + len(stripped), stripped))
    return tuple(out)


def sentence_of(text: str, hit: Hit) -> Hit:
    """The sentence that contains a hit (for a readable evidence quote)."""
    for sentence in sentences(text):
        if sentence.start <= hit.start < sentence.end:
            return sentence
    return hit
