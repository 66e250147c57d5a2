"""Benchmarks at a busy tenant's scale, side by side with SQLite and pandas.

    python -m benchmarks.run --scale 100k        # about 2 minutes on 2 cores
    python -m benchmarks.run --scale 1m          # about 15 minutes; needs ~6 GB of disk for SQLite

Generates the history once per scale under --workdir (reused when present), loads the
same rows into SQLite, times every dashboard operation warm (median in one process) and
cold (a fresh process), the destructive ones on copies, ingest and the change token,
prints a table and writes it into BENCHMARKS.md between this scale's markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import ingest
from benchmarks.generate import generate
from benchmarks.systems import Flowlogs, SQLite, copy_tree, load_sqlite
from dashboard.queries import LogQueries
from dashboard.store import Store

SCALES = {"tiny": 1_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
READ_OPS = ["page_open", "tab_switch", "flow_page", "detail", "token_report"]
LABELS = {
    "page_open": "page open (flow groups + tab counts)", "tab_switch": "tab switch (Failed)",
    "flow_page": "one flow's executions, page 1", "detail": "one execution's detail, all steps",
    "token_report": "30-day token report (by day, by model)", "delete_one": "delete one execution",
    "clear_all": "clear all", "retention_oldest_day": "retention of the oldest day",
}
ROOT = Path(__file__).resolve().parent.parent


def worker(system: str, target: Path, ops: list[str], repeat: int, op_args: dict) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.worker", system, str(target), "--ops", ",".join(ops),
           "--repeat", str(repeat), "--args-json", json.dumps(op_args)]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_ms"] = (time.perf_counter() - start) * 1000
    return result


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def prepare(work: Path, executions: int, seed: int, with_sqlite: bool = True) -> tuple[Path, Path, dict]:
    parquet, db = work / "flowlogs", work / "sqlite.db"
    facts = {}
    if not (work / "facts.json").exists():  # written last: an interrupted generation starts over
        shutil.rmtree(parquet, ignore_errors=True)
        step(f"generating {executions:,} executions")
        start = time.perf_counter()
        done = iter(range(1, 31))
        counts = generate(parquet, executions, seed=seed, progress=lambda _: step(f"  day {next(done)} of 30"))
        facts["generate_s"] = time.perf_counter() - start
        facts["generate_peak_mb"] = peak_rss_mb()  # nothing else ran in this process yet
        step("compacting")
        start = time.perf_counter()
        Store(parquet).compact()
        facts["compact_s"] = time.perf_counter() - start
        facts.update(counts)
        db.unlink(missing_ok=True)  # the baseline is loaded from these files
        (work / "facts.json").write_text(json.dumps(facts))
    facts = json.loads((work / "facts.json").read_text())
    if not with_sqlite:
        return parquet, db, facts
    if not db.exists():
        step("loading the SQLite baseline")
        start = time.perf_counter()
        load_sqlite(parquet, db)
        facts["sqlite_load_s"] = time.perf_counter() - start
        (work / "facts.json").write_text(json.dumps(facts))
    return parquet, db, facts


def run(scale: str, workdir: Path, seed: int, write_md: bool) -> str:
    executions = SCALES[scale]
    work = workdir / scale
    work.mkdir(parents=True, exist_ok=True)
    parquet, db, facts = prepare(work, executions, seed)
    queries = LogQueries(Store(parquet))
    flow = queries.flow_groups().flow_name.iloc[0]
    sample = queries.executions(tab="completed", limit=2000).execution_id.tolist()
    rng = random.Random(seed)
    ids = rng.sample(sample, 10)
    op_args = {"flow_page": [flow], "detail": ids}
    warm, cold = {}, {}
    for system, target in (("flowlogs", parquet), ("sqlite", db), ("pandas", parquet)):
        step(f"warm: {system}")
        extra = ["rollup_read"] if system == "flowlogs" else []
        warm[system] = worker(system, target, READ_OPS + extra, 9, op_args)
        cold[system] = {}
        for op in READ_OPS if scale != "tiny" else READ_OPS[:2]:  # tiny: the harness's test, each path once
            step(f"cold: {system} {op}")
            result = worker(system, target, [op], 1, op_args)
            cold[system][op] = result["ops"][op] + (result["open_ms"] if system == "pandas" else 0)
            cold[system][op + ":process"] = result["wall_ms"]
    destructive = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        for op in ("delete_one", "retention_oldest_day", "clear_all"):
            for system in ("flowlogs", "sqlite"):
                step(f"{op}: {system}")
                target = copy_tree(parquet, tmp / "p") if system == "flowlogs" else Path(shutil.copy(db, tmp / "s.db"))
                args = {"delete_one": ids[:5], "retention_oldest_day": [30]}
                result = worker(system, target, [op], 5 if op == "delete_one" else 1, args)
                sizes = {"flowlogs": Flowlogs, "sqlite": SQLite}[system](target).disk_bytes()
                destructive[system, op] = (result["ops"][op], sizes)
                shutil.rmtree(target) if target.is_dir() else target.unlink()
        step("ingest throughput")
        # 240k step events: ~4 s a writer, so a writer's start (tables, first look at them) is not the figure
        n = 240_000 if executions >= 100_000 else 12_000 if scale != "tiny" else 2_000
        ingest_figures = {}
        for system in ("flowlogs", "sqlite"):
            for writers in (1, 4):
                target = tmp / f"ingest-{system}-{writers}"
                ingest_figures[system, writers] = ingest.throughput(system, target, n, writers)
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        latency = ingest.change_token_latency(tmp / "token", repeat=20 if scale != "tiny" else 3)
    usage = Store(parquet).disk_usage()
    report = render(scale, facts, warm, cold, destructive, ingest_figures, latency, usage, db.stat().st_size)
    print(report)
    if write_md:
        update_benchmarks_md(scale, report)
    return report


def _ratio(a: float, b: float) -> str:
    """How many times faster flowlogs is (below 1: slower)."""
    if not b:
        return "–"
    r = a / b
    return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×" if r >= 1 else f"{r:.2f}×"


def render(scale, facts, warm, cold, destructive, ingest_figures, latency, usage, sqlite_bytes) -> str:
    lines = [
        f"### Scale {scale}: {facts['executions']:,} executions, {facts['steps']:,} steps",
        "",
        f"Command: `python -m benchmarks.run --scale {scale}` · machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()} · {time.strftime('%Y-%m-%d')}",
        f"Generated in {facts.get('generate_s', 0):.1f} s, compacted in {facts.get('compact_s', 0):.1f} s, "
        f"SQLite loaded in {facts.get('sqlite_load_s', 0):.1f} s.",
        "",
        "Medians in ms. Warm: repeated in one process. Cold: the first call in a fresh process "
        "(pandas: including loading the data, its only way to answer).",
        "",
        "| operation | flowlogs warm | SQLite warm | pandas warm | SQLite ÷ flowlogs | pandas ÷ flowlogs "
        "| flowlogs cold | SQLite cold | pandas cold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op in READ_OPS:
        f, s, p = (warm[x]["ops"][op] for x in ("flowlogs", "sqlite", "pandas"))
        cf, cs, cp = (f"{cold[x][op]:,.1f}" if op in cold[x] else "–" for x in ("flowlogs", "sqlite", "pandas"))
        lines.append(f"| {LABELS[op]} | {f:,.1f} | {s:,.1f} | {p:,.1f} | {_ratio(s, f)} | {_ratio(p, f)} "
                     f"| {cf} | {cs} | {cp} |")
    page_open = warm["flowlogs"]["ops"]["page_open"]
    rollup = warm["flowlogs"]["ops"]["rollup_read"]
    lines.append(f"| reference: flow groups read straight from the day rollups (page open ÷ it: "
                 f"{page_open / rollup:.1f}×) | {rollup:,.1f} | | | | | | | |")
    for op in ("delete_one", "retention_oldest_day", "clear_all"):
        f, s = destructive["flowlogs", op][0], destructive["sqlite", op][0]
        vacuum = " (DELETE + VACUUM)" if op != "delete_one" else ""
        lines.append(f"| {LABELS[op]}{vacuum} | {f:,.1f} | {s:,.1f} | – | {_ratio(s, f)} | – | | | |")
    lines += [
        "",
        "| other figure | flowlogs | SQLite |",
        "|---|---:|---:|",
        f"| ingest, step events/s, 1 writer | {ingest_figures['flowlogs', 1]:,.0f} | "
        f"{ingest_figures['sqlite', 1]:,.0f} |",
        f"| ingest, step events/s, 4 writers | {ingest_figures['flowlogs', 4]:,.0f} "
        f"({ingest_figures['flowlogs', 4] / ingest_figures['flowlogs', 1]:.2f}× one) | "
        f"{ingest_figures['sqlite', 4]:,.0f} ({ingest_figures['sqlite', 4] / ingest_figures['sqlite', 1]:.2f}× one) |",
        f"| event written → change token sees it, ms (flush() / default background flush) | "
        f"{latency['flush()']:.1f} / {latency['background flush']:.0f} | – |",
        f"| on disk, MB (executions + steps) | {usage['executions'] / 1e6:,.1f} + {usage['steps'] / 1e6:,.1f} | "
        f"{sqlite_bytes / 1e6:,.1f} |",
        f"| peak memory of the process, MB (warm run) | {warm['flowlogs']['peak_rss_mb']:,.0f} | "
        f"{warm['sqlite']['peak_rss_mb']:,.0f} (pandas: {warm['pandas']['peak_rss_mb']:,.0f}) |",
        f"| disk after retention of a day / clear all, MB | "
        f"{destructive['flowlogs', 'retention_oldest_day'][1] / 1e6:,.1f} / "
        f"{destructive['flowlogs', 'clear_all'][1] / 1e6:,.1f} | "
        f"{destructive['sqlite', 'retention_oldest_day'][1] / 1e6:,.1f} / "
        f"{destructive['sqlite', 'clear_all'][1] / 1e6:,.1f} |",
    ]
    return "\n".join(lines)


def update_benchmarks_md(scale: str, report: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    block = f"{start}\n{report}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=SCALES, default="100k")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "flowlogs-bench")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="Print only; leave BENCHMARKS.md alone.")
    args = parser.parse_args()
    run(args.scale, args.workdir, args.seed, write_md=not args.no_write)


if __name__ == "__main__":
    main()
