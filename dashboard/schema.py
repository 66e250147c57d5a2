"""The vocabulary of flowlogs, defined once: statuses, tabs, failure causes, the UTC day a timestamp
belongs to, and the row schemas of the Parquet files. The event contract that produces those rows is
`dashboard/events.py`.

Everything else imports these names; nothing else spells a status string.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

import pyarrow as pa


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


def utc(ts: dt.datetime) -> dt.datetime:
    return ts.astimezone(dt.UTC)


def day_of(ts: dt.datetime) -> dt.date:
    """The partition day of a timestamp: its UTC date."""
    return utc(ts).date()


# ---------------------------------------------------------------------------
# Rows on disk. An execution is stored as append-only rows merged on read
# (see store.MERGED_EXECUTIONS_SQL): a started row and a finished row. events.event_row makes them.

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

# Per day, written by compaction: each failed execution with its first failed step and failure
# cause, so `failures()` and the failure-causes panel read these, not every step's error and input.
FAILURE_ROLLUP_ROW = pa.schema(
    [
        ("execution_id", pa.string()),
        ("flow_name", pa.string()),
        ("status", pa.string()),
        ("trigger_type", pa.string()),
        ("trigger_phone", pa.string()),
        ("started_at", TS),
        ("finished_at", TS),
        ("messages_sent", pa.int32()),
        ("messages_failed", pa.int32()),
        ("failed_step_index", pa.int32()),
        ("failed_node_name", pa.string()),
        ("failed_node_type", pa.string()),
        ("error", pa.string()),
        ("failed_step_input", pa.string()),
        ("cause", pa.string()),
        ("described", pa.string()),
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

# Per day, written by compaction: each execution's step errors (one row per different error), so a
# search for an id, a phone number or an error reads these, not the error column of every step.
ERROR_ROLLUP_ROW = pa.schema([("execution_id", pa.string()), ("error", pa.string()), ("described", pa.string())])

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

