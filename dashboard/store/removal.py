"""Delete one execution, Clear all, and retention: physical and immediate.

A delete first records the deleted id's hash (so that late events are dropped and an
interrupted delete is finished by the next compaction), then rewrites the files that hold
the execution: its steps first, its execution rows last, so an execution never vanishes
from the lists while its steps (AI replies, inputs) are still on disk, and an interrupted
delete can simply be run again. The old files are deleted at once (vacuum) and the table's
log never held the ids or phone numbers (statistics only of timestamps and numbers; our
commits carry no predicates). Running executions are never deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa

from ..schema import FINAL_STATUSES, ExecutionStatus
from . import compaction, pending
from .tables import RewriteConflict
from .writes import files_holding, rewrite_files

if TYPE_CHECKING:
    from .core import Progress, Store

RETRIES = 20
SUMMARIES = ("rollups", "token_rollups", "failure_rollups", "error_rollups")  # per day, rewritten by compaction
DAY_TABLES = ("executions", "steps", "deletions", *SUMMARIES)
# What deleting rows rewrites: the rows, pending rows, the day's summaries (and the deletions it records).
ROW_TABLES = ("steps", "executions", "pending_steps", "pending_executions", *SUMMARIES)


def record_deletions(store: Store, day: dt.date, ids: Iterable[str]) -> None:
    record_deletions_of(store, {day: ids})


def record_deletions_of(store: Store, ids_by_day: dict[dt.date, Iterable[str]]) -> None:
    """The hashes of the ids about to be deleted, per day, in one commit (hashed by DuckDB's
    sha256(), as `id_hash` does: a million ids of a Clear all in a fraction of a second)."""
    from .core import utcnow

    lists = {day: list(ids) for day, ids in ids_by_day.items()}
    parts = [pa.table({"execution_id": pa.array(ids, pa.string()), "day": pa.array([day] * len(ids), pa.date32())})
             for day, ids in lists.items() if ids]
    if not parts:
        return
    given = pa.concat_tables(parts)
    with store.cursor() as con:
        con.register("given", given)
        hashes = con.sql("SELECT DISTINCT sha256(execution_id) AS id_hash, $now AS deleted_at, day FROM given "
                         "ORDER BY day, id_hash", params={"now": utcnow()}).to_arrow_table()
        con.unregister("given")
    store.tables["deletions"].append(hashes)


def remove_rows(store: Store, day: dt.date, ids: Iterable[str], vacuum: bool = True) -> None:
    """Rewrite the files of a day that hold these executions without them (steps first), and any
    pending rows of theirs; then the day's summaries, and delete the old files (unless the caller
    does, once for many days)."""
    doomed = sorted(set(ids))
    if not doomed:
        return
    for dataset, days in (("steps", [day]), ("executions", [day]), ("pending_steps", None),
                          ("pending_executions", None)):
        store.read(lambda dataset=dataset, days=days: _rewrite_without(store, dataset, days, doomed))
    compaction.write_rollups(store, day)
    if vacuum:
        store.vacuum(ROW_TABLES)


def _rewrite_without(store: Store, dataset: str, days: list[dt.date] | None, doomed: list[str]) -> None:
    from .core import StoreError

    for _ in range(RETRIES):
        snapshot = store.snapshot(dataset)
        hit = files_holding(store, snapshot.files(days), doomed)
        if not hit:
            return
        try:
            rewrite_files(store, dataset, snapshot, hit, "execution_id NOT IN (SELECT unnest($doomed))",
                          {"doomed": doomed})
            return
        except RewriteConflict:
            continue  # compacted meanwhile: find the files that hold them now
    raise StoreError(f"could not remove {len(doomed)} execution(s) from {dataset}: other rewrites kept "
                     f"winning; try again")


def delete_execution(store: Store, execution_id: str) -> dt.date:
    """Physically remove one finished execution and its steps; refuse a running one."""
    from .core import ExecutionNotFound, ExecutionRunning

    day = store.find_days([execution_id]).get(execution_id)
    if day is None:
        raise ExecutionNotFound(f"no execution with id {execution_id!r}")
    with store.cursor() as con:
        rows = store.day_executions(con, day)
    status = rows.loc[rows.execution_id == execution_id, "status"]
    if status.empty:
        raise ExecutionNotFound(f"no execution with id {execution_id!r}")
    if status.iloc[0] == ExecutionStatus.RUNNING:
        raise ExecutionRunning(f"execution {execution_id!r} is still running; it can be deleted once it has finished")
    record_deletions(store, day, [execution_id])
    remove_rows(store, day, [execution_id])
    store.clean_logs(ROW_TABLES + ("deletions",))
    return day


def clear_all(store: Store, progress: Progress | None = None) -> int:
    """Delete every execution that is not running. Returns how many were deleted.

    All the deleted ids are recorded first (one commit). A day without a running execution then
    goes whole: its files leave each table in one commit for all such days, steps first; a day
    with one is rewritten without the rest. 30 days are a handful of commits, not 30 of each."""
    doomed_by_day: dict[dt.date, list[str]] = {}
    thinned: list[dt.date] = []
    deleted = 0
    with store.cursor() as con:
        for day in store.all_days():
            rows = store.day_executions(con, day)
            running = rows.status == ExecutionStatus.RUNNING
            doomed_by_day[day] = rows.loc[~running, "execution_id"].tolist()
            deleted += int(rows.status.isin(FINAL_STATUSES).sum())
            if running.any():
                thinned.append(day)
    record_deletions_of(store, doomed_by_day)
    whole = [day for day in doomed_by_day if day not in thinned]
    drop_days(store, whole, ("steps", "executions", *SUMMARIES))
    _rewrite_pending_without(store, [x for day in whole for x in doomed_by_day[day]])
    if progress:
        progress(len(whole))
    for day in thinned:
        remove_rows(store, day, doomed_by_day[day], vacuum=False)
        if progress:
            progress(1)
    store.vacuum(ROW_TABLES)
    store.clean_logs(ROW_TABLES + ("deletions",))
    return deleted


def _rewrite_pending_without(store: Store, doomed: list[str]) -> None:
    """Pending rows (events whose start has not come) of executions deleted whole."""
    for dataset in ("pending_steps", "pending_executions"):
        if doomed and store.files(dataset):
            store.read(lambda dataset=dataset: _rewrite_without(store, dataset, None, sorted(doomed)))


def apply_retention(store: Store, days: int, today: dt.date | None, progress: Progress | None) -> list[dt.date]:
    """Drop whole days older than `days` days (today counts as one).

    A day that still holds a running execution keeps that execution and its steps;
    everything else of the day goes. Returns the days dropped or thinned.
    """
    from .core import StoreError, utcnow

    if days < 1:
        raise StoreError(f"retention must keep at least 1 day, not {days}")
    today = today or utcnow().date()
    cutoff = today - dt.timedelta(days=days - 1)
    store.set_horizon(cutoff)
    pending.expire(store, cutoff)
    expired = [d for d in store.all_days() if d < cutoff]
    for day in expired:
        expire_day(store, day)
        if progress:
            progress(1)
    return expired


def expire_day(store: Store, day: dt.date) -> None:
    """A day past retention: its running executions (with their steps) stay, everything else goes."""
    if not (_may_have_running(store, day) and _keep_running(store, day)):
        drop_day(store, day)


def drop_day(store: Store, day: dt.date) -> None:
    """Remove every file of a day from every table (one commit each)."""
    drop_days(store, [day], DAY_TABLES)


def drop_days(store: Store, days: list[dt.date], names: Iterable[str]) -> None:
    """Remove every file of these days from these tables, in this order (one commit a table), and
    delete those files at once: they are known, so no vacuum has to look for them. (Stopped between
    a commit and the deletes, the next vacuum, at the latest the next compaction's, deletes them.)"""
    for name in names:
        table = store.tables[name]
        for _ in range(RETRIES):
            snapshot = table.snapshot()
            gone = snapshot.files(days)
            if not gone:
                break
            try:
                table.rewrite(snapshot, gone, [])
            except RewriteConflict:
                continue
            for uri in gone:
                store.location.remove(uri)
            break


def _keep_running(store: Store, day: dt.date) -> bool:
    """Remove all but the running executions of a day; False if it has none. The removed ones are
    recorded as deleted, as a delete records them: a late event of theirs is then dropped, not
    parked among the pending rows (where a writer that no longer knows their day would put it)."""
    with store.cursor() as con:
        rows = store.day_executions(con, day)
    running = rows.status == ExecutionStatus.RUNNING
    if running.any():
        thinned = rows.loc[~running, "execution_id"].tolist()
        record_deletions(store, day, thinned)
        remove_rows(store, day, thinned)
    return bool(running.any())


def _may_have_running(store: Store, day: dt.date) -> bool:
    """False when the day's rollup shows no running execution: retention then drops a closed
    day with a listing and a read of a few hundred rows."""
    statuses = compaction.rolled_up_statuses(store, day)
    return statuses is None or ExecutionStatus.RUNNING.value in statuses
