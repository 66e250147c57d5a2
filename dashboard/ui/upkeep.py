"""Upkeep in the background of the served app: retention, and compaction of small files.

Retention drops whole days past the window (Store.apply_retention). Compaction keeps
the page fast: every writer flush adds a small file to today's partition, and a thousand
small files took the page's queries from about 10 ms to 140 ms on 150 000 executions
(measured on this project's 2-core machine), so days with many files are compacted on a
timer. Both run in daemon threads, once per data root, first at start-up.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..stale import close_stale_executions
from ..store import DEFAULT_RETENTION_DAYS, Store

log = logging.getLogger(__name__)

SMALL_FILES = 8  # a day with more files than this in a dataset gets compacted
MERGE_INTERVAL = 5.0  # seconds between merges of today's small files

_started: dict[tuple[str, Path], threading.Thread] = {}
_lock = threading.Lock()


def _every(interval: float, stop: threading.Event, job: Callable[[], None], what: str) -> None:
    while not stop.is_set():
        try:
            job()
        except Exception:  # a locked day or a full disk must not end the upkeep for good
            log.exception("%s failed; trying again in %s s", what, interval)
        stop.wait(interval)


def _start(kind: str, root: Path, interval: float, stop: threading.Event | None,
           job: Callable[[], None]) -> threading.Thread:
    key = (kind, root.resolve())
    with _lock:
        thread = _started.get(key)
        if thread is not None and thread.is_alive():
            return thread
        thread = threading.Thread(target=_every, args=(interval, stop or threading.Event(), job, kind),
                                  name=f"flowlogs-{kind}", daemon=True)
        thread.start()
        _started[key] = thread
        return thread


def start_retention(data_dir: str | Path, *, days: int = DEFAULT_RETENTION_DAYS, interval: float = 86400,
                    stop: threading.Event | None = None) -> threading.Thread:
    """Run retention now and then every `interval` seconds, in a daemon thread (once per data root)."""
    store = Store(data_dir)

    def job() -> None:
        closed = close_stale_executions(data_dir)  # before retention: a closed run no longer pins its day
        if closed:
            log.info("closed %d execution(s) silent for 24 h as failed", len(closed))
        dropped = store.apply_retention(days)
        if dropped:
            log.info("retention dropped %d day(s) older than %d days: %s", len(dropped), days,
                     ", ".join(d.isoformat() for d in dropped))

    return _start("retention", Path(data_dir), interval, stop, job)


def days_with_small_files(store: Store, limit: int = SMALL_FILES) -> list[dt.date]:
    return [day for day in store.all_days()
            if any(len(store.files(dataset, [day])) > limit for dataset in ("executions", "steps"))]


def start_merging(data_dir: str | Path, *, interval: float = MERGE_INTERVAL,
                  stop: threading.Event | None = None) -> threading.Thread:
    """Every `interval` seconds merge the small files of today and yesterday (the days writers
    write to): cheap, and keeps a live stream's file count low between compactions."""
    store = Store(data_dir)

    def merge() -> None:
        today = dt.datetime.now(dt.timezone.utc).date()
        for day in (today - dt.timedelta(days=1), today):
            merged = store.merge_small_files(day)
            if merged:
                log.debug("merged %d small files of %s", merged, day)

    return _start("merging", Path(data_dir), interval, stop, merge)


def start_compaction(data_dir: str | Path, *, interval: float = 300, merge_interval: float = MERGE_INTERVAL,
                     stop: threading.Event | None = None) -> threading.Thread:
    """Compact the days that collected many small files, now and then every `interval` seconds;
    and merge today's small files every `merge_interval` seconds in between (`start_merging`)."""
    store = Store(data_dir)
    if merge_interval:
        start_merging(data_dir, interval=merge_interval, stop=stop)

    def job() -> None:
        days = days_with_small_files(store)
        if days:
            store.compact(days)
            log.info("compacted %d day(s): %s", len(days), ", ".join(d.isoformat() for d in days))

    return _start("compaction", Path(data_dir), interval, stop, job)
