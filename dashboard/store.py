"""Day partitions on disk: layout, atomic files, locks, merge rule, compaction,
delete, clear all, retention and the change token.

Layout under the data root (see data/README.md):

    executions/day=YYYY-MM-DD/*.parquet   execution rows (started / finished / merged)
    steps/day=YYYY-MM-DD/*.parquet        step rows
    tombstones/day=YYYY-MM-DD/*.parquet   ids deleted from that day: late events for them are dropped
    pending/{executions,steps}/*.parquet  rows whose execution_started has not arrived yet
    _meta/changes                         change token, rewritten after every mutation
    _meta/horizon                         oldest day retention keeps; older events are refused
    _locks/                               one lock per day, one for pending

A day holds an execution and all its steps: the day the execution *started* (UTC).
Files are immutable and appear by rename, so a reader sees a file whole or not at all.
Writers, compaction, delete and retention take the day's lock to change a day; readers
take none and de-duplicate, so a reader that sees a file twice (old and compacted)
still counts every row once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import uuid_utils
from filelock import FileLock

from .schema import (
    EXECUTION_ROW,
    FINAL_STATUSES,
    ROLLUP_ROW,
    STEP_ROW,
    TOKEN_ROLLUP_ROW,
    TOMBSTONE_ROW,
    TS,
    ExecutionStatus,
)

DATASETS = {"executions": EXECUTION_ROW, "steps": STEP_ROW, "tombstones": TOMBSTONE_ROW, "rollups": ROLLUP_ROW,
            "token_rollups": TOKEN_ROLLUP_ROW}
DEFAULT_RETENTION_DAYS = 30
STALE_TMP_SECONDS = 3600
ROW_GROUP_ROWS = 4096
QUARANTINE_ATTEMPTS = 20  # files moved aside in one read at most
MERGE_LIMIT = 16  # small files a day may collect before they are merged into one
SMALL_FILE_BYTES = 8 << 20  # a file this big is left alone by merging: it was merged already
COMPACT_ZSTD_LEVEL = 15  # 1.43 -> 1.13 MB for a day of 20k steps, 0.03 -> 0.43 s to write
Progress = Callable[[int], None]


class StoreError(RuntimeError):
    """A store operation that cannot be done; the message says why."""


class ExecutionNotFound(StoreError):
    pass


class ExecutionRunning(StoreError):
    pass


def new_id(at: dt.datetime | None = None) -> str:
    """A time-ordered id (UUIDv7) of `at` (default now): sorts by time, unique across processes."""
    if at is None:
        return str(uuid_utils.uuid7())
    return str(uuid_utils.uuid7(nanoseconds=int(at.timestamp()) * 10**9 + at.microsecond * 1000))


def day_from_id(execution_id: str) -> dt.date | None:
    """The start day a UUIDv7 execution id encodes (the recorder's ids); None for other ids.

    Only a hint: an engine may mint its ids otherwise, so callers confirm it.
    """
    try:
        value = uuid.UUID(execution_id)
    except ValueError:
        return None
    if value.version != 7:
        return None
    try:
        return dt.datetime.fromtimestamp((value.int >> 80) / 1000, dt.UTC).date()
    except (ValueError, OverflowError, OSError):
        return None  # a UUIDv7 of a time past year 9999: not one of ours


def read_parquet_file(path: str | os.PathLike, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file as a table. Unlike pq.read_table, this does not import pyarrow.dataset
    (24 ms on first use, which is most of a retention run in a fresh process)."""
    return pq.ParquetFile(path).read(columns=columns)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------
# The merge rule, in SQL, used by every reader and by compaction alike so that
# results are identical before and after compaction.
#
# An execution's rows merge to one: the started fields come from its earliest
# started row; the final fields from its final row with the earliest finished_at
# (ties: by status), so a final state never changes whatever arrives after it.


def merged_execution_rows_sql(source: str) -> str:
    """One row per execution in the row schema (status NULL while running)."""
    return f"""
    SELECT execution_id, day,
      s.flow_id, s.flow_name, s.trigger_type, s.trigger_phone, s.started_at,
      f.status, f.finished_at, f.messages_sent, f.messages_failed, f.error,
      recorded_at
    FROM (
      SELECT execution_id, day,
        arg_min({{'flow_id': flow_id, 'flow_name': flow_name, 'trigger_type': trigger_type,
                  'trigger_phone': trigger_phone, 'started_at': started_at}}, started_at)
          FILTER (WHERE started_at IS NOT NULL) AS s,
        arg_min({{'status': status, 'finished_at': finished_at, 'messages_sent': messages_sent,
                  'messages_failed': messages_failed, 'error': error}}, (finished_at, status))
          FILTER (WHERE status IS NOT NULL) AS f,
        max(recorded_at) AS recorded_at
      FROM {source}
      GROUP BY execution_id, day
    )"""


def executions_sql(source: str, merged: bool = False) -> str:
    """The executions as users see them: started ones only, running until final.

    merged=True reads rows that compaction already merged (one per execution) as they are.
    """
    rows = source if merged else f"({merged_execution_rows_sql(source)})"
    return f"""
    SELECT * REPLACE (coalesce(status, '{ExecutionStatus.RUNNING}') AS status)
    FROM {rows}
    WHERE started_at IS NOT NULL"""


def steps_sql(source: str, merged: bool = False) -> str:
    """One row per (execution, step index): a re-delivered step counts once, the latest wins."""
    if merged:
        return f"SELECT * FROM {source}"
    return f"""
    SELECT * FROM {source}
    QUALIFY row_number() OVER (PARTITION BY execution_id, step_index ORDER BY recorded_at DESC) = 1"""


def rollup_sql(executions: str, steps: str) -> str:
    """A day's executions per (flow, status): what page open needs, in a few hundred rows."""
    return f"""
    SELECT flow_name, status, count(*) AS runs, max(started_at) AS last_started_at,
           max(greatest(started_at, coalesce(finished_at, started_at))) AS last_activity_at
    FROM ({executions}) GROUP BY flow_name, status ORDER BY flow_name, status"""


def token_rollup_sql(executions: str, steps: str) -> str:
    """A day's AI steps per (flow, node, model): what the token report needs."""
    return f"""
    SELECT e.flow_name, s.node_name, s.node_type, coalesce(s.model, 'unknown') AS model,
           sum(coalesce(s.prompt_tokens, 0))::BIGINT AS prompt_tokens,
           sum(coalesce(s.completion_tokens, 0))::BIGINT AS completion_tokens,
           count(*)::BIGINT AS ai_steps
    FROM ({steps}) s JOIN ({executions}) e USING (execution_id)
    WHERE s.prompt_tokens IS NOT NULL OR s.completion_tokens IS NOT NULL
    GROUP BY ALL ORDER BY ALL"""


# Each rollup kind: the datasets it summarises (all must be one compacted file), and its SQL.
ROLLUPS = {
    "rollups": (("executions",), rollup_sql),
    "token_rollups": (("executions", "steps"), token_rollup_sql),
}


_SQL_TYPES = {pa.int64(): "BIGINT", pa.string(): "VARCHAR", pa.int32(): "INTEGER",
              pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ", pa.list_(pa.string()): "VARCHAR[]"}


def _empty_relation(schema: pa.Schema, with_day: bool) -> str:
    columns = [f"NULL::{_SQL_TYPES[f.type]} AS {f.name}" for f in schema]
    if with_day:
        columns.append("NULL::DATE AS day")
    return f"(SELECT {', '.join(columns)} WHERE false)"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # day boundaries and pandas output are UTC everywhere
    return con


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_vanished_file(exc: Exception) -> bool:
    text = str(exc).lower()
    # DuckDB says "No files found that match the pattern" for a listed file unlinked before the scan
    return any(sign in text for sign in ("no such file", "not found", "no files found", "cannot open file"))


def retry_on_vanished_files(fn, attempts: int = 10):
    """Run fn(); if a file it listed was compacted or deleted meanwhile, list again and retry.

    Compaction unlinks a day's small files one by one after its file is in, so a reader may
    list a few that are gone by the time it reads, several times in a row on a busy machine:
    the waits grow (10 ms doubling, at most 0.5 s; about 2 s in all) before the error is real."""
    for attempt in range(attempts):
        try:
            return fn()
        except (duckdb.IOException, duckdb.InvalidInputException, FileNotFoundError) as exc:
            if attempt == attempts - 1 or not _is_vanished_file(exc):
                raise
            time.sleep(min(0.5, 0.01 * 2 ** attempt))


class Store:
    """A data root of day-partitioned Parquet files."""

    def __init__(self, root: str | os.PathLike, *, fsync: bool = True):
        self.root = Path(root)
        self.fsync = fsync
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_pid = 0
        self._con_lock = threading.Lock()

    @contextmanager
    def cursor(self):
        """A DuckDB cursor of this store's one connection (a new connection costs ~12 ms).

        Cursors are safe to use from several threads; a forked child opens its own connection.
        """
        with self._con_lock:
            if self._con is None or self._con_pid != os.getpid():
                self._con, self._con_pid = connect(), os.getpid()
            cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    # -- layout -------------------------------------------------------------

    def day_dir(self, dataset: str, day: dt.date) -> Path:
        return self.root / dataset / f"day={day.isoformat()}"

    def days(self, dataset: str = "executions") -> list[dt.date]:
        base = self.root / dataset
        if not base.is_dir():
            return []
        found = []
        for entry in os.scandir(base):
            if entry.is_dir() and entry.name.startswith("day="):
                try:
                    found.append(dt.date.fromisoformat(entry.name[4:]))
                except ValueError:
                    continue  # not ours; never read
        return sorted(found)

    def all_days(self) -> list[dt.date]:
        return sorted(set(self.days("executions")) | set(self.days("steps")) | set(self.days("tombstones")))

    def files(self, dataset: str, days: Iterable[dt.date] | None = None) -> list[str]:
        """Visible files of a dataset (temporary names are never listed)."""
        chosen = self.days(dataset) if days is None else sorted(set(days))
        out = []
        for day in chosen:
            folder = self.day_dir(dataset, day)
            try:
                out.extend(str(folder / name) for name in sorted(os.listdir(folder)) if name.endswith(".parquet"))
            except FileNotFoundError:
                continue  # dropped by retention meanwhile
        return out

    def files_by_state(self, dataset: str, days: Iterable[dt.date] | None = None) -> tuple[list[str], list[str]]:
        """(compacted, other): files of days holding exactly one compacted file, and the rest.

        A compacted file holds one merged row per execution (one row per step), so readers
        can skip the merge there; a day with any other file (today, a late event, a
        compaction or delete in progress) is merged on read.
        """
        compacted, other = [], []
        by_day: dict[str, list[str]] = {}
        for path in self.files(dataset, days):
            by_day.setdefault(os.path.dirname(path), []).append(path)
        for paths in by_day.values():
            clean = len(paths) == 1 and os.path.basename(paths[0]).startswith("compact-")
            (compacted if clean else other).extend(paths)
        return compacted, other

    def files_by_layer(self, dataset: str, days: Iterable[dt.date] | None = None
                       ) -> tuple[list[str], list[str], list[str], list[str]]:
        """(compacted, other, bases, deltas): like `files_by_state`, but a day holding one compacted
        file and newer small files (a live day) gives its compacted file as a base and the small
        files as its deltas. Readers then merge only the executions the deltas touch; a live
        day of 200 000 executions is not merged whole on every query."""
        compacted, other, bases, deltas = [], [], [], []
        by_day: dict[str, list[str]] = {}
        for path in self.files(dataset, days):
            by_day.setdefault(os.path.dirname(path), []).append(path)
        for paths in by_day.values():
            merged = [p for p in paths if os.path.basename(p).startswith("compact-")]
            if len(merged) == 1 and len(paths) == 1:
                compacted.extend(paths)
            elif len(merged) == 1:
                bases.extend(merged)
                deltas.extend(p for p in paths if p not in merged)
            else:
                other.extend(paths)
        return compacted, other, bases, deltas

    def pending_files(self, dataset: str) -> list[str]:
        folder = self.root / "pending" / dataset
        if not folder.is_dir():
            return []
        return [str(folder / n) for n in sorted(os.listdir(folder)) if n.endswith(".parquet")]

    def source(self, dataset: str, files: Sequence[str], param: str) -> str:
        """A FROM-clause relation over files (bound to $param), or a typed empty one."""
        if not files:
            return _empty_relation(DATASETS[dataset], with_day=True)
        return f"read_parquet(${param}, hive_partitioning=true, union_by_name=true)"

    # -- locks --------------------------------------------------------------

    def _lock(self, name: str) -> FileLock:
        folder = self.root / "_locks"
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(folder / f"{name}.lock"))

    def day_lock(self, day: dt.date) -> FileLock:
        return self._lock(f"day={day.isoformat()}")

    def pending_lock(self) -> FileLock:
        return self._lock("pending")

    # -- files --------------------------------------------------------------

    def write_file(self, folder: Path, table: pa.Table) -> Path:
        """Write a table as a new immutable file of the folder: staged, fsynced, renamed in."""
        staged = self._stage(table)
        try:
            return self._move_in(staged, folder)
        except BaseException:
            staged.unlink(missing_ok=True)  # a full disk must not keep a dead copy
            raise

    def _stage(self, table: pa.Table) -> Path:
        """Encode a table into `_staging/` (same filesystem as the data) and fsync it."""
        tmp = self._staging_path("part")
        try:
            pq.write_table(table, tmp, compression="zstd")
            self._fsync_file(tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a half file on a full disk would keep it full for the retry
            raise
        return tmp

    def _staging_path(self, prefix: str) -> Path:
        folder = self.root / "_staging"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{prefix}-{new_id()}.parquet.tmp"

    def _fsync_file(self, path: Path) -> None:
        if self.fsync:
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())

    def _move_in(self, staged: Path, folder: Path) -> Path:
        """Rename a staged file into a folder: readers see it whole or not at all."""
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / staged.name.removesuffix(".tmp")
        os.replace(staged, final)
        if self.fsync:
            _fsync_dir(folder)
        return final

    def _copy_query(self, con, sql: str, params: dict, folder: Path, prefix: str, level: int = 3) -> Path | None:
        """Write a query's result as one new file of the folder (none if empty), zstd at `level`."""
        tmp = self._staging_path(prefix)
        # Small row groups: a detail lookup decompresses one group of ~4k steps, not 20k
        # (5.2 -> 2.4 ms a lookup for 1/3 more bytes, measured on a 100k-execution day).
        (rows,) = con.execute(
            f"COPY ({sql}) TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {level}, "
            f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})",
            params,
        ).fetchone()
        if rows == 0:
            tmp.unlink(missing_ok=True)
            return None
        self._fsync_file(tmp)
        return self._move_in(tmp, folder)

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

    def _unreadable_file_in(self, message: str) -> Path | None:
        for name in re.findall(r"'([^']+\.parquet)'", message):
            path = Path(name)
            if path.is_file() and self.root.resolve() in path.resolve().parents:
                try:
                    pq.ParquetFile(path)
                except Exception:  # what DuckDB could not read, pyarrow cannot either: not a transient error
                    return path
        return None

    def quarantine(self, path: Path, reason: str) -> Path:
        """Move a file the readers cannot use out of the data, and record it (never silently dropped)."""
        target = self.root / "quarantine" / path.resolve().relative_to(self.root.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        entry = {"at": utcnow().isoformat(), "file": str(path), "moved_to": str(target), "reason": reason}
        folder = self.root / "_meta"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "quarantine.jsonl", "a") as log:
            log.write(json.dumps(entry) + "\n")
        logging.getLogger(__name__).error("moved unreadable file %s to %s: %s", path, target, reason)
        self.touch()
        return target

    def quarantined(self) -> list[dict]:
        """The files moved to quarantine/, oldest first."""
        try:
            lines = (self.root / "_meta" / "quarantine.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    # -- change token and horizon ---------------------------------------------

    def change_token(self) -> str:
        """Changes whenever anything is written or removed. One small file read."""
        try:
            return (self.root / "_meta" / "changes").read_text()
        except FileNotFoundError:
            return ""

    def touch(self) -> None:
        self._write_meta("changes", new_id())

    def _write_meta(self, name: str, text: str) -> None:
        folder = self.root / "_meta"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_text(text)
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def horizon(self) -> dt.date | None:
        """The oldest day retention keeps; events of older days are refused."""
        try:
            return dt.date.fromisoformat((self.root / "_meta" / "horizon").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def accepts_day(self, day: dt.date) -> bool:
        """Whether executions may start on this day: not before the retention horizon."""
        horizon = self.horizon()
        return horizon is None or day >= horizon

    # -- reads used by writers and management ---------------------------------

    def tombstoned(self, day: dt.date) -> set[str]:
        files = self.files("tombstones", [day])
        if not files:
            return set()
        ids = set()
        for f in files:
            ids.update(read_parquet_file(f, ["execution_id"]).column(0).to_pylist())
        return ids

    def deleted(self, execution_ids: Iterable[str]) -> set[str]:
        """Those of the ids deleted from any day still kept: their late events must be dropped,
        not parked in pending/ where no later start would ever claim them."""
        ids = set(execution_ids)

        def run():
            return set().union(*(ids & self.tombstoned(day) for day in self.days("tombstones")))

        return self.read(run) if ids else set()

    def find_days(self, execution_ids: Iterable[str]) -> dict[str, dt.date]:
        """The start day of each execution already stored (those not stored are absent).

        Ids that encode their day (UUIDv7) are looked up in that day first; only the
        rest make a scan of every day.
        """
        ids = set(execution_ids)
        found: dict[str, dt.date] = {}
        hinted: dict[dt.date, list[str]] = {}
        for execution_id in ids:
            day = day_from_id(execution_id)
            if day is not None:
                hinted.setdefault(day, []).append(execution_id)
        for day, day_ids in hinted.items():
            found.update(self._find_days(day_ids, [day]))
        rest = ids - found.keys()
        if rest:
            found.update(self._find_days(rest, None))
        return found

    def _find_days(self, ids: Iterable[str], days: list[dt.date] | None) -> dict[str, dt.date]:
        def run():
            files = self.files("executions", days)
            if not files:
                return []
            with self.cursor() as con:
                return con.execute(
                    f"""SELECT execution_id, min(day) FROM {self.source('executions', files, 'files')}
                    WHERE started_at IS NOT NULL AND execution_id IN (SELECT unnest($ids))
                    GROUP BY execution_id""",
                    {"files": files, "ids": list(ids)},
                ).fetchall()

        return dict(self.read(run))

    def day_executions(self, con, day: dt.date, columns: str = "execution_id, status") -> pd.DataFrame:
        """Merged executions of one day, plus ids that only have steps (call under the day lock)."""
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

    # -- delete, clear all, retention -----------------------------------------

    def delete_execution(self, execution_id: str) -> dt.date:
        """Physically remove one finished execution and its steps; refuse a running one."""
        day = self.find_days([execution_id]).get(execution_id)
        if day is None:
            raise ExecutionNotFound(f"no execution with id {execution_id!r}")
        with self.day_lock(day), self.cursor() as con:
            rows = self.day_executions(con, day)
            status = rows.loc[rows.execution_id == execution_id, "status"]
            if status.empty:
                raise ExecutionNotFound(f"no execution with id {execution_id!r}")
            if status.iloc[0] == ExecutionStatus.RUNNING:
                raise ExecutionRunning(
                    f"execution {execution_id!r} is still running; it can be deleted once it has finished"
                )
            self._remove(con, day, [execution_id])
        self.touch()
        return day

    def clear_all(self, progress: Progress | None = None) -> int:
        """Delete every execution that is not running. Returns how many were deleted."""
        deleted = 0
        for day in self.all_days():
            deleted += self._clear_day(day)
            if progress:
                progress(1)
        self.touch()
        return deleted

    def _clear_day(self, day: dt.date) -> int:
        with self.day_lock(day), self.cursor() as con:
            rows = self.day_executions(con, day)
            doomed = rows.loc[rows.status != ExecutionStatus.RUNNING, "execution_id"].tolist()
            if len(doomed) == len(rows):
                self._tombstone(day, doomed)
                for dataset in ("executions", "steps", *ROLLUPS):
                    shutil.rmtree(self.day_dir(dataset, day), ignore_errors=True)
            elif doomed:
                self._remove(con, day, doomed)
            return int(rows.status.isin(FINAL_STATUSES).sum())

    def apply_retention(self, days: int = DEFAULT_RETENTION_DAYS, today: dt.date | None = None,
                        progress: Progress | None = None) -> list[dt.date]:
        """Drop whole day partitions older than `days` days (today counts as one).

        A day that still holds a running execution keeps that execution and its steps;
        everything else of the day goes. Returns the days dropped or thinned.
        """
        if days < 1:
            raise StoreError(f"retention must keep at least 1 day, not {days}")
        today = today or utcnow().date()
        cutoff = today - dt.timedelta(days=days - 1)
        old = self.horizon()
        if old is None or cutoff > old:
            self._write_meta("horizon", cutoff.isoformat())
        self._expire_pending(cutoff)
        expired = [d for d in self.all_days() if d < cutoff]
        for day in expired:
            with self.day_lock(day):
                if not (self._may_have_running(day) and self._keep_running(day)):
                    for dataset in DATASETS:
                        shutil.rmtree(self.day_dir(dataset, day), ignore_errors=True)
            if progress:
                progress(1)
        if expired:
            self.touch()
        return expired

    def _keep_running(self, day: dt.date) -> bool:
        """Remove all but the running executions of a day; False if it has none (call under the day lock)."""
        with self.cursor() as con:
            rows = self.day_executions(con, day)
            running = rows.status == ExecutionStatus.RUNNING
            if running.any():
                self._remove(con, day, rows.loc[~running, "execution_id"].tolist())
            return bool(running.any())

    def _may_have_running(self, day: dt.date) -> bool:
        """False when the day's rollup shows no running execution (call under the day lock).

        A rollup exists only while it describes the day's one compacted executions file, so
        retention drops a closed day with a directory listing and a read of a few hundred rows.
        """
        compacted, other = self.files_by_state("executions", [day])
        rollups = self.files("rollups", [day])
        if not compacted or other or len(rollups) != 1:
            return True  # not summarised: look at the executions
        return ExecutionStatus.RUNNING.value in read_parquet_file(rollups[0], ["status"]).column(0).to_pylist()

    def _tombstone(self, day: dt.date, ids: Sequence[str]) -> None:
        if ids:
            now = utcnow()
            table = pa.table({"execution_id": list(ids), "deleted_at": [now] * len(ids)}, schema=TOMBSTONE_ROW)
            self.write_file(self.day_dir("tombstones", day), table)

    def _remove(self, con, day: dt.date, ids: Sequence[str]) -> None:
        """Tombstone ids, then rewrite only the files of the day that hold them (call under the lock)."""
        if not ids:
            return
        self._tombstone(day, ids)
        con.register("doomed", pa.table({"execution_id": list(ids)}))
        try:
            for dataset in ("executions", "steps"):
                files = self.files(dataset, [day])
                if not files:
                    continue
                hit = [r[0] for r in con.execute(
                    "SELECT DISTINCT filename FROM read_parquet($f, filename=true, hive_partitioning=false) "
                    "WHERE execution_id IN (SELECT execution_id FROM doomed)", {"f": files}).fetchall()]
                if hit:
                    self._drop_rollups(day)
                for path in hit:
                    prefix = "compact" if Path(path).name.startswith("compact-") else "part"
                    self._copy_query(
                        con,
                        "SELECT * FROM read_parquet($f, hive_partitioning=false) "
                        "WHERE execution_id NOT IN (SELECT execution_id FROM doomed)",
                        {"f": path}, Path(path).parent, prefix,
                    )
                    os.unlink(path)
            self._write_rollup(con, day)
        finally:
            con.unregister("doomed")

    # -- compaction -----------------------------------------------------------

    def merge_small_files(self, day: dt.date, *, limit: int = MERGE_LIMIT, small_bytes: int = SMALL_FILE_BYTES) -> int:
        """Copy the day's small files (one per writer flush) into one, rows unchanged, when there are
        more than `limit` of a dataset; returns how many files were merged.

        Cheap (no merge rule, fast zstd), so it can run every few seconds on today's partition:
        a query opens every file of a day, and hundreds of small files took the page's queries
        from 15 ms to 170 ms under 1 000 events/s (benchmarks/load_test.py). Results never change:
        the rows are the same rows, read by the same merge rule."""
        merged = 0
        for dataset in ("executions", "steps", "tombstones"):
            if len(self.files(dataset, [day])) <= limit:
                continue  # checked again under the lock: most calls take no lock at all
            with self.day_lock(day), self.cursor() as con:
                small = [f for f in self.files(dataset, [day])
                         if not Path(f).name.startswith("compact-") and os.path.getsize(f) < small_bytes]
                if len(small) <= limit:
                    continue
                self._copy_query(con, f"SELECT * EXCLUDE (day) FROM {self.source(dataset, small, 'f')}",
                                 {"f": small}, self.day_dir(dataset, day), "part", level=1)
                for f in small:
                    os.unlink(f)
                merged += len(small)
        return merged

    def compact(self, days: Iterable[dt.date] | None = None, progress: Progress | None = None) -> list[dt.date]:
        """Merge each day's small files into one sorted file per dataset. Results do not change."""
        self.resolve_pending()
        compacted = []
        for day in (self.all_days() if days is None else sorted(days)):
            if self.read(lambda day=day: self._compact_day(day)):
                compacted.append(day)
            if progress:
                progress(1)
        if compacted:
            self.touch()
        return compacted

    def _compact_day(self, day: dt.date) -> bool:
        with self.day_lock(day), self.cursor() as con:
            self._remove_stale_tmp(day)
            changed = False
            plans = {
                "executions": lambda src: f"SELECT * EXCLUDE (day) FROM ({merged_execution_rows_sql(src)}) "
                                          "ORDER BY flow_name, started_at",
                "steps": lambda src: f"SELECT * EXCLUDE (day) FROM ({steps_sql(src)}) "
                                     "ORDER BY execution_id, step_index",
                "tombstones": lambda src: f"SELECT execution_id, min(deleted_at) AS deleted_at FROM {src} "
                                          "GROUP BY execution_id ORDER BY execution_id",
            }
            for dataset, plan in plans.items():
                files = self.files(dataset, [day])
                if len(files) <= 1 and all(Path(f).name.startswith("compact-") for f in files):
                    continue
                if dataset in ("executions", "steps"):
                    self._drop_rollups(day)
                # compaction runs in the background, once a day: spend CPU for a fifth fewer bytes
                self._copy_query(con, plan(self.source(dataset, files, "f")), {"f": files},
                                 self.day_dir(dataset, day), "compact", level=COMPACT_ZSTD_LEVEL)
                for f in files:
                    os.unlink(f)
                changed = True
            if changed or not all(self.files(kind, [day]) for kind in ROLLUPS):
                self._write_rollup(con, day)
            return changed

    def _write_rollup(self, con, day: dt.date) -> None:
        """Rewrite the day's rollups from its compacted files (call under the day lock).

        Readers use a rollup only while the datasets it summarises are each exactly one
        compacted file, so a rollup never answers for rows written after it.
        """
        clean = {}
        for dataset in ("executions", "steps"):
            compacted, other = self.files_by_state(dataset, [day])
            clean[dataset] = compacted if compacted and not other else None
        for kind, (needs, build) in ROLLUPS.items():
            old = self.files(kind, [day])
            if all(clean[d] for d in needs):
                executions = executions_sql(self.source("executions", clean["executions"], "ef"), merged=True)
                steps = f"SELECT * FROM {self.source('steps', clean['steps'] or [], 'sf')}"
                params = {"ef": clean["executions"]} | ({"sf": clean["steps"]} if "steps" in needs else {})
                self._copy_query(con, build(executions, steps), params, self.day_dir(kind, day), "compact")
            for f in old:
                os.unlink(f)

    def _drop_rollups(self, day: dt.date) -> None:
        """Unlink the day's rollups *before* its executions or steps change (call under the day lock):
        killed between the two, the day has no rollup (readers aggregate it live and the next
        compaction writes one) instead of a rollup that silently answers for the old file."""
        for kind in ROLLUPS:
            for f in self.files(kind, [day]):
                os.unlink(f)

    def _remove_stale_tmp(self, day: dt.date) -> None:
        """Temp files of writers killed mid-write: never visible, removed once clearly abandoned."""
        cutoff = time.time() - STALE_TMP_SECONDS
        for folder in [self.day_dir(dataset, day) for dataset in DATASETS] + [self.root / "_staging"]:
            if folder.is_dir():
                for entry in os.scandir(folder):
                    try:
                        if entry.name.endswith(".tmp") and entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
                    except FileNotFoundError:
                        continue  # renamed into place meanwhile

    # -- pending ---------------------------------------------------------------

    def resolve_pending(self) -> int:
        """Move rows whose execution_started has arrived since into their day. Returns rows moved."""
        with self.pending_lock():
            return self._resolve_pending_locked()

    def _resolve_pending_locked(self, starting: dict[str, dt.date] | None = None) -> int:
        """Move pending rows whose execution is stored into its day (call under the pending lock).

        With `starting` (ids -> day of starts about to be written) only their rows move, and
        before the start lands: a crash in between never shows a start without the steps
        and finish that were acknowledged before it.
        """
        pending = {ds: self.pending_files(ds) for ds in ("executions", "steps")}
        if not any(pending.values()):
            return 0
        tables = {ds: pa.concat_tables([read_parquet_file(f) for f in files]) if files else None
                  for ds, files in pending.items()}
        ids = set()
        for table in tables.values():
            if table is not None:
                ids.update(table.column("execution_id").to_pylist())
        days = self.find_days(ids) if starting is None else {x: d for x, d in starting.items() if x in ids}
        if not days:
            return 0
        moved = 0
        for ds, table in tables.items():
            if table is None:
                continue
            rows = table.to_pylist()
            placed = [r for r in rows if r["execution_id"] in days]
            if not placed:
                continue
            for day in sorted({days[r["execution_id"]] for r in placed}):
                batch = [r for r in placed if days[r["execution_id"]] == day]
                self.write_to_day(ds, day, pa.Table.from_pylist(batch, schema=DATASETS[ds]))
                moved += len(batch)
            rest = [r for r in rows if r["execution_id"] not in days]
            if rest:
                self.write_file(self.root / "pending" / ds, pa.Table.from_pylist(rest, schema=DATASETS[ds]))
            for f in pending[ds]:
                os.unlink(f)
        return moved

    def _expire_pending(self, cutoff: dt.date) -> None:
        """Drop pending rows recorded before the cutoff: their start never came within the window."""
        limit = dt.datetime.combine(cutoff, dt.time(), dt.timezone.utc)
        with self.pending_lock():
            for ds in ("executions", "steps"):
                for f in self.pending_files(ds):
                    table = read_parquet_file(f)
                    fresh = table.filter(pc.greater_equal(table["recorded_at"], pa.scalar(limit, TS)))
                    if fresh.num_rows < table.num_rows:
                        if fresh.num_rows:
                            self.write_file(self.root / "pending" / ds, fresh)
                        os.unlink(f)

    def write_to_day(self, dataset: str, day: dt.date, table: pa.Table) -> int | None:
        """Append rows to a day, dropping rows of executions deleted from it.

        The file is encoded and fsynced in `_staging/` without a lock, then renamed into
        the day under the day's lock, so writers of one day only queue for a rename.
        Returns the rows written, or None when retention has dropped the day (checked under
        the lock, so a day being dropped is never re-created by a late event).
        """
        table = self._without(table, self.tombstoned(day))
        staged = self._stage(table) if table.num_rows else None
        try:
            with self.day_lock(day):
                late = self.tombstoned(day)  # deleted while we encoded: rare, rewrite
                if not self.accepts_day(day):
                    # Retention dropped this day but for the running executions it kept: their
                    # steps and finish are taken; nothing else, so nothing new starts on it.
                    ids = set(table.column("execution_id").to_pylist())
                    late |= ids - (self._started(day) - late)
                    if table.num_rows == 0 or late >= ids:
                        return None
                if staged is not None and self._without(table, late).num_rows < table.num_rows:
                    staged.unlink()
                    table = self._without(table, late)
                    staged = self._stage(table) if table.num_rows else None
                if staged is not None:
                    self._move_in(staged, self.day_dir(dataset, day))
                    staged = None
                return table.num_rows
        finally:
            if staged is not None:
                staged.unlink(missing_ok=True)

    def _started(self, day: dt.date) -> set[str]:
        """Ids of the executions started in a day (call under the day lock)."""
        ids: set[str] = set()
        for f in self.files("executions", [day]):
            rows = read_parquet_file(f, ["execution_id", "started_at"])
            ids.update(rows.filter(pc.is_valid(rows["started_at"])).column("execution_id").to_pylist())
        return ids

    @staticmethod
    def _without(table: pa.Table, dead: set[str]) -> pa.Table:
        if not dead:
            return table
        keep = [i for i, v in enumerate(table.column("execution_id").to_pylist()) if v not in dead]
        return table.take(pa.array(keep, pa.int64()))  # typed: take([]) has no kernel for a null array

    def disk_usage(self) -> dict[str, int]:
        usage = {}
        for dataset in (*DATASETS, "pending"):
            base = self.root / dataset
            usage[dataset] = sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) if base.is_dir() else 0
        return usage


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
