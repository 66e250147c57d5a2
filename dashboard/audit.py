"""The audit log: who deleted what, and when.

Every delete and Clear all, from the dashboard or the command line, and every refused or
failed attempt, is one row of the store's `audit` table (a Delta table like the logs, so
that servers and commands on many hosts append to it at once, on disk or object storage):

    {"at": "2026-11-20T08:01:02.345678Z", "user": "alice", "role": "admin", "via": "dashboard",
     "action": "delete", "execution_ids": ["0190…"], "outcome": "deleted"}

An entry is committed before the call returns. Retention, deletes and Clear all leave it:
it says which ids were deleted (not what they held).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Iterable

import pyarrow as pa

from .store import Store

FIELDS = ("at", "user", "role", "via", "action", "execution_ids", "count", "outcome")


class AuditLog:
    def __init__(self, store: Store):
        self.store = store

    def record(self, *, user: str, role: str, action: str, outcome: str, via: str,
               execution_ids: Iterable[str] | None = None, count: int | None = None, **extra) -> dict:
        """Append one entry (UTC time first) and return it."""
        now = dt.datetime.now(dt.UTC)
        entry = {"at": now.isoformat().replace("+00:00", "Z"), "user": user, "role": role, "via": via,
                 "action": action}
        if execution_ids is not None:
            entry["execution_ids"] = [str(i) for i in execution_ids]
        if count is not None:
            entry["count"] = int(count)
        detail = {k: v for k, v in extra.items() if v is not None}
        entry.update(detail)
        entry["outcome"] = outcome
        row = {"at": now, "user": user, "role": role, "via": via, "action": action,
               "execution_ids": entry.get("execution_ids"), "count": entry.get("count"), "outcome": outcome,
               "detail": json.dumps(detail, ensure_ascii=False) if detail else None, "day": now.date()}
        self.store.tables["audit"].append(pa.Table.from_pylist([row], self.store.tables["audit"].spec.arrow_schema))
        return entry

    def entries(self) -> list[dict]:
        """Every entry, oldest first, as `record` returned it."""
        rows = self.store.read(lambda: self.store.read_rows("audit", self.store.files("audit")))
        entries = []
        for row in sorted(rows.to_pylist(), key=lambda r: r["at"]):
            entry = {"at": row["at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")}
            entry.update({k: row[k] for k in FIELDS[1:-1] if row[k] is not None})
            entry.update(json.loads(row["detail"]) if row["detail"] else {})
            entry["outcome"] = row["outcome"]
            entries.append(entry)
        return entries


def cli_user() -> str:
    """Who runs a command: the login name of the process (the command line has no other sign-in)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
