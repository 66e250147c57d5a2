"""`flowlogs` run in this process (typer's CliRunner) against the real `app` and a real store in tmp_path:
the Delta tables the writer makes, no mocks. Quicker than the subprocess tests in test_cli.py, and they run
the code of this checkout (the `flowlogs` script may point at another)."""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import version

import pytest
from factories import UTC, finished, line, started, step
from typer.testing import CliRunner

from dashboard.cli import app
from dashboard.ingest import ingest_lines
from dashboard.store import Store
from dashboard.writer import Writer

# the start of the hour before this one: inside retention, and every run below falls on one day
T0 = (dt.datetime.now(UTC) - dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
PHONE = "+4915112345678"
TOKENS = {"ok-1": (100, 20), "ok-2": (30, 7), "bad-1": (5, 0)}  # (prompt, completion) of each AI step


def events() -> list[dict]:
    """Two completed runs and a failed one with an AI step each, and one still running."""
    at = {x: T0 + dt.timedelta(minutes=i) for i, x in enumerate(("ok-1", "ok-2", "bad-1", "run-1"))}
    return [
        started("ok-1", at["ok-1"], trigger="incoming_message", phone=PHONE),
        step("ok-1", 0, at["ok-1"], tokens=TOKENS["ok-1"]),
        step("ok-1", 1, at["ok-1"] + dt.timedelta(seconds=1), input={"to": PHONE}),
        finished("ok-1", at["ok-1"] + dt.timedelta(seconds=3), messages_sent=1),
        started("ok-2", at["ok-2"]),
        step("ok-2", 0, at["ok-2"], tokens=TOKENS["ok-2"]),
        finished("ok-2", at["ok-2"] + dt.timedelta(seconds=2)),
        started("bad-1", at["bad-1"], flow_name="Order status"),
        step("bad-1", 0, at["bad-1"], tokens=TOKENS["bad-1"]),
        step("bad-1", 1, at["bad-1"] + dt.timedelta(seconds=1), status="failed", error="WhatsApp disconnected"),
        finished("bad-1", at["bad-1"] + dt.timedelta(seconds=2), "failed", messages_failed=1),
        started("run-1", at["run-1"], flow_name="Order status"),
    ]


@pytest.fixture
def data(tmp_path) -> str:
    root = tmp_path / "logs"
    with Writer(Store(root), flush_interval=None) as writer:
        report = ingest_lines([line(e).encode() for e in events()], writer)
    assert report.ok and report.accepted == len(events())
    return str(root)


def flowlogs(*args: str, data: str | None = None):
    result = CliRunner().invoke(app, [*args, *(["--data", data] if data else [])])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def as_json(*args: str, data: str):
    result = flowlogs(*args, "--json", data=data)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_counts_are_those_written(data):
    assert as_json("counts", data=data) == {"all": 4, "running": 1, "failed": 1, "completed": 2}
    table = flowlogs("counts", data=data)
    assert table.exit_code == 0 and "Executions" in table.stdout and "running" in table.stdout


def test_executions_by_status_list_only_that_status(data):
    result = flowlogs("executions", "--status", "failed", data=data)
    assert result.exit_code == 0, result.output
    assert "bad-1" in result.stdout and "Order" in result.stdout  # the flow name may wrap
    assert not any(x in result.stdout for x in ("ok-1", "ok-2", "run-1"))
    rows = as_json("executions", "--status", "failed", data=data)
    assert [(r["execution_id"], r["status"], r["messages_failed"]) for r in rows] == [("bad-1", "failed", 1)]
    newest_first = [r["execution_id"] for r in as_json("executions", data=data)]
    assert newest_first == ["run-1", "bad-1", "ok-2", "ok-1"]


def test_show_gives_the_execution_with_its_steps_in_the_contracts_shape(data):
    record = as_json("show", "ok-1", data=data)
    assert record["execution_id"] == "ok-1" and record["status"] == "completed"
    assert record["flow_name"] == "Support auto-reply"
    assert record["trigger"] == {"type": "incoming_message", "phone": PHONE}
    assert record["messages_sent"] == 1 and record["duration_ms"] == 3000
    assert [s["index"] for s in record["steps"]] == [0, 1]
    ai, send = record["steps"]
    assert ai["tokens"] == {"prompt": 100, "completion": 20} and ai["model"] == "gpt-4o-mini"
    assert send["tokens"] is None and send["input"] == {"to": PHONE}
    text = flowlogs("show", "bad-1", data=data)
    assert text.exit_code == 0 and "#2 Node 1 (send_message) failed" in text.stdout
    assert "WhatsApp disconnected" in text.stdout


def test_a_deleted_execution_is_gone_and_show_says_so(data):
    deleted = flowlogs("delete", "ok-2", data=data)
    assert deleted.exit_code == 0, deleted.output
    assert f"deleted execution ok-2 (day {T0.date()})" in deleted.stderr
    missing = flowlogs("show", "ok-2", data=data)
    assert missing.exit_code == 1
    assert "error: no execution with id 'ok-2'" in missing.stderr and missing.stdout == ""
    assert "ok-2" not in [r["execution_id"] for r in as_json("executions", data=data)]
    assert as_json("counts", data=data) == {"all": 3, "running": 1, "failed": 1, "completed": 1}
    (entry,) = as_json("audit", data=data)
    assert (entry["action"], entry["outcome"], entry["execution_ids"], entry["via"]) == (
        "delete", "deleted", ["ok-2"], "cli")
    again = flowlogs("delete", "ok-2", data=data)
    assert again.exit_code == 1 and "ok-2" in again.stderr


def test_a_running_execution_is_not_deleted(data):
    refused = flowlogs("delete", "run-1", data=data)
    assert refused.exit_code == 1 and "error:" in refused.stderr
    assert as_json("show", "run-1", data=data)["status"] == "running"


def test_tokens_add_up_what_the_ai_steps_used(data):
    by_flow = {r["flow_name"]: r for r in as_json("tokens", "--by", "flow", data=data)}
    support, orders = by_flow["Support auto-reply"], by_flow["Order status"]
    assert (support["prompt_tokens"], support["completion_tokens"], support["ai_steps"]) == (130, 27, 2)
    assert (orders["prompt_tokens"], orders["completion_tokens"], orders["ai_steps"]) == (5, 0, 1)
    (day,) = as_json("tokens", data=data)
    assert day["total_tokens"] == sum(p + c for p, c in TOKENS.values()) == 162
    bad = flowlogs("tokens", "--by", "week", data=data)
    assert bad.exit_code == 2 and "choose one of" in bad.output


def test_version():
    result = flowlogs("--version")
    assert result.exit_code == 0 and result.stdout == f"flowlogs {version('flowlogs')}\n"


def test_every_command_is_registered_once():
    listed = flowlogs("--help").stdout
    for command in ("demo", "ingest", "flows", "counts", "executions", "show", "tokens", "failures", "delete",
                    "clear", "audit", "retention", "quarantine", "close-stale", "compact", "migrate", "serve",
                    "collect", "keys"):
        assert f" {command} " in listed, command
