"""The event contract (docs/events.md, and its JSON Schema docs/events.schema.json, generated from the
types below by `python -m dashboard.events`): the events, their limits, parsing with errors that name the
field, and the row each event becomes (`event_row`, in the row schemas of `dashboard/schema.py`).

Cutting payload fields over their limit is `dashboard/truncation.py`; the nesting bound of JSON values and
reading stored JSON is `dashboard/json_values.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Raw, Struct

from .json_values import MAX_JSON_DEPTH, nesting_over
from .schema import FinalStatus, StepStatus, TriggerType, utc

# The event contract (docs/events.md). msgspec validates and names the field at fault.

E164 = r"^\+[1-9][0-9]{6,14}$"
MAX_FIELD_BYTES = 1_000_000  # default limit of one payload field (UTF-8 bytes): longer ones are stored truncated
MIN_FIELD_BYTES = 256  # room for the truncation note an execution's error carries
# Default limit of one line: room for a step's payload fields at their limit, also when an engine
# escapes non-ASCII text as \uXXXX (6 bytes for a 2-byte character). Bounds the memory of one event.
LINE_BYTES_PER_FIELD_BYTE = 16
MAX_LINE_BYTES = LINE_BYTES_PER_FIELD_BYTE * MAX_FIELD_BYTES
MAX_INT32 = 2**31 - 1  # counts are stored as int32
STEP_TEXT_FIELDS = ("system_prompt", "user_prompt", "ai_reply", "error")  # payload: cut when too long
STEP_JSON_FIELDS = ("input", "output")

# Identity fields are keys and labels, not payload: too long is a rejection, never a cut.
# (The descriptions go into docs/events.schema.json.)
Id = Annotated[str, Meta(min_length=1, max_length=200, description="An id: 1 to 200 characters; longer is rejected.")]
Name = Annotated[str, Meta(min_length=1, max_length=500,
                           description="A name: 1 to 500 characters; longer is rejected, never cut.")]
Model = Annotated[str, Meta(max_length=500, description="The AI model, up to 500 characters.")]
Timestamp = Annotated[dt.datetime, Meta(tz=True, description="ISO 8601 date and time with a zone (Z or +hh:mm).")]
Count = Annotated[int, Meta(ge=0, le=MAX_INT32, description="A whole number from 0 to 2,147,483,647.")]
Payload = Annotated[str, Meta(description="Text of any length; over the field limit (default 1,000,000 UTF-8 bytes) "
                                          "it is stored cut, with a warning.")]


def _check_utc(event: Struct, *fields: str) -> None:
    """A timestamp must have a UTC date (9999-12-31T23:00-05:00 has none): it names the day partition."""
    for field in fields:
        try:
            utc(getattr(event, field))
        except OverflowError:
            raise ValueError(f"`{field}` is out of range once converted to UTC") from None


class Trigger(Struct, forbid_unknown_fields=False):
    """What started the execution. `phone` (E.164) is required for incoming_message and not allowed otherwise."""

    type: TriggerType
    phone: Annotated[str, Meta(pattern=E164)] | None = None

    def __post_init__(self):
        if self.type is TriggerType.INCOMING_MESSAGE and self.phone is None:
            raise ValueError("`phone` is required when the trigger type is incoming_message")
        if self.type is not TriggerType.INCOMING_MESSAGE and self.phone is not None:
            raise ValueError(f"`phone` is only allowed when the trigger type is incoming_message, not {self.type}")


class Tokens(Struct):
    """Tokens an AI step used."""

    prompt: Count = 0
    completion: Count = 0


class ExecutionStarted(Struct, tag_field="type", tag="execution_started"):
    """An execution began. It is stored in the day partition of `at` (UTC)."""

    execution_id: Id
    flow_id: Id
    flow_name: Name
    at: Timestamp
    trigger: Trigger

    def __post_init__(self):
        _check_utc(self, "at")


def _null() -> Raw:
    return Raw(b"null")


class StepFinished(Struct, tag_field="type", tag="step_finished"):
    """A step (node) of an execution ended. `index` orders the steps of one execution, from 0."""

    execution_id: Id
    index: Count
    node_id: Id
    node_name: Name
    node_type: Name
    status: StepStatus
    started_at: Timestamp
    finished_at: Timestamp
    model: Model | None = None
    tokens: Tokens | None = None
    system_prompt: Payload | None = None
    user_prompt: Payload | None = None
    ai_reply: Payload | None = None
    warnings: list[Payload] = []
    error: Payload | None = None
    # any JSON value, kept as its text (msgspec cannot take Raw | None). A factory, not a default: a Raw
    # default cannot be written into the JSON Schema.
    input: Raw = msgspec.field(default_factory=_null)
    output: Raw = msgspec.field(default_factory=_null)

    def __post_init__(self):
        _check_utc(self, "started_at", "finished_at")
        if self.finished_at < self.started_at:
            raise ValueError("`finished_at` is before `started_at`")
        for field in STEP_JSON_FIELDS:
            try:  # msgspec checks the JSON of a Raw value, not the UTF-8 of the strings inside it
                bytes(getattr(self, field)).decode()
            except UnicodeDecodeError as exc:
                raise ValueError(f"`{field}` is not valid UTF-8 (byte {exc.start})") from None


class ExecutionFinished(Struct, tag_field="type", tag="execution_finished"):
    """An execution ended with a final status; a finished execution stays finished."""

    execution_id: Id
    at: Timestamp
    status: FinalStatus
    messages_sent: Count = 0
    messages_failed: Count = 0
    error: Payload | None = None

    def __post_init__(self):
        _check_utc(self, "at")


Event = ExecutionStarted | StepFinished | ExecutionFinished
_decoder = msgspec.json.Decoder(Event)
_encoder = msgspec.json.Encoder()


class EventError(ValueError):
    """A line that breaks the contract; `field` names the offending field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


