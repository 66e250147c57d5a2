"""`flowlogs migrate`: a store written by the layout before Delta tables (tests/fixtures/old-layout,
written by that code: three days, two of them compacted, one deletion, a step waiting for its start,
an audit entry) moves into Delta tables on a folder or object storage with every answer unchanged."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from cli_inproc import run_cli
from factories import assert_gone, parsed, started

from dashboard.logs import open_logs
from dashboard.writer import Writer

OLD = Path(__file__).parent / "fixtures" / "old-layout"


def flowlogs(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = run_cli(args)  # in this process (tests/cli_inproc.py): the real app, no interpreter start
    assert not check or result.returncode == 0, result.stderr
    return result


def test_an_old_store_migrates_with_every_answer_unchanged(location: str, tmp_path: Path):
    old = tmp_path / "old"
    shutil.copytree(OLD, old)
    expected = json.loads((old / "expected.json").read_text())
    before = sorted(p.relative_to(old) for p in old.rglob("*"))

    result = flowlogs("migrate", "--from", str(old), "--data", location)
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert "41 executions" in said and "1 deletions" in said
    assert sorted(p.relative_to(old) for p in old.rglob("*")) == before  # the old store is only read

    logs = open_logs(location)
    queries = logs.queries
    assert queries.tab_counts() == expected["counts"]
    assert {r.model: int(r.total_tokens) for r in queries.token_usage("model").itertuples()} == \
        expected["tokens_by_model"]
    assert {r.flow_name: int(r.runs) for r in queries.flow_groups().itertuples()} == expected["flows"]
    assert all(len(logs.store.files(ds, [day])) == 1 for ds in ("executions", "steps", "rollups")
               for day in logs.store.days()[:-1])  # compacted, with rollups
    assert [e["execution_ids"] for e in logs.audit.entries()] == [[expected["deleted"]]]

    victim = expected["deleted"]
    assert queries.execution(victim) is None
    assert_gone(location, [victim])  # the old tombstone became a hash: the id is nowhere but the audit
    at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    with Writer(logs.store, flush_interval=None) as writer:  # a late event of the deleted execution
        writer.write(parsed(started(victim, at, flow_name="Back from the dead")))
        writer.write(parsed(started("never-started", at - dt.timedelta(hours=2), flow_name="Late start")))
        report = writer.flush()
    assert report.dropped_deleted == 1 and queries.execution(victim) is None
    record = queries.execution("never-started")  # the step that waited in pending found its start
    assert [s["index"] for s in record["steps"]] == [0]


def test_migrate_refuses_what_is_not_an_old_store_and_a_location_that_holds_one(tmp_path: Path):
    not_old = tmp_path / "empty"
    not_old.mkdir()
    refused = flowlogs("migrate", "--from", str(not_old), "--data", str(tmp_path / "new"), check=False)
    assert refused.returncode == 2 and "not a store of the layout before Delta tables" in " ".join(
        refused.stderr.split())
    flowlogs("migrate", "--from", str(OLD), "--data", str(tmp_path / "new"))
    again = flowlogs("migrate", "--from", str(OLD), "--data", str(tmp_path / "new"), check=False)
    assert again.returncode == 2 and "already holds a store" in " ".join(again.stderr.split())
