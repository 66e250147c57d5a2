"""What `flowlogs counts` imports: a one-shot command starts in a fraction of a second only while it leaves
out the dashboard (Panel, Bokeh, hvplot, Tornado) and pandas, which the counts (plain rows) never need,
and rich, which `--json` never prints with.

No timing here (a shared machine makes it flaky): the modules a real `python -m dashboard.cli counts`
process imports, read from `-X importtime`, one subprocess."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

from factories import UTC, finished, line, started, step

from dashboard.ingest import ingest_lines
from dashboard.store import Store
from dashboard.writer import Writer

# what only the dashboard, the reports, the frame-returning queries or human-readable output need
NOT_FOR_COUNTS = ("pandas", "panel", "bokeh", "hvplot", "holoviews", "tornado", "rich", "dashboard.ui",
                  "dashboard.reports", "dashboard.app", "dashboard.server", "dashboard.collector")


def test_counts_imports_neither_the_dashboard_nor_pandas(tmp_path, subprocess_env):
    # a compacted day (counted from its rollup) and today's live rows (counted from the rows)
    day = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    now = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    events = [started("ok-1", day), step("ok-1", 0, day), finished("ok-1", day + dt.timedelta(seconds=2)),
              started("bad-1", day, flow_name="Order status"),
              finished("bad-1", day + dt.timedelta(seconds=1), "failed"),
              started("run-1", now)]
    root = tmp_path / "logs"
    store = Store(root)
    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([line(e).encode() for e in events], writer).ok
    store.compact([day.date()])
    assert store.files("rollups", [day.date()])

    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "dashboard.cli", "counts", "--json",
                          "--data", str(root)], env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == {"all": 3, "running": 1, "failed": 1, "completed": 1}
    imported = set(re.findall(r"^import time:.*\|\s*([\w.]+)\s*$", run.stderr, re.MULTILINE))
    assert "dashboard.cli" in imported and "duckdb" in imported  # the importtime lines were read
    assert sorted(m for m in imported if any(m == p or m.startswith(f"{p}.") for p in NOT_FOR_COUNTS)) == []
