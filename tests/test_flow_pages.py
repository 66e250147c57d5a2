"""A flow's pages read only the days they fall in (rollups count the compacted days), and give
exactly the rows a scan of every day gives: any offset, any tab, compacted and live days mixed,
an execution re-started across midnight, a time range cutting days in half."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from factories import UTC, finished, iso, started, step, uuid7_at

from dashboard.ingest import ingest_lines
from dashboard.queries import LogQueries
from dashboard.queries.core import EXECUTION_COLUMNS
from dashboard.schema import Tab
from dashboard.store import Store
from dashboard.writer import Writer

T0 = dt.datetime(2026, 11, 10, 0, 30, tzinfo=UTC)
FLOWS = ("Orders", "Reminders")
STATUSES = ("completed", "failed", "completed_with_errors", "cancelled")


def events(day_index: int, count: int, rng: random.Random) -> list[dict]:
    out = []
    for n in range(count):
        at = T0 + dt.timedelta(days=day_index, minutes=rng.randrange(0, 23 * 60))
        execution_id = uuid7_at(at, salt=day_index * 1000 + n)
        out.append(started(execution_id, at, flow_name=rng.choice(FLOWS)))
        out.append(step(execution_id, 0, at))
        if rng.random() < 0.9:  # the rest keep running
            out.append(finished(execution_id, at + dt.timedelta(seconds=5), rng.choice(STATUSES)))
    return out


def ingest(store: Store, evs: list[dict]) -> None:
    import json

    with Writer(store, flush_interval=None) as writer:
        assert ingest_lines([json.dumps(e).encode() for e in evs], writer).ok


@pytest.fixture(scope="module")
def queries(tmp_path_factory) -> LogQueries:
    store = Store(tmp_path_factory.mktemp("pages"))
    rng = random.Random(7)
    ingest(store, [e for d in range(6) for e in events(d, [9, 0, 14, 3, 11, 8][d], rng)])
    store.compact(days=[T0.date() + dt.timedelta(days=d) for d in range(4)])  # days 4 and 5 stay live
    # a late batch on a compacted day makes it live again
    ingest(store, events(2, 4, random.Random(8)))
    # a start sent again with an earlier time, the day before: the execution stays on its first day
    # (day 3) but sorts among day 2's rows
    for n, flow in enumerate(FLOWS):
        moved = [dict(e, flow_name=flow) if e["type"] == "execution_started" else e
                 for e in events(3, 1, random.Random(9 + n))]
        ingest(store, moved)
        ingest(store, [dict(moved[0], at=iso(T0 + dt.timedelta(days=2, hours=12, minutes=10 + n)))])
    return LogQueries(store)


def scanned(queries: LogQueries, flow: str, tab: str, offset: int, since=None, until=None) -> list[str]:
    """The page read the plain way: every day of the range, then sorted."""
    where, params = queries._where(tab, since, until, flow)
    params.update(limit=5, offset=offset)
    return queries._sql(f"SELECT {EXECUTION_COLUMNS} FROM executions WHERE {where} "
                        "ORDER BY started_at DESC, execution_id DESC LIMIT $limit OFFSET $offset",
                        params, days=queries._days(since, until)).execution_id.tolist()


@pytest.mark.parametrize("tab", ["all", "failed", "completed", "running"])
@pytest.mark.parametrize("flow", FLOWS)
def test_every_page_of_a_flow_is_the_page_a_scan_of_every_day_gives(queries, flow, tab):
    total = queries.tab_counts(flow_name=flow)[tab]
    pages = [queries.executions(flow, tab, limit=5, offset=o).execution_id.tolist() for o in range(0, total + 6)]
    for offset, page in enumerate(pages):
        assert page == scanned(queries, flow, tab, offset), offset
    listed = [i for o in range(0, total, 5) for i in pages[o]]
    assert len(listed) == len(set(listed)) == total


def test_a_page_of_a_range_that_cuts_days_in_half_is_the_scans_page(queries):
    since, until = T0 + dt.timedelta(days=1, hours=12), T0 + dt.timedelta(days=4, hours=6)
    for offset in range(0, 30):
        page = queries.executions("Orders", "all", limit=5, offset=offset, since=since, until=until)
        assert page.execution_id.tolist() == scanned(queries, "Orders", "all", offset, since, until), offset


def test_page_one_of_a_flow_reads_the_newest_days_only(queries):
    days, offset, older, _, guessed = queries._page_days(*_args(queries, "Orders", offset=0))
    assert offset == 0 and days and len(days) <= 2 and max(days) == max(queries.store.days()) and not guessed
    assert older == max(d for d in queries.store.days() if d < min(days))
    # the newest day is live: page 1 guesses it alone, without counting (executions() counts if it falls short)
    days, offset, older, older_latest, guessed = queries._page_days(*_args(queries, "Orders", offset=0), guess=True)
    newest = max(queries.store.days())
    assert guessed and days == [newest] and older == max(d for d in queries.store.days() if d < newest)
    assert older_latest is None  # that day is live too: its rows are read if they may belong on the page


def _args(queries: LogQueries, flow: str, offset: int):
    where, params = queries._where("all", None, None, flow)
    params.update(limit=5, offset=offset)
    return where, params, None, None, flow, "all", ""


def test_tab_counts_of_a_store_all_rolled_up_are_the_counts_of_its_rows(tmp_path):
    store = Store(tmp_path)
    ingest(store, [e for d in range(3) for e in events(d, 12, random.Random(d))])
    store.compact()
    queries = LogQueries(store)
    assert not queries._split_days(None, None, "rollups")[1]  # every day from its rollup: no SQL
    for flow in (None, *FLOWS, "nope"):
        counted = queries._sql("SELECT status, count(*) AS n FROM executions"
                               + ("" if flow is None else " WHERE flow_name = $f") + " GROUP BY status",
                               {} if flow is None else {"f": flow}, rows=True)
        per_status = {r["status"]: r["n"] for r in counted}
        assert queries.tab_counts(flow_name=flow) == {t.value: sum(per_status.get(s, 0) for s in t.statuses)
                                                      for t in Tab}
