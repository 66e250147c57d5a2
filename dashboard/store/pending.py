"""Rows whose execution_started has not arrived yet wait in the pending tables.

Events of one execution may come in any order and from different processes. A step or a
finish whose start is not stored waits in `pending_steps` / `pending_executions`
(partitioned by the day it was recorded, so retention can expire it), and moves into its
day once the start is stored. A writer that parks rows looks for their start again after
its commit, and a writer that stores starts looks at pending after: whichever of the two
commits second sees the other's, so no row waits for ever. Moving rows is an append to
the day then a rewrite of pending; a crash or a race in between stores a row twice, which
the merge rule reads once.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from .tables import RewriteConflict
from .writes import files_holding, rewrite_files

if TYPE_CHECKING:
    from .core import Store

DATASETS = ("executions", "steps")
RETRIES = 20


def park(store: Store, dataset: str, rows: pa.Table) -> None:
    """Keep rows whose execution is not stored yet, under the day they were recorded."""
    days = pc.cast(rows["recorded_at"], pa.date32())
    store.tables[f"pending_{dataset}"].append(rows.append_column("day", days))


def resolve(store: Store, starting: dict[str, dt.date] | None = None) -> int:
    """Move pending rows whose execution is stored into its day; returns the rows moved.

    With `starting` (ids -> day of starts about to be written) only their rows move, and
    before the start lands: a crash in between never shows a start without the steps and
    finish that were acknowledged before it."""
    for _ in range(RETRIES):
        try:
            return _resolve_once(store, starting)
        except RewriteConflict:
            continue  # another process moved rows meanwhile: read pending again
    return _resolve_once(store, starting)


def _resolve_once(store: Store, starting: dict[str, dt.date] | None) -> int:
    snapshots = {ds: store.snapshot(f"pending_{ds}") for ds in DATASETS}
    if not any(s.sizes for s in snapshots.values()):
        return 0
    tables = {ds: store.read_rows(f"pending_{ds}", s.files()) for ds, s in snapshots.items()}
    ids = set()
    for table in tables.values():
        ids.update(table.column("execution_id").to_pylist())
    days = store.find_days(ids) if starting is None else {x: d for x, d in starting.items() if x in ids}
    if not days:
        return 0
    moved = 0
    for ds, table in tables.items():
        placed = table.filter(pc.is_in(table["execution_id"], pa.array(sorted(days), pa.string())))
        if placed.num_rows == 0:
            continue
        by_day: dict[dt.date, list[dict]] = {}
        for row in placed.drop(["day"]).to_pylist():
            by_day.setdefault(days[row["execution_id"]], []).append(row)
        schema = store.tables[ds].spec.schema
        store.write_rows(ds, {day: pa.Table.from_pylist(rows, schema) for day, rows in by_day.items()})
        moved += placed.num_rows
        files = files_holding(store, snapshots[ds].files(), sorted(days))
        rewrite_files(store, f"pending_{ds}", snapshots[ds], files,
                      "execution_id NOT IN (SELECT unnest($placed))", {"placed": sorted(days)})
        store.tables[f"pending_{ds}"].vacuum()  # no second copy of the moved rows lingers
    return moved


def expire(store: Store, cutoff: dt.date) -> None:
    """Drop pending rows recorded before the cutoff: their start never came within the window."""
    for ds in DATASETS:
        table = store.tables[f"pending_{ds}"]
        for _ in range(RETRIES):
            snapshot = table.snapshot()
            old = snapshot.files([d for d in snapshot.by_day if d < cutoff])
            if not old:
                break
            try:
                table.rewrite(snapshot, old, [])
                table.vacuum()
                break
            except RewriteConflict:
                continue
