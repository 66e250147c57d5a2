"""Load test: concurrent dashboard sessions clicking through the page while writers ingest events.

    python -m benchmarks.load_test --data /tmp/flowlogs-load --sessions 20 --rate 1000 --duration 120
    python -m benchmarks.load_test --data /tmp/flowlogs-load --record     # ... and write it into BENCHMARKS.md

Everything runs on this machine, on 127.0.0.1, and stops by itself:
1. If --data holds no logs yet, writes --days days of demo history (`flowlogs demo`, about
   --per-day executions a day); an existing store is used as it is. Either is compacted
   first (`flowlogs compact`), so each run starts as a long-running server keeps the store.
2. Starts `flowlogs serve` on a free port of 127.0.0.1 (its log goes to the run folder).
3. Starts --writers processes (benchmarks/load_writer.py) that record executions through
   the real Recorder and Writer at --rate events a second in all.
4. Runs --sessions sessions in one headless Chromium for --duration seconds
   (benchmarks/load_sessions.py): open the page, switch tabs, expand a flow group, open an
   execution and close it, with --think seconds between clicks; each interaction is timed
   from the click to its answer on screen. Each session also reads its page's network
   events over CDP (benchmarks/server_wait.py): the part of each interaction the page spent
   waiting on the server (the document request until its response ended; each Bokeh message
   the page sent in it until the server's last message before the page's next) is its server
   share, the rest the browser's own time. On 2 cores the browsers use about one, so the
   server share says what the server costs a person whose browser has a machine of its own.
   It is an upper bound; each message counted only until the server's first reply gives a
   lower bound (in the JSON and the targets line), which misses the queries the page awaits.
5. Prints, per interaction, the latency and its server share (p50, p95, max), whether the
   targets are met (p95 ≤ 2 s with zero errors; failing that, the server share's p95 ≤ 2 s),
   the errors by kind, the events written and the rate achieved, the server's peak memory
   and the CPU each part used (benchmarks/load_report.py).

Errors: page errors, console errors, interactions that time out (30 s) or fail, HTTP 5xx,
tracebacks or ERROR lines in the server's log, and write errors or unacknowledged events
in the writers. The exit status is 1 if there was any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.load_report import render, summarise, targets
from benchmarks.load_sessions import Observations, run_sessions
from benchmarks.page_latency import free_port, peak_memory_mb
from benchmarks.run import update_benchmarks_md

ROOT = Path(__file__).resolve().parent.parent
SERVER_ERROR = re.compile(r"\bERROR\b|\bCRITICAL\b")
CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the store ---------------------------------------------------------------------------


def prepare(data: Path, days: int, per_day: int) -> None:
    """Demo history in an empty data folder; then compacted, as the server keeps a store (so a run
    does not start with the small files an earlier run left in today's partition)."""
    from dashboard.store import Store

    if data.exists() and Store(data).days():
        started = time.perf_counter()
        Store(data).compact()
        print(f"compacted the store in {time.perf_counter() - started:.1f} s", flush=True)
        return
    from rich.progress import Progress

    from dashboard.demo import generate_history

    with Progress() as progress:
        task = progress.add_task(f"demo history, {days} days", total=days * per_day)
        count = generate_history(Store(data), days=days, per_day=per_day, progress=lambda n: progress.advance(task, n))
        progress.update(task, completed=days * per_day)
    started = time.perf_counter()
    Store(data).compact()
    print(f"wrote {count:,} executions, compacted in {time.perf_counter() - started:.0f} s", flush=True)


def store_facts(data: Path) -> dict:
    """Size of the store, and what the page-open queries cost on it now (fresh process state)."""
    from dashboard.queries import LogQueries
    from dashboard.store import Store

    store = Store(data)
    queries = LogQueries(store)
    started = time.perf_counter()
    executions = queries.tab_counts()["all"]
    queries.flow_groups()
    page_open_ms = (time.perf_counter() - started) * 1000
    today = max(store.days(), default=None)
    return {"executions": executions, "days": len(store.days()), "page_open_queries_ms": page_open_ms,
            "files": sum(len(store.files(ds)) for ds in ("executions", "steps")),
            "files_today": sum(len(store.files(ds, [today])) for ds in ("executions", "steps")) if today else 0}


# -- processes ---------------------------------------------------------------------------


def start_server(data: Path, log: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`flowlogs serve` (with these options) on a free port of 127.0.0.1; returns once the page answers."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--data", str(data), "--port", str(port),
           "--address", "127.0.0.1", *options]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=10):
                return process, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"the server did not answer on {url}:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class WriterProcess:
    """One benchmarks.load_writer process; keeps its latest progress line."""

    def __init__(self, data: Path, rate: float, seed: int, max_seconds: float):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "benchmarks.load_writer", "--data", str(data), "--rate", str(rate),
               "--seed", str(seed), "--max-seconds", str(max_seconds)]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.latest: dict = {}
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.latest = json.loads(line)
            except json.JSONDecodeError:
                pass

    def finish(self) -> dict:
        """Stop writing (stdin closes), wait for the final flush; returns the final report."""
        self.process.stdin.close()
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._reader.join(10)
        self.stderr = self.process.stderr.read()
        return self.latest if self.latest.get("done") else {**self.latest, "crashed": self.stderr[-2000:]}


