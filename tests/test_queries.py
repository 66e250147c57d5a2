"""Queries over real files written through the recorder with a controlled clock."""

import datetime as dt
import json

import pytest

from dashboard.queries import LogQueries
from dashboard.recorder import Recorder
from dashboard.schema import FailureCause, Tab, classify_failure
from dashboard.store import Store, day_from_id
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def logs(tmp_path):
    """Three flows over two days: completed, failed, completed with errors, cancelled, running."""
    clock = Clock(T0)
    writer = Writer(Store(tmp_path), flush_interval=None)
    recorder = Recorder(writer, clock=clock)
    ids = {}

    with recorder.execution("Support auto-reply", trigger="incoming_message", phone="+4915112345678") as run:
        with run.step("AI Response", "ai_response", input={"text": "Where is my order?"}) as step:
            clock.advance(2.5)
            step.ai(model="gpt-4o-mini", system_prompt="You are support.", user_prompt="Where is my order?",
                    reply="It ships tomorrow.", prompt_tokens=400, completion_tokens=100)
            step.output = {"reply": "It ships tomorrow."}
        with run.step("Send Message", "send_message"):
            clock.advance(0.5)
            run.message_sent()
    ids["support_ok"] = run.execution_id

    clock.advance(3600)
    with pytest.raises(RuntimeError), recorder.execution("Support auto-reply", trigger="incoming_message",
                                                         phone="+4915112345678") as run:
        with run.step("AI Response", "ai_response") as step:
            step.ai(model="gpt-4o", prompt_tokens=50, completion_tokens=0)
            raise RuntimeError("OpenAI API error 429: rate limit exceeded")
    ids["support_failed"] = run.execution_id

    clock.advance(3600)
    with recorder.execution("Daily broadcast", trigger="schedule") as run:
        with run.step("Loop Rows", "loop_rows", input={"rows": 3}):
            clock.advance(1)
        for phone in ("+4915100000001", "+49 151 ABC", "+4915100000003"):
            with run.step("Send Message", "send_message", input={"contact": {"phone": phone}}) as step:
                clock.advance(0.3)
                if "ABC" in phone:
                    step.fail(f"Invalid phone number '{phone}' for contact 'Ana'")
                    run.message_failed()
                else:
                    run.message_sent()
    ids["broadcast_errors"] = run.execution_id

    clock.advance(86400)  # the next day
    with recorder.execution("Manual campaign", trigger="manual") as run:
        run.cancel("Stopped by user")
    ids["campaign_cancelled"] = run.execution_id

    clock.advance(60)
    running = recorder.execution("Daily broadcast", trigger="schedule").__enter__()
    with running.step("Loop Rows", "loop_rows", input={"rows": 500}):
        clock.advance(1)
    ids["broadcast_running"] = running.execution_id
    writer.close()
    return LogQueries(Store(tmp_path)), ids


def test_tab_counts_add_up(logs):
    queries, _ = logs
    counts = queries.tab_counts()
    assert counts == {"all": 5, "running": 1, "failed": 2, "completed": 2}
    assert counts["all"] == counts["running"] + counts["failed"] + counts["completed"]


def test_flow_groups_most_recent_activity_first(logs):
    queries, _ = logs
    groups = queries.flow_groups()
    assert groups.flow_name.tolist() == ["Daily broadcast", "Manual campaign", "Support auto-reply"]
    row = groups.set_index("flow_name").loc["Daily broadcast"]
    assert (row.runs, row.latest_status, bool(row.has_failures)) == (2, "running", True)
    support = groups.set_index("flow_name").loc["Support auto-reply"]
    assert (support.runs, support.latest_status, bool(support.has_failures)) == (2, "failed", True)
    assert not groups.set_index("flow_name").loc["Manual campaign"].has_failures


def test_tabs_filter_groups_and_executions(logs):
    queries, ids = logs
    assert queries.flow_groups(Tab.RUNNING).flow_name.tolist() == ["Daily broadcast"]
    failed = queries.executions(tab=Tab.FAILED)
    assert set(failed.execution_id) == {ids["support_failed"], ids["broadcast_errors"]}
    completed = queries.executions(tab="completed")
    assert set(completed.status) == {"completed", "cancelled"}


def test_executions_newest_first_and_paged(logs):
    queries, ids = logs
    everything = queries.executions(limit=100)
    assert everything.started_at.is_monotonic_decreasing
    first, second = queries.executions(limit=2), queries.executions(limit=2, offset=2)
    assert list(first.execution_id) + list(second.execution_id) == list(everything.execution_id[:4])
    broadcast = queries.executions("Daily broadcast")
    assert broadcast.execution_id.tolist() == [ids["broadcast_running"], ids["broadcast_errors"]]
    errors = broadcast.set_index("execution_id").loc[ids["broadcast_errors"]]
    assert (errors.messages_sent, errors.messages_failed, errors.duration_ms) == (2, 1, 1900)


