"""Search, failure-cause narrowing and the failure-causes counts, over real files.

The executions are written as a flow engine sends them (factories), across two days, and
every check is made before and after compaction: rollups must never leak into a narrowed count.
"""

import datetime as dt

import pytest
from factories import finished, parsed, started, step, uuid7_at

from dashboard.queries import LogQueries, Search
from dashboard.queries.search import phone_digits
from dashboard.schema import FailureCause
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
HOSTILE = "'; DROP TABLE executions; -- 50%_off"


def run(writer, at, flow, *, phone=None, status="completed", error=None, reply=None, step_error=None, salt=0):
    eid = uuid7_at(at, salt)
    events = [started(eid, at, flow_name=flow, trigger="incoming_message" if phone else "schedule", phone=phone)]
    if reply is not None:
        events.append(step(eid, 0, at, tokens=(10, 5), ai_reply=reply))
    if step_error is not None:
        events.append(step(eid, 1, at + dt.timedelta(seconds=1), status="failed", error=step_error))
    events.append(finished(eid, at + dt.timedelta(seconds=3), status, error=error))
    for event in events:
        writer.write(parsed(event))
    return eid


@pytest.fixture(params=["live", "compacted"])
def logs(tmp_path, request):
    store = Store(tmp_path)
    writer = Writer(store, flush_interval=None)
    ids = {
        "ana_1": run(writer, T0, "Support auto-reply", phone="+4915112345678", reply="Your REFUND is on its way."),
        "ana_2": run(writer, T0 + dt.timedelta(hours=1), "Support auto-reply", phone="+4915112345678",
                     reply="Thanks!", salt=1),
        "ana_longer": run(writer, T0 + dt.timedelta(hours=2), "Support auto-reply", phone="+49151123456789",
                          reply="Hello", salt=2),
        "phone_fail": run(writer, T0 + dt.timedelta(hours=3), "Order reminder", status="failed",
                          step_error="Invalid phone number '+49 151 ABC' for contact 'Ana'", salt=3),
        "template_fail": run(writer, T0 + dt.timedelta(days=1), "Order reminder", status="failed",
                             step_error="Template variable {{first_name}} is missing", salt=4),
        "ai_fail": run(writer, T0 + dt.timedelta(days=1, hours=1), "Lead qualification", status="failed",
                       error="OpenAI API error 429: rate limit exceeded", salt=5),
        "hostile": run(writer, T0 + dt.timedelta(days=1, hours=2), HOSTILE, reply=HOSTILE, salt=6),
    }
    writer.flush()
    writer.close()
    if request.param == "compacted":
        store.compact(store.all_days())
    return LogQueries(store), ids


def found(queries, **scope) -> set[str]:
    return set(queries.executions(limit=1000, **scope).execution_id)


def test_a_phone_number_finds_that_numbers_executions_however_it_is_written(logs):
    queries, ids = logs
    for written in ("+4915112345678", "+49 151 1234 5678", "004915112345678", "+49 (151) 1234-5678"):
        assert found(queries, search=written) == {ids["ana_1"], ids["ana_2"]}, written
    # part of a number: every number holding those digits
    assert found(queries, search="151 1234 56") == {ids["ana_1"], ids["ana_2"], ids["ana_longer"]}


def test_words_of_ai_replies_and_errors_and_flow_names_ignore_case(logs):
    queries, ids = logs
    assert found(queries, search="refund") == {ids["ana_1"]}
    assert found(queries, search="first_name") == {ids["template_fail"]}  # a step's error
    assert found(queries, search="RATE LIMIT") == {ids["ai_fail"]}  # the execution's error
    assert found(queries, search="order rem") == {ids["phone_fail"], ids["template_fail"]}
    assert found(queries, search="no such words") == set()


def test_a_search_without_ai_replies_tells_nothing_of_them(logs):
    """What a viewer from whom AI text is hidden searches with."""
    queries, ids = logs
    assert found(queries, search=Search("refund", ai_replies=False)) == set()
    assert found(queries, search=Search("first_name", ai_replies=False)) == {ids["template_fail"]}
    assert found(queries, search=Search("refund")) == {ids["ana_1"]}


def test_an_execution_id_or_its_start_finds_it(logs):
    queries, ids = logs
    assert found(queries, search=ids["ai_fail"]) == {ids["ai_fail"]}
    assert found(queries, search=ids["ai_fail"].upper()) == {ids["ai_fail"]}


def test_search_text_is_a_literal_never_sql_or_a_pattern(logs):
    queries, ids = logs
    assert found(queries, search=HOSTILE) == {ids["hostile"]}
    assert found(queries, search="50%_off") == {ids["hostile"]}
    assert found(queries, search="%") == {ids["hostile"]}  # only the text holding a percent sign
    assert queries.tab_counts()["all"] == len(ids)  # nothing was dropped


def test_counts_groups_and_pages_agree_with_the_search_and_the_range(logs):
    queries, ids = logs
    counts = queries.tab_counts(search="order reminder")
    assert counts == {"all": 2, "running": 0, "failed": 2, "completed": 0}
    groups = queries.flow_groups(search="support")
    assert groups.flow_name.tolist() == ["Support auto-reply"] and groups.runs.tolist() == [3]
    day_two = T0.date() + dt.timedelta(days=1)
    assert queries.tab_counts(since=day_two, search="order")["all"] == 1
    assert found(queries, since=day_two, until=day_two, search="order") == {ids["template_fail"]}
    # a time bound is exact (the end excluded), not rounded to its day
    assert queries.tab_counts(since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(hours=2))["all"] == 1
    assert queries.tab_counts(since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(hours=2, seconds=1),
                              search="+4915112345678")["all"] == 1


def test_a_cause_narrows_to_the_failures_of_that_cause(logs):
    queries, ids = logs
    assert found(queries, cause=FailureCause.INVALID_PHONE) == {ids["phone_fail"]}
    assert found(queries, cause="template_variable") == {ids["template_fail"]}
    assert queries.tab_counts(cause="ai_provider") == {"all": 1, "running": 0, "failed": 1, "completed": 0}
    assert found(queries, cause="ai_provider", search="order") == set()  # both narrowings hold
    with pytest.raises(ValueError):
        queries.tab_counts(cause="no_such_cause")


def test_failure_cause_counts_are_what_failures_lists(logs):
    queries, _ = logs
    listed = queries.failures().cause.value_counts().to_dict()
    for bucket in ("day", "hour"):
        counted = queries.failure_causes(bucket=bucket).groupby("cause").failures.sum().to_dict()
        assert counted == listed == {"invalid_phone": 1, "template_variable": 1, "ai_provider": 1}
    per_day = queries.failure_causes(bucket="day")
    assert sorted(per_day.bucket.dt.date.unique()) == [T0.date(), T0.date() + dt.timedelta(days=1)]
    assert queries.failure_causes(search="order").failures.sum() == 2


@pytest.mark.parametrize(("text", "digits"), [
    ("+49 151 1234 5678", "4915112345678"), ("0049-151-12345678", "4915112345678"), ("(030) 1234", "301234"),
    ("refund", None), ("12345", None), ("+49 151 ABC", None)])
def test_phone_digits(text, digits):
    assert phone_digits(text) == digits
