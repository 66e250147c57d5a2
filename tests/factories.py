"""Builders of events shaped exactly as the contract (docs/events.md) describes them (plain JSON dicts),
and a raw look at what lies on disk. Used by the tests and by their helper processes,
so it imports nothing from pytest.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.events import Event, parse_event

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


def _fs_and_root(location: str | Path):
    """(an fsspec filesystem, the root path in it) of a data location."""
    import fsspec

    text = str(location)
    if "://" not in text:
        return fsspec.filesystem("file"), str(Path(text).absolute())
    protocol, rest = text.split("://", 1)
    return fsspec.filesystem(protocol, use_listings_cache=False), rest.rstrip("/")


def files_under(location: str | Path) -> dict[str, bytes]:
    """Every file under a data location (a folder or an object-store URL), by its path below it."""
    fs, root = _fs_and_root(location)
    if not fs.exists(root):
        return {}
    return {path[len(root) + 1:]: fs.cat_file(path) for path in sorted(fs.find(root))}


def parquet_ids(location: str | Path) -> dict[str, set[str]]:
    """Every data file (Parquet, not the tables' logs) under a location with the execution ids it
    holds (none for files without that column, e.g. aggregates), by its path below the location."""
    found = {}
    for path, data in files_under(location).items():
        if path.endswith(".parquet") and "_delta_log/" not in path:
            if len(data) < 12 or data[-4:] != b"PAR1":
                # cut short by a kill while being written: never committed, and a rewrite writes
                # only the rows it keeps
                found[path] = set()
                continue
            with pq.ParquetFile(pa.BufferReader(data)) as parquet:
                names = parquet.schema_arrow.names
                table = parquet.read(columns=["execution_id"] if "execution_id" in names else [])
            found[path] = set(table.column(0).to_pylist()) if table.num_columns else set()
    return found


def log_texts(location: str | Path) -> dict[str, str]:
    """The tables' logs as text: commits as they are, checkpoints read out (statistics included)."""
    texts = {}
    for path, data in files_under(location).items():
        if "_delta_log/" not in path:
            continue
        if path.endswith(".parquet"):
            texts[path] = json.dumps(pq.read_table(pa.BufferReader(data)).to_pylist(), default=str)
        else:
            texts[path] = data.decode("utf-8", "replace")
    return texts


def assert_gone(location: str | Path, ids, phones=()) -> None:
    """No data file (but the audit log's, which names what was deleted) and no log entry holds
    these ids or phone numbers."""
    ids, phones = set(ids), set(phones)
    for path, held in parquet_ids(location).items():
        if not path.startswith("audit/"):
            assert not held & ids, f"{path} still holds {held & ids}"
    for path, text in log_texts(location).items():
        if not path.startswith("audit/"):
            # as a JSON string, or one inside another (statistics are JSON text inside the log's JSON)
            leaked = {x for x in ids | phones if json.dumps(x) in text or json.dumps(json.dumps(x))[1:-1] in text}
            assert not leaked, f"{path} still holds {leaked}"


def live_rows(location: str | Path) -> dict[str, int]:
    """Rows in the live files of each table (what readers see), pending included: a duplicate
    would show here."""
    from dashboard.store import Store

    store = Store(str(location))
    counts = {}
    for name in ("executions", "steps", "pending_executions", "pending_steps"):
        files = store.files(name)
        if files:
            counts[name] = sum(pq.ParquetFile(pa.BufferReader(files_under_one(f))).metadata.num_rows for f in files)
    return counts


def files_under_one(uri: str) -> bytes:
    fs, path = _fs_and_root(uri)
    return fs.cat_file(path)


def stray_files(location: str | Path) -> list[str]:
    """Data files no table lists: what a failed write left behind (there must be none)."""
    from dashboard.store import Store

    store = Store(str(location))
    live = {f for name in store.tables for f in store.files(name)}
    prefix = store.root + "/"
    return [path for path in files_under(location) if path.endswith(".parquet") and "_delta_log/" not in path
            and not path.startswith("quarantine/") and prefix + path not in live]
