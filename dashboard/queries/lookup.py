"""One execution read straight from its day's compacted files, without SQL.

A compacted day's files are sorted by execution id in row groups of 4 096 rows, so an execution's
rows are in the row group whose id range holds its id: pyarrow reads that group with the file's
footer kept from the first lookup (about 3 ms, against about 8 through DuckDB, which plans a query
and opens every column reader each time). The fields are those of `EXECUTION_COLUMNS` and
`STEP_DETAIL` in core.py; `tests/test_detail_lookup.py` keeps the two ways equal. A day with newer
small files (a live day) is left to the SQL, which merges them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..schema import ExecutionStatus
from ..store import is_compacted

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store import Store

FOOTERS = 256  # files whose footer is kept: a month of days, both datasets, several times over


class CompactedLookup:
    def __init__(self, store: Store):
        self.store = store
        self._footers: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def execution(self, execution_id: str, day: dt.date) -> dict | None | type[NotImplemented]:
        """The execution as `LogQueries.execution` gives it; None if the day's files do not hold it;
        NotImplemented when the day is not one compacted file per dataset (the SQL answers then)."""
        files = {}
        for dataset in ("executions", "steps"):
            day_files = self.store.files(dataset, [day])
            if len(day_files) != 1 or not is_compacted(day_files[0]):
                return NotImplemented
            files[dataset] = day_files[0]
        try:
            rows = self._rows(files["executions"], execution_id)
            steps = sorted(self._rows(files["steps"], execution_id), key=lambda s: s["step_index"]) if rows else []
        except FileNotFoundError:
            raise  # compacted or deleted meanwhile: the store's read lists the files again
        except Exception:  # noqa: BLE001 - a damaged file: DuckDB's read names it, and the store moves it aside
            with self._lock:
                for uri in files.values():
                    self._footers.pop(uri, None)
            return NotImplemented
        if not rows or rows[0]["started_at"] is None:
            return None  # (an execution whose start never came is not shown)
        now = dt.datetime.now(dt.UTC)
        return _execution(rows[0], day, now) | {"steps": [_step(s) for s in steps]}

    def _rows(self, uri: str, execution_id: str) -> list[dict]:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        footer = self._footer(uri)
        column = footer.schema.to_arrow_schema().get_field_index("execution_id")
        groups = [i for i in range(footer.num_row_groups)
                  if _holds(footer.row_group(i).column(column).statistics, execution_id)]
        if not groups:
            return []
        location = self.store.location
        source = uri if location.is_local else location.fs.open(uri, "rb")
        try:
            # one small group: threads cost more than they give
            table: pa.Table = pq.ParquetFile(source, metadata=footer).read_row_groups(groups, use_threads=False)
        finally:
            if not location.is_local:
                source.close()
        return table.filter(pc.equal(table["execution_id"], execution_id)).to_pylist()

    def _footer(self, uri: str):
        """A file's footer, read once: a file never changes (a rewrite writes a new one)."""
        import pyarrow.parquet as pq

        with self._lock:
            footer = self._footers.get(uri)
            if footer is not None:
                self._footers.move_to_end(uri)
                return footer
        location = self.store.location
        if location.is_local:
            footer = pq.read_metadata(uri)
        else:
            with location.fs.open(uri, "rb") as f:
                footer = pq.read_metadata(f)
        with self._lock:
            self._footers[uri] = footer
            while len(self._footers) > FOOTERS:
                self._footers.popitem(last=False)
        return footer


def _holds(statistics, execution_id: str) -> bool:
    if statistics is None or not statistics.has_min_max:
        return True  # no range known: read it
    return statistics.min <= execution_id <= statistics.max


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _ms(ts: dt.datetime) -> int:
    return (ts - EPOCH) // dt.timedelta(milliseconds=1)  # epoch_ms: whole milliseconds, floored, as DuckDB


def _execution(row: dict, day: dt.date, now: dt.datetime) -> dict:
    return {
        "execution_id": row["execution_id"], "flow_id": row["flow_id"], "flow_name": row["flow_name"],
        "status": row["status"] or ExecutionStatus.RUNNING.value, "trigger_type": row["trigger_type"],
        "trigger_phone": row["trigger_phone"], "started_at": row["started_at"], "finished_at": row["finished_at"],
        "duration_ms": _ms(row["finished_at"] or now) - _ms(row["started_at"]),
        "messages_sent": row["messages_sent"] or 0, "messages_failed": row["messages_failed"] or 0,
        "error": row["error"], "day": day,
    }


def _step(row: dict) -> dict:
    started, finished = row["started_at"], row["finished_at"]
    return {
        "index": row["step_index"], "node_id": row["node_id"], "node_name": row["node_name"],
        "node_type": row["node_type"], "status": row["status"], "started_at": started, "finished_at": finished,
        "duration_ms": None if started is None or finished is None else _ms(finished) - _ms(started),
        "model": row["model"], "prompt_tokens": row["prompt_tokens"], "completion_tokens": row["completion_tokens"],
        "total_tokens": (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0),
        "system_prompt": row["system_prompt"], "user_prompt": row["user_prompt"], "ai_reply": row["ai_reply"],
        "warnings": row["warnings"], "error": row["error"], "input": row["input"], "output": row["output"],
    }
