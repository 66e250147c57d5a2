"""A running execution whose engine went silent is closed as failed; a live one is not."""

import datetime as dt
import json
import time

from cli_inproc import run_cli
from factories import line, parsed, started, step

from dashboard.queries import LogQueries
from dashboard.stale import close_stale_executions
from dashboard.store import Store
from dashboard.writer import Writer

UTC = dt.timezone.utc


def test_silent_running_execution_is_closed_as_failed_and_a_live_one_is_not(tmp_path):
    """Silence is counted from when events arrived (recorded_at), so the test waits for real."""
    now = dt.datetime.now(UTC)
    with Writer(Store(tmp_path), flush_interval=None) as writer:
        for execution_id in ("silent", "alive"):
            writer.write(parsed(started(execution_id, now - dt.timedelta(hours=1), flow_name="Long loop")))
            writer.write(parsed(step(execution_id, 0, now - dt.timedelta(hours=1))))
    assert close_stale_executions(LogQueries(Store(tmp_path))) == []  # the default 24 h: nobody is silent
    time.sleep(1.5)
    with Writer(Store(tmp_path), flush_interval=None) as writer:  # "alive" keeps reporting
        writer.write(parsed(step("alive", 1, now)))
    assert close_stale_executions(LogQueries(Store(tmp_path)), dt.timedelta(seconds=1)) == ["silent"]
    queries = LogQueries(Store(tmp_path))
    silent = queries.execution("silent")
    assert silent["status"] == "failed" and "stopped reporting" in silent["error"]
    assert [s["index"] for s in silent["steps"]] == [0]  # its steps stay
    assert queries.execution("alive")["status"] == "running"


def test_cli_close_stale(tmp_path):
    events = tmp_path / "events.jsonl"
    old = dt.datetime.now(UTC) - dt.timedelta(hours=2)
    events.write_text(line(started("stuck", old)) + "\n")

    def flowlogs(*args: str):  # in this process (tests/cli_inproc.py): the real app, no interpreter start
        result = run_cli([*args, "--data", str(tmp_path)])
        assert result.returncode == 0, result.stderr
        return result

    flowlogs("ingest", str(events))
    time.sleep(1.2)  # silence is counted from when the event arrived
    result = flowlogs("close-stale", "--hours", "0.0002")
    assert "closed 1 execution" in result.stderr and "stuck" in result.stderr
    shown = json.loads(flowlogs("show", "stuck", "--json").stdout)
    assert shown["status"] == "failed"
