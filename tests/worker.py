"""Helper processes for the crash and concurrency tests (run as `python tests/worker.py MODE ...`).

    crash ROOT FIRST           write batch after batch from FIRST on, printing "FLUSH k" before
                               and "ACK k" after each flush; compacts after every 4th batch
                               (between "COMPACT k" and "COMPACTED k"); runs until killed
                               (or for --batches N, then exits normally)
    write ROOT NAME COUNT      write COUNT executions named NAME-i (with late and duplicate
                               events), and late events for the old day seeded by the test
    maintain ROOT STOP TODAY   compaction and retention in a loop until the file STOP exists
    read ROOT STOP             query in a loop until STOP exists; fail on any error or on an
                               answer that no state of the store could give
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

from factories import UTC, finished, parsed, started, step

from dashboard.queries import LogQueries
from dashboard.store import Store
from dashboard.writer import Writer

BASE = dt.datetime(2026, 11, 10, tzinfo=UTC)

# -- crash: groups of executions; each batch starts group k and sends group k+1's steps early --

GROUP = 30


def crash_group(g: int) -> tuple[list[dict], list[dict]]:
    """(starts, steps and finishes) of group g: spread over three days, one run past midnight."""
    starts, rest = [], []
    for i in range(GROUP):
        x = f"c{g}-{i}"
        at = BASE + dt.timedelta(days=g % 3, minutes=10 * i)
        if i == 0:
            at = BASE + dt.timedelta(days=g % 3, hours=23, minutes=59, seconds=58)
        starts.append(started(x, at, flow_name=f"Crash flow {i % 4}"))
        rest += [step(x, j, at + dt.timedelta(seconds=1 + 3 * j), tokens=(10 + j, 1) if j < 2 else None)
                 for j in range(3)]
        rest.append(finished(x, at + dt.timedelta(seconds=30), "completed" if i % 3 else "failed"))
    return starts, rest


def crash(root: str, first: int, batches: int | None) -> None:
    store = Store(root)
    writer = Writer(store, flush_interval=None, max_rows=1_000_000)
    print("READY", flush=True)
    k = first
    while batches is None or k < first + batches:
        events = crash_group(k)[0] + crash_group(k + 1)[1]
        if k == first:
            events += crash_group(k)[1]  # a new process re-sends what the killed one may not have
        for event in events:
            writer.write(parsed(event))
        print(f"FLUSH {k}", flush=True)
        writer.flush()
        print(f"ACK {k}", flush=True)
        if k % 4 == 3:
            print(f"COMPACT {k}", flush=True)
            store.compact()
            print(f"COMPACTED {k}", flush=True)
        k += 1


# -- concurrent writers -------------------------------------------------------------------------

STEPS = 3
OLD_DAY = BASE  # seeded by the test with finished runs "old-i" and one running run "old-running"
WRITER_DAYS = 3  # writers use BASE + 5 .. BASE + 7


def writer_run(name: str, i: int) -> dict[str, list[dict]]:
    x = f"{name}-{i}"
    at = BASE + dt.timedelta(days=5 + i % WRITER_DAYS, seconds=37 * i)
    return {"start": [started(x, at, flow_name=f"Flow {i % 5}")],
            "rest": [step(x, j, at + dt.timedelta(seconds=j + 1), tokens=(j + 1, 2) if j < 2 else None)
                     for j in range(STEPS)]
            + [finished(x, at + dt.timedelta(seconds=20), "failed" if i % 4 == 0 else "completed")]}


def write(root: str, name: str, count: int, seed: int) -> None:
    """Batches of 20 runs in shuffled order; every 5th run's steps and finish come one batch
    before its start, every 7th run is partly delivered twice; now and then late events for
    the old day (a retried start of a run retention removes, a step of the running one it keeps)."""
    rng = random.Random(seed)
    writer = Writer(Store(root), flush_interval=None, max_rows=1_000_000)
    held: list[dict] = []
    late_steps = 0
    for chunk in range(0, count, 20):
        events, held = held, []
        for i in range(chunk, min(chunk + 20, count)):
            run = writer_run(name, i)
            if i % 5 == 0:
                events += run["rest"]
                held += run["start"]
            else:
                events += run["start"] + run["rest"]
            if i % 7 == 0:
                events += run["rest"][:1] + run["rest"][-1:]
        if chunk % 100 == 40:
            events.append(started(f"old-{rng.randrange(20)}", OLD_DAY + dt.timedelta(hours=1), flow_name="Old flow"))
            events.append(step("old-running", 1000 * seed + chunk, OLD_DAY + dt.timedelta(hours=2), tokens=(1, 1)))
            late_steps += 1
        rng.shuffle(events)
        for event in events:
            writer.write(parsed(event))
        writer.flush()
    for event in held:
        writer.write(parsed(event))
    writer.close()
    print(f"DONE {late_steps}", flush=True)


def maintain(root: str, stop: str, today: str) -> None:
    store = Store(root)
    rounds = 0
    while not Path(stop).exists():
        store.compact()
        store.apply_retention(days=7, today=dt.date.fromisoformat(today))
        rounds += 1
        time.sleep(0.2)
    print(f"ROUNDS {rounds}", flush=True)


def read(root: str, stop: str, total: int) -> None:
    queries = LogQueries(Store(root))
    writer_days = dict(since=(BASE + dt.timedelta(days=5)).date(), until=(BASE + dt.timedelta(days=7)).date())
    last = 0
    rounds = 0
    while not Path(stop).exists():
        counts = queries.tab_counts(**writer_days)
        assert counts["all"] <= total, f"{counts} counts more than the {total} executions written"
        assert counts["all"] >= last, f"the count went back from {last} to {counts['all']}"
        assert counts["running"] + counts["failed"] + counts["completed"] == counts["all"], counts
        last = counts["all"]
        groups = queries.flow_groups(**writer_days)
        assert int(groups.runs.sum()) <= total
        tokens = queries.token_usage(by="flow", **writer_days)
        assert int(tokens.ai_steps.sum()) <= 2 * total
        page = queries.executions(limit=20)
        assert page.execution_id.is_unique
        for x in page.execution_id[:3]:
            record = queries.execution(x)
            if record is not None:  # compacted or removed meanwhile is fine; a duplicate step is not
                indexes = [s["index"] for s in record["steps"]]
                assert len(indexes) == len(set(indexes)), record
        rounds += 1
        time.sleep(0.2)
    print(f"ROUNDS {rounds}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("crash")
    p.add_argument("root")
    p.add_argument("first", type=int)
    p.add_argument("--batches", type=int)
    p = sub.add_parser("write")
    p.add_argument("root")
    p.add_argument("name")
    p.add_argument("count", type=int)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("maintain")
    p.add_argument("root")
    p.add_argument("stop")
    p.add_argument("today")
    p = sub.add_parser("read")
    p.add_argument("root")
    p.add_argument("stop")
    p.add_argument("total", type=int)
    args = parser.parse_args()
    if args.mode == "crash":
        crash(args.root, args.first, args.batches)
    elif args.mode == "write":
        write(args.root, args.name, args.count, args.seed)
    elif args.mode == "maintain":
        maintain(args.root, args.stop, args.today)
    else:
        read(args.root, args.stop, args.total)


if __name__ == "__main__":
    sys.exit(main())
