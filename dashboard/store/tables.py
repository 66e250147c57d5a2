"""The store's Delta tables: one per dataset, each partitioned by `day`.

A table is read through its current snapshot: the list of Parquet files the Delta log
says are live, by day. DuckDB reads those files directly (as fast as plain hive-partitioned
Parquet). Writes are Delta commits, so many processes on many hosts may append at once, on
local disk and on object storage (conditional PUT), and a rewrite (compaction, delete) is
one atomic commit that removes exactly the files it read and adds the files it wrote: an
append that lands meanwhile is kept, and a concurrent rewrite of the same files makes the
later commit fail (`RewriteConflict`), never silently win.

Statistics in the log are kept only for columns that need no privacy: timestamps and
numbers. Ids, phone numbers and message text never reach `_delta_log`, so deleting rows
from the data files deletes them from the store.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import uuid_utils
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from ..schema import (
    AUDIT_ROW,
    DELETION_ROW,
    ERROR_ROLLUP_ROW,
    EXECUTION_ROW,
    FAILURE_ROLLUP_ROW,
    INGEST_KEY_ROW,
    QUARANTINE_ROW,
    RECEIPT_ROW,
    ROLLUP_ROW,
    SIGNOUT_ROW,
    STEP_ROW,
    TOKEN_ROLLUP_ROW,
)
from .location import Location

log = logging.getLogger(__name__)

DAY = pa.field("day", pa.date32())
REMOTE_FRESH_SECONDS = 0.25  # on object storage, reads within this share one look at a table's log
COMMIT_ATTEMPTS = 30  # commits racing deletes elsewhere in the table: tried again at the newer version
ROW_GROUP_ROWS = 4096  # small row groups: a detail lookup decompresses one group, not a day


@dataclass(frozen=True)
class TableSpec:
    """A table of the store: its row schema (without `day`) and the columns the log keeps statistics of."""

    name: str
    schema: pa.Schema
    stats: tuple[str, ...] = ()
    config: dict[str, str] = field(default_factory=dict)

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.append(DAY)

    def configuration(self) -> dict[str, str]:
        return {
            # Ids, phone numbers and text never reach the log: statistics only of these columns.
            "delta.dataSkippingStatsColumns": ",".join(self.stats or ("day",)),
            # Commit latency grows with the commits since the last checkpoint: checkpoint often.
            "delta.checkpointInterval": "20",
            # Old log entries go soon after a checkpoint; nobody here travels in time.
            "delta.logRetentionDuration": "interval 30 minutes",
            "delta.deletedFileRetentionDuration": "interval 1 hours",
            "delta.enableExpiredLogCleanup": "true",
            **self.config,
        }


TIMES = ("started_at", "finished_at", "recorded_at")
SPECS = {spec.name: spec for spec in (
    TableSpec("executions", EXECUTION_ROW, TIMES),
    TableSpec("steps", STEP_ROW, ("step_index", *TIMES)),
    TableSpec("deletions", DELETION_ROW, ("deleted_at",)),
    TableSpec("rollups", ROLLUP_ROW, ("last_started_at", "last_activity_at")),
    TableSpec("token_rollups", TOKEN_ROLLUP_ROW, ()),
    TableSpec("failure_rollups", FAILURE_ROLLUP_ROW, ("started_at", "finished_at")),
    TableSpec("error_rollups", ERROR_ROLLUP_ROW, ()),
    TableSpec("pending_executions", EXECUTION_ROW, TIMES),
    TableSpec("pending_steps", STEP_ROW, ("step_index", *TIMES)),
    TableSpec("audit", AUDIT_ROW, ("at",)),
    TableSpec("quarantined", QUARANTINE_ROW, ("at",)),
    TableSpec("signouts", SIGNOUT_ROW, ("at",)),
    TableSpec("ingest_keys", INGEST_KEY_ROW, ("at",)),  # the collector's keys, hashed: never dropped by retention
    TableSpec("receipts", RECEIPT_ROW, ("at",)),  # batches the collector stored; dropped after a few days
)}


class RewriteConflict(RuntimeError):
    """A rewrite lost the race: another commit removed a file it read. Read again and redo it."""


@dataclass(frozen=True)
class NewFile:
    """A Parquet file written into a table's folder, to be added by a commit."""

    uri: str
    day: dt.date
    size: int
    rows: int
    stats: dict = field(default_factory=dict)  # min/max/null counts of the spec's statistics columns


