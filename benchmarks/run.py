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
READ_OPS = ["page_open", "tab_switch", "flow_page", "flow_page_deep", "detail", "token_report", "failures",
            "failure_causes"]
PANDAS_OPS = ["page_open", "tab_switch", "flow_page", "detail", "token_report"]  # what it has, each load ~10 s
SEARCH_OPS = ["search_id", "search_phone", "search_error"]  # the page's three queries for a search
SYSTEMS_AT = {"10m": ("flowlogs",)}  # 10 M: flowlogs alone (SQLite would need ~55 GB, pandas ~120 GB of RAM)
LABELS = {
    "page_open": "page open (flow groups + tab counts)", "tab_switch": "tab switch (Failed)",
    "flow_page": "one flow's executions, page 1", "flow_page_deep": "one flow's executions, offset 5 000",
    "detail": "one execution's detail, all steps", "token_report": "30-day token report (by day, by model)",
    "failures": "failures() over 30 days (each with its failing step and cause)",
    "failure_causes": "failure causes panel (per cause and day)",
    "search_id": "search: an execution id", "search_phone": "search: a phone number, spaced",
    "search_error": "search: words of an error", "delete_one": "delete one execution",
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
    systems = SYSTEMS_AT.get(scale, ("flowlogs", "sqlite", "pandas"))
    parquet, db, facts = prepare(work, executions, seed, with_sqlite="sqlite" in systems)
    queries = LogQueries(Store(parquet))
    groups = queries.flow_groups()
    flow = groups.sort_values("runs").flow_name.iloc[-1]  # the busiest flow: its pages are the longest
    sample = queries.executions(tab="completed", limit=2000)
    rng = random.Random(seed)
    ids = rng.sample(sample.execution_id.tolist(), 10)
    phone = sample.trigger_phone.dropna().iloc[0]
    op_args = {"flow_page": [flow], "flow_page_deep": [flow], "detail": ids, "search_id": [ids[0]],
               "search_phone": [f"{phone[:3]} {phone[3:6]} {phone[6:]}"], "search_error": ["invalid phone"]}
    warm, cold = {}, {}
    for system in systems:
        target = db if system == "sqlite" else parquet
        step(f"warm: {system}")
        ops = PANDAS_OPS if system == "pandas" else READ_OPS + (["rollup_read"] if system == "flowlogs" else [])
        warm[system] = worker(system, target, ops, 9, op_args)
        # details: three rounds over the ten ids, the first one the warm-up; searches 3 times (SQLite
        # scans 5 GB a search)
        for ops, repeat in ((["detail"], 30), (SEARCH_OPS, 3)):
            if system == "pandas" and ops == SEARCH_OPS:
                continue
            more = worker(system, target, ops, repeat, op_args)
            for key in ("ops", "p95"):
                warm[system][key].update(more[key])
        cold[system] = {}
        cold_ops = (PANDAS_OPS if system == "pandas" else READ_OPS + SEARCH_OPS) if scale != "tiny" else READ_OPS[:2]
        for op in cold_ops:  # tiny: the harness's test, each path once
            step(f"cold: {system} {op}")
            result = worker(system, target, [op], 1, op_args)
            if op not in result["ops"]:
                continue  # not something this system offers (SQLite has no failure causes)
            cold[system][op] = result["ops"][op] + (result["open_ms"] if system == "pandas" else 0)
            cold[system][op + ":process"] = result["wall_ms"]
    facts["counts_process_ms"] = counts_process_ms(parquet, 3 if scale != "tiny" else 1)
    destructive, ingest_figures, latency = {}, {}, {}
    if scale not in SYSTEMS_AT:  # at 10 M: reads only (a copy of the store per destructive run is 4 GB)
        destructive, ingest_figures, latency = write_paths(workdir, scale, executions, parquet, db, ids)
    usage = Store(parquet).disk_usage()
    report = render(scale, facts, warm, cold, destructive, ingest_figures, latency, usage,
                    db.stat().st_size if db.exists() else 0)
    print(report)
    if write_md:
        update_benchmarks_md(scale, report)
    return report


def counts_process_ms(parquet: Path, repeat: int) -> float:
    """`flowlogs counts --json` as a user runs it: a fresh process, imports included (median).

    Python keeps its compiled modules as a user's install does: this machine sets
    PYTHONDONTWRITEBYTECODE, which recompiles every module of ours on each run (~40 ms). One run
    first writes them (and brings the files into the OS cache, as a user's second run finds them)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dashboard.cli", "counts", "--json", "--data", str(parquet)],
                       check=True, capture_output=True, cwd=ROOT, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times[1:])[repeat // 2]


def write_paths(workdir: Path, scale: str, executions: int, parquet: Path, db: Path, ids: list[str]):
    """Delete, retention and clear all on copies; ingest throughput; the change token's latency."""
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
    return destructive, ingest_figures, latency


def _ratio(a: float, b: float) -> str:
    """How many times faster flowlogs is (below 1: slower)."""
    if not b:
        return "–"
    r = a / b
    return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×" if r >= 1 else f"{r:.2f}×"


# (figure, how it is read from the run, the goal, "max" or "min") per scale: issue 12's targets
TARGETS = {
    "1m": [("one flow's executions, page 1, warm", ("warm", "flow_page"), 20, "max"),
           ("one flow's executions, offset 5 000, warm", ("warm", "flow_page_deep"), 20, "max"),
           ("detail, warm median", ("warm", "detail"), 5, "max"),
           ("detail, warm p95", ("p95", "detail"), 15, "max"),
           ("failures() over 30 days, warm", ("warm", "failures"), 100, "max"),
           ("failure causes panel, warm", ("warm", "failure_causes"), 100, "max"),
           ("search an execution id, cold", ("cold", "search_id"), 300, "max"),
           ("search a phone number, cold", ("cold", "search_phone"), 300, "max"),
           ("search words of an error, cold", ("cold", "search_error"), 1000, "max"),
           ("`flowlogs counts --json`, a fresh process", ("facts", "counts_process_ms"), 400, "max"),
           ("page open, times faster than SQLite", ("ratio", "page_open"), 40, "min"),
           ("token report, times faster than SQLite", ("ratio", "token_report"), 100, "min")],
    "10m": [("page open, warm", ("warm", "page_open"), 100, "max"),
            ("one flow's executions, page 1, warm", ("warm", "flow_page"), 50, "max"),
            ("detail, warm median", ("warm", "detail"), 10, "max"),
            ("token report, warm", ("warm", "token_report"), 100, "max"),
            ("search an execution id, cold", ("cold", "search_id"), 1000, "max"),
            ("search a phone number, cold", ("cold", "search_phone"), 1000, "max"),
            ("generator peak memory, MB", ("facts", "generate_peak_mb"), 2000, "max"),
            ("generating 10 M executions, s", ("facts", "generate_s"), 900, "max")],
}


def _figure(how: tuple[str, str], facts: dict, warm: dict, cold: dict) -> float | None:
    kind, key = how
    fl = warm.get("flowlogs", {})
    if kind == "facts":
        return facts.get(key)
    if kind == "ratio":
        sqlite = warm.get("sqlite", {}).get("ops", {}).get(key)
        return sqlite / fl["ops"][key] if sqlite else None
    source = {"warm": fl.get("ops", {}), "p95": fl.get("p95", {}), "cold": cold.get("flowlogs", {})}[kind]
    return source.get(key)


def render_targets(scale: str, facts: dict, warm: dict, cold: dict) -> list[str]:
    if scale not in TARGETS:
        return []
    lines = ["", "| target (issue 12) | goal | measured | met |", "|---|---:|---:|---|"]
    for label, how, goal, sense in TARGETS[scale]:
        value = _figure(how, facts, warm, cold)
        met = "–" if value is None else "yes" if (value <= goal if sense == "max" else value >= goal) else "**no**"
        shown = "–" if value is None else f"{value:,.1f}"
        lines.append(f"| {label} | {'≤' if sense == 'max' else '≥'} {goal:,} | {shown} | {met} |")
    return lines


def _cell(table: dict, system: str, op: str) -> str:
    value = table.get(system, {}).get(op)
    return "–" if value is None else f"{value:,.1f}"


def render(scale, facts, warm, cold, destructive, ingest_figures, latency, usage, sqlite_bytes) -> str:
    systems = list(warm)
    compared = [x for x in ("sqlite", "pandas") if x in systems]
    sqlite_load = f", SQLite loaded in {facts['sqlite_load_s']:.1f} s" if "sqlite" in systems else ""
    lines = [
        f"### Scale {scale}: {facts['executions']:,} executions, {facts['steps']:,} steps",
        "",
        f"Command: `python -m benchmarks.run --scale {scale}` · machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()} · {time.strftime('%Y-%m-%d')}",
        f"Generated in {facts.get('generate_s', 0):.1f} s"
        + (f" (peak memory {facts['generate_peak_mb']:,.0f} MB)" if "generate_peak_mb" in facts else "") + ", "
        f"compacted in {facts.get('compact_s', 0):.1f} s{sqlite_load}.",
        "",
        "Medians in ms. Warm: repeated in one process (searches 3 times; details 20 times after a round over "
        "their 10 ids; others 9). Cold: the first call in a "
        "fresh process (pandas: including loading the data, its only way to answer).",
        "",
        "| operation | " + " | ".join(f"{x} warm" for x in systems) + "".join(f" | {x} ÷ flowlogs" for x in compared)
        + " | " + " | ".join(f"{x} cold" for x in systems) + " |",
        "|---" + "|---:" * (2 * len(systems) + len(compared)) + "|",
    ]
    ops = {x: warm[x]["ops"] for x in systems}
    for op in READ_OPS + SEARCH_OPS:
        ratios = "".join(f" | {_ratio(ops[x][op], ops['flowlogs'][op])}" if op in ops[x] else " | –"
                         for x in compared)
        lines.append(f"| {LABELS[op]} | " + " | ".join(_cell(ops, x, op) for x in systems)
                     + ratios + " | " + " | ".join(_cell(cold, x, op) for x in systems) + " |")
    p95 = {x: warm[x]["p95"] for x in systems}
    lines.append("| one execution's detail, p95 | " + " | ".join(_cell(p95, x, "detail") for x in systems)
                 + " |" * (len(compared) + len(systems)))
    page_open, rollup = ops["flowlogs"]["page_open"], ops["flowlogs"]["rollup_read"]
    lines.append(f"| reference: flow groups read straight from the day rollups (page open ÷ it: "
                 f"{page_open / rollup:.1f}×) | {rollup:,.1f} |" + " |" * (len(systems) * 2 + len(compared) - 1))
    for op in ("delete_one", "retention_oldest_day", "clear_all") if destructive else ():
        f, q = destructive["flowlogs", op][0], destructive["sqlite", op][0]
        vacuum = " (DELETE + VACUUM)" if op != "delete_one" else ""
        lines.append(f"| {LABELS[op]}{vacuum} | {f:,.1f} | {q:,.1f} | – | {_ratio(q, f)} | – | | | |")
    lines += ["", "| other figure | flowlogs | SQLite |", "|---|---:|---:|",
              f"| `flowlogs counts --json`, a fresh process, ms | {facts['counts_process_ms']:,.0f} | – |"]
    if ingest_figures:
        lines += [
            f"| ingest, step events/s, 1 writer | {ingest_figures['flowlogs', 1]:,.0f} | "
            f"{ingest_figures['sqlite', 1]:,.0f} |",
            f"| ingest, step events/s, 4 writers | {ingest_figures['flowlogs', 4]:,.0f} "
            f"({ingest_figures['flowlogs', 4] / ingest_figures['flowlogs', 1]:.2f}× one) | "
            f"{ingest_figures['sqlite', 4]:,.0f} "
            f"({ingest_figures['sqlite', 4] / ingest_figures['sqlite', 1]:.2f}× one) |",
            f"| event written → change token sees it, ms (flush() / default background flush) | "
            f"{latency['flush()']:.1f} / {latency['background flush']:.0f} | – |",
        ]
    lines += [
        f"| on disk, MB (executions + steps) | {usage['executions'] / 1e6:,.1f} + {usage['steps'] / 1e6:,.1f} | "
        f"{sqlite_bytes / 1e6:,.1f} |",
        f"| peak memory of the process, MB (warm run) | {warm['flowlogs']['peak_rss_mb']:,.0f} | "
        + (f"{warm['sqlite']['peak_rss_mb']:,.0f} (pandas: {warm['pandas']['peak_rss_mb']:,.0f})" if compared else "–")
        + " |",
    ]
    if destructive:
        lines.append(f"| disk after retention of a day / clear all, MB | "
                     f"{destructive['flowlogs', 'retention_oldest_day'][1] / 1e6:,.1f} / "
                     f"{destructive['flowlogs', 'clear_all'][1] / 1e6:,.1f} | "
                     f"{destructive['sqlite', 'retention_oldest_day'][1] / 1e6:,.1f} / "
                     f"{destructive['sqlite', 'clear_all'][1] / 1e6:,.1f} |")
    facts["peak_rss_mb"] = warm["flowlogs"]["peak_rss_mb"]
    return "\n".join(lines + render_targets(scale, facts, warm, cold))


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