def test_execution_detail_has_every_field_in_step_order(logs):
    queries, ids = logs
    record = queries.execution(ids["support_ok"])
    assert record["trigger_type"] == "incoming_message" and record["trigger_phone"] == "+4915112345678"
    assert [s["index"] for s in record["steps"]] == [0, 1]
    ai = record["steps"][0]
    assert ai["model"] == "gpt-4o-mini" and ai["duration_ms"] == 2500
    assert (ai["prompt_tokens"], ai["completion_tokens"], ai["total_tokens"]) == (400, 100, 500)
    assert ai["system_prompt"] == "You are support." and ai["ai_reply"] == "It ships tomorrow."
    assert ai["input"] == '{"text":"Where is my order?"}' and ai["output"] == '{"reply":"It ships tomorrow."}'
    assert queries.execution("no-such-id") is None


def test_ids_are_time_ordered_and_tell_their_day(logs):
    queries, ids = logs
    ordered = [ids[k] for k in ("support_ok", "support_failed", "broadcast_errors", "campaign_cancelled")]
    assert ordered == sorted(ordered)
    assert day_from_id(ids["support_ok"]) == T0.date()
    assert day_from_id(ids["campaign_cancelled"]) == T0.date() + dt.timedelta(days=1)
    assert day_from_id("e-001") is None


def test_token_usage_groupings_agree(logs):
    queries, _ = logs
    totals = {by: queries.token_usage(by).total_tokens.sum() for by in ("day", "flow", "node", "model")}
    assert set(totals.values()) == {550}
    by_model = queries.token_usage("model").set_index("model")
    assert by_model.loc["gpt-4o-mini"].prompt_tokens == 400 and by_model.loc["gpt-4o"].prompt_tokens == 50
    by_day = queries.token_usage("day")
    assert len(by_day) == 1 and by_day.day.iloc[0].date() == T0.date()
    assert queries.token_usage("day", since=T0.date() + dt.timedelta(days=1)).empty


def test_time_range_prunes_by_start_day(logs):
    queries, _ = logs
    next_day = T0.date() + dt.timedelta(days=1)
    assert queries.tab_counts(since=next_day)["all"] == 2
    assert queries.tab_counts(until=T0.date())["all"] == 3
    assert queries.tab_counts(since=T0 + dt.timedelta(minutes=30), until=T0.date())["all"] == 2


def test_failures_name_the_failing_step_and_cause(logs):
    queries, ids = logs
    failures = queries.failures().set_index("execution_id")
    broadcast = failures.loc[ids["broadcast_errors"]]
    assert broadcast.failed_node_name == "Send Message" and broadcast.failed_step_index == 2
    assert broadcast.cause == FailureCause.INVALID_PHONE
    assert "ABC" in broadcast.failed_step_input
    assert failures.loc[ids["support_failed"]].cause == FailureCause.AI_PROVIDER


@pytest.mark.parametrize("error", [
    "WhatsApp account disconnected: session expired, scan the QR code again",
    "Invalid phone number '+49 151 ABC' for contact 'Ana'",
    "OpenAI API error 429: rate limit exceeded",
    "Anthropic API key invalid (401)",
    "Template variable {{first_name}} is missing for contact 'Bo'",
    "Timeout after 30 s calling https://shop.example/orders",
    None,
])
def test_sql_and_python_classify_failures_alike(tmp_path, error):
    recorder = Recorder(Writer(Store(tmp_path), flush_interval=None))
    with recorder.execution("Flow", trigger="manual") as run:
        with run.step("Step", "http_request") as step:
            if error:
                step.fail(error)
        if error is None:
            run.finish("failed")  # an execution that failed without saying why
    recorder.close()
    (cause,) = LogQueries(Store(tmp_path)).failures().cause
    assert cause == classify_failure(error)


def test_hostile_strings_are_data_not_sql(tmp_path):
    name = "x'); DROP TABLE executions; --"
    with Recorder.open(tmp_path) as recorder, recorder.execution(name, trigger="manual"):
        pass
    queries = LogQueries(Store(tmp_path))
    assert queries.flow_groups().flow_name.tolist() == [name]
    assert len(queries.executions(name)) == 1


def test_empty_store_answers_empty(tmp_path):
    queries = LogQueries(Store(tmp_path))
    assert queries.tab_counts() == {"all": 0, "running": 0, "failed": 0, "completed": 0}
    assert queries.flow_groups().empty and queries.executions().empty and queries.failures().empty
    assert queries.token_usage("model").empty
    assert Store(tmp_path).change_token() == ""