# -- CPU and load ------------------------------------------------------------------------


def process_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds so far), for every process on the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuWindow:
    """CPU used by each part of the test between start() and end(), in core-seconds."""

    server: int
    writers: list[int]
    started: float = 0.0
    seconds: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)
    _before: dict = field(default_factory=dict)
    _busy: float = 0.0

    def part_of(self, pid: int, table: dict) -> str | None:
        if pid == self.server:
            return "server"
        if pid in self.writers:
            return "writers"
        if pid == os.getpid():
            return "load driver (Python)"
        ancestor, name = pid, table[pid][1]
        while ancestor in table and ancestor > 1:
            ancestor = table[ancestor][0]
            if ancestor == os.getpid():
                return "Chromium" if "chrom" in name.lower() else "Playwright driver"
        return None

    def snapshot(self) -> dict[str, dict[int, float]]:
        table = process_table()
        parts: dict[str, dict[int, float]] = {}
        for pid, (_, _, cpu) in table.items():
            part = self.part_of(pid, table)
            if part:
                parts.setdefault(part, {})[pid] = cpu
        return parts

    def start(self) -> None:
        self.started = time.monotonic()
        self._before = self.snapshot()
        self._busy = machine_busy_seconds()
        self.load.append(os.getloadavg()[0])

    def end(self) -> None:
        self.seconds = time.monotonic() - self.started
        after = self.snapshot()
        for part, pids in after.items():
            before = self._before.get(part, {})
            self.parts[part] = sum(cpu - before.get(pid, 0.0) for pid, cpu in pids.items())
        self.parts["whole machine (all processes)"] = machine_busy_seconds() - self._busy
        self.load.append(os.getloadavg()[0])


def sample_load(window: CpuWindow, done: threading.Event) -> None:
    while not done.wait(5):
        window.load.append(os.getloadavg()[0])


# -- the run -----------------------------------------------------------------------------


def server_log_errors(log: Path) -> tuple[list[str], int]:
    """Errors in the server's log (each traceback as its last exception and innermost frame, each
    ERROR line), and how many tracebacks were only a write to a websocket its client had closed."""
    lines = log.read_text(errors="replace").splitlines()
    found, closed_sockets, i = [], 0, 0
    while i < len(lines):
        if not lines[i].startswith("Traceback"):
            if SERVER_ERROR.search(lines[i]):
                found.append(lines[i])
            i += 1
            continue
        frames, exception, chained = [], "(traceback cut short)", True
        while chained and i < len(lines) and lines[i].startswith("Traceback"):  # "During handling of ..."
            i += 1
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                frames += [lines[i].strip()] if lines[i].strip().startswith("File ") else []
                i += 1
            exception = lines[i] if i < len(lines) else exception
            i += 1
            chained = False
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(CHAINED)):
                chained = chained or lines[i].startswith(CHAINED)
                i += 1
        if exception.startswith("tornado.websocket.WebSocketClosedError") and all(
                "tornado/websocket.py" in f for f in frames):
            closed_sockets += 1  # Panel sent a page update as the browser left the page: nobody lost anything
        else:
            found.append(f"{exception} ({frames[-1] if frames else 'no frame'})")
    return found, closed_sockets


