"""Latency of the store's queries and CLI commands on demo history.

    python -m benchmarks.query_latency --data /tmp/bench-5000 --days 30 --per-day 5000

Writes the demo history first if the directory is empty, then prints, before and after
`compact`: the warm median of each query in-process, the cold wall time of the CLI
commands (a fresh process each, as a user types them) and the size on disk.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dashboard.queries import LogQueries
from dashboard.store import Store


def median_ms(fn, repeat: int = 7) -> float:
    fn()  # warm-up: file listing, DuckDB plan caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def cli_ms(*args: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dashboard.cli", *args], check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(data: Path) -> dict[str, float]:
    queries = LogQueries(Store(data))
    flow = queries.flow_groups().flow_name.iloc[0]
    some_id = queries.failures().execution_id.iloc[0]
    figures = {
        "flow_groups (page open)": median_ms(queries.flow_groups),
        "tab_counts": median_ms(queries.tab_counts),
        "flow_groups failed tab": median_ms(lambda: queries.flow_groups("failed")),
        "executions of one flow, page 1": median_ms(lambda: queries.executions(flow, limit=25)),
        "execution detail (show)": median_ms(lambda: queries.execution(some_id)),
        "token_usage by model, 30 days": median_ms(lambda: queries.token_usage("model"), repeat=3),
        "failures, 30 days": median_ms(queries.failures, repeat=3),
        "CLI: flowlogs flows --json": cli_ms("flows", "--json", "--data", str(data)),
        "CLI: flowlogs counts --json": cli_ms("counts", "--json", "--data", str(data)),
        "CLI: flowlogs show ID --json": cli_ms("show", some_id, "--json", "--data", str(data)),
        "CLI: python startup + import only": cli_ms("--help"),
    }
    usage = Store(data).disk_usage()
    figures["disk MB: executions"] = usage["executions"] / 1e6
    figures["disk MB: steps"] = usage["steps"] / 1e6
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not (args.data / "executions").is_dir():
        from dashboard.demo import generate_history

        start = time.perf_counter()
        count = generate_history(Store(args.data), days=args.days, per_day=args.per_day, seed=args.seed)
        print(f"generated {count:,} executions in {time.perf_counter() - start:.1f} s")
    counts = LogQueries(Store(args.data)).tab_counts()
    files = len(list(args.data.glob("*/day=*/*.parquet")))
    print(f"{counts['all']:,} executions, {files} files")
    before = measure(args.data)
    start = time.perf_counter()
    Store(args.data).compact()
    print(f"compact: {time.perf_counter() - start:.1f} s, {len(list(args.data.glob('*/day=*/*.parquet')))} files")
    after = measure(args.data)
    print(f"\n| {'figure':40} | before compact | after compact |\n|{'-' * 42}|---------------:|--------------:|")
    for name in before:
        print(f"| {name:40} | {before[name]:14.1f} | {after[name]:13.1f} |")


if __name__ == "__main__":
    main()