def live_day(tmp_path):
    """A store, its writer (flushed by hand), a function writing one contract event, and a start
    time half an hour ago: today, as a live stream writes it."""
    from dashboard.events import parse_event

    store = Store(tmp_path / "logs")
    writer = Writer(store, flush_interval=None)

    def write(event: dict) -> None:
        writer.write(parse_event(json.dumps(event)))

    return store, writer, write, dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=30)


def test_a_live_days_flow_page_and_detail_agree_with_the_day_compacted(tmp_path):
    """A live day: one compacted file plus newer small files that finish some of its executions.
    A flow's page and an execution's detail narrow the compacted file before merging; they must
    give what the same day gives once compacted whole."""
    from tests.factories import finished, started, step, uuid7_at

    store, writer, write, now = live_day(tmp_path)
    ids = [uuid7_at(now + dt.timedelta(seconds=i), salt=i) for i in range(12)]
    flows = ["Order reminder", "Support auto-reply", "Lead follow-up"]
    for i, x in enumerate(ids):
        write(started(x, now + dt.timedelta(seconds=i), flow_name=flows[i % 3]))
        write(step(x, 0, now + dt.timedelta(seconds=i)))
        if i % 2:
            write(finished(x, now + dt.timedelta(seconds=i + 5)))
    writer.flush()
    store.compact()
    for i, x in enumerate(ids):  # the new files finish the rest and add a step to some
        if i % 2 == 0:
            write(step(x, 1, now + dt.timedelta(seconds=i + 2), status="failed", error="timeout"))
            write(finished(x, now + dt.timedelta(seconds=i + 9), "failed", error="timeout"))
    writer.flush()
    day = store.days()[-1]
    assert store.files_by_layer("executions", [day])[2], "expected a live day: a compacted file and deltas"

    queries = LogQueries(store)

    def answers():
        pages = {f: queries.executions(f, limit=100)[["execution_id", "status"]].values.tolist() for f in flows}
        details = {x: (r["status"], [s["status"] for s in r["steps"]]) for x in ids for r in [queries.execution(x)]}
        return pages, details

    live = answers()
    assert sum(len(p) for p in live[0].values()) == len(ids)
    assert live[1][ids[0]] == ("failed", ["completed", "failed"])
    assert live[1][ids[1]] == ("completed", ["completed"])
    store.compact([day])
    assert not store.files_by_layer("executions", [day])[2]
    assert answers() == live


def test_a_live_days_new_files_folded_in_one_by_one_give_what_a_fresh_merge_gives(tmp_path):
    """The page's queries keep the merge of a live day's new files and fold in only newer files.
    Executions that start in one flush and finish in a later one (or were started in the compacted
    file) must read the same as from a fresh reader, and as once the day is compacted."""
    from tests.factories import finished, started, step, uuid7_at

    store, writer, write, now = live_day(tmp_path)
    ids = [uuid7_at(now + dt.timedelta(seconds=i), salt=i) for i in range(16)]
    flows = ["Order reminder", "Support auto-reply"]
    for i, x in enumerate(ids[:4]):  # in the compacted file, still running
        write(started(x, now + dt.timedelta(seconds=i), flow_name=flows[i % 2]))
    writer.flush()
    store.compact()
    kept = LogQueries(store)  # one reader across the flushes, as the served page's

    def answers(queries: LogQueries):
        counts = queries.tab_counts()
        pages = {f: queries.executions(f, limit=100)[["execution_id", "status", "messages_sent"]].values.tolist()
                 for f in flows}
        groups = queries.flow_groups()[["flow_name", "runs", "latest_status"]].values.tolist()
        return counts, pages, groups

    flushes = [
        lambda: [write(finished(ids[0], now + dt.timedelta(seconds=30), messages_sent=2))]
        + [write(started(x, now + dt.timedelta(seconds=4 + i), flow_name=flows[i % 2])) for i, x in
           enumerate(ids[4:10])],
        lambda: [write(step(ids[4], 0, now + dt.timedelta(seconds=40)))]
        + [write(finished(x, now + dt.timedelta(seconds=41), "failed", error="timeout")) for x in ids[4:7]],
        lambda: [write(finished(ids[1], now + dt.timedelta(seconds=50), "cancelled"))]
        + [write(started(x, now + dt.timedelta(seconds=10 + i), flow_name=flows[0])) for i, x in enumerate(ids[10:])],
        lambda: [write(finished(x, now + dt.timedelta(seconds=60))) for x in ids[7:]]
        + [write(finished(ids[7], now + dt.timedelta(seconds=59), "failed"))],  # the earlier end wins
    ]
    for flush in flushes:
        flush()
        writer.flush()
        assert store.files_by_layer("executions")[2], "expected a live day: a compacted file and deltas"
        assert answers(kept) == answers(LogQueries(store))
    live = answers(kept)
    assert live[0] == {"all": 16, "running": 2, "failed": 4, "completed": 10}
    store.compact()
    assert answers(LogQueries(store)) == live == answers(kept)
