"""The audit log: every delete and Clear all (and refused or failed attempt) is one entry of the store's audit table."""

import datetime as dt
import getpass
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from cli_inproc import run_cli

from dashboard.audit import AuditLog
from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.schema import Tab
from dashboard.store import Store


def flowlogs(*args, data, input=None):
    # in this process (tests/cli_inproc.py): the real app, no interpreter start
    return run_cli([*args, "--data", str(data)], input=input)


def _append(root, worker: int, n: int) -> None:
    log = AuditLog(Store(root))
    for i in range(n):
        log.record(user=f"worker-{worker}", role="admin", via="test", action="delete", outcome="deleted",
                   execution_ids=[f"{worker}-{i}-" + "x" * 500])


def test_entries_from_concurrent_processes_are_all_kept_in_utc(tmp_path):
    root = tmp_path / "logs"
    # spawned, not forked: delta-rs's runtime cannot be used in a forked child of a process that used it
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_append, [root] * 4, range(4), [25] * 4))
    entries = AuditLog(Store(root)).entries()
    assert len(entries) == 100  # four processes committing at once: none lost, none doubled
    assert sorted(e["execution_ids"][0].split("-x")[0] for e in entries) == sorted(
        f"{w}-{i}" for w in range(4) for i in range(25))
    first = entries[0]
    assert list(first) == ["at", "user", "role", "via", "action", "execution_ids", "outcome"]
    at = dt.datetime.fromisoformat(first["at"])
    assert at.utcoffset() == dt.timedelta(0) and first["at"].endswith("Z")


def test_entries_keep_their_fields_and_order_and_outlive_clear_all_and_retention(tmp_path):
    store = Store(tmp_path)
    log = AuditLog(store)
    log.record(user="alice", role="admin", via="dashboard", action="clear", outcome="deleted", count=3)
    log.record(user="bob", role="viewer", via="dashboard", action="delete", outcome="refused: not an admin",
               execution_ids=["x"], reason="a <b>forged</b> request")
    store.clear_all()
    store.apply_retention(1, today=dt.date.today() + dt.timedelta(days=400))
    assert [(e["user"], e["outcome"], e.get("count"), e.get("reason")) for e in log.entries()] == [
        ("alice", "deleted", 3, None), ("bob", "refused: not an admin", None, "a <b>forged</b> request")]
    assert AuditLog(Store(tmp_path / "nowhere")).entries() == []


def test_cli_delete_and_clear_are_audited_and_listed_by_flowlogs_audit(tmp_path):
    root = tmp_path / "logs"
    generate_history(Store(root), days=2, per_day=10, seed=3)
    queries = LogQueries(Store(root))
    victim = queries.executions(None, Tab.COMPLETED, limit=1)["execution_id"].iloc[0]
    running = queries.executions(None, Tab.RUNNING, limit=1)["execution_id"].tolist()

    assert flowlogs("delete", victim, data=root).returncode == 0
    assert flowlogs("delete", victim, data=root).returncode == 1  # already gone: audited as not found
    if running:
        assert flowlogs("delete", running[0], data=root).returncode == 1
    expected = queries.tab_counts()
    result = flowlogs("clear", "--yes", data=root)
    assert result.returncode == 0, result.stderr

    listed = json.loads(flowlogs("audit", "--json", data=root).stdout)
    me = getpass.getuser()
    assert [(e["action"], e.get("execution_ids"), e["outcome"]) for e in listed[:2]] == [
        ("delete", [victim], "deleted"), ("delete", [victim], "not found")]
    if running:
        assert listed[2]["outcome"] == "refused: running"
    clear = listed[-1]
    assert (clear["action"], clear["count"], clear["outcome"]) == (
        "clear", expected["all"] - expected["running"], "deleted")
    assert {(e["user"], e["role"], e["via"]) for e in listed} == {(me, "admin", "cli")}

    table = flowlogs("audit", data=root)
    assert table.returncode == 0 and victim[:8] in table.stdout and "clear" in table.stdout


def test_an_empty_audit_log_says_so(tmp_path):
    result = flowlogs("audit", data=tmp_path)
    assert result.returncode == 0 and "nothing was deleted" in result.stderr
    assert json.loads(flowlogs("audit", "--json", data=tmp_path).stdout) == []
