"""Flow groups and tab counts from activity rows, in Arrow.

An activity row counts one flow's executions of one status: (flow_name, status, runs,
last_started_at, last_activity_at). Compacted days keep theirs in the day rollups; other days
(today, late events) get theirs from the same GROUP BY (`store.rules.ACTIVITY_SQL`). The
page's summaries are then sums and maxima over a few thousand rows, done here in Arrow: one
DuckDB statement costs more than that (flow groups at 1 M executions: 6 -> 2.5 ms).
"""

from __future__ import annotations

import struct

import pyarrow as pa
import pyarrow.compute as pc

from ..schema import FAILURE_STATUSES, ROLLUP_ROW, ExecutionStatus, Tab
from .frames import frame

ACTIVITY_SCHEMA = ROLLUP_ROW.remove(ROLLUP_ROW.get_field_index("described"))  # a rollup row is one


def _strings(values: tuple[str, ...]) -> pa.StringArray:
    """A string array built from its buffers: `pa.array` would import pandas (0.15 s) to check
    whether it was given a pandas object, and `flowlogs counts` runs without pandas."""
    encoded = [v.encode() for v in values]
    offsets = [0]
    for value in encoded:
        offsets.append(offsets[-1] + len(value))
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)),
                                       pa.py_buffer(b"".join(encoded)))


STATUSES = _strings(tuple(s.value for s in ExecutionStatus))
FAILURES = _strings(FAILURE_STATUSES)
TAB_STATUSES = {tab: _strings(tab.statuses) for tab in Tab}
GROUP_NAMES = {"runs_sum": "runs", "failed_any": "has_failures",
               "failed_runs_sum": "failed_runs", "last_started_at_max": "last_run_at",
               "last_activity_at_max": "last_activity_at", "latest_max": "latest"}


def tab_counts(rows: pa.Table) -> dict[str, int]:
    """How many executions each filter tab shows."""
    # (no Python number in the compute calls: converting one to Arrow imports pandas too)
    return {tab.value: pc.sum(rows["runs"].filter(pc.is_in(rows["status"], value_set=TAB_STATUSES[tab]))).as_py() or 0
            for tab in Tab}


def flow_groups(rows: pa.Table, tab: Tab | str):
    """Flow groups with runs in the tab (a DataFrame), most recent activity first: runs, the
    status of the latest start, whether any failed and how many, the latest start and activity."""
    if Tab(tab) is not Tab.ALL:  # (a filter copies every row: 1 of the 3 ms at a million executions)
        rows = rows.filter(pc.is_in(rows["status"], value_set=TAB_STATUSES[Tab(tab)]))
    failed = pc.is_in(rows["status"], value_set=FAILURES)
    # the latest start's status without a sort: the start (µs) and the status's number in one
    # integer, whose maximum per flow is the latest start, its status in the low digits (a tie
    # of two statuses at one instant takes the later-listed status, the same every time)
    code = pc.cast(pc.index_in(rows["status"], value_set=STATUSES), pa.int64())
    latest = pc.add(pc.multiply(pc.cast(rows["last_started_at"], pa.int64()), len(STATUSES)), code)
    rows = pa.table({"flow_name": rows["flow_name"], "runs": rows["runs"], "latest": latest, "failed": failed,
                     "failed_runs": pc.if_else(failed, rows["runs"], 0), "last_started_at": rows["last_started_at"],
                     "last_activity_at": rows["last_activity_at"]})
    groups = rows.group_by("flow_name").aggregate(
        [("runs", "sum"), ("latest", "max"), ("failed", "any"), ("failed_runs", "sum"),
         ("last_started_at", "max"), ("last_activity_at", "max")])
    groups = groups.rename_columns([GROUP_NAMES.get(name, name) for name in groups.column_names])
    n = len(STATUSES)  # the remainder is the status's number; Arrow's division truncates towards zero, so a
    # start before 1970 (a negative number) leaves a negative remainder, one period below it
    remainder = pc.subtract(groups["latest"], pc.multiply(pc.divide(groups["latest"], n), n))
    status = STATUSES.take(pc.if_else(pc.less(remainder, 0), pc.add(remainder, n), remainder))
    groups = groups.append_column("latest_status", status).sort_by(
        [("last_activity_at", "descending"), ("flow_name", "ascending")])
    return frame(groups.select(["flow_name", "runs", "latest_status", "has_failures", "failed_runs",
                                "last_run_at", "last_activity_at"]))
