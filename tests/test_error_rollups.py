"""Compaction writes each day's step errors; a search that reads no AI replies (an id, a phone
number, or any search of a viewer who may not read them) tests those instead of every step's
error. Same answers before and after compaction and after a late event; a deleted execution leaves
the rollup; a day with nothing of a kind gets an empty rollup, so it is never read in full."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from factories import UTC, assert_gone, finished, started, step, uuid7_at

from dashboard.ingest import ingest_lines
from dashboard.queries import LogQueries
from dashboard.queries.search import Search
from dashboard.store import Store
from dashboard.store.compaction import current_rollups
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 12, 8, 0, tzinfo=UTC)


def run(day: int, n: int) -> list[dict]:
    at = T0 + dt.timedelta(days=day, minutes=n)
    x = uuid7_at(at, salt=day * 100 + n)
    status = ("failed", "completed", "completed_with_errors")[n % 3]
    # step 1's error is in no execution's error: only the steps (or their rollup) can find it
    return [started(x, at, flow_name="Orders", trigger="incoming_message", phone=f"+4915100{day}{n:04d}"),
            step(x, 0, at, ai_reply=f"Reply number {n}"),
            step(x, 1, at, status="failed", error=f"Quota of tenant T{day}{n:02d} exceeded"),
            step(x, 2, at, status="failed", error=f"Quota of tenant T{day}{n:02d} exceeded"),  # the same, kept once
            finished(x, at + dt.timedelta(seconds=9), status, error="Flow stopped" if status == "failed" else None)]


def ingest(store: Store, events: list[dict]) -> None:
    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([json.dumps(e).encode() for e in events], writer).ok


def searches(store: Store) -> list[str]:
    ids = LogQueries(store).executions(limit=5).execution_id.tolist()
    return [ids[0], ids[1][:13], ids[2].upper(), "+4915100" + "10003", "151 0020", "tenant T105", "QUOTA",
            "Reply number"]


def answers(queries: LogQueries, texts: list[str]) -> list:
    return [(queries.tab_counts(search=Search(t, ai_replies=replies)),
             sorted(queries.executions(search=Search(t, ai_replies=replies), limit=100).execution_id))
            for t in texts for replies in (True, False)]


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    ingest(store, [e for day in range(3) for n in range(12) for e in run(day, n)])
    return store


def test_searches_read_the_error_rollups_and_answer_as_the_steps_do(store, monkeypatch):
    texts = searches(store)
    before = answers(LogQueries(store), texts)
    assert all(counts["all"] for counts, _ in before[:12])  # ids, phones and a step's error all match
    assert before[14][0]["all"] == 36 and before[15][0]["all"] == 0  # "Reply number", replies left out
    store.compact()
    rolled = current_rollups(store, "error_rollups", store.all_days())
    assert sorted(rolled) == store.all_days()
    rows = pq.read_table(rolled[T0.date()]).to_pylist()
    assert len(rows) == 12 and {r["error"] for r in rows} == {f"Quota of tenant T0{n:02d} exceeded" for n in range(12)}

    queries = LogQueries(store)
    bodies = []
    real_sql = queries._sql
    monkeypatch.setattr(queries, "_sql", lambda body, *a, **k: bodies.append(body) or real_sql(body, *a, **k))
    assert answers(queries, texts) == before
    id_search = [b for b in bodies if "$error_rollups" in b]
    assert id_search and not any("FROM steps" in b for b in id_search)
    assert any("ai_reply" in b and "FROM steps" in b for b in bodies)  # a search of replies still reads the steps

    ingest(store, run(1, 50))  # a late execution makes its day live again: its steps are read
    assert T0.date() + dt.timedelta(days=1) not in current_rollups(store, "error_rollups", store.all_days())
    assert LogQueries(store).tab_counts(search="tenant T150")["all"] == 1


def test_a_deleted_execution_leaves_the_error_rollup(store):
    store.compact()
    victim = LogQueries(store).executions(search="tenant T207", limit=1).iloc[0]
    store.delete_execution(victim.execution_id)
    assert LogQueries(store).tab_counts(search="tenant T207")["all"] == 0
    assert_gone(store.root, [victim.execution_id], [victim.trigger_phone])


def test_a_day_with_nothing_of_a_kind_gets_an_empty_rollup_and_is_not_read_in_full(tmp_path):
    store = Store(tmp_path)
    x = uuid7_at(T0, salt=1)
    ingest(store, [started(x, T0), step(x, 0, T0), finished(x, T0 + dt.timedelta(seconds=3), "completed")])
    store.compact()
    for kind in ("failure_rollups", "error_rollups"):
        (rollup,) = current_rollups(store, kind, [T0.date()]).values()
        assert pq.read_metadata(rollup).num_rows == 0
    queries = LogQueries(store)
    assert queries._rolled("failure_rollups", None)[1] == []  # no day read live
    assert queries.failures().empty and queries.tab_counts(search="+49")["all"] == 0
