"""How long one writer flush takes (the moment events are acknowledged), per flush of a live stream.

    python -m benchmarks.flush_latency --data /tmp/flush-local                 # a folder
    python -m benchmarks.flush_latency --data s3://bucket/prefix               # object storage (env: AWS_*)
    python -m benchmarks.flush_latency --moto                                  # a local S3 server, started here

Each flush holds what a busy engine sends in a second (20 executions: their starts, 6 steps each and
their finishes, all on today's partition); the figures are p50/p95/max of the flush() calls over
--flushes flushes, after --warmup. Uses only Store(location) and Writer(store).flush(), so it runs on
the store before Delta tables too (folders only there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path


def events(batch: int, per_flush: int):
    from dashboard.events import parse_event

    now = dt.datetime.now(dt.UTC)
    for i in range(per_flush):
        x = f"flush-{batch}-{i}"
        at = (now + dt.timedelta(milliseconds=i)).isoformat()
        yield parse_event(f'{{"type":"execution_started","execution_id":"{x}","flow_id":"f","flow_name":"Flow {i % 7}",'
                          f'"at":"{at}","trigger":{{"type":"schedule"}}}}')
        for j in range(6):
            yield parse_event(f'{{"type":"step_finished","execution_id":"{x}","index":{j},"node_id":"n{j}",'
                              f'"node_name":"Node {j}","node_type":"send_message","status":"completed",'
                              f'"started_at":"{at}","finished_at":"{at}","input":{{"to":"+4915112345678"}}}}')
        yield parse_event(f'{{"type":"execution_finished","execution_id":"{x}","at":"{at}","status":"completed",'
                          f'"messages_sent":6,"messages_failed":0}}')


def measure(location: str, flushes: int, warmup: int, per_flush: int) -> dict[str, float]:
    from dashboard.store import Store
    from dashboard.writer import Writer

    writer = Writer(Store(location), flush_interval=None, max_rows=1_000_000)
    times = []
    for batch in range(warmup + flushes):
        for event in events(batch, per_flush):
            writer.write(event)
        start = time.perf_counter()
        writer.flush()
        if batch >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "max": times[-1],
            "flushes": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a folder or an object-store URL (empty, or a scratch one)")
    parser.add_argument("--moto", action="store_true", help="start a local S3 server and use a new bucket on it")
    parser.add_argument("--flushes", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--per-flush", type=int, default=20, help="executions a flush (8 events each)")
    args = parser.parse_args()
    server = None
    if args.moto:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from objectstore import S3Server, new_bucket, point_environment_at

        server = S3Server()
        point_environment_at(server)
        location = new_bucket()
    else:
        location = args.data
    try:
        result = measure(location, args.flushes, args.warmup, args.per_flush)
    finally:
        if server is not None:
            server.stop()
    where = "local S3 server (moto)" if args.moto else location
    print(f"flush of {args.per_flush} executions ({args.per_flush * 8} events) to {where}: "
          f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, max {result['max']:.1f} ms "
          f"over {result['flushes']} flushes")


if __name__ == "__main__":
    main()
