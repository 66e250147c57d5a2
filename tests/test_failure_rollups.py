"""Compaction writes each day's failed executions with their failing step and cause; `failures()`
and the failure-causes panel read those instead of every step's error and input. Same answers
before and after compaction, with a day made live again by a late event, and a deleted failure
leaves the rollup with its data. `compact(rewrite=True)` rewrites compacted days."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from factories import UTC, assert_gone, finished, started, step, uuid7_at

from dashboard.ingest import ingest_lines
from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 12, 8, 0, tzinfo=UTC)
ERRORS = ["OpenAI API error 429: rate limit exceeded", "Invalid phone number '+49 151 ABC'",
          "WhatsApp account disconnected: session expired", "something nobody classified"]


def run(day: int, n: int, *, flow: str = "Orders", status: str = "failed") -> list[dict]:
    at = T0 + dt.timedelta(days=day, minutes=n)
    execution_id = uuid7_at(at, salt=day * 100 + n)
    error = ERRORS[n % len(ERRORS)]
    return [started(execution_id, at, flow_name=flow, trigger="incoming_message", phone=f"+4915100{day}{n:04d}"),
            step(execution_id, 0, at, input={"contact": n}),
            step(execution_id, 1, at, status="failed" if status != "completed" else "completed", error=error,
                 input={"row": n}),
            step(execution_id, 2, at, status="failed", error="a later failure is not the cause"),
            finished(execution_id, at + dt.timedelta(seconds=9), status, error=error)]


def ingest(store: Store, events: list[dict]) -> None:
    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([json.dumps(e).encode() for e in events], writer).ok


def answers(queries: LogQueries) -> tuple:
    since = T0 + dt.timedelta(days=1, hours=-1)
    return (queries.failures().to_dict("records"), queries.failures(flow_name="Billing").to_dict("records"),
            queries.failures(since=since).to_dict("records"), queries.failures(search="rate limit").to_dict("records"),
            queries.failure_causes().to_dict("records"), queries.failure_causes(bucket="hour").to_dict("records"),
            queries.executions(cause="invalid_phone").execution_id.tolist())


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    statuses = ["failed", "completed_with_errors", "completed"]
    ingest(store, [e for day in range(3) for n in range(8)
                   for e in run(day, n, flow=("Orders", "Billing")[n % 2], status=statuses[n % 3])])
    return store


def test_failures_and_causes_read_the_same_from_rollups_as_from_rows(store):
    before = answers(LogQueries(store))
    assert before[0] and {r["failed_step_index"] for r in before[0]} == {1}
    store.compact()
    queries = LogQueries(store)
    rolled, live = queries._rolled("failure_rollups", None)
    assert not live and rolled.num_rows == len(before[0])  # every failure read from a rollup
    assert answers(queries) == before
    ingest(store, run(1, 50))  # a late failure makes its day live again: classified from its rows
    rolled, live = LogQueries(store)._rolled("failure_rollups", None)
    assert live == [T0.date() + dt.timedelta(days=1)]
    assert len(LogQueries(store).failures()) == len(before[0]) + 1


def test_a_deleted_failure_leaves_the_rollup_with_its_data(store):
    store.compact()
    victim = LogQueries(store).failures().iloc[0]
    store.delete_execution(victim.execution_id)
    assert victim.execution_id not in set(LogQueries(store).failures().execution_id)
    assert_gone(store.root, [victim.execution_id], [victim.trigger_phone])


def test_compacting_again_with_rewrite_gives_new_files_sorted_by_id_and_the_same_answers(store):
    import pyarrow.parquet as pq

    store.compact()
    before, files = answers(LogQueries(store)), store.files("executions")
    assert store.compact(rewrite=True) == store.all_days()
    assert not set(files) & set(store.files("executions"))
    for uri in store.files("executions"):
        ids = pq.read_table(uri, columns=["execution_id"]).column(0).to_pylist()
        assert ids == sorted(ids)  # a detail lookup reads one row group
    queries = LogQueries(store)
    assert answers(queries) == before and not queries._rolled("failure_rollups", None)[1]


def test_a_day_compacted_in_flow_order_by_an_older_version_is_sorted_by_id_at_the_next_compaction(
        tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from benchmarks.generate import generate
    from dashboard.store import compaction, merged_execution_rows_sql

    store = Store(tmp_path)
    generate(tmp_path, 9_000, days=1, seed=2, files_per_day=2)  # three row groups of 4 096
    monkeypatch.setitem(compaction.PLANS, "executions", lambda src: (
        f"SELECT * EXCLUDE (day) FROM ({merged_execution_rows_sql(src)}) ORDER BY flow_name, started_at"))
    store.compact()
    ids = pq.read_table(store.files("executions")[0], columns=["execution_id"]).column(0).to_pylist()
    assert ids != sorted(ids)
    before = LogQueries(store).executions(limit=50)[["execution_id", "status", "flow_name"]].values.tolist()
    monkeypatch.undo()
    assert store.compact() == store.days()  # the old layout is seen in the footer and rewritten
    ids = pq.read_table(store.files("executions")[0], columns=["execution_id"]).column(0).to_pylist()
    assert ids == sorted(ids)
    assert LogQueries(store).executions(limit=50)[["execution_id", "status", "flow_name"]].values.tolist() == before
    assert store.compact() == []  # once
