"""The live demo: it runs at the pace of the history it continues, and stopping it (Ctrl+C, SIGINT,
SIGTERM) finishes what it started, as a flow engine shut down cleanly does. `flowlogs demo --live` and
`flowlogs serve --live-demo` run as real processes and are sent real signals."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.demo import (
    HOUR_WEIGHTS,
    LIVE_STOP_REASON,
    WEEKDAY_FACTORS,
    generate_history,
    history_per_day,
    live_rate,
    run_live,
)
from dashboard.queries import LogQueries
from dashboard.store import Store

CLI = [sys.executable, "-m", "dashboard.cli"]
LONG_FIRST_SEED = 31  # with this seed the live demo's first execution is a long loop (30 s - 3 min)


def flowlogs_json(*args: str, data: Path):
    result = subprocess.run([*CLI, *args, "--json", "--data", str(data)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def start(*args: str) -> subprocess.Popen:
    # SIGINT as in a terminal's foreground, even if the test runner was started with it ignored
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def running_ids(data: Path, process: subprocess.Popen, timeout: float = 90) -> list[str]:
    """The ids of the running executions, once there are some."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        running = flowlogs_json("executions", "--status", "running", data=data)
        if running:
            return [r["execution_id"] for r in running]
        time.sleep(0.3)
    raise AssertionError("no execution was running")


def stop(process: subprocess.Popen, signum: int) -> str:
    process.send_signal(signum)
    try:
        assert process.wait(45) == 0
    finally:
        if process.poll() is None:
            process.kill()
    return process.stderr.read()


# -- pace ----------------------------------------------------------------------------------------


def test_the_live_rate_is_the_history_spread_over_the_day():
    monday = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)
    per_hour = [live_rate(500, monday + dt.timedelta(hours=h)) * 3600 for h in range(24)]
    assert sum(per_hour) == pytest.approx(500 * WEEKDAY_FACTORS[0])  # a day of it is a day of history
    assert per_hour.index(max(per_hour)) == HOUR_WEIGHTS.index(max(HOUR_WEIGHTS))  # busiest at midday
    assert max(per_hour) / 60 < 1  # 500 a day is under one a minute even at the busiest hour


def test_the_live_demo_starts_one_execution_at_least_every_max_gap(tmp_path):
    stopped = threading.Event()
    counted: list[int] = []
    live = threading.Thread(target=lambda: counted.append(
        run_live(Store(tmp_path), seed=2, per_day=1, max_gap=0.5, stop=stopped, long_running_share=0)))
    live.start()
    time.sleep(3)
    stopped.set()
    live.join(30)
    assert 5 <= counted[0] <= 8  # a day's pace of one would start none in 3 s
    counts = LogQueries(Store(tmp_path)).tab_counts()
    assert counts["all"] == counted[0] and counts["running"] == 0


def test_history_per_day_reads_the_pace_of_the_data(tmp_path):
    generate_history(Store(tmp_path), days=4, per_day=60, seed=4, now=dt.datetime.now(dt.timezone.utc))
    assert 54 <= history_per_day(LogQueries(Store(tmp_path))) <= 66  # plan_day keeps a day within 10 %
    assert history_per_day(LogQueries(Store(tmp_path / "empty"))) == 500


# -- stopping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_flowlogs_demo_live_cancels_its_running_executions(tmp_path, signum):
    data = tmp_path / "logs"
    process = start("demo", "--data", str(data), "--days", "1", "--per-day", "20", "--seed", str(LONG_FIRST_SEED),
                    "--live")
    in_flight = running_ids(data, process)
    time.sleep(1)
    assert flowlogs_json("counts", data=data)["running"] >= 1  # the long loop is still going
    said = stop(process, signum)
    assert "the running ones were cancelled" in said

    assert flowlogs_json("counts", data=data)["running"] == 0
    for execution_id in in_flight:
        record = flowlogs_json("show", execution_id, data=data)
        assert record["status"] == "cancelled" and record["error"] == LIVE_STOP_REASON
        assert record["finished_at"] and record["steps"]  # it ended where it was, with what it had done


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_flowlogs_serve_live_demo_finishes_its_executions(tmp_path, signum):
    data = tmp_path / "logs"
    generate_history(Store(data), days=2, per_day=30, seed=5, now=dt.datetime.now(dt.timezone.utc))
    process = start("serve", "--data", str(data), "--port", "0", "--live-demo", "--retention-interval", "3600")
    in_flight = running_ids(data, process)  # the live demo starts one at once
    stop(process, signum)
    assert flowlogs_json("counts", data=data)["running"] == 0
    for execution_id in in_flight:  # finished by the engine: cancelled, or completed just before the signal
        record = flowlogs_json("show", execution_id, data=data)
        assert record["status"] != "running" and record["finished_at"]
        if record["status"] == "cancelled":
            assert record["error"] == LIVE_STOP_REASON
