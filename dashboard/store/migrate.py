"""Moving a store written by flowlogs before Delta tables (its own append-only layout) into a data
location of Delta tables: `flowlogs migrate --from OLD --data NEW`.

The old layout, on a local disk:

    executions/day=D/*.parquet, steps/day=D/*.parquet    rows, by the day the execution started
    tombstones/day=D/*.parquet                           ids deleted from that day
    pending/{executions,steps}/*.parquet                 rows waiting for their execution_started
    _meta/audit.jsonl, _meta/quarantine.jsonl, _meta/horizon, prices.toml, quarantine/

Rows are copied as they are (the merge rule reads them the same way), a day's files into one file
of the new table by DuckDB; deleted ids become hashes in `deletions`; then every day is compacted,
which also writes the rollups. The old location is only read, never changed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from .core import StoreError
from .ids import id_hash
from .tables import NewFile

if TYPE_CHECKING:
    from .core import Store

DATASETS = ("executions", "steps")


def old_days(old: Path, dataset: str) -> dict[dt.date, list[str]]:
    """The day folders of a dataset of the old layout and their files."""
    found: dict[dt.date, list[str]] = {}
    folder = old / dataset
    if folder.is_dir():
        for day_dir in sorted(folder.glob("day=*")):
            try:
                day = dt.date.fromisoformat(day_dir.name.removeprefix("day="))
            except ValueError:
                continue  # not a day folder: never ours
            files = sorted(str(f) for f in day_dir.glob("*.parquet") if f.is_file())
            if files:
                found[day] = files
    return found


def check_old_layout(old: Path, store: Store) -> None:
    if not (old / "executions").is_dir() or (old / "executions" / "_delta_log").exists():
        raise StoreError(f"{old} is not a store of the layout before Delta tables (no executions/day=... folders)")
    if any(table.version() >= 0 for table in store.tables.values()):
        raise StoreError(f"{store.root} already holds a store: migrate into an empty location")


def migrate(old: str | Path, store: Store, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Copy an old-layout store into `store` (empty); returns the rows copied per table."""
    old = Path(old)
    check_old_layout(old, store)
    copied = {name: 0 for name in (*DATASETS, "deletions", "pending_executions", "pending_steps", "audit",
                                   "quarantined")}
    days = {ds: old_days(old, ds) for ds in DATASETS}
    with store.cursor() as con:
        for ds in DATASETS:
            added: list[NewFile] = []
            columns = ", ".join(store.tables[ds].spec.schema.names)
            for day, files in days[ds].items():
                new = store.write_query(con, f"SELECT {columns} FROM read_parquet($f, union_by_name=true)",
                                        {"f": files}, ds, day, "part")
                if new:
                    added.append(new)
                    copied[ds] += new.rows
            store.tables[ds].commit([], added)
        for ds in DATASETS:
            files = sorted(str(f) for f in (old / "pending" / ds).glob("*.parquet"))
            if files:
                rows = con.sql("SELECT * FROM read_parquet($f, union_by_name=true)",
                               params={"f": files}).to_arrow_table()
                store.park(ds, rows.select(store.tables[ds].spec.schema.names).cast(store.tables[ds].spec.schema))
                copied[f"pending_{ds}"] += rows.num_rows
    copied["deletions"] = _copy_tombstones(old, store)
    copied["audit"] = _copy_audit(old, store)
    copied["quarantined"] = _copy_quarantine(old, store)
    horizon = _read_text(old / "_meta" / "horizon")
    if horizon:
        store.set_horizon(dt.date.fromisoformat(horizon.strip()))
    prices = old / "prices.toml"
    if prices.is_file():
        store.location.write_bytes(prices.read_bytes(), "prices.toml")
    store.compact(progress=progress)
    return copied


def _copy_tombstones(old: Path, store: Store) -> int:
    rows = []
    for day, files in old_days(old, "tombstones").items():
        table = pa.concat_tables([pq.read_table(f, columns=["execution_id", "deleted_at"]) for f in files])
        for execution_id, deleted_at in zip(table["execution_id"].to_pylist(), table["deleted_at"].to_pylist(),
                                            strict=True):
            rows.append({"id_hash": id_hash(execution_id), "deleted_at": deleted_at, "day": day})
    if rows:
        store.tables["deletions"].append(pa.Table.from_pylist(rows, store.tables["deletions"].spec.arrow_schema))
    return len(rows)


def _copy_audit(old: Path, store: Store) -> int:
    text = _read_text(old / "_meta" / "audit.jsonl") or ""
    rows = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            at = dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
        except (ValueError, KeyError, AttributeError):
            continue  # a line torn by a crash: the old reader skipped it too
        known = ("at", "user", "role", "via", "action", "execution_ids", "count", "outcome")
        detail = {k: v for k, v in entry.items() if k not in known}
        rows.append({"at": at, "user": entry.get("user"), "role": entry.get("role"), "via": entry.get("via"),
                     "action": entry.get("action"), "execution_ids": entry.get("execution_ids"),
                     "count": entry.get("count"), "outcome": entry.get("outcome"),
                     "detail": json.dumps(detail, ensure_ascii=False) if detail else None, "day": at.date()})
    if rows:
        store.tables["audit"].append(pa.Table.from_pylist(rows, store.tables["audit"].spec.arrow_schema))
    return len(rows)


def _copy_quarantine(old: Path, store: Store) -> int:
    """The record of files moved aside, and the files themselves (kept for inspection, as before)."""
    rows = []
    for line in (_read_text(old / "_meta" / "quarantine.jsonl") or "").splitlines():
        try:
            entry = json.loads(line)
            at = dt.datetime.fromisoformat(entry["at"])
        except (ValueError, KeyError):
            continue
        rows.append({"at": at, "file": entry.get("file"), "moved_to": entry.get("moved_to"),
                     "reason": entry.get("reason"), "day": at.date()})
    if rows:
        store.tables["quarantined"].append(pa.Table.from_pylist(rows, store.tables["quarantined"].spec.arrow_schema))
    moved = old / "quarantine"
    if moved.is_dir() and store.location.path is not None:
        shutil.copytree(moved, store.location.path / "quarantine" / "before-migration", dirs_exist_ok=True)
    return len(rows)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
