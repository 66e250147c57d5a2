"""Ingest of the JSON-lines event contract (docs/events.md): in process through ingest_lines and a
Writer, and through `flowlogs ingest --data DIR FILE|-`.

Good lines are stored whatever surrounds them; each bad line is rejected with its number and
the field at fault; duplicates, re-ingest and any order of arrival give the same result.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from cli_inproc import run_cli
from factories import UTC, finished, line, parquet_ids, started, step

from dashboard.ingest import IngestReport, ingest_lines
from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

# One event of each type, as an engine that reads the contract (docs/events.md) writes them.
CONTRACT_EVENTS = [
    """{"type": "execution_started", "execution_id": "e-001", "flow_id": "f-7",
 "flow_name": "Support auto-reply", "at": "2026-11-20T23:59:58Z",
 "trigger": {"type": "incoming_message", "phone": "+4915112345678"}}""",
    """{"type": "step_finished", "execution_id": "e-001", "index": 0,
 "node_id": "n-3", "node_name": "AI Response", "node_type": "ai_response",
 "status": "completed", "started_at": "2026-11-21T00:00:01Z",
 "finished_at": "2026-11-21T00:00:03.250Z",
 "model": "gpt-4o-mini", "tokens": {"prompt": 412, "completion": 96},
 "system_prompt": "You are a helpful support agent...", "user_prompt": "Where is my order?",
 "ai_reply": "Your order ships tomorrow.", "warnings": ["reply truncated to 1000 chars"],
 "error": null, "input": {"contact": {"name": "Ana"}}, "output": {"reply": "..."}}""",
    """{"type": "execution_finished", "execution_id": "e-001", "at": "2026-11-21T00:00:09Z",
 "status": "completed_with_errors", "messages_sent": 11, "messages_failed": 1,
 "error": null}""",
]
CONTRACT_LINES = [text.replace("\n", "") for text in CONTRACT_EVENTS]

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def ingest(root: Path, lines: list[str]) -> IngestReport:
    """One ingest run, as one process: its own writer, flushed (acknowledged) at the end."""
    with Writer(Store(root), flush_interval=None) as writer:
        return ingest_lines([text.encode() for text in lines], writer)


def sample_lines() -> list[str]:
    """Four executions over two days: AI steps, a failure, a running one, a retried event."""
    events = []
    for k, status in enumerate(["completed", "failed", "completed_with_errors", None]):
        x = f"run-{k}"
        at = T0 + dt.timedelta(days=k % 2, hours=k)
        events.append(started(x, at, flow_name=f"Flow {k % 2}", trigger="incoming_message",
                              phone=f"+4915112345{k:03d}"))
        events += [step(x, i, at + dt.timedelta(seconds=2 * i), tokens=(40 + i, 4) if i == 0 else None,
                        status="failed" if status == "failed" and i == 1 else "completed",
                        error="WhatsApp session closed" if status == "failed" and i == 1 else None)
                   for i in range(2)]
        if status:
            events.append(finished(x, at + dt.timedelta(seconds=30), status, messages_sent=k))
    events.append(events[1])  # a retried step_finished
    return [line(e) for e in events]


def answers(root: Path) -> dict:
    """Everything a user can see of the store, without the clock-dependent duration of running runs."""
    queries = LogQueries(Store(root))
    executions = queries.executions(limit=1000)
    details = {}
    for x in sorted(executions.execution_id):
        record = queries.execution(x)
        record.pop("duration_ms")
        details[x] = record
    return {
        "tabs": queries.tab_counts(),
        "groups": queries.flow_groups().to_dict("records"),
        "tokens": queries.token_usage(by="node").to_dict("records"),
        "details": details,
    }


# -- the contract's own examples --------------------------------------------------------------------


def test_events_md_examples_are_stored_under_the_day_the_execution_started(data_root: Path):
    report = ingest(data_root, CONTRACT_LINES)
    assert report.ok and report.accepted == 3 and not report.rejected

    queries = LogQueries(Store(data_root))
    record = queries.execution("e-001")
    assert record["status"] == "completed_with_errors"
    assert record["flow_name"] == "Support auto-reply"
    assert record["trigger_type"] == "incoming_message" and record["trigger_phone"] == "+4915112345678"
    assert (record["messages_sent"], record["messages_failed"]) == (11, 1)
    assert record["started_at"] == dt.datetime(2026, 11, 20, 23, 59, 58, tzinfo=UTC)
    assert pd_date(record["day"]) == dt.date(2026, 11, 20)  # not the 21st, when its step ran
    (only,) = record["steps"]
    assert only["index"] == 0 and only["node_name"] == "AI Response" and only["status"] == "completed"
    assert (only["prompt_tokens"], only["completion_tokens"], only["total_tokens"]) == (412, 96, 508)
    assert only["duration_ms"] == 2250
    assert list(only["warnings"]) == ["reply truncated to 1000 chars"]
    assert json.loads(only["input"]) == {"contact": {"name": "Ana"}}
    assert json.loads(only["output"]) == {"reply": "..."}

    # The day of the start holds the execution with all its steps, in every view and on disk.
    day = dt.date(2026, 11, 20)
    assert queries.tab_counts(since=day, until=day) == {"all": 1, "running": 0, "failed": 1, "completed": 0}
    assert queries.tab_counts(since=day + dt.timedelta(days=1), until=day + dt.timedelta(days=1))["all"] == 0
    assert queries.flow_groups(since=day, until=day).flow_name.tolist() == ["Support auto-reply"]
    tokens = queries.token_usage(by="day")
    assert [(pd_date(d), int(t)) for d, t in zip(tokens.day, tokens.total_tokens, strict=True)] == [(day, 508)]
    on_disk = {tuple(p.split("/")[:2]) for p, ids in parquet_ids(data_root).items() if "e-001" in ids}
    assert on_disk <= {("executions", "day=2026-11-20"), ("steps", "day=2026-11-20")}
    assert ("steps", "day=2026-11-20") in on_disk


def pd_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# -- idempotence and order --------------------------------------------------------------------------


def test_ingesting_the_same_file_twice_changes_no_count(data_root: Path):
    lines = sample_lines() + CONTRACT_LINES
    assert ingest(data_root, lines).ok
    first = answers(data_root)
    assert first["tabs"] == {"all": 5, "running": 1, "failed": 3, "completed": 1}
    assert ingest(data_root, lines).ok
    assert answers(data_root) == first


def test_events_in_reverse_order_give_the_same_result(tmp_path: Path):
    lines = sample_lines() + CONTRACT_LINES
    assert ingest(tmp_path / "in-order", lines).ok
    assert ingest(tmp_path / "reversed", lines[::-1]).ok
    assert answers(tmp_path / "reversed") == answers(tmp_path / "in-order")


def test_steps_sent_before_their_start_wait_and_then_show(data_root: Path):
    """Steps and finish in one batch (another process, say), their execution_started in a later one."""
    x = "late-start"
    early = [step(x, i, T0 + dt.timedelta(seconds=i), tokens=(7, 3)) for i in range(3)]
    early.append(finished(x, T0 + dt.timedelta(minutes=1), "completed", messages_sent=2))
    report = ingest(data_root, [line(e) for e in early])
    assert report.ok and report.written.pending == 4
    queries = LogQueries(Store(data_root))
    assert queries.execution(x) is None and queries.tab_counts()["all"] == 0  # nothing without its start

    assert ingest(data_root, [line(started(x, T0, flow_name="Late"))]).ok
    record = queries.execution(x)
    assert record["status"] == "completed" and record["messages_sent"] == 2
    assert [s["index"] for s in record["steps"]] == [0, 1, 2]
    assert int(queries.token_usage(by="flow").total_tokens.sum()) == 30
    waiting = {p: ids for p, ids in parquet_ids(data_root).items() if p.startswith("pending")}
    assert not any(x in ids for ids in waiting.values()), "moved rows must leave pending/"


# -- bad input ---------------------------------------------------------------------------------------


def bad_input() -> tuple[list[str], dict[int, str], set[str]]:
    """Good and bad lines interleaved: (lines, {line number: field at fault}, ids of the good runs)."""
    at = T0
    lines: list[str] = []
    faults: dict[int, str | None] = {}

    def good(x: str) -> None:
        lines.extend(line(e) for e in (started(x, at, flow_name="Good"), step(x, 0, at, tokens=(1, 1)),
                                       finished(x, at + dt.timedelta(seconds=5))))

    def bad(event: dict | str, field: str | None) -> None:
        lines.append(event if isinstance(event, str) else line(event))
        faults[len(lines)] = field

    good("good-0")
    bad(finished("good-0", at, "done"), "status")  # unknown status
    bad({k: v for k, v in started("bad-1", at).items() if k != "flow_id"}, "flow_id")  # missing field
    good("good-1")
    bad({**step("good-1", 1, at), "index": "one"}, "index")  # wrong type
    bad(started("bad-2", at, trigger="incoming_message", phone="0151 1234"), "trigger.phone")  # invalid phone
    bad('{"type": "execution_started", "execution_id": "bad-3", ', None)  # not JSON
    # an enormous identity field (an enormous payload is stored cut instead: tests/test_hardening.py)
    bad(started("bad-7", at, flow_id="f-7", flow_name="F" * 100_000), "flow_name")
    good("good-2")
    bad(started("bad-4", at, trigger="schedule", phone="+4915112345678"), "trigger.phone")  # phone, not incoming
    bad({**started("bad-5", at), "at": "2026-11-18T09:00:00"}, "at")  # timestamp without zone
    bad(started("bad-6", at, trigger="incoming_message"), "trigger.phone")  # incoming without phone
    good("good-3")
    return lines, faults, {f"good-{k}" for k in range(4)}


def test_bad_lines_are_rejected_by_line_and_field_and_the_good_ones_stored(data_root: Path):
    lines, faults, good = bad_input()
    report = ingest(data_root, lines)
    assert not report.ok
    assert {r.line: r.field for r in report.rejected} == faults
    for rejection in report.rejected:
        text = str(rejection)
        if rejection.field:
            assert text == f"line {rejection.line}: {rejection.field}: {rejection.reason}"
        else:
            assert text.startswith(f"line {rejection.line}: ") and "JSON" in text
    by_line = {r.line: r.reason for r in report.rejected}
    assert "500" in by_line[max(k for k, f in faults.items() if f == "flow_name")]  # says the limit

    queries = LogQueries(Store(data_root))
    assert set(queries.executions().execution_id) == good
    for x in good:
        record = queries.execution(x)
        assert record["status"] == "completed" and [s["index"] for s in record["steps"]] == [0]


# -- hostile strings ----------------------------------------------------------------------------------

HOSTILE = {
    "execution_id": "../../x",
    "flow_name": "<script>alert('flow')</script>",
    "other_flow": "'; DROP TABLE executions; --",
    "node_name": '<img src=x onerror=alert(1)> "quoted" \\ back',
    "error": "line one\nline two\t'quoted' \"double\" ${jndi:x} {{name}}",
    "phone": "+4915112345678",
}


def test_hostile_strings_are_stored_and_returned_verbatim(data_root: Path, tmp_path: Path):
    h = HOSTILE
    events = [
        started(h["execution_id"], T0, flow_name=h["flow_name"], flow_id="f/../../etc", trigger="incoming_message",
                phone=h["phone"]),
        step(h["execution_id"], 0, T0, node_name=h["node_name"], status="failed", error=h["error"],
             input={"text": h["error"], "html": h["flow_name"]}),
        finished(h["execution_id"], T0 + dt.timedelta(seconds=3), "failed", error=h["error"]),
        started("x'; --", T0, flow_name=h["other_flow"]),
    ]
    assert ingest(data_root, [line(e) for e in events]).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]  # no id became a path outside the root

    queries = LogQueries(Store(data_root))
    record = queries.execution(h["execution_id"])
    assert record["execution_id"] == h["execution_id"] and record["flow_name"] == h["flow_name"]
    assert record["flow_id"] == "f/../../etc" and record["error"] == h["error"]
    (only,) = record["steps"]
    assert only["node_name"] == h["node_name"] and only["error"] == h["error"]
    assert json.loads(only["input"]) == {"text": h["error"], "html": h["flow_name"]}
    assert set(queries.flow_groups().flow_name) == {h["flow_name"], h["other_flow"]}
    assert queries.tab_counts(flow_name=h["other_flow"]) == {"all": 1, "running": 1, "failed": 0, "completed": 0}
    assert queries.executions(flow_name=h["other_flow"]).execution_id.tolist() == ["x'; --"]
    assert queries.executions(flow_name=h["flow_name"]).execution_id.tolist() == [h["execution_id"]]
    assert queries.execution("x' OR '1'='1") is None


# -- the command line ------------------------------------------------------------------------------------

LINE_REPORT = re.compile(r"^line (?P<line>\d+): (?P<rest>.*)$")


def flowlogs_ingest(data: Path, source: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # in this process (tests/cli_inproc.py): the real app, no interpreter start
    return run_cli(["ingest", "--data", str(data), source], input=stdin)


def test_cli_ingest_reports_each_rejected_line_and_fails(tmp_path: Path):
    lines, faults, good = bad_input()
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")

    result = flowlogs_ingest(tmp_path / "from-file", str(events))
    assert result.returncode != 0
    reported = {}
    for text in result.stderr.splitlines():
        match = LINE_REPORT.match(text)
        if match:
            reported[int(match["line"])] = match["rest"]
    assert set(reported) == set(faults)
    for number, field in faults.items():
        if field:
            assert reported[number].startswith(f"{field}: "), reported[number]
    assert set(LogQueries(Store(tmp_path / "from-file")).executions().execution_id) == good

    from_stdin = flowlogs_ingest(tmp_path / "from-stdin", "-", stdin=events.read_text())
    assert from_stdin.returncode != 0
    assert answers(tmp_path / "from-stdin") == answers(tmp_path / "from-file")


def test_cli_ingest_of_good_lines_succeeds_like_ingest_lines(tmp_path: Path):
    lines = sample_lines() + CONTRACT_LINES
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    result = flowlogs_ingest(tmp_path / "cli", str(events))
    assert result.returncode == 0, result.stderr
    assert not [t for t in result.stderr.splitlines() if LINE_REPORT.match(t)]
    assert ingest(tmp_path / "api", lines).ok
    assert answers(tmp_path / "cli") == answers(tmp_path / "api")
    again = flowlogs_ingest(tmp_path / "cli", str(events))  # twice: no count changes
    assert again.returncode == 0, again.stderr
    assert answers(tmp_path / "cli") == answers(tmp_path / "api")


# -- one execution id is one execution ---------------------------------------------------------------


@pytest.mark.parametrize("together", [False, True], ids=["two ingests", "one ingest"])
def test_a_start_sent_again_across_midnight_is_one_execution(data_root: Path, together: bool):
    """The same execution_started sent twice, its `at` on either side of midnight (an engine that
    re-stamps a retried event): one execution, which its finish closes and a delete removes."""
    midnight = dt.datetime(2026, 11, 20, tzinfo=UTC)
    first, again = (started("x-midnight", midnight + dt.timedelta(seconds=s), flow_name="Nightly") for s in (2, -2))
    rest = [step("x-midnight", 0, midnight + dt.timedelta(seconds=3)),
            finished("x-midnight", midnight + dt.timedelta(seconds=9), "completed")]
    if together:
        assert ingest(data_root, [line(first), line(again), *map(line, rest)]).ok
    else:
        assert ingest(data_root, [line(first)]).ok
        assert ingest(data_root, [line(again), *map(line, rest)]).ok  # another process: knows nothing of the first
    queries = LogQueries(Store(data_root))
    assert queries.tab_counts() == {"all": 1, "running": 0, "failed": 0, "completed": 1}
    record = queries.execution("x-midnight")
    assert record["status"] == "completed" and [s["index"] for s in record["steps"]] == [0]
    Store(data_root).delete_execution("x-midnight")
    assert queries.tab_counts()["all"] == 0 and not any("x-midnight" in ids for ids in parquet_ids(data_root).values())