_AT_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"^(?:Object missing required field )?`(?P<field>\w+)`")


def parse_event(line: bytes | str, max_line_bytes: int = MAX_LINE_BYTES) -> Event:
    """Decode one JSON line into an event, or raise EventError naming the field.

    Payload fields are not limited here: the writer cuts them (see `limit_payload`). Nesting is
    (MAX_JSON_DEPTH), and so is every number of a step's input and output: it must read back.
    """
    size = len(line) - (line[-1:] in (b"\n", "\n"))  # as ingest.read_lines counts: without the line break
    if size > max_line_bytes:
        raise EventError(line_too_long(size, max_line_bytes))
    # before decoding: msgspec recurses once per level and a deep line raised RecursionError mid-ingest
    too_deep = nesting_over(line, MAX_JSON_DEPTH + 1)  # the event itself is the first level
    if too_deep is not None:
        field, _ = too_deep
        raise EventError(f"nested deeper than {MAX_JSON_DEPTH}", field)
    event = _decode(line)
    if isinstance(event, StepFinished):
        for field in STEP_JSON_FIELDS:
            check_json_value(bytes(getattr(event, field)), field)
    return event


def _decode(line: bytes | str) -> Event:
    try:
        return _decoder.decode(line)
    except UnicodeDecodeError as exc:
        raise EventError(f"not valid UTF-8 (byte {exc.start} of a string)") from None
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        path = (match["path"] or "").lstrip(".") or None
        message = match["msg"]
        # "Object missing required field `type`" and our own checks ("`input` is not valid UTF-8")
        # name a field of the object at `path`: report that field, e.g. trigger.phone.
        named = _NAMED_FIELD.match(message)
        if named:
            path = f"{path}.{named['field']}" if path else named["field"]
        return_msg = message[0].lower() + message[1:] if message else message
        raise EventError(return_msg, path) from None
    except msgspec.DecodeError as exc:
        raise EventError(f"not valid JSON ({exc})") from None


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def event_json_schema() -> dict:
    """The JSON Schema of one line of the contract, from the types above (docs/events.schema.json).

    It cannot say everything the types check: a trigger's phone only for incoming_message, a step's
    finished_at not before its started_at, a timestamp that has a UTC date. docs/events.md does."""
    schema = msgspec.json.schema(Event)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "flowlogs event",
            "description": "One line of a JSON-lines file for `flowlogs ingest`; see docs/events.md.",
            **schema}


