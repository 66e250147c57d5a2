"""Four writer processes, compaction and retention in a loop, and a reader, all at once on one
data root: nothing is lost, nothing is counted twice, the reader never sees an impossible
answer, and retention keeps the running execution of the day it drops.

The processes are tests/worker.py (write, maintain, read).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from factories import assert_gone, finished, parquet_ids, parsed, started, step
from worker import BASE, OLD_DAY

from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

WORKER = Path(__file__).with_name("worker.py")
# Writer processes and executions per writer (5 events each, plus retried ones). On the local S3 server
# (one Python process answering every request) fewer: the race is the same, the requests are many fewer.
WRITERS = {"folder": 4, "s3": 2}
RUNS = {"folder": 300, "s3": 48}  # > 40: a writer sends late steps to the kept day at run 40
WRITER_DAYS = dict(since=(BASE + dt.timedelta(days=5)).date(), until=(BASE + dt.timedelta(days=7)).date())
OLD = dict(since=OLD_DAY.date(), until=OLD_DAY.date())
TODAY = (BASE + dt.timedelta(days=7)).date()  # with 7 days kept, the old day is past the window


def seed_old_day(root: str) -> None:
    """Twenty finished runs and one running run (two steps) on a day retention will drop."""
    with Writer(Store(root), flush_interval=None) as writer:
        for i in range(20):
            at = OLD_DAY + dt.timedelta(hours=1, minutes=i)
            for event in (started(f"old-{i}", at, flow_name="Old flow"), step(f"old-{i}", 0, at, tokens=(5, 5)),
                          finished(f"old-{i}", at + dt.timedelta(seconds=9))):
                writer.write(parsed(event))
        for event in (started("old-running", OLD_DAY + dt.timedelta(hours=2), flow_name="Old flow"),
                      step("old-running", 0, OLD_DAY + dt.timedelta(hours=2), tokens=(1, 1)),
                      step("old-running", 1, OLD_DAY + dt.timedelta(hours=2, seconds=5), tokens=(1, 1))):
            writer.write(parsed(event))


def answers(queries: LogQueries) -> dict:
    tokens = queries.token_usage(by="flow", **WRITER_DAYS)
    executions = queries.executions(limit=10_000, **WRITER_DAYS)
    return {
        "tabs": queries.tab_counts(**WRITER_DAYS),
        "groups": int(queries.flow_groups(**WRITER_DAYS).runs.sum()),
        "ids": sorted(executions.execution_id),
        "tokens": (int(tokens.prompt_tokens.sum()), int(tokens.completion_tokens.sum()), int(tokens.ai_steps.sum())),
        "old": queries.executions(**OLD).execution_id.tolist(),
        "old_steps": [s["index"] for s in queries.execution("old-running")["steps"]],
    }


@pytest.mark.slow
def test_concurrent_writers_compaction_retention_and_reader(location: str, subprocess_env: dict, tmp_path: Path):
    data_root = location
    kind = "s3" if location.startswith("s3://") else "folder"
    writers_count, runs = WRITERS[kind], RUNS[kind]
    seed_old_day(data_root)
    stop = tmp_path / "stop"

    def spawn(*args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(WORKER), *args], env=subprocess_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    total = writers_count * runs
    maintainer = spawn("maintain", str(data_root), str(stop), TODAY.isoformat())
    reader = spawn("read", str(data_root), str(stop), str(total))
    writers = [spawn("write", str(data_root), f"w{p}", str(runs), "--seed", str(p)) for p in range(writers_count)]
    try:
        outputs = [w.communicate(timeout=300) for w in writers]
    finally:
        stop.touch()
        others = [p.communicate(timeout=120) for p in (maintainer, reader)]
    for proc, (_, err) in zip([*writers, maintainer, reader], [*outputs, *others], strict=True):
        assert proc.returncode == 0, f"{proc.args[2]} failed:\n{err}"
    late_steps = sum(int(out.split()[1]) for out, _ in outputs)
    assert int(others[0][0].split()[1]) >= 1, "compaction and retention never ran"
    assert int(others[1][0].split()[1]) >= 1, "the reader never read"

    failed = writers_count * len(range(0, runs, 4))
    expected = {
        "tabs": {"all": total, "running": 0, "failed": failed, "completed": total - failed},
        "groups": total,
        "ids": sorted(f"w{p}-{i}" for p in range(writers_count) for i in range(runs)),
        "tokens": (total * (1 + 2), total * 2 * 2, total * 2),  # steps 0 and 1 are AI steps: (1, 2) and (2, 2)
        "old": ["old-running"],  # retention dropped the finished runs, kept the running one
        "old_steps": list(range(2)) + sorted(  # ... with every late step
            1000 * p + chunk for p in range(writers_count) for chunk in range(0, runs, 20) if chunk % 100 == 40),
    }
    assert len(expected["old_steps"]) == 2 + late_steps
    queries = LogQueries(Store(data_root))
    assert answers(queries) == expected
    store = Store(data_root)
    store.vacuum()  # the files the last commits removed (a delete deletes them at once too)
    assert_gone(data_root, {f"old-{i}" for i in range(20)})  # retention's removal is physical
    for path, held in parquet_ids(data_root).items():  # every start came: nothing of the writers waits
        if path.startswith("pending"):
            assert not [x for x in held if x.startswith("w")], f"{path} still holds {held}"
    Store(data_root).compact()
    assert answers(queries) == expected
