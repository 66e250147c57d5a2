"""Upkeep in the background of the served dashboard (dashboard.ui.upkeep.py, used by server.serve)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import MERGE_LIMIT, Store
from dashboard.ui.upkeep import SMALL_FILES, days_with_small_files, start_compaction, start_merging, start_retention


def _wait_gone(path: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while path.exists():
        assert time.monotonic() < deadline, f"{path} was not removed"
        time.sleep(0.05)


def _plant_old_day(store: Store, name: str) -> Path:
    """A day partition far outside the window, made from today's files."""
    today = store.days()[-1]
    old = store.root / "executions" / f"day={name}"
    shutil.copytree(store.day_dir("executions", today), old)
    return old


def test_retention_runs_at_start_up_and_then_every_interval(tmp_path):
    root = tmp_path / "logs"
    with Recorder(root) as recorder:
        with recorder.execution("Daily digest") as run:
            with run.step("Send Message", "send_message"):
                run.message_sent()
    store = Store(root)
    first = _plant_old_day(store, "2001-01-01")
    stop = threading.Event()
    thread = start_retention(root, days=30, interval=0.3, stop=stop)
    try:
        _wait_gone(first)  # the first run is at start-up
        second = _plant_old_day(store, "2001-01-02")
        _wait_gone(second)  # and it runs again on its interval
        assert len(store.days()) == 1  # today is kept
        assert start_retention(root, days=30, interval=0.3) is thread  # one retention thread per data root
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_compaction_folds_a_day_of_small_files(tmp_path):
    root = tmp_path / "logs"
    store = Store(root, fsync=False)
    with Recorder(store) as recorder:
        for _ in range(SMALL_FILES + 4):  # a flush per execution, as a live writer does
            with recorder.execution("Order reminder") as run:
                with run.step("Send Message", "send_message"):
                    run.message_sent()
            recorder.writer.flush()
    today = store.days()[-1]
    assert len(store.files("executions", [today])) > SMALL_FILES
    before = LogQueries(store).tab_counts()
    stop = threading.Event()
    thread = start_compaction(root, interval=0.3, stop=stop)
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
    store = Store(root, fsync=False)
    with Recorder(store) as recorder:
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
    thread = start_merging(root, interval=0.2, stop=stop)  # alone: a compaction would race it
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