@dataclass
class Snapshot:
    """The live files of a table at one version: by day, with their sizes."""

    version: int
    by_day: dict[dt.date, list[str]]
    sizes: dict[str, int]

    def files(self, days: Iterable[dt.date] | None = None) -> list[str]:
        chosen = sorted(self.by_day) if days is None else sorted(set(days))
        return [f for day in chosen for f in self.by_day.get(day, ())]


EMPTY = Snapshot(-1, {}, {})


def arrow_stats(rows: pa.Table, columns: tuple[str, ...]) -> dict:
    """The Delta statistics of rows: min, max and null count of the statistics columns."""
    stats: dict[str, dict] = {"minValues": {}, "maxValues": {}, "nullCount": {}}
    for column in columns:
        values = rows[column]
        low, high = pc.min_max(values).values()
        if low.is_valid:
            stats["minValues"][column] = stat_value(low.as_py())
            stats["maxValues"][column] = stat_value(high.as_py(), up=True)
        stats["nullCount"][column] = values.null_count
    return stats


def stat_value(value, up: bool = False):
    """A statistic as the log keeps it: timestamps in milliseconds, a maximum rounded up (or a
    reader skipping files by it might skip its last rows)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        if up and value.microsecond % 1000:
            value += dt.timedelta(microseconds=1000 - value.microsecond % 1000)
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def day_of_file(uri: str) -> dt.date:
    """The partition day of a data file, from its `day=YYYY-MM-DD` folder."""
    return dt.date.fromisoformat(uri.rsplit("/", 2)[-2].removeprefix("day="))


class Table:
    """One Delta table under a location. Thread-safe; each read refreshes to the newest version."""

    def __init__(self, location: Location, spec: TableSpec):
        self.location = location
        self.spec = spec
        self.uri = location.join(spec.name)
        self._delta: DeltaTable | None = None
        self._pid = os.getpid()
        self._snapshot = EMPTY
        self._looked = 0.0  # monotonic time of the last look at the log
        self._log_mtime: int | None = None  # on disk: the log folder's mtime at the last look, if settled
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Table({self.uri!r})"

    # -- reading ------------------------------------------------------------------------

    def _table(self, refresh: bool = True, fresh: bool = False) -> DeltaTable | None:
        """The DeltaTable at its newest version (None while the table does not exist). Call under the lock.

        On object storage a look at the log is a request: one a table within REMOTE_FRESH_SECONDS
        serves every read of that moment; `fresh=True` looks anyway (a commit, a writer's check after
        its commit). On disk it always looks (a directory listing, under a millisecond)."""
        if self._pid != os.getpid():
            # delta-rs's runtime cannot be used in a forked child of a process that used it: use spawn
            raise RuntimeError("a flowlogs store cannot be used in a forked child process; "
                               "start helper processes with multiprocessing's 'spawn' method")
        if self._delta is None:
            try:
                self._delta = DeltaTable(self.uri)
            except TableNotFoundError:
                return None
            return self._delta
        if refresh and (fresh or self._log_may_have_moved()):
            self._looked = time.monotonic()
            try:
                self._delta.update_incremental()
            except Exception as exc:  # log entries cleaned up past our version: start from the checkpoint
                log.debug("reloading %s: %s", self.uri, exc)
                self._delta = DeltaTable(self.uri)
        return self._delta

    def _log_may_have_moved(self) -> bool:
        """Whether the log may hold a commit the last look did not see. On object storage: after
        REMOTE_FRESH_SECONDS. On disk: when the log folder's mtime moved (a commit adds a file there);
        an mtime within the last second is never trusted, as a commit in the same clock tick as the
        look would leave it unchanged (git's "racy" rule). A stat costs microseconds, a look ~2 ms."""
        if not self.location.is_local:
            return time.monotonic() - self._looked > REMOTE_FRESH_SECONDS
        try:
            mtime = os.stat(f"{self.uri}/_delta_log").st_mtime_ns
        except OSError:
            return True
        if mtime == self._log_mtime:
            return False
        self._log_mtime = mtime if time.time_ns() - mtime > 1_000_000_000 else None
        return True

    def snapshot(self, fresh: bool = False) -> Snapshot:
        """The live files now (a list of the log's new entries, about a millisecond on disk).
        `fresh=True` for an answer that must see every commit made before the call, on object storage too."""
        with self._lock:
            table = self._table(fresh=fresh)
            return EMPTY if table is None else self._current(table)

    def _read_snapshot(self, table: DeltaTable, version: int) -> Snapshot:
        if table.protocol().min_reader_version > 1:
            # Deletion vectors or column mapping (another engine may have turned them on): the file
            # list alone would no longer say which rows are live, so refuse instead of answering wrong.
            raise RuntimeError(f"table {self.uri} uses reader features flowlogs does not read "
                               f"(minReaderVersion {table.protocol().min_reader_version})")
        # read as a stream: pa.table() would first check for a pandas frame, importing pandas (0.15 s)
        actions = pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=True)).read_all()
        paths = actions.column("path").to_pylist()
        sizes = actions.column("size_bytes").to_pylist()
        days = actions.column("partition.day").to_pylist() if actions.num_rows else []
        by_day: dict[dt.date, list[str]] = {}
        size_of = {}
        for path, size, day in zip(paths, sizes, days, strict=True):
            uri = f"{self.uri}/{path}"
            by_day.setdefault(day, []).append(uri)
            size_of[uri] = size
        for files in by_day.values():
            files.sort()
        return Snapshot(version, by_day, size_of)

    def version(self, fresh: bool = False) -> int:
        """The newest version, -1 while the table does not exist."""
        with self._lock:
            table = self._table(fresh=fresh)
            return -1 if table is None else table.version()

    # -- writing ------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the table if nobody has; a concurrent creator is fine."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        """Create the table if nobody has (call under the lock); a concurrent creator is fine."""
        if self._table(refresh=False) is not None:
            return
        try:
            DeltaTable.create(self.uri, self.spec.arrow_schema, mode="ignore", partition_by=["day"],
                              configuration=self.spec.configuration())
        except Exception:  # another process created it first: use theirs
            if not DeltaTable.is_deltatable(self.uri):
                raise
        self._delta = DeltaTable(self.uri)

    def append(self, rows: pa.Table) -> list[NewFile]:
        """Append rows (with their `day`) as one file per day, in one commit."""
        if rows.num_rows == 0:
            return []
        rows = rows.select(self.spec.arrow_schema.names).cast(self.spec.arrow_schema)
        added = []
        try:
            for day in pc.unique(rows["day"]).to_pylist():
                part = rows.filter(pc.equal(rows["day"], pa.scalar(day, pa.date32()))).drop(["day"])
                added.append(self._write_file(part, day))
            self.commit([], added)
        except BaseException:
            for f in added:  # never committed: nobody will ever read them
                self.location.remove(f.uri)
            raise
        return added

    def _write_file(self, rows: pa.Table, day: dt.date) -> NewFile:
        import pyarrow.parquet as pq  # imported here: only writers need it, and a reading command starts 10 ms sooner

        uri = self.new_file_uri(day, "part", str(uuid_utils.uuid7()))
        if self.location.is_local:
            pq.write_table(rows, uri, compression="zstd", compression_level=3, row_group_size=ROW_GROUP_ROWS)
            size = self.location.size(uri)
        else:  # encoded in memory, then one PUT (a flush's file is small)
            sink = pa.BufferOutputStream()
            pq.write_table(rows, sink, compression="zstd", compression_level=3, row_group_size=ROW_GROUP_ROWS)
            data = sink.getvalue().to_pybytes()
            self.location.fs.pipe_file(uri, data)
            size = len(data)
        return NewFile(uri, day, size, rows.num_rows, arrow_stats(rows, self.spec.stats))

    def new_file_uri(self, day: dt.date, prefix: str, name: str) -> str:
        """Where a file of ours goes: inside the day's folder, named so that readers can tell its kind."""
        if self.location.path is not None:
            self.location.make_dirs(self.spec.name, f"day={day.isoformat()}")
        return f"{self.uri}/day={day.isoformat()}/{prefix}-{name}.parquet"

    def rewrite(self, read: Snapshot, removed: Sequence[str], added: Sequence[NewFile], *,
                data_change: bool = True) -> None:
        """One commit: the files `removed` (as listed by `read`) go, the files `added` come.

        `data_change=False` for a rewrite that keeps the rows users see (compaction): then it does
        not conflict with appends racing it. Raises RewriteConflict (after deleting the added files)
        when one of the removed files is gone by the time of the commit: the caller reads again.
        """
        if not removed and not added:
            return
        try:
            self.commit([(uri, read.sizes[uri]) for uri in removed], added, data_change=data_change)
        except BaseException:
            for f in added:
                self.location.remove(f.uri)
            raise

    def commit(self, removed: Sequence[tuple[str, int]], added: Sequence[NewFile], *,
               data_change: bool = True) -> None:
        """Commit removes (uri, size) and adds at the newest version, checking first that every
        removed file is still live. delta-rs counts every file of a commit's snapshot as read, so a
        commit racing a delete elsewhere in the table fails; it is then tried again at the newer
        version, as long as the files it removes are still there (their rows are what it wrote from)."""
        now = int(time.time() * 1000)
        relative = len(self.uri) + 1
        actions: list[AddAction | RemoveAction] = [
            RemoveAction(path=uri[relative:], data_change=data_change, deletion_timestamp=now,
                         partition_values={"day": day_of_file(uri).isoformat()}, size=size)
            for uri, size in removed]
        actions += [AddAction(f.uri[relative:], f.size, {"day": f.day.isoformat()}, now, data_change,
                              json.dumps({"numRecords": f.rows, **f.stats}, default=str))
                    for f in added]
        wanted = {uri for uri, _ in removed}
        with self._lock:
            self._ensure()
            for _ in range(COMMIT_ATTEMPTS):
                table = self._table(fresh=True)
                if wanted and not wanted <= set(self._current(table).sizes):
                    raise RewriteConflict(f"{self.uri}: a file to replace was replaced meanwhile")
                try:
                    table.create_write_transaction(actions, mode="append", schema=self.spec.arrow_schema,
                                                   partition_by=["day"],
                                                   commit_properties=CommitProperties(max_commit_retries=50))
                    self._looked = 0.0  # the next read looks again: it must see this commit
                    return
                except CommitFailedError as exc:
                    log.debug("commit to %s raced another: %s", self.uri, str(exc).splitlines()[0])
            raise RewriteConflict(f"{self.uri}: {COMMIT_ATTEMPTS} commits in a row lost a race; try again")

    def _current(self, table: DeltaTable) -> Snapshot:
        version = table.version()
        if version != self._snapshot.version:
            self._snapshot = self._read_snapshot(table, version)
        return self._snapshot

    def sweep_orphans(self, older_than: float) -> list[str]:
        """Delete data files no commit ever added, written more than `older_than` seconds ago: what a
        process killed between writing a file and committing it left behind (a rewrite's copy of rows
        that may be deleted later). Younger files may be a writer's, about to be committed: left alone."""
        with self._lock:
            table = self._table(fresh=True)
            if table is None:
                return []
            live = set(self._current(table).sizes)
        now = time.time()
        gone = [uri for uri, modified in self.location.data_files(self.uri).items()
                if uri not in live and now - modified > older_than]
        for uri in gone:
            self.location.remove(uri)
        return gone

    def vacuum(self) -> list[str]:
        """Delete the files that commits removed, now (lite vacuum: files not yet committed are left alone)."""
        with self._lock:
            for _ in range(COMMIT_ATTEMPTS):
                table = self._table(fresh=True)
                if table is None:
                    return []
                try:
                    removed = table.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
                    self._looked = 0.0
                    return removed
                except CommitFailedError:  # its log entry raced another commit: the files are still to go
                    continue
            raise RewriteConflict(f"{self.uri}: vacuum kept losing races; the removed files go next time")

    def clean_log(self) -> None:
        """A checkpoint, then the log entries before it go (those past the log retention)."""
        with self._lock:
            table = self._table()
            if table is not None:
                table.create_checkpoint()
                table.cleanup_metadata()
