"""Read-side queries (`LogQueries`): DuckDB SQL over the day partitions, returning pandas.

Everything the page, the notebooks, the reports and the CLI show comes from here.
Every value from a user or a log reaches SQL as a bound parameter, never as text.
Time ranges are on the execution's start and prune whole day partitions.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..schema import ExecutionStatus, FailureCause, Tab
from ..store import SPECS, Store, day_from_id, day_of_file
from ..store.compaction import current_rollups
from ..store.rules import ACTIVITY_SQL
from . import activity
from .activity import ACTIVITY_SCHEMA
from .causes import CAUSES_SCHEMA, classified_cte
from .lookup import EPOCH, CompactedLookup
from .pages import page_window
from .relations import SqlRunner
from .search import NARROWED_COLUMNS, NARROWED_SCHEMA, Search, search_sql
from .times import bound_day, bound_utc

if TYPE_CHECKING:  # frames are built in frames.py: `flowlogs counts` (rows only) starts without pandas
    import pandas as pd

TOKEN_GROUPS = {  # grouping -> its columns in the token usage relation
    "day": ("day",),
    "flow": ("flow_name",),
    "node": ("flow_name", "node_id", "node_name", "node_type"),  # by node id: two nodes may share a name
    "model": ("model",),
}

DAY_CACHE_ROWS = 2_000_000  # rows of per-day search results kept (about 100 MB at most)

EXECUTION_COLUMNS = """execution_id, flow_id, flow_name, status, trigger_type, trigger_phone,
    started_at, finished_at,
    (epoch_ms(coalesce(finished_at, now())) - epoch_ms(started_at))::BIGINT AS duration_ms,
    coalesce(messages_sent, 0) AS messages_sent, coalesce(messages_failed, 0) AS messages_failed,
    error, day"""


STEP_DETAIL = """
    SELECT step_index AS "index", node_id, node_name, node_type, status, started_at, finished_at,
           (epoch_ms(finished_at) - epoch_ms(started_at))::BIGINT AS duration_ms,
           model, prompt_tokens, completion_tokens,
           coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0) AS total_tokens,
           system_prompt, user_prompt, ai_reply, warnings, error, input, output
    FROM steps WHERE execution_id = $id"""


class LogQueries:
    """Queries over one data root. Thread-safe: each call uses its own cursor."""

    def __init__(self, store: Store):
        self.store = store
        self._con = store.connect()
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        # data files never change once written (a rewrite writes new ones): parse each footer once
        self._con.execute("SET GLOBAL parquet_metadata_cache = true")
        self._lock = threading.Lock()
        self._rollups: dict[str, dict[str, pa.Table]] = {}  # kind -> file -> table
        self._by_day: OrderedDict[tuple, pa.Table] = OrderedDict()  # (what, day, its files) -> rows
        self._runner = SqlRunner(store, self._con, self._lock)
        self._lookup = CompactedLookup(store)

    # -- plumbing ---------------------------------------------------------------

    def _days(self, since, until) -> list[dt.date] | None:
        if since is None and until is None:
            return None
        lo, hi = bound_day(since), bound_day(until)
        return [d for d in self.store.all_days() if (lo is None or d >= lo) and (hi is None or d <= hi)]

    def _sql(self, body: str, params: dict[str, Any] | None = None, *, days=None, rows: bool = False,
             arrow: bool = False, base_filter: str = "", id_filter: str = ""):
        """Run body with `executions` and `steps` defined over the visible files of `days` (see
        `SqlRunner.sql`): a DataFrame, with rows=True a list of dicts, with arrow=True an Arrow table."""
        return self._runner.sql(body, params, days=days, rows=rows, arrow=arrow, base_filter=base_filter,
                                id_filter=id_filter)

    @staticmethod
    def _where(tab: Tab | str, since, until, flow_name: str | None = None, alias: str = "") -> tuple[str, dict]:
        p = f"{alias}." if alias else ""
        clauses, params = [f"list_contains($statuses, {p}status)"], {"statuses": list(Tab(tab).statuses)}
        if since is not None:
            clauses.append(f"{p}started_at >= $since")
            params["since"] = bound_utc(since)
        if until is not None:
            clauses.append(f"{p}started_at < $until")
            params["until"] = bound_utc(until, end=True)
        if flow_name is not None:
            clauses.append(f"{p}flow_name = $flow_name")
            params["flow_name"] = flow_name
        return " AND ".join(clauses), params

    # -- narrowing: search and failure cause ------------------------------------------------

    def _per_day(self, what: tuple, days: list[dt.date] | None, read: Callable[[list[dt.date]], pa.Table],
                 schema: pa.Schema) -> pa.Table:
        """Rows `read` finds in whole days (with a `day` column) for these days.

        Each day's rows are kept while the day's files stay the same: a written, compacted or
        deleted-from day lists other files. So under a live stream a search re-reads only the
        days that changed (today), not the whole month."""
        days = self.store.all_days() if days is None else days
        keys = {day: (*what, day, *(tuple(self.store.files(ds, [day])) for ds in ("executions", "steps")))
                for day in days}
        with self._lock:
            missing = [day for day, key in keys.items() if key not in self._by_day]
        if missing:
            found = read(missing).cast(schema)
            for day in missing:
                rows = found.filter(pc.equal(found["day"], pa.scalar(day, pa.date32())))
                with self._lock:
                    self._by_day[keys[day]] = rows
        with self._lock:
            tables = []
            for key in keys.values():
                self._by_day.move_to_end(key)
                tables.append(self._by_day[key])
            while sum(t.num_rows for t in self._by_day.values()) > DAY_CACHE_ROWS and len(self._by_day) > len(keys):
                self._by_day.popitem(last=False)
        return pa.concat_tables(tables) if tables else schema.empty_table()

    def _searched(self, search: str | Search, days: list[dt.date] | None) -> pa.Table:
        """(execution_id, day) of executions a search matches (see `search_sql`): a scan of the days'
        partitions, cached per day (see `_per_day`)."""
        query = search_sql(search)

        def read(days: list[dt.date]) -> pa.Table:
            if query.reads_replies:
                return self._sql(query.body(), query.params, days=days, arrow=True)
            # the step errors of compacted days are in their rollups: 62 M steps' errors read in 0.9 s,
            # their rollups in a fraction of that
            rolled = current_rollups(self.store, "error_rollups", days)
            live = [day for day in days if day not in rolled]
            parts = [self._sql(query.body(), query.params, days=live, arrow=True)] if live else []
            if rolled:
                parts.append(self._sql(query.body("read_parquet($error_rollups)"),
                                       {**query.params, "error_rollups": list(rolled.values())},
                                       days=list(rolled), arrow=True))
            return pa.concat_tables([part.cast(NARROWED_SCHEMA) for part in parts])

        return self._per_day(query.key, days, read, NARROWED_SCHEMA)

    def _causes(self, days: list[dt.date] | None) -> pa.Table:
        """Every failed execution of these days with its failure cause: from the days' failure
        rollups, and classified (cached per day) where a day has none."""
        # only what a cause needs: the failing step's input and error stay on disk (at 10m they were
        # 850 MB of the server's memory)
        rolled, live = self._rolled("failure_rollups", days, columns=(*CAUSES_SCHEMA.names, "described"))
        where, params = self._where(Tab.FAILED, None, None, alias="e")
        body = f"{classified_cte(where, params)} SELECT {NARROWED_COLUMNS}, cause FROM classified"
        fresh = self._per_day(("causes",), live, lambda days: self._sql(body, params, days=days, arrow=True),
                              CAUSES_SCHEMA) if live else None
        rolled = rolled.select(CAUSES_SCHEMA.names).cast(CAUSES_SCHEMA)
        return rolled if fresh is None else pa.concat_tables([rolled, fresh])

    def _rolled(self, kind: str, days: list[dt.date] | None, columns: tuple[str, ...] | None = None
                ) -> tuple[pa.Table, list[dt.date]]:
        """(rows of the current rollups of `kind` among these days (None: all), days without one)."""
        rolled, live = self._split_days(None, None, kind, columns)
        if days is None:
            return rolled, live
        wanted = set(days)
        return (rolled.filter(pc.is_in(rolled["day"], pa.array(days, pa.date32()))),
                [day for day in live if day in wanted])

    def _narrowed(self, since, until, search: str | None, cause: FailureCause | str | None) -> pa.Table | None:
        """The executions the search and the cause keep (NARROWED_SCHEMA; the range is not applied
        yet, only its days), or None when neither is given."""
        days = self._days(since, until)
        kept = None
        if search and str(search).strip():
            kept = self._searched(search, days)
        if cause:
            causes = self._causes(days)
            causes = causes.filter(pc.equal(causes["cause"], FailureCause(cause).value)).select(NARROWED_SCHEMA.names)
            kept = causes if kept is None else kept.filter(pc.is_in(kept["execution_id"], causes["execution_id"]))
        return kept

    # -- the page ---------------------------------------------------------------------

    def _split_days(self, since, until, kind: str, columns: tuple[str, ...] | None = None
                    ) -> tuple[pa.Table, list[dt.date]]:
        """(rollup rows of `kind` with their day, days to read live) for a range.

        A day wholly inside the range with a current rollup (see `current_rollups`) is read from
        it; other days (today, late events, partial days at the ends of the range) from their rows.
        """
        days, covered = self._covered_days(since, until)
        current = current_rollups(self.store, kind, covered)
        cached = self._cached_rollups(kind, list(current.values()), columns)
        rolled = [cached[current[day]] for day in days if day in current]
        # (no Schema.empty_table(): it imports pandas)
        rolled = pa.concat_tables(rolled) if rolled else pa.Table.from_batches([], _rollup_schema(kind, columns))
        return rolled.drop(["described"]), [day for day in days if day not in current]

    def _covered_days(self, since, until) -> tuple[list[dt.date], list[dt.date]]:
        """(the days of a range, those of them it covers whole)."""
        days = self.store.days("executions") if since is None and until is None else self._days(since, until)
        lo, hi = bound_utc(since), bound_utc(until, end=True)
        covered = []
        for day in days:
            start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
            if (lo is None or lo <= start) and (hi is None or hi >= start + dt.timedelta(days=1)):
                covered.append(day)
        return days, covered

    def _activity(self, since, until, flow_name: str | None = None, search: str | None = None,
                  cause: FailureCause | str | None = None) -> pa.Table:
        """Activity rows (see activity.py) of the range: the rollups of the days they describe, one
        GROUP BY over the other days. A search or a cause counts its own table of kept executions."""
        where, params = self._where(Tab.ALL, since, until, flow_name)
        narrowed = self._narrowed(since, until, search, cause)
        if narrowed is not None:
            rolled, live, params["matched"] = pa.Table.from_batches([], ACTIVITY_SCHEMA), [], narrowed
        else:
            rolled, live = self._split_days(since, until, "rollups")
            rolled = rolled.select(ACTIVITY_SCHEMA.names)
            if flow_name is not None:
                rolled = rolled.filter(pc.equal(rolled["flow_name"], flow_name))
        if narrowed is None and not live:  # every day rolled up: no SQL (planning it was most of 25 ms)
            return rolled
        counted = self._sql(ACTIVITY_SQL.format(relation="executions" if narrowed is None else "matched",
                                                 where=where), params, days=live, arrow=True)
        return pa.concat_tables([rolled, counted.cast(ACTIVITY_SCHEMA)])

    def _cached_rollups(self, kind: str, uris: list[str], columns: tuple[str, ...] | None = None
                        ) -> dict[str, pa.Table]:
        """The rows of these rollup files (one per day) with their day, each file read once: a file never
        changes (a new one replaces it). Those not read yet are read in one query, not one each
        (30 days: ~23 instead of ~55 ms, what a one-shot `flowlogs counts` pays)."""
        with self._lock:
            cache = self._rollups.setdefault((kind, columns), {})
            found = {uri: cache[uri] for uri in uris if uri in cache}
        missing = [uri for uri in uris if uri not in found]
        if missing:
            with self._lock:
                cursor = self._con.cursor()  # not the store's connection: a one-shot command opens one less
            try:
                rows = _by_day(self._read_rollups(kind, sorted(missing, key=day_of_file), columns, cursor))
            finally:
                cursor.close()
            # a file holds its own day's rows: slices of the sorted rows (a filter against a Python date
            # would convert it through pyarrow's pandas check, importing pandas: 0.15 s)
            by_day, start = {}, 0
            for day in pc.value_counts(rows["day"]).to_pylist():
                by_day[day["values"]] = rows.slice(start, day["counts"])
                start += day["counts"]
            found.update({uri: by_day.get(day_of_file(uri), rows.slice(0, 0)) for uri in missing})
            with self._lock:
                live = set(self.store.files(kind))
                for old in [u for u in cache if u not in live]:
                    del cache[old]  # replaced or dropped: forget it
                cache.update({uri: found[uri] for uri in missing})
        return found

    def _read_rollups(self, kind: str, uris: list[str], columns: tuple[str, ...] | None, cursor) -> pa.Table:
        if columns is None:
            return self.store.read_rows(kind, uris, con=cursor)
        schema = _rollup_schema(kind, columns)
        return self.store.read_rows(kind, uris, columns=", ".join(schema.names), con=cursor).cast(schema)

    def flow_groups(self, tab: Tab | str = Tab.ALL, since=None, until=None, *, search: str | None = None,
                    cause: FailureCause | str | None = None) -> pd.DataFrame:
        """Flow groups with runs in the tab, most recent activity first.

        `search` and `cause` narrow the executions counted (see `executions`)."""
        # the rollup files are listed before _sql runs: list again if compaction replaced one
        return self.store.read(lambda: self._flow_groups(tab, since, until, search, cause))

    def _flow_groups(self, tab, since, until, search, cause) -> pd.DataFrame:
        return activity.flow_groups(self._activity(since, until, search=search, cause=cause), tab)

    def tab_counts(self, since=None, until=None, flow_name: str | None = None, *, search: str | None = None,
                   cause: FailureCause | str | None = None) -> dict[str, int]:
        """How many executions each filter tab shows."""
        return self.store.read(lambda: self._tab_counts(since, until, flow_name, search, cause))

    def _tab_counts(self, since, until, flow_name, search, cause) -> dict[str, int]:
        return activity.tab_counts(self._activity(since, until, flow_name, search, cause))

    def executions(self, flow_name: str | None = None, tab: Tab | str = Tab.ALL, *, limit: int = 50,
                   offset: int = 0, since=None, until=None, search: str | None = None,
                   cause: FailureCause | str | None = None) -> pd.DataFrame:
        """One page of executions, newest first.

        `search` keeps executions whose flow name, id, trigger phone, error, or a step's error or AI
        reply contains the text; `cause` keeps failed executions of that failure cause."""
        where, params = self._where(tab, since, until, flow_name)
        params.update(limit=int(limit), offset=int(offset))
        page = f"WHERE {where} ORDER BY started_at DESC, execution_id DESC LIMIT $limit OFFSET $offset"
        narrowed = self._narrowed(since, until, search, cause)
        if narrowed is None:
            select = f"SELECT {EXECUTION_COLUMNS} FROM executions {page}"
            if flow_name is None:
                return self._sql(select, params, days=self._days(since, until))
            # a compacted row whose start came late has no flow name yet: it is kept for the merge
            base_filter = "flow_name = $flow_name OR flow_name IS NULL"
            window = (where, params, since, until, flow_name, tab, base_filter)
            days, params["offset"], older, older_latest, guessed = self._page_days(*window, guess=offset == 0)
            rows = self._sql(select, params, days=days, base_filter=base_filter)
            if guessed and len(rows) < limit and older is not None:
                # page 1 guessed on the newest live day alone, which does not fill it: count the days
                days, params["offset"], older, older_latest, _ = self._page_days(*window)
                rows = self._sql(select, params, days=days, base_filter=base_filter)
            if older is not None and (len(rows) < limit or older_latest is None
                                      or older_latest >= rows.started_at.iloc[-1]):
                # a row of the next older day may belong on this page: read it too
                rows = self._sql(select, params, days=sorted([*days, older]), base_filter=base_filter)
            return rows
        # the page's ids from the kept executions, then their rows from just their days
        params["matched"] = narrowed
        kept = self._sql(f"SELECT execution_id, day FROM matched {page}", params, rows=True)
        return self._sql(f"""
            SELECT {EXECUTION_COLUMNS} FROM executions WHERE execution_id IN (SELECT unnest($ids))
            ORDER BY started_at DESC, execution_id DESC""", {"ids": [r["execution_id"] for r in kept]},
                         days=sorted({r["day"] for r in kept}) or self._days(since, until))

    def _page_days(self, where: str, params: dict, since, until, flow_name: str, tab: Tab | str, base_filter: str,
                   *, guess: bool = False
                   ) -> tuple[list[dt.date] | None, int, dt.date | None, dt.datetime | None, bool]:
        """The days a page of a flow's executions lies in, its offset within them, the next older
        day and its latest start (None when not rolled up), as `page_window` finds them, and
        whether the days are a guess.

        Days hold executions by their start, so newest first means day by day: the rollups count
        each compacted day's runs (live days are counted from their rows). A flow's page 1 then
        reads a day instead of 30. `guess` (page 1): when the newest day is live, that day alone,
        uncounted (counting it cost as much as the page); the caller counts if it falls short."""
        offset, limit = params["offset"], params["limit"]
        rolled, live = self._split_days(since, until, "rollups")
        if not rolled.num_rows:
            return self._days(since, until), offset, None, None, False
        counts = dict.fromkeys(live, 0) | dict.fromkeys(rolled["day"].unique().to_pylist(), 0)
        mine = pc.and_(pc.equal(rolled["flow_name"], flow_name),
                       pc.is_in(rolled["status"], pa.array(Tab(tab).statuses, pa.string())))
        mine = rolled.filter(mine)  # a few rows a day: summed here, not by a grouping engine (4 ms)
        latest: dict[dt.date, dt.datetime] = {}
        for day, runs, started in zip(mine["day"].to_pylist(), mine["runs"].to_pylist(),
                                      mine["last_started_at"].to_pylist(), strict=True):
            counts[day] += runs
            latest[day] = max(started, latest.get(day, started))
        newest = max(live, default=None)
        if guess and newest and newest > max((d for d in counts if counts[d] and d not in live), default=dt.date.min):
            older = max((d for d in counts if d < newest and (counts[d] or d in live)), default=None)
            return [newest], 0, older, None if older in live else latest.get(older, EPOCH), True
        if live:
            counted = self._sql(f"SELECT day, count(*) AS runs FROM executions WHERE {where} GROUP BY day",
                                {k: v for k, v in params.items() if k not in ("limit", "offset")}, days=live,
                                rows=True, base_filter=base_filter)
            counts.update({r["day"]: r["runs"] for r in counted})
        days, offset, older = page_window(counts, offset, limit)
        return days, offset, older, None if older in live else latest.get(older, EPOCH), False  # (EPOCH: no runs)

    def execution(self, execution_id: str) -> dict | None:
        """One execution with every field and its steps in order; None if there is none."""
        hint = day_from_id(execution_id)
        if hint is not None:
            found = self._execution(execution_id, [hint])
            if found is not None:
                return found
        day = self.store.find_days([execution_id]).get(execution_id)
        return None if day is None or day == hint else self._execution(execution_id, [day])

    def _execution(self, execution_id: str, days: list[dt.date]) -> dict | None:
        if len(days) == 1:  # a compacted day: its files' row group, without SQL
            found = self.store.read(lambda: self._lookup.execution(execution_id, days[0]))
            if found is not NotImplemented:
                return found
        # two plain lookups: a third cheaper than one query nesting the steps as a list of structs
        found = self._sql(f"SELECT {EXECUTION_COLUMNS} FROM executions WHERE execution_id = $id",
                          {"id": execution_id}, days=days, rows=True, id_filter="execution_id = $id")
        if not found:
            return None
        steps = self._sql(f'{STEP_DETAIL} ORDER BY "index"', {"id": execution_id}, days=days, rows=True,
                          id_filter="execution_id = $id")
        return found[0] | {"steps": steps}

    def steps(self, execution_id: str, days: list[dt.date] | None = None) -> pd.DataFrame:
        """The steps of one execution in order, every field."""
        return self._sql(f"{STEP_DETAIL} ORDER BY step_index", {"id": execution_id}, days=days)

    # -- reports ------------------------------------------------------------------------

    def token_usage(self, by: str | Sequence[str] = "day", since=None, until=None) -> pd.DataFrame:
        """Prompt, completion and total tokens of AI steps, grouped by day, flow, node or model.

        `by` may name several groupings at once (e.g. ("day", "model")): one query, one total.
        Days wholly in the range and compacted are read from their token rollups.
        """
        return self.store.read(lambda: self._token_usage(by, since, until))

    def _token_usage(self, by, since, until) -> pd.DataFrame:
        groups = [by] if isinstance(by, str) else list(by)
        unknown = [g for g in groups if g not in TOKEN_GROUPS]
        if unknown or not groups:
            raise ValueError(f"cannot group tokens by {unknown or by!r}; choose from {', '.join(TOKEN_GROUPS)}")
        keys = list(dict.fromkeys(k for g in groups for k in TOKEN_GROUPS[g]))
        rolled, live = self._split_days(since, until, "token_rollups")
        where, params = self._where(Tab.ALL, since, until, alias="e")
        params["token_rollups"] = rolled
        order = "ALL" if len(groups) > 1 else "1" if groups == ["day"] else "total_tokens DESC, 1"
        return self._sql(f"""
            , usage AS (
                SELECT day, flow_name, node_id, node_name, node_type, model, prompt_tokens, completion_tokens, ai_steps
                FROM token_rollups
                UNION ALL
                SELECT e.day, e.flow_name, s.node_id, s.node_name, s.node_type, s.model,
                       sum(coalesce(s.prompt_tokens, 0)), sum(coalesce(s.completion_tokens, 0)), count(*)
                FROM steps s JOIN executions e USING (execution_id, day)
                WHERE (s.prompt_tokens IS NOT NULL OR s.completion_tokens IS NOT NULL) AND {where}
                GROUP BY ALL)
            SELECT {', '.join(keys)},
                   sum(prompt_tokens)::BIGINT AS prompt_tokens,
                   sum(completion_tokens)::BIGINT AS completion_tokens,
                   sum(prompt_tokens + completion_tokens)::BIGINT AS total_tokens,
                   sum(ai_steps)::BIGINT AS ai_steps
            FROM usage GROUP BY ALL ORDER BY {order}""", params, days=live)

    def stale_running(self, silent_since: dt.datetime) -> pd.DataFrame:
        """Running executions from which no event has arrived since `silent_since`."""
        return self._sql("""
            SELECT e.execution_id, e.flow_name, e.started_at,
                   greatest(e.recorded_at, coalesce(max(s.recorded_at), e.recorded_at)) AS last_event_at
            FROM executions e LEFT JOIN steps s USING (execution_id, day)
            WHERE e.status = $running
            GROUP BY e.execution_id, e.flow_name, e.started_at, e.recorded_at HAVING last_event_at < $since
            ORDER BY e.started_at""", {"running": ExecutionStatus.RUNNING.value, "since": bound_utc(silent_since)})

    def failures(self, since=None, until=None, flow_name: str | None = None, *,
                 search: str | None = None) -> pd.DataFrame:
        """Failed executions (failed or completed with errors), their failing step and its cause."""
        where, params = self._where(Tab.FAILED, since, until, flow_name, alias="e")
        rolled_where = self._where(Tab.FAILED, since, until, flow_name)[0]
        narrowed = self._narrowed(since, until, search, None)
        if narrowed is not None:
            params["matched"] = narrowed
            where += " AND e.execution_id IN (SELECT execution_id FROM matched)"
            rolled_where += " AND execution_id IN (SELECT execution_id FROM matched)"
        # compacted days from their failure rollups, the others classified from their rows
        rolled, live = self._rolled("failure_rollups", self._days(since, until))
        params["failure_rollups"] = rolled
        return self._sql(f"""{classified_cte(where, params)}
            SELECT * FROM classified
            UNION ALL BY NAME SELECT * FROM failure_rollups WHERE {rolled_where}
            ORDER BY started_at DESC, execution_id DESC""", params, days=live)

    def failure_causes(self, since=None, until=None, *, search: str | None = None,
                       bucket: str = "day") -> pd.DataFrame:
        """Failures per cause and time bucket (`day` or `hour` of the start): the failure-causes panel.

        Counted from the same rows as `failures()`, so each cause's total is what `failures()` lists."""
        if bucket not in ("day", "hour"):
            raise ValueError(f"bucket must be 'day' or 'hour', not {bucket!r}")
        where, params = self._where(Tab.FAILED, since, until)  # the range's bounds, as every list takes them
        params["causes"] = self._causes(self._days(since, until))
        narrowed = self._narrowed(since, until, search, None)
        if narrowed is not None:
            params["causes"] = params["causes"].filter(pc.is_in(params["causes"]["execution_id"],
                                                                narrowed["execution_id"]))
        return self._sql(f"""
            SELECT cause, date_trunc('{bucket}', started_at) AS bucket, count(*)::BIGINT AS failures
            FROM causes WHERE {where} GROUP BY ALL ORDER BY bucket, cause""", params)


def _by_day(rows: pa.Table) -> pa.Table:
    """Rows with each day's together: as DuckDB returns files read in day order (it keeps the order of
    its input), else sorted (a sort costs a one-shot command's first 20-40 ms of pyarrow's threads)."""
    days = rows["day"]
    changes = pc.sum(pc.not_equal(days.slice(1), days.slice(0, max(len(days) - 1, 0)))).as_py() or 0
    return rows if changes == max(len(pc.unique(days)) - 1, 0) else rows.sort_by("day")


def _rollup_schema(kind: str, columns: tuple[str, ...] | None) -> pa.Schema:
    """A rollup's columns (None: all) and its day."""
    schema = SPECS[kind].arrow_schema
    return schema if columns is None else pa.schema([schema.field(c) for c in dict.fromkeys((*columns, "day"))])
