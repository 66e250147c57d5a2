"""Latency of the page's search at a busy tenant's scale: what the Execution Logs page runs
when an operator types into the search box (tab counts, flow groups, first page of rows).

    python -m benchmarks.search_latency --data /tmp/flowlogs-bench/1m/flowlogs --record

For each search and range it prints three figures, in milliseconds:
- cold: the first search of that text in a fresh process (every day's partitions read);
- after a write: the same search once one day's files changed (a live stream writing today):
  only that day is read again, the others come from the per-day cache;
- warm: the same search again with nothing changed (what a second session pays without the
  page's own query cache, which would answer in microseconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

from dashboard.queries import LogQueries
from dashboard.store import Store

MARK = "search"


def page_queries(queries: LogQueries, search: str, since) -> None:
    """What the page runs for a search: the tab counts, the groups, the first page of rows."""
    queries.tab_counts(since=since, search=search)
    groups = queries.flow_groups(since=since, search=search)
    if len(groups):
        queries.executions(groups.flow_name.iloc[0], since=since, search=search, limit=26)


def timed(queries: LogQueries, search: str, since) -> float:
    start = time.perf_counter()
    page_queries(queries, search, since)
    return (time.perf_counter() - start) * 1000


def forget_day(queries: LogQueries, day: dt.date) -> None:
    """As if a writer had added a file to that day: its cached rows no longer match its files."""
    for key in [k for k in queries._by_day if day in k]:
        del queries._by_day[key]


def searches(queries: LogQueries) -> list[tuple[str, str]]:
    """(kind, text) from the data itself: a phone number, an execution id, a flow name, words."""
    sample = queries.executions(limit=200)
    phone = sample.trigger_phone.dropna().iloc[0]
    return [
        ("phone number", f"{phone[:3]} {phone[3:6]} {phone[6:]}"),
        ("execution id", sample.execution_id.iloc[17]),
        ("flow name", sample.flow_name.iloc[3].lower()),
        ("word in errors", "invalid phone"),
        ("rare word in AI replies", "zzqqxx"),
        ("common word in AI replies", "refund"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/flowlogs-bench/1m/flowlogs"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()

    probe = LogQueries(Store(args.data))
    days = probe.store.days("executions")
    executions = probe.tab_counts()["all"]
    last = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), dt.UTC)
    ranges = {"all (30 days)": None, "7 days": last - dt.timedelta(days=7), "24 hours": last - dt.timedelta(days=1)}
    rows = []
    for kind, text in searches(probe):
        for label, since in ranges.items():
            cold = timed(LogQueries(Store(args.data)), text, since)
            queries = LogQueries(Store(args.data))
            page_queries(queries, text, since)
            after_write, warm = [], []
            for _ in range(args.repeat):
                forget_day(queries, days[-1])
                after_write.append(timed(queries, text, since))
                warm.append(timed(queries, text, since))
            matches = queries.tab_counts(since=since, search=text)["all"]
            rows.append((kind, label, matches, cold, statistics.median(after_write), statistics.median(warm)))
            print(f"{kind:28} {label:14} {matches:>9,} matches  cold {cold:7.0f} ms  after a write "
                  f"{rows[-1][4]:6.0f} ms  warm {rows[-1][5]:6.0f} ms", flush=True)

    table = [f"{executions:,} executions over {len(days)} days, {os.cpu_count()} cores, "
             f"{dt.date.today().isoformat()}. Command: `python -m benchmarks.search_latency --data DIR`.",
             "Each figure is the page's three queries for a search (tab counts, flow groups, first page).", "",
             "| search | range | matches | cold | after a write | warm |", "|---|---|---|---|---|---|"]
    table += [f"| {k} | {r} | {m:,} | {c:.0f} ms | {a:.0f} ms | {w:.0f} ms |" for k, r, m, c, a, w in rows]
    print("\n".join(table))
    if args.record:
        record(Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "\n".join(table))


def record(path: Path, text: str) -> None:
    start, end = f"<!-- bench:{MARK}:start -->", f"<!-- bench:{MARK}:end -->"
    body = path.read_text()
    block = f"{start}\n{text}\n{end}"
    if start in body:
        body = body[:body.index(start)] + block + body[body.index(end) + len(end):]
    else:
        body += f"\n## Search at 1M executions\n\n{block}\n"
    path.write_text(body)


if __name__ == "__main__":
    main()
