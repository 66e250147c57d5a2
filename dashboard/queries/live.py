"""Today's (and any live day's) new files, merged once with their executions' rows of the day's
compacted file and shared by every query of the page."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future

import pyarrow as pa

from ..store import Store, merged_execution_rows_sql

LIVE_ENTRIES = 8  # merged new files of live days kept (sets of files: the newest few of today and yesterday)


class LiveExecutions:
    """The executions a live day's new files touch, merged with their rows of the day's compacted file.

    Every query of the page reads them, and under a live stream the new files hold tens of
    thousands of rows that only a merge over all of them makes into executions (a finished row
    carries no flow name to narrow by): 40 of a flow page's 50 ms. Files are immutable, so the
    merge of a set of files is kept in memory (rows in the row schema, as compaction writes them)
    and shared by every query; a query that finds more files than a kept merge folds in only the
    new ones (the merge rule is the same for merged and raw rows), and queries that ask for the
    same set while it is being merged wait for that one merge.
    """

    def __init__(self, store: Store, con, lock: threading.Lock):
        self.store = store
        self._con = con
        self._lock = lock
        self._kept: OrderedDict[tuple, Future] = OrderedDict()  # (bases, deltas) -> Future[pa.Table]

    def merged(self, bases: list[str], deltas: list[str]) -> pa.Table:
        key = (tuple(bases), tuple(deltas))
        with self._lock:
            future = self._kept.get(key)
            if future is not None:  # merged already, or being merged: wait for that one
                self._kept.move_to_end(key)
                owner = False
            else:
                future = self._kept[key] = Future()
                older = self._newest_subset(key)
                while len(self._kept) > LIVE_ENTRIES:
                    self._kept.popitem(last=False)
                owner = True
        if not owner:
            return future.result()
        try:
            table = self._build(bases, deltas, older)
        except BaseException as exc:
            with self._lock:
                self._kept.pop(key, None)  # not remembered: the next query tries again
            future.set_exception(exc)
            raise
        future.set_result(table)
        return table

    def _newest_subset(self, key: tuple) -> tuple[list[str], pa.Table] | None:
        """(its deltas, its merge) of the newest finished merge of the same bases over fewer deltas."""
        bases, deltas = key
        wanted = set(deltas)
        for (kept_bases, kept_deltas), future in reversed(self._kept.items()):
            if kept_bases == bases and future.done() and not future.exception() and set(kept_deltas) < wanted:
                return list(kept_deltas), future.result()
        return None

    def _build(self, bases: list[str], deltas: list[str], older: tuple[list[str], pa.Table] | None) -> pa.Table:
        if older is not None:
            merged_before = set(older[0])
            new = [d for d in deltas if d not in merged_before]
        else:
            new = deltas
        params = {"bases": bases, "new": new}
        base = self.store.source("executions", bases, "bases")
        delta = self.store.source("executions", new, "new")
        with self._lock:
            cursor = self._con.cursor()
        try:
            if older is None:
                rows = f"""(SELECT * FROM {base} WHERE execution_id IN (SELECT execution_id FROM {delta})
                            UNION ALL BY NAME SELECT * FROM {delta})"""
                sql = merged_execution_rows_sql(rows)
            else:
                cursor.register("kept", older[1])
                ids = f"(SELECT DISTINCT execution_id FROM {delta})"
                rows = f"""(SELECT * FROM kept WHERE execution_id IN {ids}
                            UNION ALL BY NAME
                            SELECT * FROM {base} WHERE execution_id IN {ids}
                                AND execution_id NOT IN (SELECT execution_id FROM kept)
                            UNION ALL BY NAME SELECT * FROM {delta})"""
                sql = (f"SELECT * FROM ({merged_execution_rows_sql(rows)}) UNION ALL BY NAME "
                       f"SELECT * FROM kept WHERE execution_id NOT IN {ids}")
            return cursor.sql(sql, params={k: v for k, v in params.items() if f"${k}" in sql}).to_arrow_table()
        finally:
            cursor.close()
