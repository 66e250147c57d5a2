"""The page's way to the data: LogQueries and Store calls, run off the event loop.

Every call runs in a worker thread (`asyncio.to_thread`), so a query never blocks the
Bokeh event loop. Results are shared between sessions until the store's change token
moves, and a query already under way is waited for rather than run again: ten
operators watching the same page cost one query per change, not ten.
Cached values are plain lists and dicts that callers must not mutate.

Under a live stream the store's token moves several times a second (each writer flush).
Sessions polling it at their own moments would each see another token, so no two would
share a result and every session would re-run every query each second. `live_token()`
therefore publishes one token for the whole process, at most every few seconds: how
often depends on how long the last token's queries took (`refresh_gap`), so a quiet
store refreshes within a second and a busy one does not drown the server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ..queries import LogQueries
from ..schema import Tab
from .format import execution_item, group_item
from .state import Scope

CACHE_ENTRIES = 64  # per change token: the views open right now
MIN_REFRESH_GAP = 1.0  # seconds: a quiet store's changes show within about a second
MAX_REFRESH_GAP = 10.0  # seconds: the slowest a busy store's page refreshes
WORK_SHARE = 0.25  # the auto-refresh's queries may keep about this share of the time busy


class LogSource:
    """One data location, shared by all sessions of a server process (the server builds it once).

    `cache=False` runs every query (benchmarks measure each one; FLOWLOGS_QUERY_CACHE=0)."""

    def __init__(self, queries: LogQueries, *, cache: bool = True):
        self.store = queries.store
        self.queries = queries
        self.cache = cache
        self.shown_seconds = 0.0  # event-loop seconds the sessions' loaders spent showing results
        self._cache: OrderedDict[tuple, Future] = OrderedDict()
        self._lock = threading.Lock()
        self._token = self.store.change_token()
        self._published = time.monotonic()
        self._work = {self._token: 0.0}  # seconds of queries run per token (the last two tokens)
        self._shown_before = 0.0  # the sessions' showing time, when the token was published

    def change_token(self) -> str:
        """The store's token now (after the user's own change or a Refresh click): published at once."""
        token = self.store.change_token()
        with self._lock:
            self._publish(token)
        return token

    def live_token(self) -> str:
        """The token the auto-refresh follows: the store's, but moved at most every `refresh_gap()`."""
        with self._lock:
            if time.monotonic() - self._published < self.refresh_gap():
                return self._token
        return self.change_token()

    def refresh_gap(self) -> float:
        """Seconds between published tokens: long enough that the work the last token caused took at
        most WORK_SHARE of the time. The work is its queries (one of 60 ms per view adds up with 20
        sessions) and the event loop's time showing the results in every session."""
        work = self._work.get(self._token, 0.0) + self.shown_seconds - self._shown_before
        return min(MAX_REFRESH_GAP, max(MIN_REFRESH_GAP, work / WORK_SHARE))

    def shown(self, seconds: float) -> None:
        """A loader of some session spent this long showing a result (Loader's on_shown)."""
        with self._lock:
            self.shown_seconds += seconds

    def _publish(self, token: str) -> None:
        if token != self._token:
            self._work = {self._token: self._work.get(self._token, 0.0), token: 0.0}
            self._token = token
            self._published = time.monotonic()
            self._shown_before = self.shown_seconds

    # -- cached reads (plain Python values) ------------------------------------------

    def _claim(self, key: tuple) -> tuple[Future, tuple | None]:
        """The future of `key` under the published token, and the full key if the caller must fill it."""
        with self._lock:
            token = self._token  # results newer than the token are fine; it moves for all sessions at once
            key = (token, *key)
            future = self._cache.get(key)
            if future is not None:
                self._cache.move_to_end(key)
                return future, None
            # results of an older token can never be asked for again: keep only this token's
            for stale in [k for k in self._cache if k[0] != token]:
                del self._cache[stale]
            future = self._cache[key] = Future()
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
            return future, key

    def _fill(self, key: tuple, future: Future, load: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                self._cache.pop(key, None)  # a failure is not remembered: the next call tries again
            future.set_exception(exc)
            return
        future.set_result(value)
        with self._lock:
            if key[0] in self._work:
                self._work[key[0]] += time.perf_counter() - started

    def _cached(self, key: tuple, load: Callable[[], Any]) -> Any:
        """load(), or the result of the same load for the same change token, done or under way."""
        if not self.cache:
            return load()
        future, owner_key = self._claim(key)
        if owner_key is not None:
            self._fill(owner_key, future, load)
        return future.result()

    async def _cached_async(self, key: tuple, load: Callable[[], Any]) -> Any:
        """The same, off the event loop. Only the first asker takes a worker thread: the others
        wait on the event loop, so twenty sessions asking at once do not fill the thread pool
        with threads that only wait."""
        if not self.cache:
            return await asyncio.to_thread(load)
        future, owner_key = self._claim(key)
        if owner_key is not None:
            await asyncio.to_thread(self._fill, owner_key, future, load)
        return await asyncio.wrap_future(future)

    def prefetch(self, tab: str, execution_id: str | None = None, scope: Scope = Scope()) -> None:
        """Start the first loads of a page in the background while the browser is still loading it."""
        if not self.cache:
            return  # the results would have nowhere to wait for the page
        jobs = [lambda: self.tab_counts_now(scope), lambda: self.flow_groups_now(tab, scope)]
        if execution_id:
            jobs.append(lambda: self.execution_now(execution_id))
        for job in jobs:
            threading.Thread(target=_quietly, args=(job,), name="flowlogs-prefetch", daemon=True).start()

    def _tab_counts(self, scope: Scope) -> tuple[tuple, Callable[[], dict[str, int]]]:
        return ("tab_counts", scope), lambda: self.queries.tab_counts(**scope.query_args())

    def _flow_groups(self, tab: str, scope: Scope) -> tuple[tuple, Callable[[], list[dict]]]:
        def load():
            frame = self.queries.flow_groups(Tab(tab), **scope.query_args())
            return [group_item(row, tab) for row in frame.to_dict("records")]

        return ("flow_groups", tab, scope), load

    def _executions_page(self, flow_name: str, tab: str, page: int, size: int,
                         scope: Scope) -> tuple[tuple, Callable[[], tuple[list[dict], bool]]]:
        def load():
            frame = self.queries.executions(flow_name, Tab(tab), limit=size + 1, offset=page * size,
                                            **scope.query_args())
            rows = [execution_item(row) for row in frame.to_dict("records")]
            return rows[:size], len(rows) > size

        return ("executions", flow_name, tab, page, size, scope), load

    def _failure_causes(self, scope: Scope, bucket: str) -> tuple[tuple, Callable[[], list[dict]]]:
        def load():
            args = {**scope.query_args(), "bucket": bucket}
            del args["cause"]  # the cause itself does not narrow them
            return self.queries.failure_causes(**args).to_dict("records")

        return ("failure_causes", scope._replace(cause=""), bucket), load

    def _execution(self, execution_id: str) -> tuple[tuple, Callable[[], dict | None]]:
        return ("execution", execution_id), lambda: self.queries.execution(execution_id)

    def tab_counts_now(self, scope: Scope = Scope()) -> dict[str, int]:
        return self._cached(*self._tab_counts(scope))

    def flow_groups_now(self, tab: str, scope: Scope = Scope()) -> list[dict]:
        return self._cached(*self._flow_groups(tab, scope))

    def executions_page_now(self, flow_name: str, tab: str, page: int, size: int,
                            scope: Scope = Scope()) -> tuple[list[dict], bool]:
        """One page of a flow's executions, and whether there is a next page (without counting them all)."""
        return self._cached(*self._executions_page(flow_name, tab, page, size, scope))

    def failure_causes_now(self, scope: Scope, bucket: str) -> list[dict]:
        """Failures per cause and time bucket of the scope."""
        return self._cached(*self._failure_causes(scope, bucket))

    def execution_now(self, execution_id: str) -> dict | None:
        return self._cached(*self._execution(execution_id))

    # -- the same, off the event loop --------------------------------------------------

    async def tab_counts(self, scope: Scope = Scope()) -> dict[str, int]:
        return await self._cached_async(*self._tab_counts(scope))

    async def flow_groups(self, tab: str, scope: Scope = Scope()) -> list[dict]:
        return await self._cached_async(*self._flow_groups(tab, scope))

    async def executions_page(self, flow_name: str, tab: str, page: int, size: int,
                              scope: Scope = Scope()) -> tuple[list[dict], bool]:
        return await self._cached_async(*self._executions_page(flow_name, tab, page, size, scope))

    async def failure_causes(self, scope: Scope, bucket: str) -> list[dict]:
        return await self._cached_async(*self._failure_causes(scope, bucket))

    async def execution(self, execution_id: str) -> dict | None:
        return await self._cached_async(*self._execution(execution_id))

    # -- what has no private text: names, counts and ids ------------------------------------

    def token_usage_detail(self, since, until):
        """Tokens by day, flow, node and model of a range (the Token usage page), cached like the rest."""
        from ..reports import usage_detail  # reports import hvplot lazily; only this page needs them

        return self._cached(("token_usage", since, until), lambda: usage_detail(self.queries, since, until))

    def last_success_id(self, record: dict) -> str | None:
        """The id of the flow's last successful execution before `record` (for the comparison view)."""
        from ..compare import last_success

        found = last_success(self.queries, record)
        return None if found is None else str(found["execution_id"])

    # -- changes -----------------------------------------------------------------------

    async def deletable_count(self) -> tuple[int, int]:
        """How many executions Clear all would delete, and how many running ones it keeps."""
        counts = await asyncio.to_thread(self.queries.tab_counts)
        return counts[Tab.ALL.value] - counts[Tab.RUNNING.value], counts[Tab.RUNNING.value]

    async def delete_execution(self, execution_id: str) -> None:
        await asyncio.to_thread(self.store.delete_execution, execution_id)

    async def clear_all(self, progress: Callable[[int], None] | None = None) -> int:
        return await asyncio.to_thread(self.store.clear_all, progress)


def _quietly(job: Callable[[], Any]) -> None:
    try:
        job()
    except Exception:  # the page's own load reports it
        pass
