"""A delete or Clear all stopped at any moment (killed, a full disk) is finished by the next attempt or
the next compaction: never an execution gone from the lists while its steps (AI replies, inputs) stay
on disk, and the id can always be deleted again. Failed attempts are in the audit log."""

from __future__ import annotations

import datetime as dt
import errno
import json
import random
import signal
import subprocess
import sys
import time

import pytest
from factories import assert_gone, parsed, started, step
from typer.testing import CliRunner

from dashboard.cli import app
from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.store.tables import Table
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)
PHONE = "+4915112340000"


def write_runs(location: str, count: int) -> list[str]:
    """Finished runs over two days, each with an AI step quoting the sender's phone number."""
    ids = []
    with Writer(Store(location), flush_interval=None) as writer:
        for i in range(count):
            x, at = f"del-{i}", T0 + dt.timedelta(days=i % 2, minutes=i)
            phone = f"{PHONE[:-3]}{i:03d}"
            for event in (started(x, at, trigger="incoming_message", phone=phone),
                          step(x, 0, at, tokens=(10, 5), input={"to": phone}),
                          step(x, 1, at + dt.timedelta(seconds=2), input={"to": phone}),
                          {"type": "execution_finished", "execution_id": x, "at": (at + dt.timedelta(seconds=5))
                           .isoformat(), "status": "completed", "messages_sent": 1, "messages_failed": 0}):
                writer.write(parsed(event))
            ids.append(x)
    Store(location).compact()
    return ids


def phone_of(execution_id: str) -> str:
    return f"{PHONE[:-3]}{int(execution_id.split('-')[1]):03d}"


def fail_the_execution_rows_commit(monkeypatch) -> None:
    """A full disk at the worst moment: the steps are rewritten, the execution rows' commit fails."""
    real = Table.commit

    def commit(table, removed, added, **kwargs):
        if table.spec.name == "executions" and removed:
            raise OSError(errno.ENOSPC, "No space left on device", table.uri)
        return real(table, removed, added, **kwargs)

    monkeypatch.setattr(Table, "commit", commit)


@pytest.mark.parametrize("finish_with", ["delete again", "compaction"])
def test_a_delete_that_fails_midway_lists_the_execution_and_is_finished_later(tmp_path, monkeypatch, finish_with):
    location = str(tmp_path / "logs")
    victim = write_runs(location, 6)[3]
    runner = CliRunner()
    with monkeypatch.context() as patch:
        fail_the_execution_rows_commit(patch)
        failed = runner.invoke(app, ["delete", victim, "--data", location])
    assert failed.exit_code == 1 and "No space left on device" in failed.output and "Traceback" not in failed.output
    record = LogQueries(Store(location)).execution(victim)
    assert record is not None and record["steps"] == []  # still listed: its steps went first
    audit = json.loads(runner.invoke(app, ["audit", "--json", "--data", location]).output)
    assert [(e["execution_ids"], e["outcome"].split(":")[0]) for e in audit] == [([victim], "failed")]

    if finish_with == "delete again":
        again = runner.invoke(app, ["delete", victim, "--data", location])
        assert again.exit_code == 0, again.output
    else:
        Store(location).compact()
    assert LogQueries(Store(location)).execution(victim) is None
    assert LogQueries(Store(location)).tab_counts()["all"] == 5
    assert_gone(location, [victim], [phone_of(victim)])


def test_clear_all_that_fails_midway_is_finished_by_the_next_one(tmp_path, monkeypatch):
    location = str(tmp_path / "logs")
    ids = write_runs(location, 6)
    with monkeypatch.context() as patch:
        fail_the_execution_rows_commit(patch)
        failed = CliRunner().invoke(app, ["clear", "--yes", "--data", location])
    assert failed.exit_code == 1 and "run it again" in " ".join(failed.output.split())
    queries = LogQueries(Store(location))
    assert all(queries.execution(x) is not None for x in ids)  # the first day's steps went, no execution did
    assert CliRunner().invoke(app, ["clear", "--yes", "--data", location]).exit_code == 0
    assert queries.tab_counts()["all"] == 0
    assert_gone(location, ids, [phone_of(x) for x in ids])


DELETER = """
import sys
from dashboard.store import Store
store = Store(sys.argv[1])
for x in sys.argv[2:]:
    print("DELETING", x, flush=True)
    store.delete_execution(x)
    print("DELETED", x, flush=True)
"""


@pytest.mark.slow
def test_deletes_killed_at_any_moment_never_leave_steps_of_an_execution_gone_from_the_lists(location: str,
                                                                                           subprocess_env):
    remote = "://" in location  # each commit is HTTP round trips: fewer runs and kills
    ids = write_runs(location, 4 if remote else 16)
    rng = random.Random(7)
    pending = list(ids)
    kills = 0
    while pending:
        process = subprocess.Popen([sys.executable, "-c", DELETER, location, *pending], env=subprocess_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kills < (2 if remote else 6):  # killed somewhere in its work, most of the time in the middle of a delete
            time.sleep(rng.uniform(0.5, 2.5))
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=300)
        queries = LogQueries(Store(location))
        for x in list(pending):
            record = queries.execution(x)
            if record is None:
                pending.remove(x)  # gone from the lists: then its steps are gone too, once finished
            # listed: it can be deleted again (next round)
        # finishes what a killed delete left: the replaced files are deleted, and (nothing writes now, so
        # no grace period) the copies a killed rewrite wrote and never committed
        Store(location).compact(orphan_grace=0)
        assert_gone(location, set(ids) - set(pending), {phone_of(x) for x in set(ids) - set(pending)})
    assert LogQueries(Store(location)).tab_counts()["all"] == 0


def test_compaction_deletes_a_copy_no_commit_added_once_it_is_older_than_the_grace(tmp_path):
    """A process killed between writing a rewritten file and committing it leaves a copy of rows that
    may be deleted later. Compaction deletes such files once they are older than its grace period;
    a younger one may be a writer's file about to be committed, and stays."""
    import os
    import shutil
    from pathlib import Path

    from dashboard.store.compaction import ORPHAN_GRACE_SECONDS

    location = str(tmp_path / "logs")
    write_runs(location, 4)
    store = Store(location)
    live = Path(store.files("steps")[0])
    old, young = live.with_name("compact-killed-old.parquet"), live.with_name("part-in-flight.parquet")
    for copy in (old, young):
        shutil.copyfile(live, copy)
    past = time.time() - ORPHAN_GRACE_SECONDS - 60
    os.utime(old, (past, past))
    before = LogQueries(Store(location)).tab_counts()

    Store(location).compact()
    assert not old.exists() and young.exists() and live.exists()
    assert LogQueries(Store(location)).tab_counts() == before
