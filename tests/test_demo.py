"""The demo simulator: deterministic history with realistic shapes, failures and tokens; the live mode."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time
import uuid

import duckdb
import pandas as pd
import pytest

from dashboard.demo import (
    FLOW_NAMES,
    FLOWS,
    LIVE_STOP_REASON,
    MAX_REPLY_CHARS,
    MODELS,
    USER_STOP_REASON,
    SimulatedClock,
    generate_history,
    run_live,
    sample_errors,
    uuid7_at,
)
from dashboard.events import E164
from dashboard.queries import LogQueries
from dashboard.schema import FINAL_STATUSES, FailureCause, classify_failure
from dashboard.store import Store, day_from_id

NOW = dt.datetime(2026, 3, 15, 14, 30, tzinfo=dt.timezone.utc)
DAYS = 30
PER_DAY = 40
SEED = 7
SPEC_CAUSES = {FailureCause.WHATSAPP_CONNECTION, FailureCause.INVALID_PHONE, FailureCause.AI_PROVIDER,
               FailureCause.TEMPLATE_VARIABLE}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    reported: list[int] = []
    count = generate_history(Store(root), days=DAYS, per_day=PER_DAY, seed=SEED, now=NOW, progress=reported.append)
    return root, count, reported


@pytest.fixture(scope="module")
def executions(history) -> pd.DataFrame:
    return LogQueries(Store(history[0])).executions(limit=10**6)


@pytest.fixture(scope="module")
def steps(history) -> pd.DataFrame:
    """Every step row as stored, with its partition day."""
    with duckdb.connect() as con:
        return con.execute(
            "SELECT * EXCLUDE (recorded_at) FROM read_parquet($glob, hive_partitioning=true) "
            "ORDER BY execution_id, step_index", {"glob": f"{history[0]}/steps/*/*.parquet"}).df()


def test_same_seed_and_now_give_identical_data(history, steps, tmp_path):
    again = tmp_path / "again"
    generate_history(Store(again), days=DAYS, per_day=PER_DAY, seed=SEED, now=NOW)
    first, second = LogQueries(Store(history[0])), LogQueries(Store(again))
    pd.testing.assert_frame_equal(first.executions(limit=10**6), second.executions(limit=10**6))
    for by in ("day", "flow", "node", "model"):
        pd.testing.assert_frame_equal(first.token_usage(by), second.token_usage(by))
    with duckdb.connect() as con:
        again_steps = con.execute(
            "SELECT * EXCLUDE (recorded_at) FROM read_parquet($glob, hive_partitioning=true) "
            "ORDER BY execution_id, step_index", {"glob": f"{again}/steps/*/*.parquet"}).df()
    pd.testing.assert_frame_equal(steps, again_steps)


def test_another_seed_gives_other_data(executions, tmp_path):
    generate_history(Store(tmp_path), days=2, per_day=PER_DAY, seed=SEED + 1, now=NOW)
    other = LogQueries(Store(tmp_path)).executions(limit=10**6)
    assert not set(other.execution_id) & set(executions.execution_id)


def test_thirty_day_partitions_ending_today(history):
    expected = [NOW.date() - dt.timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    store = Store(history[0])
    assert store.days("executions") == expected
    assert store.days("steps") == expected


def test_each_day_holds_about_per_day_and_today_only_up_to_now(history, executions):
    _, count, reported = history
    assert count == len(executions) == sum(reported)
    per_day = executions.groupby("day").size()
    today = pd.Timestamp(NOW.date())
    assert per_day.drop(today).between(round(PER_DAY * 0.9), round(PER_DAY * 1.1)).all()
    assert 0 < per_day[today] < PER_DAY
    assert (executions.started_at <= NOW).all() and (executions.finished_at <= NOW).all()
    assert set(executions.status) <= set(FINAL_STATUSES)  # nothing left running


def test_daytime_is_busier_than_night(executions):
    hours = executions.started_at.dt.hour
    assert hours.between(9, 18).sum() > 4 * hours.between(0, 5).sum()


def test_execution_ids_are_uuid7_of_the_start(executions):
    for row in executions.itertuples():
        value = uuid.UUID(row.execution_id)
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert value.int >> 80 == int(row.started_at.timestamp() * 1000)
        assert day_from_id(row.execution_id) == row.started_at.date() == row.day.date()


def test_uuid7_at_and_simulated_clock():
    clock = SimulatedClock(NOW)
    clock.advance(1.25)
    assert clock.now() == NOW + dt.timedelta(seconds=1.25)
    clock.set(NOW)
    assert clock.now() == NOW
    ids = {uuid7_at(NOW, random.Random(i)) for i in range(100)}
    assert len(ids) == 100
    assert {day_from_id(i) for i in ids} == {NOW.date()}
    assert uuid7_at(NOW, random.Random(1)) == uuid7_at(NOW, random.Random(1))


def test_every_flow_shape_appears_with_its_trigger(executions, steps):
    assert set(executions.flow_name) == set(FLOW_NAMES)
    assert len(FLOWS) >= 14
    triggers = executions.groupby("flow_name").trigger_type.unique()
    for flow in FLOWS:
        assert list(triggers[flow.name]) == [flow.trigger]
    incoming = executions[executions.trigger_type == "incoming_message"]
    assert incoming.trigger_phone.str.fullmatch(E164[1:-1]).all()
    assert executions.loc[executions.trigger_type != "incoming_message", "trigger_phone"].isna().all()
    assert {"send_message", "ai_response", "loop_rows", "http_request", "condition", "delay", "set_variable",
            "receive_message"} <= set(steps.node_type)
    assert {"Send Message", "AI Response", "Loop Rows", "Receive Message"} <= set(steps.node_name)
    assert set(steps.status) == {"completed", "failed", "skipped"}
    assert set(executions.status) == set(FINAL_STATUSES)


def test_failures_cover_the_help_page_causes_at_plausible_rates(history, executions):
    failures = LogQueries(Store(history[0])).failures()
    causes = failures.cause.value_counts()
    assert SPEC_CAUSES <= set(causes.index)
    share = len(failures) / len(executions)
    assert 0.04 <= share <= 0.15, share
    assert causes.get(FailureCause.OTHER, 0) < 0.25 * len(failures)
    # every failed execution names its failing step and that step's error
    assert failures.failed_step_index.notna().all() and failures.error.notna().all()
    assert all(classify_failure(error) == cause for error, cause in zip(failures.error, failures.cause, strict=True))
    # broadcasts with bad numbers go on and end completed_with_errors, counting the failed messages
    with_errors = executions[executions.status == "completed_with_errors"]
    assert len(with_errors) and (with_errors.messages_failed > 0).any() and (with_errors.messages_sent > 0).any()


def test_an_invalid_phone_step_holds_the_bad_contact(history):
    failures = LogQueries(Store(history[0])).failures()
    phone_failures = failures[failures.error.str.startswith("Invalid phone number")]
    assert len(phone_failures)
    for row in phone_failures.itertuples():
        bad = re.match(r"Invalid phone number '([^']*)' for contact '([^']*)'", row.error)
        assert bad and row.failed_node_type == "send_message"
        step_input = json.loads(row.failed_step_input)
        contacts = step_input.get("contacts") or [step_input["contact"]]
        assert any(c["phone"] == bad[1] and not re.fullmatch(E164, c["phone"]) for c in contacts)


@pytest.mark.parametrize(("cause", "message"), sample_errors())
def test_every_simulated_error_is_classified_as_intended(cause, message):
    assert classify_failure(message) == cause


def test_tokens_follow_prompt_and_reply_lengths(steps):
    ai = steps[steps.node_type == "ai_response"]
    answered = ai[ai.status == "completed"]
    assert len(answered) > 100 and set(ai.model.dropna()) <= set(MODELS)
    prompt_chars = answered.system_prompt.str.len() + answered.user_prompt.str.len()
    assert (answered.prompt_tokens / (prompt_chars / 4)).between(0.85, 1.15).all()
    whole = answered[answered.ai_reply.str.len() < MAX_REPLY_CHARS]  # truncated replies were longer
    assert (whole.completion_tokens / (whole.ai_reply.str.len() / 4)).between(0.8, 1.2).all()
    assert (answered.ai_reply.str.len() <= MAX_REPLY_CHARS).all()
    refused = ai[ai.status == "failed"]
    assert len(refused) and (refused.prompt_tokens == 0).all() and refused.ai_reply.isna().all()
    # long prompts exist: the nightly report's sales table
    assert (prompt_chars > 2000).any()


def test_steps_are_ordered_with_realistic_durations(steps, executions):
    assert (steps.started_at <= steps.finished_at).all()
    assert (steps.groupby("execution_id").started_at.diff().dropna() >= pd.Timedelta(0)).all()
    assert (steps.groupby("execution_id").step_index.diff().dropna() == 1).all()
    seconds = (steps.finished_at - steps.started_at).dt.total_seconds()
    done = steps.status == "completed"
    single_sends = done & (steps.node_type == "send_message") & ~steps.input.str.contains('"batch"')
    assert seconds[single_sends].between(0.2, 1.5).all()
    assert seconds[done & (steps.node_type == "ai_response")].between(0.8, 8.0).all()
    assert seconds[done & (steps.node_type == "http_request")].between(0.1, 3.0).all()
    assert (seconds[steps.status == "skipped"] == 0).all()
    # a loop step spans its iterations
    loops = steps[done & (steps.node_type == "loop_rows")]
    assert (seconds[loops.index] > 0).all()
    limits = {f.name: f.max_seconds * 1000 for f in FLOWS}
    assert (executions.duration_ms <= executions.flow_name.map(limits)).all()


def test_warnings_skips_and_cancellations(steps, executions):
    warnings = steps.warnings.explode().dropna()
    assert (warnings == f"reply truncated to {MAX_REPLY_CHARS} chars").any()
    assert (warnings == "contact has no first name, used fallback").any()
    cancelled = executions[executions.status == "cancelled"]
    assert len(cancelled) and (cancelled.error == USER_STOP_REASON).all()
    skipped = steps[steps.status == "skipped"]
    assert {"condition"} <= set(steps.loc[steps.index.isin(skipped.index - 1), "node_type"])


def test_run_live_produces_running_executions_and_stops_cleanly(tmp_path):
    stop = threading.Event()
    result: list[int] = []
    live = threading.Thread(target=lambda: result.append(
        run_live(Store(tmp_path), seed=3, rate=4.0, stop=stop, long_running_share=0.3)))
    live.start()
    try:
        queries = LogQueries(Store(tmp_path))
        deadline = time.monotonic() + 3.0
        seen_running = False
        while time.monotonic() < deadline:
            time.sleep(0.25)
            seen_running = seen_running or queries.tab_counts()["running"] > 0
        assert seen_running, "running executions show up while they run"
    finally:
        stop.set()
        live.join(timeout=15)
    assert not live.is_alive()
    executions = LogQueries(Store(tmp_path)).executions(limit=10**6)
    assert result[0] == len(executions) > 0
    assert set(executions.status) <= set(FINAL_STATUSES)
    stopped = executions[executions.error == LIVE_STOP_REASON]
    assert (stopped.status == "cancelled").all()
    assert (executions.started_at > NOW).all()  # the real clock, not the simulated one


def test_today_has_its_partition_just_after_midnight(tmp_path):
    just_after = dt.datetime(2026, 3, 15, 0, 5, tzinfo=dt.timezone.utc)
    generate_history(Store(tmp_path), days=3, per_day=5, now=just_after)
    assert Store(tmp_path).days()[-1] == just_after.date()
    assert (LogQueries(Store(tmp_path)).executions(limit=100).finished_at <= just_after).all()
