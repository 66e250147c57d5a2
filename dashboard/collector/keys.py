"""Ingest keys: who may send events to a collector.

Each engine host gets a key of its own (`flowlogs keys add NAME`), sent as `Authorization: Bearer KEY`.
The key is shown once and stored only as its SHA-256: a key is 32 random bytes, so its hash cannot be
reversed or guessed, and nobody reading the data location learns a key. Keys live in the store's
`ingest_keys` table, so every collector on every host serving the location knows the same keys, and a
revoked key is refused by all of them within `refresh` seconds.

The table is a list of changes: a row adds a key (name, hash) or revokes one (the hash it revokes).
A key is valid while it was added and not revoked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

import pyarrow as pa

from ..store import Store

PREFIX = "flk_"  # tells a flowlogs key apart in a secrets store or a leaked log
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,99}$")
REFRESH_SECONDS = 1.0  # how often a collector looks for keys added or revoked elsewhere


class IngestKeyError(ValueError):
    """A key operation that cannot be done; the message says why."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    name: str
    fingerprint: str  # the first characters of the key's hash: tells two keys of one name apart
    added_at: dt.datetime
    added_by: str | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IngestKeys:
    """The keys of a data location: add, list, revoke, and check a presented key."""

    def __init__(self, store: Store, *, refresh: float = REFRESH_SECONDS):
        self.store = store
        self.table = store.tables["ingest_keys"]
        self.refresh = refresh
        self._lock = threading.Lock()
        self._checked = float("-inf")  # when the table's version was last looked at
        self._version = -2
        self._active: dict[str, str] = {}  # hash -> name

    # -- management (the command line) ---------------------------------------------------

    def add(self, name: str, by: str | None = None) -> str:
        """A new key for `name`; returned once, stored only hashed. A name keeps one active key."""
        if not NAME.match(name):
            raise IngestKeyError(f"invalid key name {name!r}: 1 to 100 letters, digits and . _ @ : - "
                            "(starting with a letter or digit)")
        if any(k.name == name and k.active for k in self.list()):
            raise IngestKeyError(f"{name!r} already has an active key; revoke it first (flowlogs keys revoke {name})")
        key = PREFIX + secrets.token_urlsafe(32)
        self._append(name, key_hash(key), "added", by)
        return key

    def revoke(self, name: str, by: str | None = None) -> int:
        """Revoke the active keys of `name`; returns how many."""
        active = [k for k in self._rows() if k["name"] == name and k["hash"] in self._valid(self._rows())]
        if not active:
            raise IngestKeyError(f"no active key named {name!r} (flowlogs keys list shows them)")
        for row in active:
            self._append(name, row["hash"], "revoked", by)
        self._checked = float("-inf")  # this process sees it at once
        return len(active)

    def list(self) -> list[KeyInfo]:
        """Every key ever added, oldest first, with when it was revoked (never the key or its whole hash)."""
        rows = self._rows()
        revoked = {r["hash"]: r["at"] for r in rows if r["action"] == "revoked"}
        return [KeyInfo(r["name"], r["hash"][:12], r["at"], r["by"], revoked.get(r["hash"]))
                for r in rows if r["action"] == "added"]

    def _append(self, name: str, hashed: str, action: str, by: str | None) -> None:
        now = dt.datetime.now(dt.UTC)
        self.table.append(pa.Table.from_pylist(
            [{"name": name, "key_hash": hashed, "action": action, "at": now, "by": by, "day": now.date()}],
            self.table.spec.arrow_schema))

    def _rows(self) -> list[dict]:
        rows = self.store.read(lambda: self.store.read_rows("ingest_keys", self.table.snapshot().files()))
        found = [{"name": r["name"], "hash": r["key_hash"], "action": r["action"], "at": r["at"], "by": r["by"]}
                 for r in rows.to_pylist()]
        return sorted(found, key=lambda r: r["at"])

    @staticmethod
    def _valid(rows: list[dict]) -> dict[str, str]:
        revoked = {r["hash"] for r in rows if r["action"] == "revoked"}
        return {r["hash"]: r["name"] for r in rows if r["action"] == "added" and r["hash"] not in revoked}

    # -- checking (the collector, on every request) ----------------------------------------

    def fresh(self) -> bool:
        """Whether `check` answers from memory now (no look at the store)."""
        return time.monotonic() - self._checked < self.refresh

    def check(self, presented: str | None) -> str | None:
        """The name of the key presented, or None for no key, an unknown or a revoked one.

        Looks at the table's log at most every `refresh` seconds, and reads it only when it moved.
        Every active hash is compared, in constant time, so the time taken says nothing about the key."""
        if not presented:
            return None
        self._update()
        wanted = key_hash(presented).encode()
        found = None
        for hashed, name in self._active.items():
            if hmac.compare_digest(hashed.encode(), wanted):
                found = name
        return found

    def _update(self) -> None:
        with self._lock:
            if self.fresh():
                return
            version = self.table.version()
            if version != self._version:
                self._active = self._valid(self._rows()) if version >= 0 else {}
                self._version = version
            self._checked = time.monotonic()
