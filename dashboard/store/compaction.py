"""Compaction: a day's rows replaced by their merged rows, then the day's rollups.

Each dataset of a day is rewritten as one file sorted for the queries (executions by id,
steps by execution and index), by one commit that removes exactly the files it
read: rows appended meanwhile stay beside it (the day is then a live day, merged on read),
and a concurrent compaction or delete of the same files makes the later commit fail, to be
retried with what is there then. Deletions recorded for the day are applied on the way, so
an interrupted delete is finished here. Results are identical before and after.

Rollups summarise a day's compacted files (executions per flow and status; AI tokens per
flow, node and model; failed executions with their failing step and cause; the steps' errors).
A rollup file's name carries the tag of the files it describes (each row names them too), and
readers use it only while those are the day's files: a rollup never answers for rows written
after it. A rollup with no rows is written too, so a day without failures is not read in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .rules import ROLLUPS, executions_sql, merged_execution_rows_sql, steps_sql
from .tables import RewriteConflict
from .writes import is_compacted

if TYPE_CHECKING:
    from .core import Progress, Store

RETRIES = 10
MERGE_LIMIT = 16  # small files a day may collect before they are merged into one
SMALL_FILE_BYTES = 8 << 20  # a file this big is left alone by merging: it was merged already
# A file written and not committed after this long was left by a killed process (a commit follows its
# file within seconds, even on object storage under contention): compaction deletes it.
ORPHAN_GRACE_SECONDS = 600
COMPACT_ZSTD_LEVEL = 15  # 1.43 -> 1.13 MB for a day of 20k steps, 0.03 -> 0.43 s to write
PLANS = {  # dataset -> the sorted merged rows of a day, from a relation of its rows
    "steps": lambda src: f"SELECT * EXCLUDE (day) FROM ({steps_sql(src)}) ORDER BY execution_id, step_index",
    # by id: a detail lookup reads one row group of the day's file, not all (ids are UUIDv7, so this
    # is also the order of their starts); a flow's page reads a day or two of files whatever their order
    "executions": lambda src: f"SELECT * EXCLUDE (day) FROM ({merged_execution_rows_sql(src)}) "
                              "ORDER BY execution_id",
    "deletions": lambda src: f"SELECT id_hash, min(deleted_at) AS deleted_at FROM {src} GROUP BY id_hash "
                             "ORDER BY id_hash",
}


def compact(store: Store, days: Iterable[dt.date] | None, progress: Progress | None,
            orphan_grace: float = ORPHAN_GRACE_SECONDS, rewrite: bool = False) -> list[dt.date]:
    """Compact days (default all); returns the days whose files changed. Then the files commits
    removed are deleted (vacuum), and the files no commit added, once older than `orphan_grace`.
    `rewrite` rewrites compacted days too: after an upgrade that sorts or encodes them otherwise."""
    store.resolve_pending()
    compacted = []
    for day in (store.all_days() if days is None else sorted(days)):
        if store.read(lambda day=day: _compact_day_retrying(store, day, rewrite)):
            compacted.append(day)
        if progress:
            progress(1)
    store.vacuum()
    for table in store.tables.values():
        table.sweep_orphans(orphan_grace)
    return compacted


def _compact_day_retrying(store: Store, day: dt.date, rewrite: bool) -> bool:
    from .core import StoreError

    for _ in range(RETRIES):
        try:
            return _compact_day(store, day, rewrite)
        except RewriteConflict:
            continue  # another compaction or a delete rewrote the day first: compact what is there now
    raise StoreError(f"compaction of {day} kept losing to other rewrites of that day; it is retried next time")


def _compact_day(store: Store, day: dt.date, rewrite: bool = False) -> bool:
    snapshots = {ds: store.snapshot(ds) for ds in PLANS}
    dead = _deleted_hashes(store, snapshots["deletions"].files([day]))
    changed = False
    with store.cursor() as con:
        for dataset, plan in PLANS.items():  # steps before executions: never an execution without its steps
            files = snapshots[dataset].files([day])
            params = {"f": files}
            source = store.source(dataset, files, "f")
            if dead and dataset != "deletions":
                params["dead"] = dead
                source = f"(SELECT * FROM {source} WHERE sha256(execution_id) NOT IN (SELECT unnest($dead)))"
            again = rewrite and bool(files) and dataset != "deletions"
            if not again and not _needs_compaction(con, dataset, files, params if "dead" in params else None):
                continue
            # compaction runs in the background, once a day: spend CPU for a fifth fewer bytes
            new = store.write_query(con, plan(source), params, dataset, day, "compact", level=COMPACT_ZSTD_LEVEL)
            # the same rows, merged: no data change (appends racing it are not in conflict), unless
            # it also finished a delete
            store.tables[dataset].rewrite(snapshots[dataset], files, [new] if new else [],
                                          data_change="dead" in params)
            changed = True
    write_rollups(store, day)
    return changed


def _needs_compaction(con, dataset: str, files: list[str], dead_params: dict | None) -> bool:
    if not (len(files) == 1 and is_compacted(files[0])):
        return bool(files)
    if dataset == "executions" and not _sorted_by_id(con, files[0]):
        return True  # compacted by a version that sorted by flow: sorted again, once
    if dead_params is None:
        return False
    # a compacted day that still holds a deleted execution: a delete was interrupted, finish it
    (hits,) = con.execute("SELECT count(*) FROM read_parquet($f) WHERE sha256(execution_id) IN "
                          "(SELECT unnest($dead))", dead_params).fetchall()[0]
    return hits > 0


_SORTED_BY_ID: dict[str, bool] = {}  # by file: a file never changes (a rewrite writes a new one)


def _sorted_by_id(con, uri: str) -> bool:
    """Whether a compacted file's row groups hold ascending, separate ranges of ids (from its footer)."""
    if uri not in _SORTED_BY_ID:
        ranges = con.execute("SELECT stats_min, stats_max FROM parquet_metadata($f) WHERE path_in_schema = "
                             "'execution_id' ORDER BY row_group_id", {"f": uri}).fetchall()
        if len(_SORTED_BY_ID) > 10_000:
            _SORTED_BY_ID.clear()
        _SORTED_BY_ID[uri] = all(b[0] >= a[1] for a, b in itertools.pairwise(ranges))
    return _SORTED_BY_ID[uri]


