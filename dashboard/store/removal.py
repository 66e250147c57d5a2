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
DAY_TABLES = ("executions", "steps", "deletions", "rollups", "token_rollups")


def record_deletions(store: Store, day: dt.date, ids: Iterable[str]) -> None:
    from .core import id_hash, utcnow

    hashes = sorted({id_hash(x) for x in ids})
    if hashes:
        now = utcnow()
        store.tables["deletions"].append(pa.table({"id_hash": hashes, "deleted_at": [now] * len(hashes),
                                                   "day": [day] * len(hashes)}))


def remove_rows(store: Store, day: dt.date, ids: Iterable[str]) -> None:
    """Rewrite the files of a day that hold these executions without them (steps first), and any
    pending rows of theirs; then the day's summaries, and delete the old files."""
    doomed = sorted(set(ids))
    if not doomed:
        return
    for dataset, days in (("steps", [day]), ("executions", [day]), ("pending_steps", None),
                          ("pending_executions", None)):
        store.read(lambda dataset=dataset, days=days: _rewrite_without(store, dataset, days, doomed))
    compaction.write_rollups(store, day)
    store.vacuum()


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
    store.clean_logs()
    return day


def clear_all(store: Store, progress: Progress | None = None) -> int:
    """Delete every execution that is not running. Returns how many were deleted."""
    deleted = 0
    for day in store.all_days():
        with store.cursor() as con:
            rows = store.day_executions(con, day)
        doomed = rows.loc[rows.status != ExecutionStatus.RUNNING, "execution_id"].tolist()
        record_deletions(store, day, doomed)
        remove_rows(store, day, doomed)
        deleted += int(rows.status.isin(FINAL_STATUSES).sum())
        if progress:
            progress(1)
    store.clean_logs()
    return deleted


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
    if expired:
        store.vacuum()
        store.clean_logs()
    return expired


def expire_day(store: Store, day: dt.date) -> None:
    """A day past retention: its running executions (with their steps) stay, everything else goes."""
    if not (_may_have_running(store, day) and _keep_running(store, day)):
        drop_day(store, day)


def drop_day(store: Store, day: dt.date) -> None:
    """Remove every file of a day from every table (one commit each)."""
    for name in DAY_TABLES:
        table = store.tables[name]
        for _ in range(RETRIES):
            snapshot = table.snapshot()
            try:
                table.rewrite(snapshot, snapshot.files([day]), [])
                break
            except RewriteConflict:
                continue


def _keep_running(store: Store, day: dt.date) -> bool:
    """Remove all but the running executions of a day; False if it has none."""
    with store.cursor() as con:
        rows = store.day_executions(con, day)
    running = rows.status == ExecutionStatus.RUNNING
    if running.any():
        remove_rows(store, day, rows.loc[~running, "execution_id"].tolist())
    return bool(running.any())


def _may_have_running(store: Store, day: dt.date) -> bool:
    """False when the day's rollup shows no running execution: retention then drops a closed
    day with a listing and a read of a few hundred rows."""
    statuses = compaction.rolled_up_statuses(store, day)
    return statuses is None or ExecutionStatus.RUNNING.value in statuses
