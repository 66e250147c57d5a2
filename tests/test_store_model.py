"""Random operation sequences against the real store and a reference model of plain dicts.

The model says what a user must see: an execution exists once its execution_started is
stored; it runs until an execution_finished is stored, and among several finished events
the earliest `at` wins (ties: the smaller status); a step is keyed by (execution, index).
Deleted executions never come back, clear all and retention keep running executions with
their steps, and compaction changes no result. After every change the store's answers
(through LogQueries) must equal the model's, and the removed ids must be gone from disk.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import hypothesis.strategies as st
import pytest
from factories import UTC, assert_gone, finished, parquet_ids, parsed, started, step, uuid7_at
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from objectstore import new_bucket

from dashboard.queries import LogQueries
from dashboard.schema import FINAL_STATUSES, Tab
from dashboard.store import ExecutionNotFound, ExecutionRunning, Store
from dashboard.writer import Writer

BASE = dt.datetime(2026, 11, 10, tzinfo=UTC)


def _at(day: int, clock: str) -> dt.datetime:
    hours, minutes, seconds = map(int, clock.split(":"))
    return BASE + dt.timedelta(days=day, hours=hours, minutes=minutes, seconds=seconds)


# The executions of the pool: several days, one running past midnight, ids of every kind
# (plain, hostile, UUIDv7 encoding the start day, UUIDv7 encoding another day).
POOL_SPEC = [
    ("e-0", "Support auto-reply", _at(0, "10:00:00"), "incoming_message"),
    (uuid7_at(_at(0, "12:00:00"), 1), "Newsletter", _at(0, "12:00:00"), "schedule"),
    ("e-2", "Lead scoring <b>", _at(1, "09:00:00"), "manual"),
    (uuid7_at(_at(2, "00:00:05"), 3), "Support auto-reply", _at(1, "23:59:58"), "incoming_message"),
    ("../../e-4", "Newsletter", _at(2, "08:00:00"), "schedule"),
    (uuid7_at(_at(3, "07:00:00"), 5), "Lead scoring <b>", _at(3, "07:00:00"), "manual"),
    ("e-6'; DROP TABLE executions; --", "Support auto-reply", _at(3, "18:00:00"), "manual"),
    ("e-7", "Newsletter", _at(0, "23:00:00"), "schedule"),
]
IDS = [spec[0] for spec in POOL_SPEC]
FLOW = {x: flow for x, flow, _, _ in POOL_SPEC}
START = {x: at for x, _, at, _ in POOL_SPEC}
DAY = {x: at.date() for x, at in START.items()}


def _phone(k: int) -> str | None:
    return f"+49151000000{k}" if POOL_SPEC[k][3] == "incoming_message" else None


PHONE = {x: _phone(k) for k, x in enumerate(IDS)}


def _events_of(k: int) -> dict[str, list[dict]]:
    x, flow, at, trigger = POOL_SPEC[k]
    phone = _phone(k)
    steps = [step(x, i, at + dt.timedelta(seconds=1 + 3 * i), seconds=2,
                  tokens=(100 * (i + 1) + k, 10 * (i + 1) + k) if i < 2 else None)
             for i in range(3)]
    finishes = [finished(x, at + dt.timedelta(seconds=60), FINAL_STATUSES[k % 4]),
                finished(x, at + dt.timedelta(seconds=60), FINAL_STATUSES[(k + 1) % 4]),
                finished(x, at + dt.timedelta(seconds=120), FINAL_STATUSES[(k + 2) % 4])]
    return {"start": [started(x, at, flow_name=flow, trigger=trigger, phone=phone)],
            "steps": steps, "finishes": finishes}


EVENTS = {x: _events_of(k) for k, x in enumerate(IDS)}
ALL_EVENTS = [e for x in IDS for kind in EVENTS[x].values() for e in kind]
TOKENS = {(e["execution_id"], e["index"]): (e["tokens"]["prompt"], e["tokens"]["completion"])
          for e in ALL_EVENTS if e["type"] == "step_finished" and "tokens" in e}


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Model:
    """What the store must answer, in plain dicts."""

    def __init__(self):
        self.buffered: list[dict] = []  # written to the writer, not flushed yet
        self.started: set[str] = set()
        self.steps: dict[str, set[int]] = defaultdict(set)
        self.finishes: dict[str, set[tuple[dt.datetime, str]]] = defaultdict(set)
        self.removed: set[str] = set()
        self.tombstoned: set[str] = set()  # removed ids whose day keeps a tombstone
        self.horizon: dt.date | None = None

    def flush(self) -> None:
        for event in self.buffered:
            x = event["execution_id"]
            if x in self.removed:
                continue  # a late event for a deleted execution
            if event["type"] == "execution_started":
                if self.horizon is None or DAY[x] >= self.horizon:
                    self.started.add(x)
            elif event["type"] == "step_finished":
                self.steps[x].add(event["index"])
            else:
                self.finishes[x].add((_ts(event["at"]), event["status"]))
        self.buffered.clear()

    def visible(self) -> list[str]:
        return [x for x in IDS if x in self.started and x not in self.removed]

    def status(self, x: str) -> str:
        return min(self.finishes[x])[1] if self.finishes[x] else "running"

    def remove(self, ids, tombstone: bool = True) -> None:
        self.removed.update(ids)
        if tombstone:
            self.tombstoned.update(ids)

    def answers(self, details=IDS) -> dict:
        visible = self.visible()
        statuses = {x: self.status(x) for x in visible}
        tokens: dict[dt.date, list[int]] = {}
        for x in visible:
            for i in sorted(self.steps[x]):
                if (x, i) in TOKENS:
                    total = tokens.setdefault(DAY[x], [0, 0, 0])
                    total[0] += TOKENS[x, i][0]
                    total[1] += TOKENS[x, i][1]
                    total[2] += 1
        return {
            "tabs": {t.value: sum(s in t.statuses for s in statuses.values()) for t in Tab},
            "groups": dict(Counter(FLOW[x] for x in visible)),
            "executions": {x: (statuses[x], DAY[x]) for x in visible},
            "by_flow": {f: sorted((x, statuses[x]) for x in visible if FLOW[x] == f) for f in set(FLOW.values())},
            "tokens": {day: tuple(v) for day, v in tokens.items()},
            "detail": {x: (statuses[x], sorted(self.steps[x])) if x in statuses else None for x in details},
        }


def store_answers(queries: LogQueries, details=IDS, full: bool = False) -> dict:
    """The same answers from the real store, with the detail of the executions `details`;
    `full` adds every field of every execution and step."""
    groups = queries.flow_groups()
    executions = queries.executions(limit=1000)
    tokens = queries.token_usage(by="day")
    answers = {
        "tabs": queries.tab_counts(),
        "groups": dict(zip(groups.flow_name, groups.runs.astype(int), strict=True)),
        "executions": {x: (s, d.date()) for x, s, d in zip(executions.execution_id, executions.status,
                                                            executions.day, strict=True)},
        "tokens": {d.date(): (int(p), int(c), int(n)) for d, p, c, n in zip(
            tokens.day, tokens.prompt_tokens, tokens.completion_tokens, tokens.ai_steps, strict=True)},
        "by_flow": {f: sorted(zip(page.execution_id, page.status, strict=True))
                    for f in set(FLOW.values()) for page in [queries.executions(f, limit=1000)]},
        "detail": {},
    }
    for x in details:
        record = queries.execution(x)
        if record is None:
            answers["detail"][x] = None
            continue
        answers["detail"][x] = (record["status"], [s["index"] for s in record["steps"]])
        if full:
            record.pop("duration_ms")  # of a running execution: grows with the clock
            answers[x] = record
    return answers


class StoreMachine(RuleBasedStateMachine):
    """On a folder; StoreMachineOnS3 runs the same on the local S3 server."""

    def new_location(self) -> str:
        return tempfile.mkdtemp(prefix="flowlogs-model-")

    def __init__(self):
        super().__init__()
        self.root = self.new_location()
        self.store = Store(self.root)
        self.writer = self._new_writer()
        self.queries = LogQueries(self.store)
        self.model = Model()
        self.changed = False
        self.touched: set[str] = set()  # executions whose detail may have changed since the last check

    def _new_writer(self) -> Writer:
        return Writer(self.store, max_rows=1_000_000, flush_interval=None)

    def _write(self, events) -> None:
        for event in events:
            self.writer.write(parsed(event))
            self.model.buffered.append(event)
            self.touched.add(event["execution_id"])

    # -- delivery -------------------------------------------------------------------

    @rule(event=st.sampled_from(ALL_EVENTS))
    def deliver_one(self, event):
        self._write([event])

    @rule(x=st.sampled_from(IDS), data=st.data())
    def deliver_run(self, x, data):
        """A whole run in any order, maybe with a flush in the middle (steps before start, ...)."""
        events = EVENTS[x]["start"] + EVENTS[x]["steps"] + [data.draw(st.sampled_from(EVENTS[x]["finishes"]))]
        events = data.draw(st.permutations(events))
        cut = data.draw(st.integers(0, len(events)))
        self._write(events[:cut])
        if 0 < cut < len(events):
            self.flush()
        self._write(events[cut:])

    @precondition(lambda self: self.model.removed)
    @rule(data=st.data())
    def deliver_late(self, data):
        """A late (re-)delivery for an execution that was removed; through a new writer sometimes."""
        x = data.draw(st.sampled_from(sorted(self.model.removed)))
        events = [e for kind in EVENTS[x].values() for e in kind]
        if data.draw(st.booleans()):
            self.restart_writer()
        self._write(data.draw(st.lists(st.sampled_from(events), min_size=1, max_size=4)))
        self.flush()

    @rule()
    def flush(self):
        self.changed |= bool(self.model.buffered)  # an empty flush writes nothing: no need to check
        self.writer.flush()
        self.model.flush()

    @rule()
    def restart_writer(self):
        """A new process: it knows no execution days and looks them up in the store."""
        self.changed |= bool(self.model.buffered)
        self.writer.close()
        self.model.flush()
        self.writer = self._new_writer()

    # -- management -----------------------------------------------------------------

    @rule(x=st.sampled_from(IDS))
    def delete(self, x):
        visible = x in self.model.visible()
        if not visible:
            with pytest.raises(ExecutionNotFound):
                self.store.delete_execution(x)
        elif self.model.status(x) == "running":
            with pytest.raises(ExecutionRunning):
                self.store.delete_execution(x)
        else:
            assert self.store.delete_execution(x) == DAY[x]
            self.model.remove([x])
            self.check_gone([x])
        self.touched.add(x)
        self.changed = True

    @rule()
    def clear_all(self):
        doomed = [x for x in self.model.visible() if self.model.status(x) != "running"]
        assert self.store.clear_all() == len(doomed)
        self.model.remove(doomed)
        self.check_gone(doomed)
        self.touched.update(doomed, self.running())  # the removed ones, the running ones with all their steps
        self.changed = True

    @rule(today=st.integers(0, 6), days=st.integers(1, 4))
    def retention(self, today, days):
        today = (BASE + dt.timedelta(days=today)).date()
        cutoff = today - dt.timedelta(days=days - 1)
        self.store.apply_retention(days=days, today=today)
        model = self.model
        model.horizon = max(filter(None, [model.horizon, cutoff]))
        doomed = []
        for day in sorted({DAY[x] for x in model.visible()} | {DAY[x] for x in model.tombstoned}):
            if day >= cutoff:
                continue
            on_day = [x for x in model.visible() if DAY[x] == day]
            if any(model.status(x) == "running" for x in on_day):
                thinned = [x for x in on_day if model.status(x) != "running"]
                model.remove(thinned)
            else:
                thinned = on_day
                model.remove(thinned, tombstone=False)
                model.tombstoned -= {x for x in IDS if DAY[x] == day}  # the whole day went, tombstones too
            doomed += thinned
        self.check_gone(doomed)
        self.touched.update(doomed, self.running())
        self.changed = True

    @rule()
    def compact(self):
        """Results are identical before and after; and here every execution's detail is checked."""
        before = store_answers(self.queries, full=True)
        self.store.compact()
        after = store_answers(self.queries, full=True)
        assert after == before
        assert {k: after[k] for k in self.model.answers()} == self.model.answers()

    # -- checks -----------------------------------------------------------------------

    def running(self) -> list[str]:
        return [x for x in self.model.visible() if self.model.status(x) == "running"]

    def check_gone(self, ids) -> None:
        """Right after a removal: no data file and no log entry under the location holds these ids or
        their phone numbers (the deletions table keeps only their hashes)."""
        assert_gone(self.root, ids, {PHONE[x] for x in ids if PHONE.get(x)})

    @invariant()
    def store_agrees_with_model(self):
        if not self.changed:
            return
        self.changed = False
        touched = [x for x in IDS if x in self.touched]
        self.touched.clear()
        assert store_answers(self.queries, touched) == self.model.answers(touched)
        for path, held in parquet_ids(self.root).items():
            dataset = path.split("/", 1)[0]
            if dataset in ("executions", "steps"):
                assert not held & self.model.removed, f"{path} holds removed {held & self.model.removed}"
            elif dataset.startswith("pending"):
                assert not held & self.model.tombstoned, f"{path} holds deleted {held & self.model.tombstoned}"

    def teardown(self):
        self.writer.close()
        if "://" not in self.root:
            shutil.rmtree(self.root, ignore_errors=True)


