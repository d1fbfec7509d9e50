"""One conversation of a run, read without parsing the others.

A run's JSONL files hold `"conversation_id": "<id>"` as a key of every line (JSON escapes
any quote inside a text, so the key cannot appear inside one); it is matched as pydantic
writes it and as `json.dumps` does (spaces, `\\u` escapes). The last complete line holding
it is the conversation's (a repeated line: the last one counts, as in
`RunStore.load_scorecards`); only that line is decoded and validated, with the same readers
and one-line errors as every other input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.errors import InputError
from harness.inputs import MAX_LINE_BYTES, decode, json_value, regular_file
from harness.store import one_line

M = TypeVar("M", bound=BaseModel)


def _key(conversation_id: str) -> re.Pattern[bytes]:
    """The key and value as pydantic writes them, or as `json.dumps` does (spaces, \\u)."""
    spellings = {
        json.dumps(conversation_id, ensure_ascii=False).encode("utf-8"),
        json.dumps(conversation_id).encode("ascii"),
    }
    values = b"|".join(re.escape(v) for v in sorted(spellings))
    return re.compile(rb'"conversation_id"\s*:\s*(?:' + values + rb")")


def line_of(path: Path, conversation_id: str) -> tuple[int, bytes] | None:
    """(line number, raw line) of the last complete line of this conversation, if any."""
    if not path.exists():
        return None
    regular_file(path)
    raw = path.read_bytes()
    end = len(raw) if raw.endswith(b"\n") else raw.rfind(b"\n") + 1  # a torn last line
    hits = [m.start() for m in _key(conversation_id).finditer(raw, 0, end)]
    if not hits:
        return None
    at = hits[-1]
    start = raw.rfind(b"\n", 0, at) + 1
    stop = raw.find(b"\n", at)
    if stop - start > MAX_LINE_BYTES:
        raise InputError(path, f"line longer than {MAX_LINE_BYTES // 1_000_000} MB")
    return raw.count(b"\n", 0, start) + 1, raw[start:stop]


def read_one(path: Path, conversation_id: str, model: type[M]) -> M | None:
    """The conversation's line of a run's JSONL file as `model`, None when it has none."""
    found = line_of(path, conversation_id)
    if found is None:
        return None
    number, raw = found
    value = json_value(decode(raw, path, number), path, number)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise InputError(path, f"not a {model.__name__}: {one_line(exc)}", number) from exc
