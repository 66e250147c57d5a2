"""The writer: buffers events and flushes them to day partitions.

`write()` only buffers. An event is *acknowledged* when a `flush()` that started
after it has returned: by then it is in a renamed, fsynced file. A flush that fails
(disk full, read-only directory) raises WriteFailed and keeps buffered every event it
did not store, for the next attempt: nothing acknowledged is ever lost, nothing is
half written, and a retry stores nothing twice.

Payload fields over `max_field_bytes` are cut in `write()` (see schema.limit_payload),
and the buffer is flushed once it holds `max_buffer_bytes` of text, so neither one
event nor many large ones can exhaust memory.

Every row goes to the day its execution started. That day is known from the
execution_started event (in this batch or an earlier one of this process), else
looked up in the store, else the rows wait in the pending tables until the start arrives
(events of one execution may come in any order, from different processes).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import re
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from deltalake.exceptions import DeltaError

from .events import MAX_FIELD_BYTES, STEP_JSON_FIELDS, STEP_TEXT_FIELDS, Event, event_row
from .schema import EXECUTION_ROW, STEP_ROW, day_of
from .store import Store, StoreError, utcnow
from .truncation import check_field_limit, limit_payload

# What a failed write raises: the OS (full disk, read-only folder), delta-rs, DuckDB writing a file.
WRITE_ERRORS = (OSError, DeltaError, duckdb.IOException)

SCHEMAS = {"executions": EXECUTION_ROW, "steps": STEP_ROW}
DAY_CACHE_SIZE = 200_000
MAX_BUFFER_BYTES = 64 * 1024 * 1024  # text held before a flush, whatever the row count
ROW_OVERHEAD_BYTES = 200  # a row's fixed-size fields and dict, roughly

log = logging.getLogger(__name__)


class WriteFailed(StoreError):
    """A flush could not write; the events it did not store stay buffered for the next flush."""

    def __init__(self, directory: str, error: Exception, kept: int):
        self.directory, self.error, self.kept = directory, error, kept
        self.reason = describe_write_error(error)
        super().__init__(f"could not write to the data directory {directory}: {self.reason}; "
                         f"{kept:,} events kept for the next flush")

    def __reduce__(self):  # picklable (a worker process may hand it over) despite the custom signature
        return type(self), (self.directory, self.error, self.kept)


def describe_write_error(error: Exception) -> str:
    """What went wrong, in one line: the OS error and its file, or the first line of the library's."""
    if isinstance(error, OSError) and error.strerror:
        reason = error.strerror
        if error.errno and f"[Errno {error.errno}]" not in reason:
            reason = f"[Errno {error.errno}] {reason}"
        return f"{reason} at {error.filename}" if error.filename else reason
    # delta-rs chains its causes on lines of their own ("↳ No space left on device (os error 28)")
    lines = [re.sub(r"\x1b\[[0-9;]*m|↳", "", line).strip(" :") for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    return ": ".join(lines) if lines else type(error).__name__


# The fields that can be long (payload: prompts, reply, error, input/output JSON); the contract bounds the rest.
LONG_FIELDS = tuple(dict.fromkeys((*STEP_TEXT_FIELDS, *STEP_JSON_FIELDS, "error")))


def _row_bytes(row: dict) -> int:
    """Roughly the memory a buffered row holds: its long texts (characters, not bytes: an estimate).
    Called for every event: it looks at the few fields that can be long, not at every value."""
    size = ROW_OVERHEAD_BYTES + sum(map(len, row.get("warnings") or ()))
    for name in LONG_FIELDS:
        value = row.get(name)
        if value:
            size += len(value)
    return size


@dataclass
class FlushReport:
    stored: int = 0  # rows now in day partitions
    pending: int = 0  # rows waiting for their execution_started
    dropped_deleted: int = 0  # rows of executions that were deleted: never brought back
    refused_expired: list[str] = field(default_factory=list)  # ids of executions past retention

    def add(self, other: FlushReport) -> None:
        self.stored += other.stored
        self.pending += other.pending
        self.dropped_deleted += other.dropped_deleted
        self.refused_expired += other.refused_expired


class Writer:
    """Buffered, thread-safe writer of events into a store. Use as a context manager."""

    def __init__(self, store: Store, *, max_rows: int = 5000,
                 flush_interval: float | None = 1.0, max_field_bytes: int = MAX_FIELD_BYTES,
                 max_buffer_bytes: int = MAX_BUFFER_BYTES):
        self.store = store
        self.max_rows = max_rows
        self.flush_interval = flush_interval
        self.max_field_bytes = check_field_limit(max_field_bytes)
        self.max_buffer_bytes = max_buffer_bytes
        self._buffer_bytes = 0
        self._resolve_owed = False  # starts were stored but pending/ not yet checked for their rows
        self._parked: set[str] = set()  # ids of the executions this writer parked rows of
        self._tables_made = False
        self.totals = FlushReport()
        self.last_error: Exception | None = None
        self._rows: dict[str, list[dict]] = {"executions": [], "steps": []}
        self._oldest: float | None = None
        self._days: OrderedDict[str, dt.date] = OrderedDict()
        self._mutex = threading.RLock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- buffering ------------------------------------------------------------

    def write(self, event: Event) -> int:
        """Buffer an event, its payload fields cut to `max_field_bytes`. Returns how many were cut."""
        event, cuts = limit_payload(event, self.max_field_bytes)
        row = event_row(event, utcnow())
        dataset = "steps" if "step_index" in row else "executions"
        with self._mutex:
            self._rows[dataset].append(row)
            self._buffer_bytes += _row_bytes(row)
            if self._oldest is None:
                self._oldest = time.monotonic()
                self._ensure_background_flusher()
            full = (len(self._rows["executions"]) + len(self._rows["steps"]) >= self.max_rows
                    or self._buffer_bytes >= self.max_buffer_bytes)
        if full:
            self.flush()
        return len(cuts)

    def still_waiting(self) -> int:
        """Rows this writer parked that still wait for their execution_started (their start may have
        come later in the same input, or from another writer, and moved them since)."""
        if not self._parked:
            return 0
        ids = sorted(self._parked)
        return sum(self.store.read(lambda ds=ds: self.store.read_rows(
            f"pending_{ds}", self.store.pending_files(ds), "WHERE execution_id IN (SELECT unnest($ids))",
            {"ids": ids}, columns="execution_id")).num_rows for ds in SCHEMAS)

    def buffered(self) -> int:
        with self._mutex:
            return len(self._rows["executions"]) + len(self._rows["steps"])

    def _remember(self, execution_id: str, day: dt.date) -> None:
        self._days.setdefault(execution_id, day)
        self._days.move_to_end(execution_id)
        while len(self._days) > DAY_CACHE_SIZE:
            self._days.popitem(last=False)

    # -- flushing -------------------------------------------------------------

    def flush(self) -> FlushReport:
        """Write everything buffered. Raises WriteFailed, keeping what it did not store, if it cannot."""
        with self._mutex:
            batch = {ds: list(rows) for ds, rows in self._rows.items()}
            if not any(batch.values()) and not self._resolve_owed:
                return FlushReport()
            report, done = FlushReport(), []
            try:
                self._write_batch(batch, report, done)
            except WRITE_ERRORS as exc:
                self._forget(done)  # already in files: a retry must not store them twice
                self.totals.add(report)
                self.last_error = WriteFailed(self.store.root, exc, self.buffered())
                raise self.last_error from exc
            for ds, rows in batch.items():
                del self._rows[ds][: len(rows)]
            self._buffer_bytes = 0
            self._oldest = None
            self.last_error = None
            self.totals.add(report)
        return report

    def _forget(self, done: list[dict]) -> None:
        """Drop rows a failed flush stored (or dropped on purpose) before it failed."""
        gone = {id(row) for row in done}
        for ds, rows in self._rows.items():
            self._rows[ds] = [row for row in rows if id(row) not in gone]
        self._buffer_bytes = sum(_row_bytes(row) for rows in self._rows.values() for row in rows)

    def _place_starts(self, starts: list[dict]) -> None:
        """The day of each execution starting in this batch: the day it is stored under already, if it
        is (a start sent again, maybe with another time across midnight), else the day of its earliest
        start here. Stored starts are looked for in the days beside the start's own day: one execution
        id is one execution, whatever day its events name. (Stored on the start's own day, it lands
        there anyway and the merge rule makes one row of the two; not reading that day, the busy
        one, spares a writer reading every other writer's new files.)"""
        earliest: dict[str, dt.date] = {}
        for row in starts:
            if row["execution_id"] not in self._days:
                day = day_of(row["started_at"])
                earliest[row["execution_id"]] = min(day, earliest.get(row["execution_id"], day))
        if not earliest:
            return
        near = {d + dt.timedelta(days=k) for d in earliest.values() for k in (-1, 1)}
        stored = self.store.started_day(earliest, near)
        for execution_id, day in earliest.items():
            self._remember(execution_id, stored.get(execution_id, day))

    def _write_batch(self, batch: dict[str, list[dict]], report: FlushReport, done: list[dict]) -> None:
        """Store a batch; every row it has stored (or dropped on purpose) is appended to `done` as it goes."""
        if not self._tables_made and not self.store.location.is_local:
            self.store.ensure_tables()  # on object storage a look for a table not yet there is a request
        self._tables_made = True
        self._place_starts([r for r in batch["executions"] if r.get("started_at") is not None])
        unknown: dict[str, list[dict]] = {ds: [] for ds in batch}
        placed: dict[str, dict[dt.date, list[dict]]] = {ds: defaultdict(list) for ds in batch}
        for ds, rows in batch.items():
            for row in rows:
                day = self._days.get(row["execution_id"])
                if day is None:
                    unknown[ds].append(row)
                else:
                    placed[ds][day].append(row)
        # Rows parked in pending for the executions starting here move into their day first,
        # then the started rows land, then pending is checked again: a writer that parked a
        # step before this start was visible is always seen by one of the two.
        starting = {r["execution_id"]: self._days[r["execution_id"]] for r in batch["executions"]
                    if r.get("started_at") is not None and r["execution_id"] in self._days}
        if starting and (self.store.pending_files("executions") or self.store.pending_files("steps")):
            self.store.resolve_pending(starting)
        # Owed until checked: a retry after a failure below no longer holds these starts in its batch.
        self._resolve_owed |= bool(starting)
        self._write_placed(placed, report, done)
        if any(unknown.values()):
            self._place_unknown(unknown, report, done)
        if self._resolve_owed:
            self.store.resolve_pending()
            self._resolve_owed = False

    def _place_unknown(self, unknown: dict[str, list[dict]], report: FlushReport, done: list[dict]) -> None:
        ids = {r["execution_id"] for rows in unknown.values() for r in rows}
        found = self.store.find_days(ids)
        for execution_id, day in found.items():
            self._remember(execution_id, day)
        deleted = self.store.deleted(ids - found.keys())
        placed: dict[str, dict[dt.date, list[dict]]] = {ds: defaultdict(list) for ds in unknown}
        for ds, rows in unknown.items():
            waiting = []
            for row in rows:
                day = self._days.get(row["execution_id"])
                if day is None and row["execution_id"] in deleted:
                    report.dropped_deleted += 1  # a late event of a deleted execution: never parked
                    done.append(row)
                    continue
                (waiting if day is None else placed[ds][day]).append(row)
            if waiting:
                self.store.park(ds, pa.Table.from_pylist(waiting, SCHEMAS[ds]))
                report.pending += len(waiting)
                done.extend(waiting)
                self._parked.update(row["execution_id"] for row in waiting)
                self._resolve_owed = True  # their start may have landed meanwhile: look once more
        self._write_placed(placed, report, done)

    def _write_placed(self, placed: dict[str, dict[dt.date, list[dict]]], report: FlushReport,
                      done: list[dict]) -> None:
        for ds, by_day in placed.items():
            if not by_day:
                continue
            stored = self.store.write_rows(ds, {day: pa.Table.from_pylist(rows, SCHEMAS[ds])
                                                for day, rows in by_day.items()})
            for day, rows in by_day.items():
                done.extend(rows)
                if stored[day] is None:
                    report.refused_expired += sorted({r["execution_id"] for r in rows} - set(report.refused_expired))
                    continue
                report.stored += stored[day]
                report.dropped_deleted += len(rows) - stored[day]

    # -- background flushing and closing ------------------------------------------

    def _ensure_background_flusher(self) -> None:
        if self.flush_interval and self._thread is None and not self._closed.is_set():
            self._thread = threading.Thread(target=self._flush_periodically, name="flowlogs-writer", daemon=True)
            self._thread.start()

    def _flush_periodically(self) -> None:
        while not self._closed.wait(self.flush_interval / 4):
            oldest = self._oldest
            if oldest is not None and time.monotonic() - oldest >= self.flush_interval:
                try:
                    self.flush()
                except WriteFailed:
                    pass  # kept in the buffer and in last_error; retried on the next tick

    def close(self) -> FlushReport:
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
        return self.flush()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _flush_at_exit(ref: weakref.ref) -> None:
    writer = ref()
    if writer is not None and writer.buffered():
        try:
            writer.flush()
        except WriteFailed:
            pass
