"""The benchmark harness at a tiny scale, so its code cannot rot. No timing is asserted."""

import datetime as dt

from benchmarks import run
from benchmarks.generate import generate
from dashboard.queries import LogQueries
from dashboard.store import Store


def test_benchmark_runs_end_to_end_at_tiny_scale(tmp_path):
    report = run.run("tiny", tmp_path, seed=3, write_md=False)
    for label in run.LABELS.values():
        assert label in report
    assert "ingest, step events/s" in report and "on disk, MB" in report
    # every row carries figures: no operation was skipped or failed
    rows = [line for line in report.splitlines() if line.startswith("| ") and "operation" not in line
            and "figure" not in line]
    assert rows and all(any(ch.isdigit() for ch in row) for row in rows)


def test_generated_history_is_reproducible(tmp_path):
    today = dt.date(2026, 11, 20)
    for name in ("a", "b"):
        generate(tmp_path / name, 600, days=3, seed=7, today=today)
    a, b = LogQueries(Store(tmp_path / "a")), LogQueries(Store(tmp_path / "b"))
    assert a.tab_counts() == b.tab_counts() and a.tab_counts()["all"] == 600
    assert a.token_usage("model").equals(b.token_usage("model"))
    assert len(a.token_usage("day")) == 3


def test_collector_load_runs_end_to_end_at_tiny_scale(tmp_path):
    from benchmarks import collector_load

    result = collector_load.run(str(tmp_path / "logs"), clients=2, rate=200, duration=2, batch=32)
    assert result["events_acknowledged"] > 0 and result["errors"] == {}
    assert result["lost_executions"] == result["lost_steps"] == result["doubled_rows"] == 0
