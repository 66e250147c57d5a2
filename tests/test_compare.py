"""Comparing a failed execution with its flow's last success: executions written through the Recorder
into a real store, read back with LogQueries, then compared."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from dashboard.compare import MISSING, FieldChange, can_compare, compare, json_diff, last_success
from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
FLOW = "Order shipped"
SHIPPED = {"template": "order_shipped", "to": "+4915112345678",
           "variables": {"first_name": "Ana", "order": "1042"}}


class Engine:
    """Runs scripted executions through the Recorder on a clock the test moves."""

    def __init__(self, root):
        self.now = T0
        self.recorder = Recorder(Writer(Store(root), flush_interval=None), clock=lambda: self.now)

    def run(self, start: dt.datetime, steps: list[dict], *, flow: str = FLOW, phone: str | None = None,
            cancel: bool = False) -> str:
        """steps: dicts of name, type, node_id, input, output, ms (duration), fail (error text)."""
        self.now = start
        trigger = "incoming_message" if phone else "schedule"
        with self.recorder.execution(flow, trigger=trigger, phone=phone) as run:
            for spec in steps:
                self.now += dt.timedelta(milliseconds=10)
                with run.step(spec["name"], spec.get("type", "set_variable"), node_id=spec.get("node_id"),
                              input=spec.get("input")) as step:
                    self.now += dt.timedelta(milliseconds=spec.get("ms", 100))
                    step.output = spec.get("output")
                    if spec.get("fail"):
                        step.fail(spec["fail"])
            if cancel:
                run.cancel("Stopped by the operator")
        return run.execution_id

    def close(self) -> None:
        self.recorder.close()


def shipping_flow(*, variables: dict, to: str, fail: str | None = None, send_ms: int = 300,
                  extra: bool = False) -> list[dict]:
    steps = [
        {"name": "Load Order", "type": "http_request", "node_id": "load", "input": {"order": "1042"},
         "output": {"status": 200}, "ms": 120},
        {"name": "Send Template", "type": "send_message", "node_id": "send",
         "input": {**SHIPPED, "to": to, "variables": variables}, "ms": send_ms,
         "output": {"status": "failed"} if fail else {"status": "sent", "message_id": "wamid.A"}, "fail": fail},
    ]
    if extra:
        steps.insert(1, {"name": "Check Opt-in", "type": "condition", "node_id": "optin", "input": {"opted": True},
                         "output": {"result": True}})
    return steps


@pytest.fixture
def store(tmp_path):
    engine = Engine(tmp_path / "logs")
    yield engine, LogQueries(Store(tmp_path / "logs"))
    engine.close()


def test_the_missing_template_variable_and_the_bad_phone_are_named(store):
    engine, queries = store
    good = engine.run(T0, shipping_flow(variables={"first_name": "Ana", "order": "1042"}, to="+4915112345678"))
    bad = engine.run(T0 + dt.timedelta(hours=1),
                     shipping_flow(variables={"order": "1042"}, to="+1 555 0100",
                                   fail="Template variable {{first_name}} is missing", send_ms=900))
    engine.close()
    failed = queries.execution(bad)
    baseline = last_success(queries, failed)
    assert baseline["execution_id"] == good

    diff = compare(failed, baseline)
    assert [(s.node_id, s.presence) for s in diff.steps] == [("load", "both"), ("send", "both")]
    load, send = diff.steps
    assert not load.differs
    assert diff.first_difference is send and diff.failing_step is send
    assert send.node_name == "Send Template"
    assert send.status_changed and (send.failed["status"], send.success["status"]) == ("failed", "completed")
    assert send.error == "Template variable {{first_name}} is missing"
    assert [(c.path, c.kind) for c in send.input_changes] == [("variables.first_name", "removed"), ("to", "changed")]
    emptied = compare_inputs({"to": "+49", "v": {"a": 1, "b": "x"}, "tags": [1, 2]},
                             {"extra": 1, "to": "+1", "v": {"a": 1, "b": ""}, "tags": [1]})
    assert [c.path for c in emptied] == ["v.b", "to", "tags[1]", "extra"]  # emptied, changed, shorter list, added
    by_path = {c.path: c for c in send.input_changes}
    assert by_path["variables.first_name"] == FieldChange("variables.first_name", "Ana", MISSING)
    assert (by_path["to"].before, by_path["to"].after) == ("+4915112345678", "+1 555 0100")
    assert {c.path for c in send.output_changes} == {"status", "message_id"}
    assert send.duration_ms == (900, 300) and send.duration_change == "slower"
    assert diff.execution == {k: v for k, v in failed.items() if k != "steps"}
    assert diff.baseline["execution_id"] == good


def compare_inputs(before: dict, after: dict) -> list:
    """The input changes compare() reports for one step whose input went from before to after."""
    step = {"index": 0, "node_id": "n", "node_name": "N", "node_type": "t", "status": "completed",
            "duration_ms": 1, "output": None}
    success = {"steps": [{**step, "input": msgspec.json.encode(before).decode()}]}
    failed = {"steps": [{**step, "input": msgspec.json.encode(after).decode()}]}
    return compare(failed, success).steps[0].input_changes


def test_last_success_is_the_newest_completed_run_of_the_flow_before_the_failure(store):
    engine, queries = store
    ok = shipping_flow(variables={"first_name": "Ana"}, to="+4915112345678")
    broken = shipping_flow(variables={}, to="+4915112345678", fail="boom")
    older = engine.run(T0 - dt.timedelta(days=9), ok)  # past the recent days searched first
    engine.run(T0 - dt.timedelta(days=9, hours=1), ok)
    assert older
    failure = engine.run(T0, broken)
    engine.close()
    assert last_success(queries, queries.execution(failure))["execution_id"] == older  # found in all history

    engine = Engine(queries.store.root)
    newest_ok = engine.run(T0 - dt.timedelta(hours=3), ok)
    engine.run(T0 - dt.timedelta(hours=2), ok, cancel=True)  # cancelled: not a success
    engine.run(T0 - dt.timedelta(hours=1), broken)  # failed
    engine.run(T0 - dt.timedelta(minutes=30), ok, flow="Another flow")  # another flow
    engine.run(T0 + dt.timedelta(hours=1), ok)  # after the failure
    engine.close()
    assert last_success(queries, queries.execution(failure))["execution_id"] == newest_ok


def test_no_earlier_success_gives_none(store):
    engine, queries = store
    first = engine.run(T0, shipping_flow(variables={}, to="+4915112345678", fail="boom"))
    engine.run(T0 + dt.timedelta(hours=1), shipping_flow(variables={"first_name": "Ana"}, to="+4915112345678"))
    engine.close()
    failed = queries.execution(first)
    assert can_compare(failed)
    assert last_success(queries, failed) is None


def test_steps_that_ran_in_one_execution_only_keep_their_place(store):
    engine, queries = store
    good = engine.run(T0, shipping_flow(variables={"first_name": "Ana"}, to="+4915112345678", extra=True))
    loop = [{"name": "Loop Rows", "type": "loop_rows", "node_id": "loop", "input": {"row_count": 3}}] + [
        {"name": "Send", "type": "send_message", "node_id": "send-row", "input": {"row": i}} for i in range(3)]
    short = [{"name": "Loop Rows", "type": "loop_rows", "node_id": "loop", "input": {"row_count": 2}}] + [
        {"name": "Send", "type": "send_message", "node_id": "send-row", "input": {"row": i}} for i in range(2)]
    bad = engine.run(T0 + dt.timedelta(minutes=5),
                     shipping_flow(variables={"first_name": "Ana"}, to="+4915112345678", fail="boom"))
    loop_ok = engine.run(T0 + dt.timedelta(minutes=10), loop, flow="Loop")
    loop_bad = engine.run(T0 + dt.timedelta(minutes=20), [*short, {"name": "Report", "node_id": "report",
                                                                    "fail": "no rows left"}], flow="Loop")
    engine.close()

    diff = compare(queries.execution(bad), queries.execution(good))
    assert [(s.node_id, s.presence) for s in diff.steps] == [
        ("load", "both"), ("optin", "success_only"), ("send", "both")]
    assert diff.steps[1].significant and diff.steps[1].failed is None

    loops = compare(queries.execution(loop_bad), queries.execution(loop_ok))
    assert [(s.node_id, s.occurrence, s.presence) for s in loops.steps] == [
        ("loop", 0, "both"), ("send-row", 0, "both"), ("send-row", 1, "both"), ("send-row", 2, "success_only"),
        ("report", 0, "failed_only")]
    assert [c.path for c in loops.steps[0].input_changes] == ["row_count"]
    assert not loops.steps[1].differs and not loops.steps[2].differs  # the same rows, the same input
    assert loops.first_difference is loops.steps[0]
    assert loops.failing_step.node_id == "report" and loops.failing_step.error == "no rows left"


def test_trigger_phone_and_type_changes_are_reported(store):
    engine, queries = store
    steps = shipping_flow(variables={"first_name": "Ana"}, to="+4915112345678")
    good = engine.run(T0, steps, phone="+4915112345678")
    bad = engine.run(T0 + dt.timedelta(minutes=1), [*steps[:1], {**steps[1], "fail": "boom"}], phone="+4915199999999")
    engine.close()
    diff = compare(queries.execution(bad), queries.execution(good))
    assert diff.execution_changes == [FieldChange("trigger.phone", "+4915112345678", "+4915199999999")]


def test_json_diff_names_fields_by_path():
    before = {"a": {"b": [1, 2, {"c": True}]}, "odd key": 1, "n": 1, "gone": None}
    after = {"a": {"b": [1, 3, {"c": 1}, 4]}, "odd key": 2, "n": 1.0, "new": "x"}
    assert json_diff(before, after) == [
        FieldChange("a.b[1]", 2, 3),
        FieldChange("a.b[2].c", True, 1),  # JSON true is not 1
        FieldChange("a.b[3]", MISSING, 4),
        FieldChange('["odd key"]', 1, 2),
        FieldChange("gone", None, MISSING),  # null and missing are different things
        FieldChange("new", MISSING, "x"),
    ]
    assert json_diff("a", "b") == [FieldChange("(value)", "a", "b")]
    assert json_diff({"x": 1}, {"x": 1}) == []
