"""Another engine reads the tables with no flowlogs code and gets the same answers: DataFusion, over
the Delta tables (the files delta-rs lists, as a pyarrow dataset), with the views of
docs/external-engines.sql (the merge rule in standard SQL), counts the tabs and totals 30 days of
tokens as `flowlogs counts` and `flowlogs tokens` do, on a folder and on object storage."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import datafusion
from cli_inproc import run_cli
from deltalake import DeltaTable

from dashboard.demo import generate_history
from dashboard.store import Store

VIEWS = Path(__file__).parent.parent / "docs" / "external-engines.sql"
TABS = """
SELECT count(*) AS "all",
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status IN ('failed', 'completed_with_errors')) AS failed,
       count(*) FILTER (WHERE status IN ('completed', 'cancelled')) AS completed
FROM flowlogs_executions"""
TOKENS = """
SELECT sum(coalesce(s.prompt_tokens, 0)) AS prompt, sum(coalesce(s.completion_tokens, 0)) AS completion,
       count(*) AS ai_steps
FROM flowlogs_steps s JOIN flowlogs_executions e ON e.execution_id = s.execution_id AND e.day = s.day
WHERE (s.prompt_tokens IS NOT NULL OR s.completion_tokens IS NOT NULL) AND e.started_at >= '{since}T00:00:00Z'"""


def flowlogs_json(*args: str):
    result = run_cli([*args, "--json"])  # in this process (tests/cli_inproc.py): the real app
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def datafusion_over(location: str) -> datafusion.SessionContext:
    ctx = datafusion.SessionContext()
    for table in ("executions", "steps"):
        # the table's current files as delta-rs lists them (its own object store: the bucket's too)
        ctx.register_dataset(table, DeltaTable(f"{location}/{table}").to_pyarrow_dataset())
    for statement in re.sub(r"--[^\n]*", "", VIEWS.read_text()).split(";"):
        if statement.strip():
            ctx.sql(statement).collect()
    return ctx


def test_datafusion_reads_the_tables_and_agrees_with_flowlogs(location: str):
    store = Store(location)
    per_day = 8 if "://" in location else 25  # on S3 every commit is requests: fewer executions
    generate_history(store, days=32, per_day=per_day, seed=9)
    store.compact(store.days()[:-3])  # compacted days, and days of rows as written (merged on read)
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=29)

    ctx = datafusion_over(location)
    tabs = ctx.sql(TABS).to_pylist()[0]
    assert tabs == flowlogs_json("counts", "--data", location)
    assert tabs["all"] > 28 * per_day and tabs["failed"] > 0

    prompt, completion, ai_steps = ctx.sql(TOKENS.format(since=since)).to_pandas().iloc[0]
    report = flowlogs_json("tokens", "--data", location, "--by", "model", "--since", since.isoformat())
    assert (prompt, completion, ai_steps) == (sum(r["prompt_tokens"] for r in report),
                                              sum(r["completion_tokens"] for r in report),
                                              sum(r["ai_steps"] for r in report))
    assert ai_steps > 0
