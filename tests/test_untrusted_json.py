"""JSON from the logs at its worst: nested a thousand levels deep, numbers out of range (issue 15, items 1, 2).

Ingest and the Recorder refuse both, naming the line and the field; every reader (show, failures,
compare, masking, the dashboard's JSON tree) copes with whatever is already stored, since a store
may hold rows written before these limits or by another writer.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from factories import UTC, finished, line, started, step
from typer.testing import CliRunner

from dashboard import events
from dashboard.cli import app
from dashboard.compare import compare
from dashboard.events import EventError, parse_event
from dashboard.json_values import MAX_JSON_DEPTH, UnreadableJson, read_json
from dashboard.privacy import Privacy
from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.ui.format import execution_item
from dashboard.ui.json_tree import parse as tree_parse
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
PHONE = "+4915112345678"


def nested(levels: int, leaf=None) -> str:
    """A JSON array `levels` deep."""
    return "[" * levels + ("" if leaf is None else json.dumps(leaf)) + "]" * levels


def nested_object(levels: int, leaf) -> dict:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def raw_step(execution_id: str, index: int, input_text: str, **fields) -> str:
    """A step_finished line whose input is this JSON text, exactly (json.dumps would choke on it)."""
    event = step(execution_id, index, T0, **fields)
    return line(event)[:-1] + f', "input": {input_text}}}'


def ingest(root, lines: list[str]):
    result = CliRunner().invoke(app, ["ingest", "--data", str(root), "-"], input="\n".join(lines) + "\n")
    return result, LogQueries(Store(root))


def test_deep_json_is_one_rejected_line_and_the_lines_after_it_are_stored(tmp_path):
    lines = [
        line(started("e-1", T0)),
        raw_step("e-1", 0, nested(1000)),                                  # the crash of issue 15
        raw_step("e-1", 1, nested(MAX_JSON_DEPTH + 1)),                   # one level too many
        raw_step("e-1", 2, nested(MAX_JSON_DEPTH, "deepest allowed")),    # the limit itself is fine
        line(started("e-2", T0, trigger="schedule"))[:-1] + ', "extra": ' + nested(5000) + "}",  # an unknown field
        line(finished("e-1", T0 + dt.timedelta(seconds=5))),
    ]
    result, logs = ingest(tmp_path, lines)
    assert result.exit_code == 1
    assert f"line 2: input: nested deeper than {MAX_JSON_DEPTH}" in result.stderr
    assert f"line 3: input: nested deeper than {MAX_JSON_DEPTH}" in result.stderr
    assert f"line 5: extra: nested deeper than {MAX_JSON_DEPTH}" in result.stderr
    assert "stored 3 events, rejected 3 lines" in result.stderr
    record = logs.execution("e-1")
    assert record["status"] == "completed"  # the finish after the bad lines is stored
    assert [s["index"] for s in record["steps"]] == [2]
    assert read_json(record["steps"][0]["input"]) == json.loads(nested(MAX_JSON_DEPTH, "deepest allowed"))


def test_a_number_out_of_range_is_rejected_naming_the_field(tmp_path):
    lines = [
        line(started("e-1", T0)),
        raw_step("e-1", 0, '{"amount": 1e400}', status="failed", error="payment failed"),
        raw_step("e-1", 1, '{"items": [{"price": 2}, {"price": -1e999}], "weird key": 1}'),
        line(step("e-1", 2, T0, output={"ok": True})).replace('"output": {"ok": true}', '"output": {"total": 1e309}'),
        raw_step("e-1", 3, '{"amount": 1e300, "tiny": 1e-400, "big": 12345678901234567890123}'),  # all fine
        line(finished("e-1", T0 + dt.timedelta(seconds=5))),
    ]
    result, logs = ingest(tmp_path, lines)
    assert result.exit_code == 1
    assert "line 2: input.amount: number out of range" in result.stderr
    assert "line 3: input.items[1].price: number out of range" in result.stderr
    assert "line 4: output.total: number out of range" in result.stderr
    assert "stored 3 events, rejected 3 lines" in result.stderr
    assert [s["index"] for s in logs.execution("e-1")["steps"]] == [3]


def test_parse_event_applies_the_same_limits_to_any_caller():
    with pytest.raises(EventError, match=f"nested deeper than {MAX_JSON_DEPTH}") as info:
        parse_event(raw_step("e-1", 0, nested(100_000)))
    assert info.value.field == "input"
    with pytest.raises(EventError, match="number out of range") as info:
        parse_event(raw_step("e-1", 0, '[1, 2, {"x": 1e400}]'))
    assert info.value.field == "input[2].x"


def test_the_recorder_applies_the_same_limit_where_the_engine_hands_the_value_over(tmp_path):
    with Recorder.open(tmp_path) as recorder:
        with pytest.raises(EventError, match=f"input: nested deeper than {MAX_JSON_DEPTH}"), \
                recorder.execution("Too deep in") as run:
            run.step("Load", "http_request", input=nested_object(MAX_JSON_DEPTH + 1, 1))
        with pytest.raises(EventError, match=f"output: nested deeper than {MAX_JSON_DEPTH}"), \
                recorder.execution("Too deep out") as run:
            with run.step("Load", "http_request", input=nested_object(MAX_JSON_DEPTH, 1)) as step_:
                step_.output = nested_object(3000, 1)  # past Python's recursion limit too
        with pytest.raises(EventError, match=r"^output: "), recorder.execution("Huge number") as run:
            with run.step("Sum", "set_variable") as step_:
                step_.output = {"total": 10**5000}  # past the 4 300 digits Python writes as text
        with recorder.execution("Fine") as run:
            with run.step("Load", "http_request", input=nested_object(MAX_JSON_DEPTH, 1)) as step_:
                step_.output = {"amount": 1e300}
    logs = LogQueries(Store(tmp_path))
    runs = {r.flow_name: logs.execution(r.execution_id) for r in logs.executions().itertuples()}
    # the engine's error is recorded where it happened: nothing deep is stored, nothing is lost silently
    assert runs["Too deep in"]["status"] == "failed" and runs["Too deep in"]["steps"] == []
    assert runs["Too deep in"]["error"] == f"EventError: input: nested deeper than {MAX_JSON_DEPTH}"
    (failed,) = runs["Too deep out"]["steps"]
    assert failed["status"] == "failed" and failed["error"] == f"EventError: output: nested deeper than " \
                                                                f"{MAX_JSON_DEPTH}"
    assert read_json(failed["input"]) == nested_object(MAX_JSON_DEPTH, 1)
    assert runs["Fine"]["status"] == "completed"


# -- readers over what an older or foreign writer stored -------------------------------------------------


@pytest.fixture
def stored_before_the_limits(tmp_path):
    """Rows a writer stored before ingest checked depth and numbers: the Writer takes events as given."""
    lines = [
        line(started("deep", T0, flow_name="Checkout", trigger="incoming_message", phone=PHONE)),
        raw_step("deep", 0, nested(950, {"phone": PHONE}), status="failed", error=f"send to {PHONE} failed"),
        line(finished("deep", T0 + dt.timedelta(seconds=3), "failed")),
        line(started("huge", T0 - dt.timedelta(hours=1), flow_name="Checkout")),
        raw_step("huge", 0, '{"amount": 1e400, "phone": "' + PHONE + '"}', status="failed", error="declined"),
        line(finished("huge", T0 - dt.timedelta(hours=1) + dt.timedelta(seconds=3), "failed")),
        line(started("ok", T0 - dt.timedelta(hours=2), flow_name="Checkout")),
        line(step("ok", 0, T0 - dt.timedelta(hours=2), status="failed", error="WhatsApp disconnected",
                  input={"to": PHONE})),
        line(finished("ok", T0 - dt.timedelta(hours=2) + dt.timedelta(seconds=3), "failed")),
        line(started("good", T0 - dt.timedelta(hours=3), flow_name="Checkout")),
        line(step("good", 0, T0 - dt.timedelta(hours=3), input={"amount": 5})),
        line(finished("good", T0 - dt.timedelta(hours=3) + dt.timedelta(seconds=3))),
    ]
    with Writer(Store(tmp_path), flush_interval=None) as writer:
        for text in lines:
            writer.write(events._decoder.decode(text))  # the contract as the old ingest applied it: no limits
    return tmp_path


def test_show_and_failures_read_any_stored_value(stored_before_the_limits):
    root = str(stored_before_the_limits)
    runner = CliRunner()
    for execution_id, reason in (("deep", f"nested deeper than {MAX_JSON_DEPTH} levels"),
                                 ("huge", "a number out of range")):
        plain = runner.invoke(app, ["show", execution_id, "--data", root])
        assert plain.exit_code == 0, plain.output
        assert f"input: (as text: {reason})" in plain.stdout
        as_json = runner.invoke(app, ["show", execution_id, "--data", root, "--json"])
        assert as_json.exit_code == 0, as_json.output
        (shown,) = json.loads(as_json.stdout)["steps"]
        assert isinstance(shown["input"], str)  # the stored text, as a string: what cut JSON looks like too
    for args in ([], ["--json"]):
        listed = runner.invoke(app, ["failures", "--data", root, *args])
        assert listed.exit_code == 0, listed.output
        for execution_id in ("deep", "huge", "ok"):  # one bad value hides no other failure
            assert execution_id in listed.stdout
    rows = {r["execution_id"]: r for r in json.loads(runner.invoke(app, ["failures", "--data", root, "--json"]).stdout)}
    assert rows["huge"]["failed_step_input"] == '{"amount": 1e400, "phone": "' + PHONE + '"}'
    assert rows["ok"]["failed_step_input"] == {"to": PHONE}


def test_compare_masking_and_the_json_tree_read_any_stored_value(stored_before_the_limits):
    logs = LogQueries(Store(stored_before_the_limits))
    good = logs.execution("good")
    for execution_id in ("deep", "huge"):
        failed = logs.execution(execution_id)
        diff = compare(failed, good)
        (change,) = diff.steps[0].input_changes
        assert isinstance(change.after, UnreadableJson)  # the whole stored text, compared as one value

        masked = Privacy(mask_phones=True, hide_ai_text=True).redact(failed)
        assert PHONE not in str(masked) and "+49 151 ••• 678" in masked["steps"][0]["input"]

        ok, value = tree_parse(failed["steps"][0]["input"])
        assert not ok and value == failed["steps"][0]["input"]


def test_read_json_never_raises():
    assert read_json(None) is None
    assert read_json('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for text, reason in ((nested(100_000), "nested deeper"), ("1e400", "out of range"), ("{not json", "not valid"),
                         ('"\\ud800"', "not valid")):
        value = read_json(text)
        assert isinstance(value, UnreadableJson) and value == text and reason in value.reason


# -- a finish before its start (item 9) ---------------------------------------------------------------


def test_a_finish_before_its_start_is_rejected_naming_at(tmp_path):
    late = T0 + dt.timedelta(minutes=5)
    lines = [
        line(started("e-1", late)),
        line(finished("e-1", late - dt.timedelta(seconds=1))),           # the start is in this input
        line(finished("e-2", T0 - dt.timedelta(minutes=1))),            # the start comes after it
        line(started("e-2", T0)),
        line(started("e-3", T0)),
        line(finished("e-3", T0 + dt.timedelta(seconds=30))),           # fine
    ]
    result, logs = ingest(tmp_path, lines)
    assert result.exit_code == 1
    assert ("line 2: at: execution finished at 2026-11-18T09:04:59+00:00, before it started at "
            "2026-11-18T09:05:00+00:00") in result.stderr
    assert ("line 4: at: execution started at 2026-11-18T09:00:00+00:00, after it finished at "
            "2026-11-18T08:59:00+00:00") in result.stderr
    assert logs.execution("e-3")["duration_ms"] == 30_000
    assert logs.execution("e-1")["status"] == "running"  # its start stands; the impossible finish does not

    # the start stored by an earlier ingest counts too
    result, logs = ingest(tmp_path, [line(finished("e-1", late - dt.timedelta(hours=1), "failed")),
                                     line(finished("e-1", late + dt.timedelta(seconds=9)))])
    assert "line 1: at: execution finished at 2026-11-18T08:05:00+00:00, before it started" in result.stderr
    assert logs.execution("e-1")["duration_ms"] == 9_000

    # a finish whose start comes in a later ingest cannot be checked: stored, its duration is unknown, never negative
    ingest(tmp_path, [line(finished("e-4", T0 - dt.timedelta(minutes=1)))])
    result, logs = ingest(tmp_path, [line(started("e-4", T0))])
    assert result.exit_code == 0 and logs.execution("e-4")["duration_ms"] < 0  # what the store holds
    listed = {r["execution_id"]: r for r in json.loads(CliRunner().invoke(
        app, ["executions", "--data", str(tmp_path), "--json"]).stdout)}
    assert listed["e-4"]["duration_ms"] is None and listed["e-3"]["duration_ms"] == 30_000
    assert json.loads(CliRunner().invoke(app, ["show", "e-4", "--data", str(tmp_path), "--json"]).stdout)[
        "duration_ms"] is None
    assert execution_item(logs.execution("e-4"))["duration"] is None  # the dashboard shows "–"


def test_the_recorder_never_finishes_before_it_started_even_if_the_clock_goes_back(tmp_path):
    times = iter([T0, T0 + dt.timedelta(seconds=2), T0 - dt.timedelta(seconds=5), T0 - dt.timedelta(seconds=9)])
    with Recorder.open(tmp_path, clock=lambda: next(times)) as recorder:
        with recorder.execution("Clock jump") as run:  # start T0
            with run.step("Wait", "wait"):  # step starts at T0+2s, ends at T0-5s (the clock was set back)
                pass
    (row,) = LogQueries(Store(tmp_path)).executions().itertuples()
    record = LogQueries(Store(tmp_path)).execution(row.execution_id)
    assert record["status"] == "completed" and record["duration_ms"] >= 0
    assert record["steps"][0]["duration_ms"] >= 0
