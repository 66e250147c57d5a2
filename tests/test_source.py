"""The page's shared data source: one published change token for all sessions, moved at a pace
set by the cost of the queries it caused."""

from __future__ import annotations

import time

from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.ui import source as source_module
from dashboard.ui.source import LogSource


def record_one(store: Store, flow: str = "Order reminder") -> None:
    with Recorder(store) as recorder:
        with recorder.execution(flow) as run:
            with run.step("Send Message", "send_message"):
                run.message_sent()


def test_the_live_token_moves_at_most_once_per_gap_and_an_explicit_refresh_moves_it_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(source_module, "MIN_REFRESH_GAP", 60.0)
    store = Store(tmp_path / "logs", fsync=False)
    record_one(store)
    source = LogSource(store.root)
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
    store = Store(tmp_path / "logs", fsync=False)
    record_one(store)
    source = LogSource(store.root)
    source.change_token()
    groups = source.flow_groups_now("all")
    record_one(store, "Lead follow-up")  # the store moved, the published token not yet
    source.live_token()
    assert source.flow_groups_now("all") is groups  # the same cached list: no second query
    source.change_token()
    assert [g["flow_name"] for g in source.flow_groups_now("all")] == ["Lead follow-up", "Order reminder"]


def test_the_gap_grows_with_the_work_each_token_caused_and_stays_within_bounds(tmp_path, monkeypatch):
    store = Store(tmp_path / "logs", fsync=False)
    record_one(store)
    source = LogSource(store.root)
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
