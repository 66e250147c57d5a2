"""The audit log: who deleted what, and when.

Every delete and Clear all, from the dashboard or the command line, and every refused
attempt, appends one JSON line to `_meta/audit.jsonl` in the data root:

    {"at": "2026-11-20T08:01:02.345678Z", "user": "alice", "role": "admin", "via": "dashboard",
     "action": "delete", "execution_ids": ["0190…"], "outcome": "deleted"}

Lines are appended under a file lock and fsync'd before the call returns, so
concurrent servers and commands never interleave a line and a logged action survives
a crash. Nothing else in the store rewrites `_meta/`; retention and Clear all leave it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Iterable
from pathlib import Path

from filelock import FileLock

AUDIT_FILE = Path("_meta") / "audit.jsonl"
LOCK_TIMEOUT = 30  # seconds; appends take microseconds, a stuck lock is a real problem


class AuditLog:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / AUDIT_FILE

    def record(self, *, user: str, role: str, action: str, outcome: str, via: str,
               execution_ids: Iterable[str] | None = None, count: int | None = None, **extra) -> dict:
        """Append one entry (UTC time first) and return it."""
        entry = {"at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"), "user": user, "role": role,
                 "via": via, "action": action}
        if execution_ids is not None:
            entry["execution_ids"] = [str(i) for i in execution_ids]
        if count is not None:
            entry["count"] = int(count)
        entry.update({k: v for k, v in extra.items() if v is not None})
        entry["outcome"] = outcome
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        locks = self.root / "_locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(locks / "audit.lock", timeout=LOCK_TIMEOUT):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a line torn by a crash stays alone; this one stays whole
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def entries(self) -> list[dict]:
        """Every entry, oldest first. A line cut short by a crash is skipped, not fatal."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries


def cli_user() -> str:
    """Who runs a command: the login name of the process (the command line has no other sign-in)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
