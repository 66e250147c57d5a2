"""Flow groups and tab counts summed in Arrow (dashboard/queries/activity.py) are what DuckDB's
aggregation of the same activity rows gives: runs, the latest start's status, failures, order."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from dashboard.queries import activity
from dashboard.schema import FAILURE_STATUSES, ExecutionStatus, Tab

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SQL = """
    SELECT flow_name, sum(runs)::BIGINT AS runs, arg_max(status, last_started_at) AS latest_status,
           bool_or(list_contains($failure, status)) AS has_failures,
           coalesce(sum(runs) FILTER (WHERE list_contains($failure, status)), 0)::BIGINT AS failed_runs,
           max(last_started_at) AS last_run_at, max(last_activity_at) AS last_activity_at
    FROM rows WHERE list_contains($statuses, status)
    GROUP BY flow_name ORDER BY last_activity_at DESC, flow_name"""


def activity_rows(seed: int) -> pa.Table:
    """A flow's (flow, status) rows over some days, every start distinct (arg_max is then defined)."""
    rng = random.Random(seed)
    starts = rng.sample(range(10**9), 400)
    rows = []
    for start in starts:
        started = T0 + dt.timedelta(microseconds=start * 1000 + rng.randrange(1000))
        rows.append({"flow_name": f"Flow {rng.randrange(12)}", "status": rng.choice(list(ExecutionStatus)).value,
                     "runs": rng.randrange(1, 50), "last_started_at": started,
                     "last_activity_at": started + dt.timedelta(seconds=rng.randrange(600))})
    return pa.Table.from_pylist(rows, activity.ACTIVITY_SCHEMA)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tab", list(Tab))
def test_flow_groups_in_arrow_are_duckdbs_aggregation(seed, tab):
    rows = activity_rows(seed)
    con = duckdb.connect()
    con.register("rows", rows)
    expected = con.sql(SQL, params={"failure": list(FAILURE_STATUSES), "statuses": list(tab.statuses)}).df()
    got = activity.flow_groups(rows, tab)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    assert activity.tab_counts(rows) == {t.value: sum(r["runs"] for r in rows.to_pylist() if r["status"] in t.statuses)
                                         for t in Tab}


def test_no_rows_give_no_groups_and_zero_counts():
    empty = pa.Table.from_batches([], activity.ACTIVITY_SCHEMA)
    assert activity.flow_groups(empty, Tab.ALL).empty
    assert activity.tab_counts(empty) == {t.value: 0 for t in Tab}
