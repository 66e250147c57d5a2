"""An execution of a compacted day is read from its files' row group without SQL; the answer is
the SQL's, field for field (running, failed, AI steps, a step without an end, warnings), and a
live day, a deleted execution and an id of no execution still come out right."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from factories import UTC, finished, started, step, uuid7_at

from dashboard.ingest import ingest_lines
from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 14, 10, 0, tzinfo=UTC)


def ingest(store: Store, events: list[dict]) -> None:
    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([json.dumps(e).encode() for e in events], writer).ok


def run(n: int, status: str | None) -> tuple[str, list[dict]]:
    at = T0 + dt.timedelta(minutes=n)
    execution_id = uuid7_at(at, salt=n)
    events = [started(execution_id, at, flow_name=f"Flow {n % 3}", trigger="incoming_message", phone=f"+49151{n:07d}")]
    events += [step(execution_id, i, at + dt.timedelta(seconds=i), tokens=(100 + i, 20) if i == 1 else None,
                    warnings=["slow"] if i == 2 else [], status="failed" if status == "failed" and i == 2
                    else "completed") for i in (2, 0, 1)]  # out of order
    if status:
        events.append(finished(execution_id, at + dt.timedelta(seconds=5), status, messages_sent=n,
                               error="boom" if status == "failed" else None))
    return execution_id, events


@pytest.fixture
def store(tmp_path) -> tuple[Store, list[str]]:
    store = Store(tmp_path)
    runs = [run(n, [None, "completed", "failed", "cancelled"][n % 4]) for n in range(5000)]  # 2 row groups
    ingest(store, [e for _, events in runs for e in events])
    store.compact()
    return store, [i for i, _ in runs]


def by_sql(queries: LogQueries, execution_id: str) -> dict | None:
    queries._lookup.execution = lambda *args: NotImplemented  # this instance answers through SQL only
    return queries.execution(execution_id)


def test_the_lookup_gives_the_sqls_answer_field_for_field(store):
    store, ids = store
    fast, slow = LogQueries(store), LogQueries(store)
    for execution_id in ids[::97] + ids[-3:]:
        a, b = fast.execution(execution_id), by_sql(slow, execution_id)
        for record in (a, b):
            record.pop("duration_ms") if record["status"] == "running" else None  # the clock runs on
        assert a == b and [s["index"] for s in a["steps"]] == [0, 1, 2]
    assert fast._lookup._footers  # it did read the files itself


def test_a_live_day_a_deleted_execution_and_no_execution(store):
    store, ids = store
    queries = LogQueries(store)
    assert queries.execution(uuid7_at(T0, salt=99_999)) is None
    store.delete_execution(ids[1])
    assert queries.execution(ids[1]) is None
    late = dict(step(ids[2], 3, T0, node_type="http_request"))
    ingest(store, [late])  # the day is live again: the SQL merges the new file
    assert [s["index"] for s in queries.execution(ids[2])["steps"]] == [0, 1, 2, 3]
