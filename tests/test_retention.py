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