def event_json_schema_text() -> str:
    return json.dumps(event_json_schema(), indent=2, ensure_ascii=False) + "\n"


def line_too_long(size: int, limit: int) -> str:
    return f"line is {size:,} bytes, over the limit of {limit:,}"



# ---------------------------------------------------------------------------
# JSON values of an event: bounded nesting, numbers that read back. Checked at ingest and by the Recorder.


class _OutOfRange:
    """Marks a number that does not read back (1e400 overflows a float), to find its path."""


def _checked_number(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _OutOfRange


def _path_of(value: Any, marker: Any, path: str = "") -> str | None:
    """The path (`.amount`, `.items[2].price`) of the first `marker` in a decoded value; depth is bounded."""
    if value is marker:
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, int):
            step = f"[{key}]"
        else:
            step = f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else f"[{json.dumps(key)}]"
        found = _path_of(item, marker, path + step)
        if found is not None:
            return found
    return None


def check_json_value(text: bytes, field: str) -> None:
    """Raise EventError unless the JSON `text` of `field` nests at most MAX_JSON_DEPTH levels and reads
    back as Python values. The error names the value: `input.amount: number out of range`."""
    too_deep = nesting_over(text, MAX_JSON_DEPTH)
    if too_deep is not None:
        raise EventError(f"nested deeper than {MAX_JSON_DEPTH}", field)
    try:
        msgspec.json.decode(text)
        return
    except msgspec.ValidationError:  # a number out of range; find which (rare, so the slow way)
        try:
            value = json.loads(text, parse_float=_checked_number, parse_int=_checked_number)
        except ValueError:
            raise EventError("number out of range", field) from None
        path = _path_of(value, _OutOfRange)
        raise EventError("number out of range", field + (path or "")) from None
    except msgspec.DecodeError as exc:  # JSON syntax, yet no text: a lone surrogate escape (\ud800) does this
        raise EventError(f"does not read back as JSON ({exc}; a lone surrogate escape such as \\ud800?)",
                         field) from None


# ---------------------------------------------------------------------------
# The row an event becomes (schema.EXECUTION_ROW or schema.STEP_ROW).


def _json_text(raw: Raw | None) -> str | None:
    text = None if raw is None else bytes(raw).decode()
    return None if text in (None, "null") else text


def event_row(event: Event, recorded_at: dt.datetime) -> dict:
    """The row an event becomes (execution row or step row)."""
    if isinstance(event, ExecutionStarted):
        return {
            "execution_id": event.execution_id,
            "flow_id": event.flow_id,
            "flow_name": event.flow_name,
            "trigger_type": str(event.trigger.type),
            "trigger_phone": event.trigger.phone,
            "started_at": utc(event.at),
            "recorded_at": recorded_at,
        }
    if isinstance(event, ExecutionFinished):
        return {
            "execution_id": event.execution_id,
            "status": str(event.status),
            "finished_at": utc(event.at),
            "messages_sent": event.messages_sent,
            "messages_failed": event.messages_failed,
            "error": event.error,
            "recorded_at": recorded_at,
        }
    tokens = event.tokens
    return {
        "execution_id": event.execution_id,
        "step_index": event.index,
        "node_id": event.node_id,
        "node_name": event.node_name,
        "node_type": event.node_type,
        "status": str(event.status),
        "started_at": utc(event.started_at),
        "finished_at": utc(event.finished_at),
        "model": event.model,
        "prompt_tokens": tokens.prompt if tokens else None,
        "completion_tokens": tokens.completion if tokens else None,
        "system_prompt": event.system_prompt,
        "user_prompt": event.user_prompt,
        "ai_reply": event.ai_reply,
        "warnings": list(event.warnings),
        "error": event.error,
        "input": _json_text(event.input),
        "output": _json_text(event.output),
        "recorded_at": recorded_at,
    }


if __name__ == "__main__":  # python -m dashboard.events > docs/events.schema.json
    import sys

    sys.stdout.write(event_json_schema_text())
