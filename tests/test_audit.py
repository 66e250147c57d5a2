"""The audit log: every delete and Clear all (and refused attempt) is one fsync'd JSON line in the data root."""

import datetime as dt
import getpass
import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from dashboard.audit import AuditLog
from dashboard.demo import generate_history
from dashboard.queries import LogQueries
from dashboard.schema import Tab


def flowlogs(*args, data, input=None):
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args, "--data", str(data)], capture_output=True,
                          text=True, input=input, timeout=300)


def _append(root, worker: int, n: int) -> None:
    log = AuditLog(root)
    for i in range(n):
        log.record(user=f"worker-{worker}", role="admin", via="test", action="delete", outcome="deleted",
                   execution_ids=[f"{worker}-{i}-" + "x" * 500])


def test_entries_are_whole_lines_in_utc_even_from_concurrent_processes(tmp_path):
    root = tmp_path / "logs"
    with ProcessPoolExecutor(4) as pool:
        list(pool.map(_append, [root] * 4, range(4), [50] * 4))
    entries = AuditLog(root).entries()
    assert len(entries) == 200
    assert len((root / "_meta" / "audit.jsonl").read_text().splitlines()) == 200  # no line torn or interleaved
    assert sorted(e["execution_ids"][0].split("-x")[0] for e in entries) == sorted(
        f"{w}-{i}" for w in range(4) for i in range(50))
    first = entries[0]
    assert list(first) == ["at", "user", "role", "via", "action", "execution_ids", "outcome"]
    at = dt.datetime.fromisoformat(first["at"])
    assert at.utcoffset() == dt.timedelta(0) and first["at"].endswith("Z")


def test_a_line_cut_short_by_a_crash_does_not_hide_the_others(tmp_path):
    log = AuditLog(tmp_path)
    log.record(user="alice", role="admin", via="dashboard", action="clear", outcome="deleted", count=3)
    with open(log.path, "a") as fh:
        fh.write('{"at": "2026-11-20T08:0')  # the machine died mid-write
    log.record(user="bob", role="viewer", via="dashboard", action="delete", outcome="refused: not an admin",
               execution_ids=["x"])
    assert [(e["user"], e["outcome"]) for e in log.entries()] == [("alice", "deleted"),
                                                                   ("bob", "refused: not an admin")]
    assert AuditLog(tmp_path / "nowhere").entries() == []


def test_cli_delete_and_clear_are_audited_and_listed_by_flowlogs_audit(tmp_path):
    root = tmp_path / "logs"
    generate_history(root, days=2, per_day=10, seed=3)
    queries = LogQueries(root)
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
