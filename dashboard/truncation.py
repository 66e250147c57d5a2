"""Oversized payload: stored cut at a UTF-8 character boundary, and said so. The limits themselves are
part of the event contract (`dashboard/events.py`)."""

from __future__ import annotations

import msgspec
import msgspec.structs
from msgspec import Raw

from .events import (
    MAX_FIELD_BYTES,
    MIN_FIELD_BYTES,
    STEP_JSON_FIELDS,
    STEP_TEXT_FIELDS,
    Event,
    ExecutionFinished,
    StepFinished,
)

_encoder = msgspec.json.Encoder()


def check_field_limit(max_field_bytes: int) -> int:
    if max_field_bytes < MIN_FIELD_BYTES:
        raise ValueError(f"the field limit must be at least {MIN_FIELD_BYTES:,} bytes, not {max_field_bytes:,}")
    return max_field_bytes


def cut_utf8(data: bytes, limit: int) -> bytes:
    """The longest prefix of UTF-8 `data` of at most `limit` bytes that ends on a character boundary."""
    if len(data) <= limit:
        return data
    end = limit
    while end > 0 and data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts before it
        end -= 1
    return data[:end]


def truncation_note(field: str, total: int, kept: int, limit: int) -> str:
    return f"{field} truncated: {total - kept:,} of {total:,} bytes cut (limit {limit:,})"


def _cut_text(text: str, limit: int, room: int = 0) -> tuple[str, int, int] | None:
    """(cut text, bytes before, bytes kept) when `text` is over `limit` bytes, else None.
    `room` bytes of the limit are kept free for a note appended to the text."""
    if len(text) * 4 <= limit:
        return None  # a str of n characters is at most 4n bytes: no need to encode it
    data = text.encode()
    if len(data) <= limit:
        return None
    kept = cut_utf8(data, limit - room)
    return kept.decode(), len(data), len(kept)


def _cut_json(raw: Raw, limit: int) -> tuple[Raw, int, int] | None:
    """A JSON value over `limit` bytes becomes a JSON *string* holding the first bytes of its text:
    cut JSON is not JSON, a string is, so readers and the dashboard's JSON tree always parse it."""
    if len(raw) <= limit:
        return None
    data = bytes(raw)

    def as_string(size: int) -> bytes:
        return _encoder.encode(cut_utf8(data, size).decode())

    # Escaping (\" \\ \n) makes the string up to 6x longer than the text, and its length grows
    # with the prefix: find the longest prefix whose string fits, in ~20 encodings.
    low, high = 0, limit  # as_string(low) fits; as_string(high + 1) does not
    while low < high:
        middle = (low + high + 1) // 2
        if len(as_string(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    kept = cut_utf8(data, low)
    return Raw(as_string(low)), len(data), len(kept)


def limit_payload(event: Event, max_field_bytes: int = MAX_FIELD_BYTES) -> tuple[Event, list[str]]:
    """The event with every payload field over `max_field_bytes` (UTF-8) cut, and what was cut.

    A step's prompts, reply, error, warnings and input/output JSON are cut and a warning is
    appended to the step's `warnings` for each; an execution's error (executions have no
    warnings) ends with the same note instead. Identity fields are never cut: the contract
    rejects them when too long. The event given is not changed.
    """
    limit = max_field_bytes
    notes: list[str] = []
    changes: dict = {}
    if isinstance(event, StepFinished):
        for field in STEP_TEXT_FIELDS:
            value = getattr(event, field)
            cut = None if value is None else _cut_text(value, limit)
            if cut:
                changes[field] = cut[0]
                notes.append(truncation_note(field, cut[1], cut[2], limit))
        for field in STEP_JSON_FIELDS:
            cut = _cut_json(getattr(event, field), limit)
            if cut:
                changes[field] = cut[0]
                notes.append(truncation_note(field, cut[1], cut[2], limit) + "; kept as a JSON string of its text")
        warnings = list(event.warnings)
        for i, value in enumerate(warnings):
            cut = _cut_text(value, limit)
            if cut:
                warnings[i] = cut[0]
                notes.append(truncation_note(f"warnings[{i}]", cut[1], cut[2], limit))
        if notes:
            changes["warnings"] = warnings + notes
    elif isinstance(event, ExecutionFinished) and event.error is not None:
        room = 200  # the note appended to the error itself
        cut = _cut_text(event.error, limit, room)
        if cut:
            note = truncation_note("error", cut[1], cut[2], limit)
            changes["error"] = f"{cut[0]} … [{note}]"
            notes.append(note)
    return (msgspec.structs.replace(event, **changes) if changes else event), notes