def note_errors(seen: Observations, written: list[dict], server_log: Path) -> None:
    """The writers' and the server log's errors, into `seen`."""
    for i, w in enumerate(written):
        for message in w.get("first_errors", []):
            seen.error("write error", f"writer {i}", message)
        if w.get("crashed") is not None:
            seen.error("writer crashed", f"writer {i}", w["crashed"] or "no final report")
        elif w["acknowledged"] != w["emitted"]:
            seen.error("events not acknowledged", f"writer {i}",
                       f"{w['emitted'] - w['acknowledged']:,} of {w['emitted']:,}")
    server_errors, closed_sockets = server_log_errors(server_log)
    for line in server_errors:
        seen.error("server log", "server", line)
    if closed_sockets:
        seen.ignored["server log: an update sent to a websocket the browser had just closed (page reload)"] = \
            closed_sockets


def drive(args: argparse.Namespace, data: Path, run_dir: Path, seen: Observations) -> tuple:
    """The server, the writers and the sessions, for the run's duration; returns the store's facts at
    the end of the clicking, the writers' final reports, the server's peak memory and the CPU window."""
    server, url = start_server(data, run_dir / "server.log")
    writers: list[WriterProcess] = []
    try:
        writers = [WriterProcess(data, args.rate / args.writers, args.seed + i, args.duration + 300)
                   for i in range(args.writers if args.rate > 0 else 0)]
        window = CpuWindow(server.pid, [w.process.pid for w in writers])
        done = threading.Event()
        threading.Thread(target=sample_load, args=(window, done), daemon=True).start()
        print(f"serving {url}; {args.writers} writer(s) at {args.rate:,.0f} events/s; "
              f"{args.sessions} sessions for {args.duration:.0f} s", flush=True)
        asyncio.run(run_sessions(url, args.sessions, args.duration, args.think, seen, on_started=window.start,
                                 on_finished=window.end, separate_profiles=args.separate_profiles,
                                 reload=args.reload))
        done.set()
        during = store_facts(data)  # while the writers still write: what the server's queries face now
        written = [w.finish() for w in writers]
        return during, written, peak_memory_mb(server.pid), window
    finally:
        for w in writers:
            stop(w.process)
        stop(server)


def run(args: argparse.Namespace) -> dict:
    data = args.data.resolve()
    prepare(data, args.days, args.per_day)
    before = store_facts(data)
    run_dir = Path(tempfile.mkdtemp(prefix="flowlogs-load-"))
    print(f"{before['executions']:,} executions in {before['days']} days ({before['files']} files); "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; logs in {run_dir}", flush=True)
    load_before = os.getloadavg()[0]
    seen = Observations()
    during, written, peak_mb, window = drive(args, data, run_dir, seen)
    note_errors(seen, written, run_dir / "server.log")
    latencies, server_share, first_reply = (summarise(seen.latencies), summarise(seen.server),
                                            summarise(seen.server_first_reply))
    return {
        "command": "python -m benchmarks.load_test " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "store_before": before, "store_at_end": during, "store_after": store_facts(data),
        "latencies": latencies, "server_share": server_share, "server_first_reply": first_reply,
        "targets": targets(latencies, server_share, first_reply, sum(len(m) for m in seen.errors.values())),
        "errors": {kind: {"count": len(m), "first": m[:3]} for kind, m in seen.errors.items()},
        "ignored": seen.ignored,
        "writers": written,
        "events": {"acknowledged": sum(w.get("acknowledged", 0) for w in written),
                   "emitted": sum(w.get("emitted", 0) for w in written),
                   "rate": sum(w.get("rate", 0.0) for w in written), "writers": len(written)},
        "server_peak_mb": peak_mb,
        "cpu": {"seconds": window.seconds, "parts": window.parts},
        "load_average": {"before": load_before, "during_max": max(window.load, default=load_before),
                         "during_mean": float(np.mean(window.load)) if window.load else load_before},
        "logs": str(run_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="data folder; demo history is written if empty")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1000, help="events a second, all writers together")
    parser.add_argument("--duration", type=float, default=120, help="seconds of clicking")
    parser.add_argument("--writers", type=int, default=2, help="writer processes sharing the rate")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a session's clicks")
    parser.add_argument("--days", type=int, default=30, help="days of demo history for an empty --data")
    parser.add_argument("--per-day", type=int, default=3000, help="executions a day of demo history")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--separate-profiles", action="store_true",
                        help="a browser context per session (cold JavaScript for each) instead of tabs of one")
    parser.add_argument("--reload", action="store_true", help="load the page afresh at the end of every round")
    parser.add_argument("--record", action="store_true", help="write the report into BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    result = run(args)
    report = render(result)
    print(report)
    print(f"\nserver log and run files: {result['logs']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.record:
        update_benchmarks_md("load", report)
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
