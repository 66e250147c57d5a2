"""How often the ingest fuzzer's line lists overrun Hypothesis's choice budget, by list size.

    python -m benchmarks.fuzz_budget [--sizes 40-80 20-40] [--seeds 200] [--examples 3]

For each size, runs a test with no body over `tests/test_ingest_fuzz.py`'s `lines` strategy
once per seed (0 .. --seeds-1), with the settings of the fuzz test through the command, and
counts the seeds whose run fails: Hypothesis counts an overrun as a filtered input, and a
seed that overruns on every try fails its `filter_too_much` health check (as CI did on
2026-12-01 at 40-80 lines). No file is written; it is the strategy alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck
from rich.progress import track

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_ingest_fuzz import lines  # noqa: E402  (the strategy as the test has it)


def failing_seeds(low: int, high: int, seeds: int, examples: int) -> int:
    failed = 0
    for number in track(range(seeds), description=f"{low}-{high} lines"):
        @seed(number)
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(all_lines=st.lists(lines, min_size=low, max_size=high))
        def generate(all_lines):
            pass

        try:
            generate()
        except FailedHealthCheck:
            failed += 1
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["40-80", "20-40"], help="list sizes, as MIN-MAX")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--examples", type=int, default=3, help="max_examples, as the test sets it")
    args = parser.parse_args()
    print("| lines a file | seeds | seeds failing the health check |\n|---|---:|---:|")
    for size in args.sizes:
        low, high = (int(n) for n in size.split("-"))
        print(f"| {low}-{high} | {args.seeds} | {failing_seeds(low, high, args.seeds, args.examples)} |")


if __name__ == "__main__":
    main()
