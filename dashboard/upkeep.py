"""Upkeep of a data location in the background of a server: retention, compaction, and the
merging of a live day's small files.

Retention drops whole days past the window (Store.apply_retention), after closing the
executions whose engine went silent. Compaction keeps the page fast: every writer flush adds
a small file to today's partition, and a thousand small files took the page's queries from
about 10 ms to 140 ms on 150 000 executions (measured on this project's 2-core machine), so
days with many files are compacted on a timer, and today's small files are merged every few
seconds in between. Each job runs in a daemon thread until `stop` is set; the server starts
them once (`start_upkeep`), however many sessions it serves.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from .queries import LogQueries
from .stale import close_stale_executions
from .store import DEFAULT_RETENTION_DAYS, Store

log = logging.getLogger(__name__)

SMALL_FILES = 8  # a day with more files than this in a dataset gets compacted
MERGE_INTERVAL = 5.0  # seconds between merges of today's small files


def _every(interval: float, stop: threading.Event, job: Callable[[], None], what: str) -> None:
    while not stop.is_set():
        try:
            job()
        except Exception:  # a lost race or a full disk must not end the upkeep for good
            log.exception("%s failed; trying again in %s s", what, interval)
        stop.wait(interval)


def _start(kind: str, interval: float, stop: threading.Event, job: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=_every, args=(interval, stop, job, kind), name=f"flowlogs-{kind}", daemon=True)
    thread.start()
    return thread


def start_upkeep(queries: LogQueries, stop: threading.Event, *, retention_days: int = DEFAULT_RETENTION_DAYS,
                 retention_interval: float = 86400, compact_interval: float | None = 300,
                 merge_interval: float | None = MERGE_INTERVAL) -> list[threading.Thread]:
    """Start retention (now, then every `retention_interval` s), compaction of days with many small
    files (every `compact_interval` s) and merging of today's small files (every `merge_interval` s);
    None turns compaction or merging off."""
    threads = [start_retention(queries, stop, days=retention_days, interval=retention_interval)]
    if compact_interval:
        threads.append(start_compaction(queries.store, stop, interval=compact_interval))
    if merge_interval:
        threads.append(start_merging(queries.store, stop, interval=merge_interval))
    return threads


def start_retention(queries: LogQueries, stop: threading.Event, *, days: int = DEFAULT_RETENTION_DAYS,
                    interval: float = 86400) -> threading.Thread:
    """Run retention now and then every `interval` seconds, in a daemon thread."""
    def job() -> None:
        closed = close_stale_executions(queries)  # before retention: a closed run no longer pins its day
        if closed:
            log.info("closed %d execution(s) silent for 24 h as failed", len(closed))
        dropped = queries.store.apply_retention(days)
        if dropped:
            log.info("retention dropped %d day(s) older than %d days: %s", len(dropped), days,
                     ", ".join(d.isoformat() for d in dropped))

    return _start("retention", interval, stop, job)


def days_with_small_files(store: Store, limit: int = SMALL_FILES) -> list[dt.date]:
    return [day for day in store.all_days()
            if any(len(store.files(dataset, [day])) > limit for dataset in ("executions", "steps"))]


def start_merging(store: Store, stop: threading.Event, *, interval: float = MERGE_INTERVAL) -> threading.Thread:
    """Every `interval` seconds merge the small files of today and yesterday (the days writers
    write to): cheap, and keeps a live stream's file count low between compactions."""
    def merge() -> None:
        today = dt.datetime.now(dt.timezone.utc).date()
        for day in (today - dt.timedelta(days=1), today):
            merged = store.merge_small_files(day)
            if merged:
                log.debug("merged %d small files of %s", merged, day)

    return _start("merging", interval, stop, merge)


def start_compaction(store: Store, stop: threading.Event, *, interval: float = 300) -> threading.Thread:
    """Compact the days that collected many small files, now and then every `interval` seconds."""
    def job() -> None:
        days = days_with_small_files(store)
        if days:
            store.compact(days)
            log.info("compacted %d day(s): %s", len(days), ", ".join(d.isoformat() for d in days))

    return _start("compaction", interval, stop, job)
