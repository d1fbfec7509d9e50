"""Where data enters: every file toughtalk reads goes through these readers, so that any
bad input (not a regular file, too big, not UTF-8, nested too deeply, a duplicate key, a
number too long to parse, a lone surrogate) is one `InputError` naming the file and line,
never a traceback, a hang or a memory blow-up."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError

MAX_FILE_BYTES = 20_000_000  # a persona, rubric, macro library, suite or manifest
MAX_LINE_BYTES = 5_000_000  # one JSONL line: one conversation
MAX_DEPTH = 40  # nesting of mappings and lists; real files use under 10
MAX_NODES = 200_000  # YAML nodes after following aliases ("billion laughs")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def regular_file(path: Path) -> Path:
    """The path, if it is a readable regular file (not a directory, FIFO or device)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        raise InputError(path, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise InputError(path, "not a regular file (a FIFO, device or socket); pass a file")
    return path


def decode(raw: bytes, path: Path | str, line: int | None = None) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); anything else is an InputError."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "UTF-16 text; save the file as UTF-8", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = line if line is not None else raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            path,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            where,
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """A whole (small) file as UTF-8 text, refusing anything over `limit` bytes."""
    regular_file(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    if len(raw) > limit:
        raise InputError(path, f"larger than {limit // 1_000_000} MB; is this the right file?")
    return decode(raw, path)


def check_strings(value: Any, path: Path | str, line: int | None = None) -> None:
    """No lone surrogate (from a JSON `\\ud800` escape) anywhere: it cannot be written back."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise InputError(path, "text holds a lone UTF-16 surrogate (\\ud800-\\udfff)", line)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _DuplicateKey(ValueError):
    """A JSON object names one key twice (json.loads would keep the last silently)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {key!r} in one object")
            seen.add(key)
    return value


def json_value(text: str, path: Path | str, line: int | None = None, *, own: bool = False) -> Any:
    """Parse JSON text (one JSONL line or a whole file) with every failure as InputError.
    `own`: a line this tool wrote (a scorecard or transcript record, whose schema bounds
    its nesting): the nesting walk is skipped."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line) from exc
    except _DuplicateKey as exc:
        raise InputError(path, str(exc), line) from None
    except RecursionError:
        raise InputError(path, f"nested more than {MAX_DEPTH} levels deep", line) from None
    except ValueError as exc:  # e.g. an integer longer than Python will parse
        raise InputError(path, f"not valid JSON: {str(exc).splitlines()[0][:120]}", line) from exc
    brackets = text.count("{") + text.count("[")
    if not own and brackets > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise InputError(path, f"nested more than {MAX_DEPTH} levels deep", line)
    if _SURROGATE_ESCAPE.search(text):  # a lone surrogate can only come from an escape
        check_strings(value, path, line)
    return value


class _ShallowLoader(yaml.SafeLoader):
    """A safe loader whose scanner stops at `MAX_DEPTH` nested flow collections (`[[[...`),
    before PyYAML's scanner, quadratic in the depth, spends seconds on a few kilobytes."""

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)


# libyaml when available (fast, and its scanner is linear in the nesting); the depth of
# what it reads is checked on the node tree (`_check_nodes`).
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None) or _ShallowLoader


class _UniqueKeyLoader(_FAST_LOADER):
    """A safe loader that refuses a key given twice in one mapping (YAML keeps the last)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key (a list or mapping used as a key)
            raise yaml.constructor.ConstructorError(
                None, None, "a list or mapping cannot be a key", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=True))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _check_nodes(node: yaml.Node | None, path: Path | str) -> None:
    """Refuse YAML that is too deep or expands (through aliases) into too many nodes."""
    if node is None:
        return
    count, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise InputError(path, f"more than {MAX_NODES} values once aliases are expanded")
        if depth > MAX_DEPTH:
            raise InputError(
                path, f"nested more than {MAX_DEPTH} levels deep", item.start_mark.line + 1
            )
        if isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))
        elif isinstance(item, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in item.value)


def yaml_document(text: str, path: Path | str) -> tuple[yaml.Node | None, Any]:
    """(node tree for line numbers, data) of one YAML document; every failure is an
    InputError with the line."""
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
        _check_nodes(node, path)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in problem:  # libyaml's own limit, in our words
            problem = f"nested more than {MAX_DEPTH} levels deep"
        raise InputError(path, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from exc
    except RecursionError:
        raise InputError(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # e.g. an integer longer than Python will parse
        raise InputError(path, f"invalid YAML: {str(exc).splitlines()[0][:120]}") from exc
    check_strings(data, path)
    return node, data


def read_yaml(path: Path) -> tuple[yaml.Node | None, Any]:
    """A YAML file's node tree and data, read through every check above."""
    return yaml_document(read_text(path), path)


def jsonl_lines(path: Path, *, limit: int = MAX_LINE_BYTES) -> Any:
    """(line number, text) of every line of a JSONL file, each decoded and size-checked;
    yields lazily, so a file of any length is read in constant memory."""
    regular_file(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(_bounded_lines(handle, limit, path), 1):
            yield number, decode(raw, path, number)


def _bounded_lines(handle: Any, limit: int, path: Path) -> Any:
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            raise InputError(path, f"line longer than {limit // 1_000_000} MB", number)
        yield raw


def typed_text(text: str) -> str:
    """A line typed or piped in, with bytes that were not UTF-8 (read as lone surrogates by
    Python's `surrogateescape`) turned into U+FFFD, so the line can be graded and saved."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def os_error(path: Path | str, exc: OSError) -> InputError:
    """An OSError while writing or reading, as one line naming the path."""
    return InputError(path, exc.strerror or os.strerror(exc.errno or 0) or str(exc))
