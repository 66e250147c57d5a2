"""Builders of events shaped exactly as the contract (docs/events.md) describes them (plain JSON dicts),
and a raw look at what lies on disk. Used by the tests and by their helper processes,
so it imports nothing from pytest.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from dashboard.schema import Event, parse_event

UTC = dt.timezone.utc


def iso(ts: dt.datetime) -> str:
    """An ISO 8601 timestamp with a `Z` zone, as a flow engine sends it."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def uuid7_at(ts: dt.datetime, salt: int = 0) -> str:
    """A UUIDv7 whose timestamp is `ts` (the recorder's ids encode their start time)."""
    ms = int(ts.timestamp() * 1000)
    value = (ms << 80) | (0x7 << 76) | (0b10 << 62) | (salt & 0x3FFF_FFFF_FFFF)
    return str(uuid.UUID(int=value))


def started(execution_id: str, at: dt.datetime, *, flow_name: str = "Support auto-reply",
            flow_id: str | None = None, trigger: str = "manual", phone: str | None = None) -> dict:
    event_trigger = {"type": trigger}
    if phone is not None:
        event_trigger["phone"] = phone
    return {"type": "execution_started", "execution_id": execution_id, "flow_id": flow_id or f"f-{flow_name}",
            "flow_name": flow_name, "at": iso(at), "trigger": event_trigger}


def step(execution_id: str, index: int, started_at: dt.datetime, *, seconds: float = 1.0,
         node_type: str = "send_message", status: str = "completed", tokens: tuple[int, int] | None = None,
         **fields) -> dict:
    """A step_finished event; `tokens=(prompt, completion)` makes it an AI step."""
    event = {"type": "step_finished", "execution_id": execution_id, "index": index,
             "node_id": f"n-{index}", "node_name": f"Node {index}", "node_type": node_type, "status": status,
             "started_at": iso(started_at), "finished_at": iso(started_at + dt.timedelta(seconds=seconds))}
    if tokens is not None:
        event.update(node_type="ai_response", model="gpt-4o-mini",
                     tokens={"prompt": tokens[0], "completion": tokens[1]},
                     system_prompt="You are a helpful support agent.", user_prompt="Where is my order?",
                     ai_reply="Your order ships tomorrow.")
    event.update(fields)
    return event


def finished(execution_id: str, at: dt.datetime, status: str = "completed", *, messages_sent: int = 0,
             messages_failed: int = 0, error: str | None = None) -> dict:
    return {"type": "execution_finished", "execution_id": execution_id, "at": iso(at), "status": status,
            "messages_sent": messages_sent, "messages_failed": messages_failed, "error": error}


def line(event: dict) -> str:
    return json.dumps(event)


def parsed(event: dict) -> Event:
    """The event as the writer takes it (validated exactly as ingest does)."""
    return parse_event(line(event))


def parquet_ids(root: str | Path) -> dict[Path, set[str]]:
    """Every visible Parquet file under root with the execution ids it holds (none for files
    without that column, e.g. aggregates)."""
    found = {}
    for path in sorted(Path(root).rglob("*.parquet")):
        with pq.ParquetFile(path) as parquet:
            table = parquet.read(columns=["execution_id"] if "execution_id" in parquet.schema_arrow.names else [])
        found[path] = set(table.column(0).to_pylist()) if table.num_columns else set()
    return found
