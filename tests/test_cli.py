"""The `flowlogs` command on demo data it wrote itself. The commands run in this process (tests/cli_inproc.py:
the real `app`, store and output, without ~1 s of interpreter start each); test_bad_arguments_are_named runs
`python -m dashboard.cli` as a user does, for the exit codes and stderr of a real process."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_inproc import run_cli
from factories import assert_gone

from dashboard.store import Store

DAYS = 30
TODAY = dt.datetime.now(dt.timezone.utc).date()


def flowlogs(*args, data=None, input=None, check=True, process=False):
    cmd = [*args] + (["--data", str(data)] if data else [])
    if process:
        result = subprocess.run([sys.executable, "-m", "dashboard.cli", *cmd], capture_output=True, text=True,
                                input=input, timeout=300)
    else:
        result = run_cli(cmd, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}:\n{result.stderr}")
    return result


def as_json(*args, data):
    return json.loads(flowlogs(*args, "--json", data=data).stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli") / "demo"
    # history ending today at noon: the same partitions whatever time of day the suite runs
    flowlogs("demo", "--days", str(DAYS), "--per-day", "30", "--seed", "1", "--now", f"{TODAY}T12:00:00Z", data=data)
    return data


def all_step_rows(data: Path):
    return [row for f in sorted(data.glob("steps/day=*/*.parquet")) for row in pq.read_table(f).to_pylist()]


def test_demo_writes_one_partition_a_day(demo):
    days = Store(demo).days()
    assert len(days) == DAYS
    assert days[-1] == TODAY and days[0] == TODAY - dt.timedelta(days=DAYS - 1)
    assert sorted(p.name for p in (demo / "executions").iterdir() if p.name != "_delta_log") == [
        f"day={day}" for day in days]  # a folder a day, as any Delta reader expects


def test_flows_counts_and_failures_agree(demo):
    counts = as_json("counts", data=demo)
    assert set(counts) == {"all", "running", "failed", "completed"}
    assert counts["all"] == counts["running"] + counts["failed"] + counts["completed"] > DAYS * 20
    flows = as_json("flows", data=demo)
    assert set(flows[0]) == {"flow_name", "runs", "latest_status", "has_failures", "last_run_at"}
    assert sum(f["runs"] for f in flows) == counts["all"]
    assert [f["last_run_at"] for f in flows] != [] and len(flows) >= 12
    failed_flows = as_json("flows", "--status", "failed", data=demo)
    assert sum(f["runs"] for f in failed_flows) == counts["failed"]
    assert {f["flow_name"] for f in failed_flows} == {f["flow_name"] for f in flows if f["has_failures"]}
    failures = as_json("failures", data=demo)
    assert len(failures) == counts["failed"]
    assert {f["cause"] for f in failures} >= {"whatsapp_connection", "invalid_phone", "ai_provider",
                                               "template_variable"}


def test_tokens_equal_the_sum_over_the_steps(demo):
    steps = all_step_rows(demo)
    prompt = sum(r["prompt_tokens"] or 0 for r in steps)
    completion = sum(r["completion_tokens"] or 0 for r in steps)
    assert prompt > 0 and completion > 0
    for by in ("day", "flow", "node", "model"):
        rows = as_json("tokens", "--by", by, data=demo)
        assert sum(r["prompt_tokens"] for r in rows) == prompt, by
        assert sum(r["completion_tokens"] for r in rows) == completion, by
        assert sum(r["total_tokens"] for r in rows) == prompt + completion, by
    assert len(as_json("tokens", "--by", "day", data=demo)) == DAYS


def test_show_gives_every_step_in_order(demo):
    flows = as_json("flows", data=demo)
    executions = as_json("executions", "--flow", flows[0]["flow_name"], "--limit", "5", data=demo)
    assert set(executions[0]) == {"execution_id", "flow_name", "status", "trigger", "started_at", "finished_at",
                                  "duration_ms", "messages_sent", "messages_failed"}
    assert [e["started_at"] for e in executions] == sorted((e["started_at"] for e in executions), reverse=True)
    failure = as_json("failures", data=demo)[0]
    record = as_json("show", failure["execution_id"], data=demo)
    assert record["status"] in ("failed", "completed_with_errors") and record["steps"]
    assert [s["index"] for s in record["steps"]] == sorted(s["index"] for s in record["steps"])
    failing = record["steps"][failure["failed_step_index"]]
    assert failing["status"] == "failed" and failing["error"] == failure["error"]
    step_rows = [r for r in all_step_rows(demo) if r["execution_id"] == record["execution_id"]]
    assert len(step_rows) == len(record["steps"])
    text = flowlogs("show", failure["execution_id"], data=demo).stdout
    assert failing["node_name"] in text and "error" in text


def test_bad_arguments_are_named(demo):
    result = flowlogs("tokens", "--by", "colour", data=demo, check=False, process=True)
    assert result.returncode != 0 and "--by" in result.stderr
    result = flowlogs("show", "no-such-execution", data=demo, check=False, process=True)
    assert result.returncode == 1 and "no-such-execution" in result.stderr


def test_management_commands(tmp_path):
    data = tmp_path / "logs"
    flowlogs("demo", "--days", "10", "--per-day", "10", "--seed", "2", "--now", f"{TODAY}T12:00:00Z", data=data)
    events = tmp_path / "running.jsonl"
    events.write_text(json.dumps({
        "type": "execution_started", "execution_id": "still-running", "flow_id": "f", "flow_name": "Long loop",
        "at": dt.datetime.now(dt.timezone.utc).isoformat(), "trigger": {"type": "manual"}}) + "\n")
    flowlogs("ingest", str(events), data=data)

    refused = flowlogs("delete", "still-running", data=data, check=False)
    assert refused.returncode == 1 and "still running" in refused.stderr

    victim = as_json("executions", "--status", "completed", "--limit", "1", data=data)[0]["execution_id"]
    flowlogs("delete", victim, data=data)
    assert flowlogs("show", victim, data=data, check=False).returncode == 1
    assert_gone(data, [victim])

    before = as_json("counts", data=data)
    flowlogs("compact", data=data)
    assert as_json("counts", data=data) == before

    flowlogs("retention", "--days", "7", data=data)
    assert len(Store(data).days()) == 7
    after_retention = as_json("counts", data=data)
    assert 0 < after_retention["all"] < before["all"] and after_retention["running"] == before["running"]

    aborted = flowlogs("clear", data=data, input="n\n", check=False)
    assert aborted.returncode != 0 and "running ones are kept" in aborted.stdout + aborted.stderr
    assert as_json("counts", data=data) == after_retention
    flowlogs("clear", "--yes", data=data)
    counts = as_json("counts", data=data)
    assert counts["all"] == counts["running"] == before["running"] >= 1
    assert as_json("show", "still-running", data=data)["status"] == "running"
