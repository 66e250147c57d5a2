"""Upkeep in the background of a server (dashboard/upkeep.py, started by server.serve and app.py)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import MERGE_LIMIT, Store
from dashboard.upkeep import SMALL_FILES, days_with_small_files, start_compaction, start_merging, start_retention
from dashboard.writer import Writer


def _wait_gone(store: Store, day: dt.date, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while day in store.days():
        assert time.monotonic() < deadline, f"{day} was not dropped"
        time.sleep(0.05)


def _plant_old_day(store: Store, day: dt.date) -> dt.date:
    """A finished execution far outside the window (written before retention ever ran on that day)."""
    at = dt.datetime.combine(day, dt.time(9), dt.UTC)
    with Recorder(Writer(store, flush_interval=None), clock=lambda: at) as recorder:
        with recorder.execution("Daily digest"):
            pass
    return day


def test_retention_runs_at_start_up_and_then_every_interval(tmp_path):
    root = tmp_path / "logs"
    with Recorder.open(root) as recorder:
        with recorder.execution("Daily digest") as run:
            with run.step("Send Message", "send_message"):
                run.message_sent()
    store = Store(root)
    first = _plant_old_day(store, dt.date(2001, 1, 1))
    stop = threading.Event()
    thread = start_retention(LogQueries(store), stop, days=30, interval=0.3)
    try:
        _wait_gone(store, first)  # the first run is at start-up
        store.location.write_bytes(b"2000-01-01", "_meta", "horizon")  # (so that the next old day is taken)
        second = _plant_old_day(store, dt.date(2001, 1, 2))
        _wait_gone(store, second)  # and it runs again on its interval
        assert len(store.days()) == 1  # today is kept
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_compaction_folds_a_day_of_small_files(tmp_path):
    root = tmp_path / "logs"
    store = Store(root)
    with Recorder(Writer(store)) as recorder:
        for _ in range(SMALL_FILES + 4):  # a flush per execution, as a live writer does
            with recorder.execution("Order reminder") as run:
                with run.step("Send Message", "send_message"):
                    run.message_sent()
            recorder.writer.flush()
    today = store.days()[-1]
    assert len(store.files("executions", [today])) > SMALL_FILES
    before = LogQueries(store).tab_counts()
    stop = threading.Event()
    thread = start_compaction(store, stop, interval=0.3)
    try:
        deadline = time.monotonic() + 10
        while days_with_small_files(store):
            assert time.monotonic() < deadline, "the small files were not compacted"
            time.sleep(0.05)
        assert len(store.files("executions", [today])) == 1
        assert LogQueries(store).tab_counts() == before  # the same executions, in fewer files
    finally:
        stop.set()
        thread.join(5)


def test_a_live_days_small_files_are_merged_every_few_seconds_with_the_same_results(tmp_path):
    """A live stream adds a file per flush; merging keeps today's count low between compactions."""
    root = tmp_path / "logs"
    store = Store(root)
    with Recorder(Writer(store)) as recorder:
        for i in range(MERGE_LIMIT + 8):
            with recorder.execution("Order reminder" if i % 2 else "Support auto-reply") as run:
                with run.step("Send Message", "send_message"):
                    run.message_sent()
                if i % 5 == 0:
                    with run.step("AI Response", "ai_response") as step:
                        step.fail("OpenAI API error 429: rate limit exceeded")
            recorder.writer.flush()
        running = recorder.execution("Lead follow-up")
        running.__enter__()
        recorder.writer.flush()
    today = store.days()[-1]
    assert len(store.files("steps", [today])) > MERGE_LIMIT
    queries = LogQueries(store)
    before = (queries.tab_counts(), queries.flow_groups().to_dict("records"), queries.failures().to_dict("records"))
    stop = threading.Event()
    thread = start_merging(store, stop, interval=0.2)  # alone: a compaction would race it
    try:
        deadline = time.monotonic() + 10
        while len(store.files("steps", [today])) > 1 or len(store.files("executions", [today])) > 1:
            assert time.monotonic() < deadline, "the small files were not merged"
            time.sleep(0.05)
        assert not any(Path(f).name.startswith("compact-") for f in store.files("steps", [today]))  # rows as written
        after = (queries.tab_counts(), queries.flow_groups().to_dict("records"), queries.failures().to_dict("records"))
        assert after == before
        assert after[0]["running"] == 1
    finally:
        stop.set()
        thread.join(5)
