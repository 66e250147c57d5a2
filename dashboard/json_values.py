"""JSON values from the logs: bounded nesting, numbers that read back. Checked at ingest and by the
Recorder (`events.check_json_value`); readers use `read_json`, which never raises, for whatever is stored
(older data, other writers)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

# Nesting limit of any JSON value of an event (a step's input and output above all): an object or array
# inside an object ... at most this many levels. Real payloads nest a handful of levels; a recursive
# reader (show, the dashboard's JSON tree, compare, masking, the notebooks) needs a bound, and Python's
# recursion limit of ~1 000 is not one: readers must stay far below it with frames of their own.
MAX_JSON_DEPTH = 64

# A JSON string (skipped whole: brackets inside it are text) or a bracket. Possessive, so no backtracking.
_JSON_TOKENS = {bytes: re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]'),
                str: re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')}
_OPENERS = (ord("["), ord("{"), "[", "{")


def nesting_over(text: bytes | str, limit: int) -> tuple[str | None, int] | None:
    """(top-level key, offset) of the first object or array nested more than `limit` levels deep in
    JSON `text`, or None. Iterative: any depth is safe to measure. The key is the field of the outer
    object the deep value sits in (None when the outer value is not an object)."""
    if text.count("[" if isinstance(text, str) else b"[") + text.count("{" if isinstance(text, str) else b"{") \
            <= limit:
        return None  # too few brackets to nest that deep: the common case, at C speed
    depth = 0
    key = last_string = None
    for token in _JSON_TOKENS[type(text)].finditer(text):
        first = token.group()[0]
        if first in (ord('"'), '"'):
            if depth == 1:
                last_string = token  # at depth 1 a string before a bracket is that value's key
            continue
        if first in _OPENERS:
            if depth == 1:
                key = last_string
            depth += 1
            if depth > limit:
                name = None
                if key is not None:
                    try:
                        name = msgspec.json.decode(key.group())
                    except msgspec.DecodeError:
                        name = None
                return name, token.start()
        else:
            depth -= 1
    return None


class UnreadableJson(str):
    """Stored JSON text a reader could not turn into values (nested deeper than MAX_JSON_DEPTH, a number
    out of range, not JSON): the text itself, so it is shown as text. `reason` says why."""

    reason: str = ""


def read_json(text: str | bytes | None) -> Any:
    """The stored JSON text of an input or output as Python values, for any reader: never raises.

    Ingest refuses what would not read back, but a store may hold older or foreign rows: text nested
    deeper than MAX_JSON_DEPTH, a number out of range or text that is not JSON comes back as an
    UnreadableJson string of the text itself, so a listing shows it instead of failing."""
    if text is None:
        return None
    if nesting_over(text, MAX_JSON_DEPTH) is not None:
        return _unreadable(text, f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return msgspec.json.decode(text)
    except msgspec.ValidationError:
        return _unreadable(text, "a number out of range")
    except msgspec.DecodeError:
        return _unreadable(text, "not valid JSON")


def _unreadable(text: str | bytes, reason: str) -> UnreadableJson:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    value = UnreadableJson(text)
    value.reason = reason
    return value


def parse_json_field(text: str | None) -> Any:
    """The stored JSON text of an input or output, as Python values."""
    return None if text is None else msgspec.json.decode(text)
