"""Receipts: which batches the collectors of a data location have stored, so a retry stores nothing twice.

A client that gets no answer (a timeout, a dropped connection) sends the same batch again. Each batch
has a key: its `Idempotency-Key` header, else the SHA-256 of its body, taken together with the name of
the ingest key that sent it (two engines never share a batch). Once a batch's events are committed,
its receipt (the key and the answer it got) is appended to the store's `receipts` table; a batch whose
key has a receipt is answered from it and not written again, by any collector on any host.

A crash between the events' commit and the receipt's leaves a stored batch without a receipt: its retry
is stored a second time. The merge rule reads every duplicate once (docs/events.md), so every answer
stays exact; only the files hold the rows twice until compaction.

Receipts are kept `window` hours (a retry comes within minutes) and their small files (one per commit)
are merged, so looking a batch up reads a few files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

import pyarrow as pa

from ..store import Store
from ..store.tables import RewriteConflict

log = logging.getLogger(__name__)

WINDOW_HOURS = 48.0  # how long a retry is recognised
SMALL_FILES = 16  # a day with more receipt files than this gets them merged into one


def batch_key(kind: str, sender: str, idempotency_key: str | None, body: bytes) -> str:
    """The key of a batch: what it is (events or traces), who sent it, and its Idempotency-Key or body."""
    given = f"key:{idempotency_key}" if idempotency_key else f"body:{body_sha256(body)}"
    return hashlib.sha256(f"{kind}\n{sender}\n{given}".encode("utf-8", "surrogatepass")).hexdigest()


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Receipts:
    def __init__(self, store: Store, *, window_hours: float = WINDOW_HOURS):
        self.store = store
        self.table = store.tables["receipts"]
        self.window = dt.timedelta(hours=window_hours)

    def _days(self, now: dt.datetime) -> list[dt.date]:
        first = (now - self.window).date()
        return [first + dt.timedelta(days=k) for k in range((now.date() - first).days + 1)]

    def find(self, keys: list[str]) -> dict[str, tuple[str, dict]]:
        """The receipts of those batches stored within the window: key -> (body SHA-256, answer)."""
        if not keys:
            return {}
        now = dt.datetime.now(dt.UTC)

        def run():
            # fresh: a retry sent to another collector right after the first one's receipt must see it
            files = self.table.snapshot(fresh=True).files(self._days(now))
            return self.store.read_rows("receipts", files, 'WHERE batch IN (SELECT unnest($keys)) AND "at" >= $since',
                                        {"keys": keys, "since": now - self.window},
                                        columns="batch, body_sha256, answer")

        rows = self.store.read(run)
        if not rows.num_columns:
            return {}
        return {r["batch"]: (r["body_sha256"], json.loads(r["answer"])) for r in rows.to_pylist()}

    def record(self, entries: list[tuple[str, str, dict]]) -> None:
        """Append receipts (key, body SHA-256, answer) in one commit."""
        if not entries:
            return
        now = dt.datetime.now(dt.UTC)
        rows = [{"batch": key, "body_sha256": sha, "at": now, "answer": json.dumps(answer, ensure_ascii=False),
                 "day": now.date()} for key, sha, answer in entries]
        self.table.append(pa.Table.from_pylist(rows, self.table.spec.arrow_schema))

    def tidy(self) -> None:
        """Drop the days past the window, and merge a day's small files into one (sorted by key, so a
        lookup reads one row group of it)."""
        now = dt.datetime.now(dt.UTC)
        snapshot = self.table.snapshot()
        first = self._days(now)[0]
        old = snapshot.files([d for d in snapshot.by_day if d < first])
        if old:
            self._rewrite(snapshot, old, [], data_change=True)
        for day in self._days(now):
            snapshot = self.table.snapshot()
            files = snapshot.files([day])
            if len(files) > SMALL_FILES:
                with self.store.cursor() as con:
                    new = self.store.write_query(
                        con, f"SELECT * EXCLUDE (day) FROM {self.store.source('receipts', files, 'f')} ORDER BY batch",
                        {"f": files}, "receipts", day, "part")
                self._rewrite(snapshot, files, [new] if new else [], data_change=False)

    def _rewrite(self, snapshot, removed: list[str], added: list, *, data_change: bool) -> None:
        try:
            self.table.rewrite(snapshot, removed, added, data_change=data_change)
        except RewriteConflict:  # another collector tidied the same files first: theirs stands
            return
        self.table.vacuum()
