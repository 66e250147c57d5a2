"""How the page's queries slow down as writers fill today's partition with small files.

    python -m benchmarks.load_files --data /tmp/flowlogs-load --rate 1000 --writers 2 --seconds 60

Compacts the store, starts the load test's writer processes (benchmarks/load_writer.py),
and every --every seconds times the queries every open page runs again each time the
change token moves: tab counts, flow groups and failure causes (median of 3, one Store
as the server holds it), and the first pages of the five newest flows, as five sessions
with a group open ask for them (their sum, each asked once: the first pays for merging
the new files). No server, no browser: this isolates the store's side of the
load test. Writes into --data (the executions it adds stay).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.load_test import WriterProcess


def timed_ms(query) -> float:
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        query()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=15)
    args = parser.parse_args()
    from dashboard.queries import LogQueries
    from dashboard.store import Store

    store = Store(args.data)
    store.compact()
    queries = LogQueries(store)
    writers = [WriterProcess(args.data, args.rate / args.writers, 100 + i, args.seconds + 60)
               for i in range(args.writers)]
    started = time.monotonic()
    print(f"{'seconds':>7} {'files today':>11} {'tokens/s':>8} {'tab counts':>10} {'flow groups':>11} "
          f"{'failure causes':>14} {'5 flow pages':>12}  (ms)")
    try:
        token, changes, last = store.change_token(), 0, started
        while True:
            elapsed = time.monotonic() - started
            today = max(store.days())
            files = sum(len(store.files(ds, [today])) for ds in ("executions", "steps"))
            flows = queries.flow_groups().flow_name.head(5).tolist()
            pages = time.perf_counter()
            for flow in flows:
                queries.executions(flow, limit=26)
            pages_ms = (time.perf_counter() - pages) * 1000
            figures = [timed_ms(q) for q in (queries.tab_counts, queries.flow_groups, queries.failure_causes)]
            print(f"{elapsed:7.0f} {files:11d} {changes / max(1e-9, time.monotonic() - last):8.1f} "
                  f"{figures[0]:10.0f} {figures[1]:11.0f} {figures[2]:14.0f} {pages_ms:12.0f}", flush=True)
            if elapsed >= args.seconds:
                break
            changes, last = 0, time.monotonic()
            deadline = min(started + args.seconds, last + args.every)
            while time.monotonic() < deadline:  # count change-token moves, as the page's poll sees them
                time.sleep(0.1)
                if (now := store.change_token()) != token:
                    token, changes = now, changes + 1
    finally:
        for writer in writers:
            writer.finish()


if __name__ == "__main__":
    main()