class StoreMachineOnS3(StoreMachine):
    def new_location(self) -> str:
        return new_bucket()  # on the local S3 server the `s3` fixture started


StoreMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
StoreMachineOnS3.TestCase.settings = settings(  # each commit is an HTTP round trip or three: fewer examples
    max_examples=2, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStoreAgainstModel = StoreMachine.TestCase
TestStoreAgainstModelOnS3 = pytest.mark.usefixtures("s3")(StoreMachineOnS3.TestCase)


def test_retention_keeps_a_running_execution_and_nothing_new_starts_on_its_day(data_root: Path):
    """The day retention thinned keeps the running execution (its late steps and finish land),
    but is closed to executions starting on it, as `flowlogs ingest` refuses them too."""
    store = Store(data_root)
    running, done = EVENTS["e-0"], EVENTS["e-7"]  # both start on day 0
    with Writer(store, flush_interval=None) as writer:
        for event in running["start"] + running["steps"][:1] + done["start"] + done["finishes"][:1]:
            writer.write(parsed(event))
    store.apply_retention(days=1, today=DAY["e-2"] + dt.timedelta(days=1))
    queries = LogQueries(store)
    assert queries.executions().execution_id.tolist() == ["e-0"]

    late_start = EVENTS[IDS[1]]  # a run of day 0 never seen before
    with Writer(store, flush_interval=None) as writer:
        for event in late_start["start"] + late_start["steps"] + running["steps"][1:] + running["finishes"][2:]:
            writer.write(parsed(event))
        report = writer.flush()
        assert report.refused_expired == [IDS[1]]
        for event in done["start"] + done["steps"]:  # late events of the run retention removed
            writer.write(parsed(event))
        assert writer.flush().stored == 0
    record = queries.execution("e-0")
    assert record["status"] == FINAL_STATUSES[2] and [s["index"] for s in record["steps"]] == [0, 1, 2]
    assert queries.executions().execution_id.tolist() == ["e-0"]
    for path, held in parquet_ids(data_root).items():
        if path.split("/", 1)[0] in ("executions", "steps"):
            assert held <= {"e-0"}, path
