"""One system in one process: run operations, print medians and the peak memory as JSON.

    python -m benchmarks.worker flowlogs ROOT --ops page_open,detail --repeat 5 --args-json '{...}'

The orchestrator (benchmarks.run) starts one worker per system, so each one's peak
memory is its own, and one worker per operation with --repeat 1 for cold figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.systems import Flowlogs, Pandas, SQLite

SYSTEMS = {"flowlogs": Flowlogs, "sqlite": SQLite, "pandas": Pandas}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("target", type=Path)
    parser.add_argument("--ops", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--args-json", default="{}")
    args = parser.parse_args()
    op_args = json.loads(args.args_json)
    start = time.perf_counter()
    system = SYSTEMS[args.system](args.target)
    result = {"open_ms": (time.perf_counter() - start) * 1000, "ops": {}}
    for op in args.ops.split(","):
        fn = getattr(system, op, None)
        if fn is None:
            continue  # not something this system offers (pandas has no failure causes)
        values = op_args.get(op, [None])
        times = []
        for i in range(args.repeat):
            value = values[i % len(values)]
            t = time.perf_counter()
            fn() if value is None else fn(value)
            times.append((time.perf_counter() - t) * 1000)
        # warm: the first call pays plan caches and file opening; with --repeat 1 it is the cold figure
        # warm: without the first call; with several values, without the first round (each value's
        # first call reads its day's file footers, as a server's first look at a day does)
        warmup = len(values) if args.repeat >= 2 * len(values) else 1
        kept = times[warmup:] if len(times) > warmup + 1 else times
        result["ops"][op] = statistics.median(kept)
        result.setdefault("p95", {})[op] = statistics.quantiles(kept, n=20)[-1] if len(kept) > 1 else kept[0]
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent that forked us
    status = Path("/proc/self/status").read_text().splitlines()
    result["peak_rss_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
