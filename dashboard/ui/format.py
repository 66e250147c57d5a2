"""Pure helpers that turn query results into what the components send to the browser."""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any

import pandas as pd

STATUS_LABELS = {
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "completed_with_errors": "Completed with errors",
    "cancelled": "Cancelled",
    "skipped": "Skipped",
}

TRIGGER_LABELS = {"schedule": "Schedule", "manual": "Manual", "incoming_message": "Incoming message"}
SHORT_TRIGGER_LABELS = {"schedule": "Schedule", "manual": "Manual", "incoming_message": "Message"}


def esc(value: Any) -> str:
    """Text for an HTML-rendering pane: every log string goes through here first."""
    return "" if value is None else html.escape(str(value), quote=True)


def text_block(value: Any, css_class: str = "text-block") -> str:
    """A preformatted, escaped block of untrusted text."""
    return f'<pre class="{css_class}">{esc(value)}</pre>'


def epoch_ms(ts: Any) -> int | None:
    """A timestamp as milliseconds since the epoch (what the browser's Date wants)."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or ts is pd.NaT:
        return None
    if isinstance(ts, pd.Timestamp):
        ts = ts.to_pydatetime()
    if isinstance(ts, dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.UTC)
        return int(ts.timestamp() * 1000)
    return None


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def plain(value: Any) -> Any:
    """A value from pandas as a JSON-friendly Python value (NA becomes None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    return value


def group_item(row: dict, tab: str) -> dict:
    """A flow group (row of LogQueries.flow_groups for a tab) as the group header shows it."""
    return {
        "tab": tab,
        "flow_name": str(row["flow_name"]),
        "runs": int(row["runs"]),
        "latest_status": str(row["latest_status"]),
        "has_failures": bool(row["has_failures"]),
        "failed_runs": int(plain(row.get("failed_runs")) or 0),
        "last_activity": epoch_ms(row["last_activity_at"]),
    }


def execution_item(row: dict) -> dict:
    """An execution (row of LogQueries.executions, or the head of .execution) as a row shows it."""
    return {
        "id": str(row["execution_id"]),
        "flow_name": str(row["flow_name"]),
        "status": str(row["status"]),
        "trigger": str(plain(row.get("trigger_type")) or ""),
        "phone": plain(row.get("trigger_phone")),
        "started": epoch_ms(row["started_at"]),
        "finished": epoch_ms(plain(row.get("finished_at"))),
        "duration": known_duration(row.get("duration_ms")),
        "sent": int(plain(row.get("messages_sent")) or 0),
        "failed": int(plain(row.get("messages_failed")) or 0),
        "error": plain(row.get("error")),
    }


def known_duration(ms) -> int | None:
    """A duration as shown: None ("–") when unknown or negative (a finish stored before a start that came
    later, from another ingest, with an earlier time: ingest rejects it whenever it knows both)."""
    ms = plain(ms)
    return None if ms is None or ms < 0 else ms


def step_item(step: dict) -> dict:
    """The header fields of a step (one entry of LogQueries.execution()['steps'])."""
    prompt, completion = plain(step.get("prompt_tokens")), plain(step.get("completion_tokens"))
    is_ai = prompt is not None or completion is not None or plain(step.get("model")) is not None
    return {
        "index": int(step["index"]),
        "node_name": str(step.get("node_name") or ""),
        "node_type": str(step.get("node_type") or ""),
        "status": str(step.get("status") or ""),
        "duration": plain(step.get("duration_ms")),
        "model": plain(step.get("model")),
        "ai": is_ai,
        "prompt_tokens": int(prompt or 0),
        "completion_tokens": int(completion or 0),
        "warnings": len(step.get("warnings") or []),
        "has_error": bool(step.get("error")),
    }


ACRONYMS = {"ai": "AI", "api": "API", "http": "HTTP", "url": "URL", "llm": "LLM"}


def node_type_label(node_type: str) -> str:
    """`send_message` -> `Send Message`, `ai_response` -> `AI Response` (the help page's names)."""
    words = [w for w in node_type.replace("-", "_").split("_") if w]
    return " ".join(ACRONYMS.get(w.lower(), w.capitalize()) for w in words) or node_type