def _deleted_hashes(store: Store, files: list[str]) -> list[str]:
    if not files:
        return []
    return sorted(set(store.read_rows("deletions", files, columns="id_hash").column(0).to_pylist()))


# -- rollups ------------------------------------------------------------------------------


def rollup_key(kind: str, files: dict[str, list[str]]) -> str | None:
    """What a rollup of a day describes: the names of the day's compacted files it summarises,
    or None when one of them is not a single compacted file (the day is then read in full)."""
    names = []
    for dataset in ROLLUPS[kind][0]:
        day_files = files.get(dataset, [])
        if len(day_files) != 1 or not is_compacted(day_files[0]):
            return None
        names.append(day_files[0].rsplit("/", 1)[-1])
    return "|".join(names)


def current_rollups(store: Store, kind: str, days: Iterable[dt.date]) -> dict[dt.date, str]:
    """The rollup file of `kind` of each of these days that describes the day's files now (its
    name carries their key's tag); a day without one (not compacted, written to since) is absent.
    A rollup may hold no rows: the day then has nothing of that kind."""
    snapshots = {ds: store.snapshot(ds) for ds in ROLLUPS[kind][0]}
    rollups = store.snapshot(kind)
    current = {}
    for day in days:
        key = rollup_key(kind, {ds: snapshot.by_day.get(day, []) for ds, snapshot in snapshots.items()})
        day_rollups = rollups.by_day.get(day, [])
        if key is not None and len(day_rollups) == 1 and _describes(day_rollups[0], key):
            current[day] = day_rollups[0]
    return current


def _key_tag(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _describes(rollup: str, key: str) -> bool:
    """Whether a rollup file summarises the files of `key` (its name carries the key's tag)."""
    return _key_tag(key) in rollup.rsplit("/", 1)[-1]


def write_rollups(store: Store, day: dt.date) -> None:
    """Bring the day's rollups in line with its files: rewritten when they describe other files,
    removed when the day is not compacted."""
    files = {ds: store.files(ds, [day]) for ds in ("executions", "steps")}
    with store.cursor() as con:
        for kind, (needs, build) in ROLLUPS.items():
            table = store.tables[kind]
            for _ in range(RETRIES):
                snapshot = table.snapshot()
                old = snapshot.files([day])
                key = rollup_key(kind, files)
                if key is None and not old or key is not None and len(old) == 1 and _describes(old[0], key):
                    break  # nothing to summarise, or summarised already
                added = []
                if key is not None:
                    executions = executions_sql(store.source("executions", files["executions"], "ef"), merged=True)
                    steps = f"SELECT * FROM {store.source('steps', files['steps'], 'sf')}"
                    params = {"key": key} | {short: files[ds] for ds, short in (("executions", "ef"), ("steps", "sf"))
                                             if ds in needs}
                    rows = build(executions, steps, params)
                    new = store.write_query(con, f"SELECT *, $key AS described FROM ({rows})",
                                            params, kind, day, f"compact-{_key_tag(key)}", keep_empty=True)
                    added = [new] if new else []
                try:
                    table.rewrite(snapshot, old, added)
                    break
                except RewriteConflict:
                    continue


def rolled_up_statuses(store: Store, day: dt.date) -> set[str] | None:
    """The statuses of a day's executions from its rollup, or None when it has no current one."""
    rollup = current_rollups(store, "rollups", [day]).get(day)
    if rollup is None:
        return None
    return set(store.location.read_parquet(rollup, ["status"]).column("status").to_pylist())  # no DuckDB


# -- merging a live day's small files ---------------------------------------------------------


def merge_small_files(store: Store, day: dt.date, *, limit: int = MERGE_LIMIT,
                      small_bytes: int = SMALL_FILE_BYTES) -> int:
    """Copy the day's small files (one per writer flush) into one, rows unchanged, when there are
    more than `limit` of a dataset; returns how many files were merged.

    Cheap (no merge rule, fast zstd), so it can run every few seconds on today's partition:
    a query opens every file of a day, and hundreds of small files took the page's queries
    from 15 ms to 170 ms under 1 000 events/s (benchmarks/load_test.py). Results never change:
    the rows are the same rows, read by the same merge rule."""
    merged = 0
    for dataset in ("executions", "steps", "deletions"):
        table = store.tables[dataset]
        snapshot = table.snapshot()
        small = [f for f in snapshot.files([day]) if not is_compacted(f) and snapshot.sizes[f] < small_bytes]
        if len(small) <= limit:
            continue
        with store.cursor() as con:
            new = store.write_query(con, f"SELECT * EXCLUDE (day) FROM {store.source(dataset, small, 'f')}",
                                    {"f": small}, dataset, day, "part", level=1)
        try:
            table.rewrite(snapshot, small, [new] if new else [], data_change=False)
        except RewriteConflict:
            continue  # compacted meanwhile: nothing left to merge
        table.vacuum()
        merged += len(small)
    return merged
