"""The page's shared data source: one published change token for all sessions, moved at a pace
set by the cost of the queries it caused."""

from __future__ import annotations

import asyncio
import threading
import time

from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.ui import source as source_module
from dashboard.ui.source import LogSource
from dashboard.writer import Writer
from tests.loops import run_in_own_loop


def record_one(store: Store, flow: str = "Order reminder") -> None:
    with Recorder(Writer(store)) as recorder:
        with recorder.execution(flow) as run:
            with run.step("Send Message", "send_message"):
                run.message_sent()


def test_the_live_token_moves_at_most_once_per_gap_and_an_explicit_refresh_moves_it_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(source_module, "MIN_REFRESH_GAP", 60.0)
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    first = source.live_token()
    assert first == store.change_token()

    record_one(store, "Lead follow-up")
    assert store.change_token() != first
    assert source.live_token() == first  # within the gap: sessions keep sharing the published token
    assert source.tab_counts_now()["all"] == 2  # a query under the old token still reads the disk as it is

    fresh = source.change_token()  # a Refresh click or the user's own delete
    assert fresh == store.change_token() != first
    assert source.live_token() == fresh


def test_sessions_share_one_result_per_published_token(tmp_path, monkeypatch):
    monkeypatch.setattr(source_module, "MIN_REFRESH_GAP", 60.0)
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    source.change_token()
    groups = source.flow_groups_now("all")
    record_one(store, "Lead follow-up")  # the store moved, the published token not yet
    source.live_token()
    assert source.flow_groups_now("all") is groups  # the same cached list: no second query
    source.change_token()
    assert [g["flow_name"] for g in source.flow_groups_now("all")] == ["Lead follow-up", "Order reminder"]


def test_the_gap_grows_with_the_work_each_token_caused_and_stays_within_bounds(tmp_path, monkeypatch):
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    source.change_token()
    assert source.refresh_gap() == source_module.MIN_REFRESH_GAP
    slow = source._cached(("slow",), lambda: time.sleep(0.5) or "done")
    assert slow == "done"
    assert source.refresh_gap() >= 0.5 / source_module.WORK_SHARE - 0.01
    source._cached(("slower",), lambda: time.sleep(2.6) or "done")
    assert source.refresh_gap() == source_module.MAX_REFRESH_GAP
    record_one(store, "Lead follow-up")
    source.change_token()  # a new token starts with no work: a quiet store refreshes quickly again
    assert source.refresh_gap() == source_module.MIN_REFRESH_GAP


def test_twenty_sessions_asking_at_once_run_one_query_and_wait_without_holding_threads(tmp_path):
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    calls, threads = [], set()
    query = source.queries.flow_groups

    def counted(*args, **kwargs):
        calls.append(args)
        threads.add(threading.get_ident())
        time.sleep(0.3)  # long enough for all twenty to ask while it runs
        return query(*args, **kwargs)

    source.queries.flow_groups = counted

    async def twenty_sessions():
        return await asyncio.gather(*(source.flow_groups("all") for _ in range(20)))

    results = run_in_own_loop(twenty_sessions())
    assert len(calls) == 1 and len(threads) == 1
    assert all(r is results[0] for r in results)
    assert [g["flow_name"] for g in results[0]] == ["Order reminder"]


def test_a_failed_load_reaches_every_waiter_and_is_not_remembered(tmp_path):
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    query = source.queries.tab_counts
    failures = []

    def flaky(**kwargs):
        if not failures:
            failures.append(1)
            time.sleep(0.2)
            raise OSError("disk went away")
        return query(**kwargs)

    source.queries.tab_counts = flaky

    async def three_sessions():
        return await asyncio.gather(*(source.tab_counts() for _ in range(3)), return_exceptions=True)

    assert all(isinstance(r, OSError) for r in run_in_own_loop(three_sessions()))
    assert run_in_own_loop(source.tab_counts())["all"] == 1  # asked again: tried again


def test_the_event_loops_time_showing_results_also_lengthens_the_gap(tmp_path):
    store = Store(tmp_path / "logs")
    record_one(store)
    source = LogSource(LogQueries(store))
    source.change_token()
    assert source.refresh_gap() == source_module.MIN_REFRESH_GAP
    source.shown(1.0)  # the loaders of twenty sessions spent a second redrawing
    assert source.refresh_gap() == 1.0 / source_module.WORK_SHARE
