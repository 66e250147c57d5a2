"""The vocabulary of flowlogs, defined once: statuses, tabs, failure causes,
the event contract (docs/events.md, and its JSON Schema docs/events.schema.json,
generated from the types below by `python -m dashboard.schema`), and the row schemas
of the Parquet files.

Everything else imports these names; nothing else spells a status string.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import StrEnum
from typing import Annotated, Any

import msgspec
import msgspec.structs
import pyarrow as pa
from msgspec import Meta, Raw, Struct


class ExecutionStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    CANCELLED = "cancelled"


# The statuses an execution_finished event may carry: every one but running.
FinalStatus = StrEnum("FinalStatus", {s.name: s.value for s in ExecutionStatus if s is not ExecutionStatus.RUNNING})
FINAL_STATUSES = tuple(s.value for s in FinalStatus)
FAILURE_STATUSES = (ExecutionStatus.FAILED.value, ExecutionStatus.COMPLETED_WITH_ERRORS.value)


class StepStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class TriggerType(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    INCOMING_MESSAGE = "incoming_message"


class Tab(StrEnum):
    """The filter tabs of the Execution Logs page."""

    ALL = "all"
    RUNNING = "running"
    FAILED = "failed"
    COMPLETED = "completed"

    @property
    def statuses(self) -> tuple[str, ...]:
        return TAB_STATUSES[self]


TAB_STATUSES: dict[Tab, tuple[str, ...]] = {
    Tab.ALL: tuple(s.value for s in ExecutionStatus),
    Tab.RUNNING: (ExecutionStatus.RUNNING.value,),
    Tab.FAILED: FAILURE_STATUSES,
    Tab.COMPLETED: (ExecutionStatus.COMPLETED.value, ExecutionStatus.CANCELLED.value),
}


class FailureCause(StrEnum):
    """The common failure causes of the help page, plus `other`."""

    WHATSAPP_CONNECTION = "whatsapp_connection"
    INVALID_PHONE = "invalid_phone"
    AI_PROVIDER = "ai_provider"
    TEMPLATE_VARIABLE = "template_variable"
    OTHER = "other"

    @property
    def label(self) -> str:
        return FAILURE_CAUSE_LABELS[self]


FAILURE_CAUSE_LABELS = {
    FailureCause.WHATSAPP_CONNECTION: "WhatsApp connection issue",
    FailureCause.INVALID_PHONE: "Invalid phone number",
    FailureCause.AI_PROVIDER: "AI provider error",
    FailureCause.TEMPLATE_VARIABLE: "Missing or incorrect template variable",
    FailureCause.OTHER: "Other",
}

# Case-insensitive patterns over the failing step's error, tried in this order.
# Order matters: "WhatsApp number invalid" is a phone problem, not a connection one.
FAILURE_CAUSE_PATTERNS: tuple[tuple[FailureCause, str], ...] = (
    (FailureCause.INVALID_PHONE, r"phone|not a valid whatsapp (number|user)|recipient .*(invalid|not on whatsapp)"),
    (FailureCause.WHATSAPP_CONNECTION, r"whatsapp|disconnected|not connected|session (closed|expired)|qr code"),
    (FailureCause.TEMPLATE_VARIABLE, r"template|variable|placeholder|\{\{"),
    (FailureCause.AI_PROVIDER,
     r"api key|rate limit|429|401|quota|model .*(overloaded|not found)|openai|anthropic|ai provider"),
)


def classify_failure(error: str | None) -> FailureCause:
    """The Python twin of the SQL classification in queries (tests keep them equal)."""
    for cause, pattern in FAILURE_CAUSE_PATTERNS:
        if error and re.search(pattern, error, re.IGNORECASE):
            return cause
    return FailureCause.OTHER


# ---------------------------------------------------------------------------
# The event contract (docs/events.md). msgspec validates and names the field at fault.

E164 = r"^\+[1-9][0-9]{6,14}$"
MAX_FIELD_BYTES = 1_000_000  # default limit of one payload field (UTF-8 bytes): longer ones are stored truncated
MIN_FIELD_BYTES = 256  # room for the truncation note an execution's error carries
# Default limit of one line: room for a step's payload fields at their limit, also when an engine
# escapes non-ASCII text as \uXXXX (6 bytes for a 2-byte character). Bounds the memory of one event.
LINE_BYTES_PER_FIELD_BYTE = 16
MAX_LINE_BYTES = LINE_BYTES_PER_FIELD_BYTE * MAX_FIELD_BYTES
MAX_INT32 = 2**31 - 1  # counts are stored as int32
# Nesting limit of any JSON value of an event (a step's input and output above all): an object or array
# inside an object ... at most this many levels. Real payloads nest a handful of levels; a recursive
# reader (show, the dashboard's JSON tree, compare, masking, the notebooks) needs a bound, and Python's
# recursion limit of ~1 000 is not one: readers must stay far below it with frames of their own.
MAX_JSON_DEPTH = 64
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
# JSON values from the logs: bounded nesting, numbers that read back. Checked at ingest and by the
# Recorder; readers use `read_json`, which never raises, for whatever is stored (older data, other writers).

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


# ---------------------------------------------------------------------------
# Oversized payload: stored cut at a UTF-8 character boundary, and said so.


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


def utc(ts: dt.datetime) -> dt.datetime:
    return ts.astimezone(dt.UTC)


def day_of(ts: dt.datetime) -> dt.date:
    """The partition day of a timestamp: its UTC date."""
    return utc(ts).date()


# ---------------------------------------------------------------------------
# Rows on disk. An execution is stored as append-only rows merged on read
# (see store.MERGED_EXECUTIONS_SQL): a started row and a finished row.

TS = pa.timestamp("us", tz="UTC")

EXECUTION_ROW = pa.schema(
    [
        ("execution_id", pa.string()),
        ("flow_id", pa.string()),
        ("flow_name", pa.string()),
        ("trigger_type", pa.string()),
        ("trigger_phone", pa.string()),
        ("started_at", TS),
        ("status", pa.string()),  # null on a started row: running until a final row says otherwise
        ("finished_at", TS),
        ("messages_sent", pa.int32()),
        ("messages_failed", pa.int32()),
        ("error", pa.string()),
        ("recorded_at", TS),
    ]
)

STEP_ROW = pa.schema(
    [
        ("execution_id", pa.string()),
        ("step_index", pa.int32()),
        ("node_id", pa.string()),
        ("node_name", pa.string()),
        ("node_type", pa.string()),
        ("status", pa.string()),
        ("started_at", TS),
        ("finished_at", TS),
        ("model", pa.string()),
        ("prompt_tokens", pa.int32()),
        ("completion_tokens", pa.int32()),
        ("system_prompt", pa.string()),
        ("user_prompt", pa.string()),
        ("ai_reply", pa.string()),
        ("warnings", pa.list_(pa.string())),
        ("error", pa.string()),
        ("input", pa.string()),  # JSON text, exactly as sent
        ("output", pa.string()),
        ("recorded_at", TS),
    ]
)

# A deleted execution, by the SHA-256 of its id (the id itself is gone with its data): late
# events for it are dropped, and compaction finishes a delete that was interrupted.
DELETION_ROW = pa.schema([("id_hash", pa.string()), ("deleted_at", TS)])

# Per day and (flow, status), written by compaction: page open reads these, not every execution.
ROLLUP_ROW = pa.schema(
    [
        ("flow_name", pa.string()),
        ("status", pa.string()),
        ("runs", pa.int64()),
        ("last_started_at", TS),
        ("last_activity_at", TS),
        ("described", pa.string()),  # the compacted file(s) it summarises: used only while they are the day's
    ]
)

# Per day and (flow, node, model), written by compaction: token reports read these, not every step.
TOKEN_ROLLUP_ROW = pa.schema(
    [
        ("flow_name", pa.string()),
        ("node_id", pa.string()),
        ("node_name", pa.string()),
        ("node_type", pa.string()),
        ("model", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("ai_steps", pa.int64()),
        ("described", pa.string()),
    ]
)

# Who deleted what, and when (dashboard/audit.py); every attempt, refused and failed ones too.
AUDIT_ROW = pa.schema(
    [
        ("at", TS),
        ("user", pa.string()),
        ("role", pa.string()),
        ("via", pa.string()),
        ("action", pa.string()),
        ("execution_ids", pa.list_(pa.string())),
        ("count", pa.int64()),
        ("outcome", pa.string()),
        ("detail", pa.string()),  # JSON of any further fields
    ]
)

# Sign-outs of the dashboard (dashboard/web.py): a login cookie issued before its user's last is refused.
SIGNOUT_ROW = pa.schema([("user", pa.string()), ("at", TS)])

# Data files readers could not use, moved aside (store.quarantine).
QUARANTINE_ROW = pa.schema([("at", TS), ("file", pa.string()), ("moved_to", pa.string()), ("reason", pa.string())])

# Ingest keys of the collector (dashboard/collector/keys.py): each row adds or revokes one key, kept as
# the SHA-256 of the key (never the key itself). A key is valid while it was added and not revoked.
INGEST_KEY_ROW = pa.schema([("name", pa.string()), ("key_hash", pa.string()), ("action", pa.string()),
                            ("at", TS), ("by", pa.string())])

# Batches the collector stored (dashboard/collector/receipts.py): a retry of a known batch is answered
# from here without writing. `batch` is the SHA-256 of the ingest key's name and the batch's
# Idempotency-Key (or of its body), `answer` the JSON answer it got.
RECEIPT_ROW = pa.schema([("batch", pa.string()), ("body_sha256", pa.string()), ("at", TS),
                         ("answer", pa.string())])


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


if __name__ == "__main__":  # python -m dashboard.schema > docs/events.schema.json
    import sys

    sys.stdout.write(event_json_schema_text())
