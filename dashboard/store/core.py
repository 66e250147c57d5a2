"""The store: the Delta tables of one data location, and how to read them safely.

    executions/      execution rows (started / finished / merged), by the day the execution STARTED
    steps/           step rows of those executions
    deletions/       SHA-256 of deleted ids, by day: late events for them are dropped
    rollups/, token_rollups/        per-day summaries written by compaction
    pending_executions/, pending_steps/   rows whose execution_started has not arrived yet
    audit/           who deleted what (dashboard/audit.py)
    quarantined/     data files readers could not use, moved to quarantine/
    _meta/horizon    oldest day retention keeps

Every folder but `_meta` and `quarantine` is a Delta table partitioned by `day`. Writing,
compaction, deletes and retention live in their own modules; this one lists files, runs
reads (moving unreadable files aside), and answers the questions writers ask.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import EXECUTION_ROW, ExecutionStatus
from . import compaction, pending, removal, writes
from .ids import day_from_id, id_hash, new_id
from .location import Location
from .rules import empty_relation, executions_sql
from .tables import SPECS, NewFile, RewriteConflict, Snapshot, Table, day_of_file
from .writes import is_compacted

if TYPE_CHECKING:  # pandas only for annotations: a command that reads no frame starts without it
    import pandas as pd

DEFAULT_RETENTION_DAYS = 30
QUARANTINE_ATTEMPTS = 20  # files moved aside in one read at most
HORIZON_SECONDS = 5.0  # how long a read of the retention horizon is used
STARTED_CACHE_IDS = 1_000_000  # started ids a store keeps per file for writers (about 100 MB at most)
# What the dashboard's change token follows: the tables whose changes it shows.
SHOWN_TABLES = ("executions", "steps", "rollups", "token_rollups", "quarantined")
Progress = Callable[[int], None]

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """A store operation that cannot be done; the message says why."""


class ExecutionNotFound(StoreError):
    pass


class ExecutionRunning(StoreError):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # day boundaries and pandas output are UTC everywhere
    return con


def _is_vanished_file(exc: Exception) -> bool:
    text = str(exc).lower()
    # DuckDB says "No files found that match the pattern" for a listed file removed before the scan
    if any(sign in text for sign in ("read-only file system", "permission denied", "no space left")):
        return False  # a write refused (DuckDB says "cannot open file" for those too): retrying cannot help
    return any(sign in text for sign in ("no such file", "not found", "no files found", "cannot open file",
                                         "does not exist", "nosuchkey", "filenotfounderror"))


def retry_on_vanished_files(fn, attempts: int = 10):
    """Run fn(); if a file it listed was compacted or deleted meanwhile, list again and retry.

    A rewrite's old files are deleted right after its commit, so a reader may list a few that
    are gone by the time it reads, several times in a row on a busy machine: the waits grow
    (10 ms doubling, at most 0.5 s; about 2 s in all) before the error is real."""
    for attempt in range(attempts):
        try:
            return fn()
        except (duckdb.Error, OSError) as exc:  # through fsspec, a vanished object is a plain duckdb.Error
            if attempt == attempts - 1 or not _is_vanished_file(exc):
                raise
            time.sleep(min(0.5, 0.01 * 2 ** attempt))


class Store:
    """The logs of one data location (a local folder or an object-store URL)."""

    def __init__(self, where: str | os.PathLike | Location):
        self.location = where if isinstance(where, Location) else Location(where)
        self.tables = {name: Table(self.location, spec) for name, spec in SPECS.items()}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_pid = 0
        self._con_lock = threading.Lock()
        self._started: dict[str, frozenset[str]] = {}  # file -> ids started in it (started_day)
        self._started_lock = threading.Lock()
        self._horizon_read: tuple[float, dt.date | None] = (0.0, None)  # (when, what) horizon() last read

    def __repr__(self) -> str:
        return f"Store({self.location.uri!r})"

    @property
    def root(self) -> str:
        """The data location as given to users (a folder's absolute path, or the URL)."""
        return self.location.uri

    @contextmanager
    def cursor(self):
        """A DuckDB cursor of this store's one connection (a new connection costs ~12 ms).

        Cursors are safe to use from several threads; a forked child opens its own connection.
        """
        with self._con_lock:
            if self._con is None or self._con_pid != os.getpid():
                self._con, self._con_pid = self.connect(), os.getpid()
            cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection that can read this location's files."""
        con = connect()
        self.location.register(con)
        return con

    # -- layout -------------------------------------------------------------

    def snapshot(self, dataset: str) -> Snapshot:
        return self.tables[dataset].snapshot()

    def days(self, dataset: str = "executions") -> list[dt.date]:
        return sorted(self.snapshot(dataset).by_day)

    def all_days(self) -> list[dt.date]:
        return sorted(set(self.days("executions")) | set(self.days("steps")) | set(self.days("deletions")))

    def files(self, dataset: str, days: Iterable[dt.date] | None = None) -> list[str]:
        """The live files of a dataset (of these days), as the newest version of its table lists them."""
        return self.snapshot(dataset).files(days)

    def files_by_state(self, dataset: str, days: Iterable[dt.date] | None = None) -> tuple[list[str], list[str]]:
        """(compacted, other): files of days holding exactly one compacted file, and the rest.

        A compacted file holds one merged row per execution (one row per step), so readers
        can skip the merge there; a day with any other file (today, a late event) is merged on read.
        """
        compacted, other, bases, deltas = self.files_by_layer(dataset, days)
        return compacted, other + bases + deltas

    def files_by_layer(self, dataset: str, days: Iterable[dt.date] | None = None
                       ) -> tuple[list[str], list[str], list[str], list[str]]:
        """(compacted, other, bases, deltas): like `files_by_state`, but a day holding one compacted
        file and newer small files (a live day) gives its compacted file as a base and the small
        files as its deltas. Readers then merge only the executions the deltas touch; a live
        day of 200 000 executions is not merged whole on every query."""
        compacted, other, bases, deltas = [], [], [], []
        snapshot = self.snapshot(dataset)
        for day in (sorted(snapshot.by_day) if days is None else sorted(set(days))):
            paths = snapshot.by_day.get(day, [])
            merged = [p for p in paths if is_compacted(p)]
            if len(merged) == 1 and len(paths) == 1:
                compacted.extend(paths)
            elif len(merged) == 1:
                bases.extend(merged)
                deltas.extend(p for p in paths if p not in merged)
            else:
                other.extend(paths)
        return compacted, other, bases, deltas

    def source(self, dataset: str, files: Sequence[str], param: str) -> str:
        """A FROM-clause relation over files (bound to $param), or a typed empty one."""
        if not files:
            return empty_relation(SPECS[dataset].schema, with_day=True)
        return f"read_parquet(${param}, hive_partitioning=true, union_by_name=true)"

    def read_rows(self, dataset: str, files: Sequence[str], where: str = "", params: dict | None = None,
                  columns: str = "*", con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
        """Rows of a dataset's files (with `day`) as an Arrow table, typed by the dataset's schema.
        `con`: a cursor to read with instead of one of the store's connection (which costs ~13 ms to open)."""
        schema = SPECS[dataset].arrow_schema
        if not files:
            return schema.empty_table() if columns == "*" else pa.table({})
        with (nullcontext(con) if con is not None else self.cursor()) as con:
            table = con.sql(f"SELECT {columns} FROM {self.source(dataset, files, 'files')} {where}",
                            params={"files": list(files), **(params or {})}).to_arrow_table()
        return table.select(schema.names).cast(schema) if columns == "*" else table

    # -- reading safely ----------------------------------------------------------

    def read(self, fn):
        """Run a read; when it fails on a data file that is not Parquet (corrupt, foreign, cut
        short), move that file to quarantine/ and run it again without it."""
        for _ in range(QUARANTINE_ATTEMPTS):
            try:
                return retry_on_vanished_files(fn)
            except (duckdb.Error, OSError, pa.ArrowException) as exc:
                bad = self._unreadable_file_in(str(exc))
                if bad is None:
                    raise
                self.quarantine(bad, str(exc).splitlines()[0])
        return retry_on_vanished_files(fn)

    def _unreadable_file_in(self, message: str) -> str | None:
        """A live data file an error names that cannot be read whole (not a transient error)."""
        for name in re.findall(r"""['"]([^'"]+\.parquet)['"]""", message):
            table = self._table_of(name)
            if table is not None and name in table.snapshot().sizes and not self._readable(name):
                return name
        return None

    def _table_of(self, uri: str) -> Table | None:
        for table in self.tables.values():
            if uri.startswith(table.uri + "/"):
                return table
        return None

    def _readable(self, uri: str) -> bool:
        """Whether every page of a file decompresses (a flipped byte mid-file passes a footer check)."""
        try:
            with self.cursor() as con:
                con.sql("SELECT * FROM read_parquet($f)", params={"f": uri}).fetchall()
            return True
        except duckdb.Error as exc:
            return _is_vanished_file(exc)  # gone meanwhile: not a bad file

    def quarantine(self, uri: str, reason: str) -> str | None:
        """Move a data file the readers cannot use out of its table, and record it (never silently
        dropped): copied to quarantine/, removed from the table by a commit, then deleted."""
        table = self._table_of(uri)
        if table is None:
            raise StoreError(f"{uri} is not a file of this store")
        name = uri[len(table.uri) + 1:]
        try:
            moved_to = self.location.copy(uri, "quarantine", table.spec.name, name)
        except FileNotFoundError:
            return None
        for _ in range(10):
            snapshot = table.snapshot()
            if uri not in snapshot.sizes:
                break
            try:
                table.rewrite(snapshot, [uri], [])
                break
            except RewriteConflict:
                continue
        self.location.remove(uri)
        now = utcnow()
        self.tables["quarantined"].append(pa.table(
            {"at": [now], "file": [uri], "moved_to": [moved_to], "reason": [reason], "day": [now.date()]}))
        log.error("moved unreadable file %s to %s: %s", uri, moved_to, reason)
        return moved_to

    def quarantined(self) -> list[dict]:
        """The files moved to quarantine/, oldest first."""
        rows = self.read(lambda: self.read_rows("quarantined", self.files("quarantined")))
        entries = sorted(rows.drop(["day"]).to_pylist(), key=lambda r: r["at"])
        for entry in entries:
            entry["at"] = entry["at"].isoformat()
        return entries

    # -- change token and horizon ---------------------------------------------

    def change_token(self) -> str:
        """Changes whenever anything shown is written or removed: the versions of the tables
        ('' while none of them exists)."""
        versions = [self.tables[name].version() for name in SHOWN_TABLES]
        return ".".join(map(str, versions)) if any(v >= 0 for v in versions) else ""

    def horizon(self, fresh: bool = False) -> dt.date | None:
        """The oldest day retention keeps; events of older days are refused. Read again at most every
        few seconds unless `fresh`: it moves once a day, and writers ask before every flush (and,
        fresh, after it: see writes.py)."""
        if not fresh and time.monotonic() - self._horizon_read[0] < HORIZON_SECONDS:
            return self._horizon_read[1]
        data = self.location.read_bytes("_meta", "horizon")
        try:
            day = dt.date.fromisoformat(data.decode().strip()) if data else None
        except ValueError:
            day = None
        self._horizon_read = (time.monotonic(), day)
        return day

    def set_horizon(self, day: dt.date) -> None:
        self._horizon_read = (0.0, None)
        old = self.horizon()
        if old is None or day > old:
            self.location.write_bytes(day.isoformat().encode(), "_meta", "horizon")
            self._horizon_read = (time.monotonic(), day)

    def accepts_day(self, day: dt.date) -> bool:
        """Whether executions may start on this day: not before the retention horizon."""
        horizon = self.horizon()
        return horizon is None or day >= horizon

    # -- reads used by writers and management ---------------------------------

    def deleted(self, execution_ids: Iterable[str], days: Iterable[dt.date] | None = None) -> set[str]:
        """Those of the ids deleted (from these days, default any day still kept): their late events
        must be dropped, not parked in pending where no later start would ever claim them."""
        hashes = {id_hash(x): x for x in execution_ids}
        if not hashes:
            return set()

        def run():
            found = self.read_rows("deletions", self.files("deletions", days), "WHERE id_hash IN (SELECT unnest($h))",
                                   {"h": list(hashes)}, columns="id_hash")
            return {hashes[h] for h in found.column(0).to_pylist()} if found.num_columns else set()

        return self.read(run)

    def find_days(self, execution_ids: Iterable[str]) -> dict[str, dt.date]:
        """The start day of each execution already stored (those not stored are absent)."""
        return {x: day for x, (day, _) in self.find_starts(execution_ids).items()}

    def find_starts(self, execution_ids: Iterable[str]) -> dict[str, tuple[dt.date, dt.datetime]]:
        """(start day, earliest started_at) of each execution already stored.

        Ids that encode their day (UUIDv7) are looked up in that day first; only the
        rest make a scan of every day.
        """
        ids = set(execution_ids)
        found: dict[str, tuple[dt.date, dt.datetime]] = {}
        hinted: dict[dt.date, list[str]] = {}
        for execution_id in ids:
            day = day_from_id(execution_id)
            if day is not None:
                hinted.setdefault(day, []).append(execution_id)
        for day, day_ids in hinted.items():
            found.update(self._find_starts(day_ids, [day]))
        rest = ids - found.keys()
        if rest:
            found.update(self._find_starts(rest, None))
        return found

    def started_day(self, ids: Iterable[str], days: Iterable[dt.date]) -> dict[str, dt.date]:
        """The start day of those ids started in these days, from the started ids of each file, read
        once per file (files never change): a writer asks this for the new starts of every flush, and
        reads only the files written since it last looked (on object storage each read is requests)."""
        ids = set(ids)
        files = self.files("executions", days)
        with self._started_lock:
            missing = [f for f in files if f not in self._started]
        if missing:
            found = self.read(lambda: self._read_started(missing))
            self._remember_started(found)
        days_of: dict[str, dt.date] = {}
        with self._started_lock:
            for f in files:
                held = self._started.get(f, frozenset())
                for x in ids & held:
                    day = day_of_file(f)
                    days_of[x] = min(day, days_of.get(x, day))
        return days_of

    def note_started(self, files: Iterable[NewFile], rows: pa.Table) -> None:
        """What a file this process just wrote holds, for `started_day`: it need not be read back."""
        started = rows.filter(pc.is_valid(rows["started_at"]))
        self._remember_started({
            f.uri: frozenset(started.filter(pc.equal(started["day"], pa.scalar(f.day, pa.date32())))["execution_id"]
                             .to_pylist()) for f in files})

    def _remember_started(self, started: dict[str, frozenset[str]]) -> None:
        """Keep these files' started ids, forgetting the oldest files' past STARTED_CACHE_IDS ids in all
        (a writer that noted every file it wrote grew by 50 MB a day at 10 M executions a month)."""
        with self._started_lock:
            self._started.update(started)
            held = sum(map(len, self._started.values()))
            while held > STARTED_CACHE_IDS and len(self._started) > 1:
                held -= len(self._started.pop(next(iter(self._started))))

    def _read_started(self, files: list[str]) -> dict[str, frozenset[str]]:
        with self.cursor() as con:
            rows = con.execute("SELECT filename, list(DISTINCT execution_id) FROM read_parquet($f, filename=true) "
                               "WHERE started_at IS NOT NULL GROUP BY filename", {"f": files}).fetchall()
        found = {f: frozenset() for f in files}
        found.update({f: frozenset(ids) for f, ids in rows})
        return found

    def find_days_in(self, ids: Iterable[str], days: list[dt.date] | None) -> dict[str, dt.date]:
        """The start day of those ids started in these days (default every day)."""
        return {x: day for x, (day, _) in self._find_starts(ids, days).items()}

    def _find_starts(self, ids: Iterable[str], days: list[dt.date] | None) -> dict[str, tuple[dt.date, dt.datetime]]:
        def run():
            files = self.files("executions", days)
            if not files:
                return []
            with self.cursor() as con:
                return con.execute(
                    f"""SELECT execution_id, min(day), min(started_at) FROM {self.source('executions', files, 'files')}
                    WHERE started_at IS NOT NULL AND execution_id IN (SELECT unnest($ids))
                    GROUP BY execution_id""",
                    {"files": files, "ids": list(ids)},
                ).fetchall()

        return {x: (day, started) for x, day, started in self.read(run)}

    def day_executions(self, con, day: dt.date, columns: str = "execution_id, status") -> pd.DataFrame:
        """Merged executions of one day, plus ids that only have steps (status NULL)."""
        exec_files = self.files("executions", [day])
        step_files = self.files("steps", [day])
        return con.execute(
            f"""SELECT {columns} FROM ({executions_sql(self.source('executions', exec_files, 'ef'))})
            UNION ALL
            SELECT DISTINCT execution_id, NULL FROM {self.source('steps', step_files, 'sf')}
            WHERE execution_id NOT IN (SELECT execution_id FROM {self.source('executions', exec_files, 'ef')}
                                       WHERE started_at IS NOT NULL)""",
            {k: v for k, v in (("ef", exec_files), ("sf", step_files)) if v},
        ).df()

    def write_query(self, con, sql: str, params: dict, dataset: str, day: dt.date, prefix: str,
                    level: int = 3, keep_empty: bool = False) -> NewFile | None:
        """Write a query's result as one new file in a day of a table (None if it has no rows,
        unless `keep_empty`: a rollup with no rows still says its day has none)."""
        table = self.tables[dataset]
        uri = table.new_file_uri(day, prefix, new_id())
        return writes.copy_to(self, con, sql, params, table, uri, day, level, keep_empty)

    # -- the operations, each in its own module ------------------------------------------

    def write_rows(self, dataset: str, by_day: dict[dt.date, pa.Table]) -> dict[dt.date, int | None]:
        return writes.write_rows(self, dataset, by_day)

    def park(self, dataset: str, rows: pa.Table) -> None:
        pending.park(self, dataset, rows)

    def pending_files(self, dataset: str) -> list[str]:
        return self.files(f"pending_{dataset}")

    # Each runs as a read: a damaged file it meets is moved aside, and it runs again without it
    # (every one of them may run again: a second run finds done what the first did).

    def resolve_pending(self, starting: dict[str, dt.date] | None = None) -> int:
        return self.read(lambda: pending.resolve(self, starting))

    def delete_execution(self, execution_id: str) -> dt.date:
        return self.read(lambda: removal.delete_execution(self, execution_id))

    def clear_all(self, progress: Progress | None = None) -> int:
        return self.read(lambda: removal.clear_all(self, progress))

    def apply_retention(self, days: int = DEFAULT_RETENTION_DAYS, today: dt.date | None = None,
                        progress: Progress | None = None) -> list[dt.date]:
        return self.read(lambda: removal.apply_retention(self, days, today, progress))

    def compact(self, days: Iterable[dt.date] | None = None, progress: Progress | None = None,
                orphan_grace: float = compaction.ORPHAN_GRACE_SECONDS, rewrite: bool = False) -> list[dt.date]:
        return self.read(lambda: compaction.compact(self, days, progress, orphan_grace, rewrite))

    def merge_small_files(self, day: dt.date, **limits) -> int:
        return self.read(lambda: compaction.merge_small_files(self, day, **limits))

    def ensure_tables(self) -> None:
        """Create every table that does not exist yet: a reader then never pays for looking for one
        that is not there (on object storage that is a request per look)."""
        for table in self.tables.values():
            table.ensure()

    def vacuum(self, names: Iterable[str] | None = None) -> None:
        """Delete the files that commits removed (replaced by compaction, deleted, dropped), now: of
        these tables (default all)."""
        for name in self.tables if names is None else names:
            self.tables[name].vacuum()

    def clean_logs(self, names: Iterable[str] | None = None) -> None:
        """Checkpoint these tables (default all) and drop their log entries past the log's retention."""
        for name in self.tables if names is None else names:
            self.tables[name].clean_log()

    def disk_usage(self) -> dict[str, int]:
        """Bytes of the live files of each table."""
        return {name: sum(table.snapshot().sizes.values()) for name, table in self.tables.items()}


__all__ = ["DEFAULT_RETENTION_DAYS", "EXECUTION_ROW", "ExecutionNotFound", "ExecutionRunning", "ExecutionStatus",
           "Store", "StoreError", "connect", "day_of_file", "utcnow"]
