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
    """A flow's (flow, status) rows over some days, every start distinct (arg_max is then defined); some
    start before 1970 (ingest accepts them: the fuzzer sent one), a negative number of microseconds."""
    rng = random.Random(seed)
    starts = rng.sample(range(-(10**13), 10**9), 400)  # (x 1 000 µs from 2026: back to the 1700s)
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


def test_a_start_before_1970_is_grouped_with_its_status(tmp_path):
    """The fuzzer's case: an execution started in 1969 (ingest takes it) once crashed the flow groups."""
    import json

    from factories import finished, started

    from dashboard.ingest import ingest_lines
    from dashboard.queries import LogQueries
    from dashboard.store import Store
    from dashboard.writer import Writer

    store = Store(tmp_path)
    old = dt.datetime(1969, 1, 1, tzinfo=dt.UTC)
    events = [started("e-1", old, flow_name="Old"), finished("e-1", old + dt.timedelta(seconds=5), "failed")]
    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([json.dumps(e).encode() for e in events], writer).ok
    expected = [["Old", 1, "failed", 1]]
    columns = ["flow_name", "runs", "latest_status", "failed_runs"]
    assert LogQueries(store).flow_groups()[columns].values.tolist() == expected  # the day read live
    store.compact()
    assert LogQueries(store).flow_groups()[columns].values.tolist() == expected  # ... and from its rollup
