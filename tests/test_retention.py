"""Retention on real files: whole days go, running executions stay, orphans do not linger."""

import datetime as dt

from factories import parsed, step

from dashboard.store import Store
from dashboard.writer import Writer

UTC = dt.timezone.utc


def test_retention_drops_pending_rows_older_than_the_window(tmp_path):
    """A step whose execution_started never came waits in pending/, but not past retention."""
    with Writer(Store(tmp_path), flush_interval=None) as writer:
        writer.write(parsed(step("never-started", 0, dt.datetime.now(UTC))))
    store = Store(tmp_path)
    assert store.pending_files("steps")
    store.apply_retention(30)  # recorded today: kept
    assert store.pending_files("steps")
    store.apply_retention(30, today=dt.datetime.now(UTC).date() + dt.timedelta(days=31))
    assert store.pending_files("steps") == []


def test_a_late_event_of_an_execution_retention_thinned_is_dropped_not_parked(tmp_path):
    """A day past retention keeps its running execution; the finished one beside it goes, and an
    event of it arriving later (from a writer that no longer knows its day) is dropped: it is not
    parked among the pending rows, where it would hold the removed execution's data."""
    from factories import assert_gone, finished, parquet_ids, started

    old = dt.datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=10)
    with Writer(Store(tmp_path), flush_interval=None) as writer:
        for event in (started("still-running", old), started("done", old), step("done", 0, old),
                      finished("done", old + dt.timedelta(seconds=5))):
            writer.write(parsed(event))
    store = Store(tmp_path)
    assert store.apply_retention(3)  # the old day is thinned: its running execution stays
    assert_gone(tmp_path, ["done"])

    with Writer(Store(tmp_path), flush_interval=None) as writer:  # a new writer: it never saw "done" start
        writer.write(parsed(step("done", 1, old + dt.timedelta(seconds=2))))
        report = writer.flush()
    assert report.dropped_deleted == 1 and report.pending == 0
    assert not any("done" in held for path, held in parquet_ids(tmp_path).items() if path.startswith("pending"))
