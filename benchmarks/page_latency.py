"""How fast the Execution Logs page answers in a browser, on a big data root.

    python benchmarks/page_latency.py /tmp/flowlogs-big --generate 5000   # 30 days x 5 000 a day, once
    python benchmarks/page_latency.py /tmp/flowlogs-big --runs 7

Starts `dashboard.server.serve` on 127.0.0.1, drives Debian's Chromium and prints, per
action, the time from the click (or navigation) until the browser shows the answer:
opening the page, switching a tab, expanding a flow group, opening an execution. Each
figure includes Playwright's own round trips (a few ms).

Before every action one execution is recorded, as an engine would, so no
answer comes from the page's query cache: every action queries the Parquet files.
(The page then auto-refreshes what it shows; the benchmark waits for that to settle
before the next click, except before opening the page, which is measured cold.)
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (f"from dashboard.logs import open_logs; from dashboard.server import serve; "
            f"serve(open_logs({str(data)!r}), port={port}, retention_interval=86400)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory so far (Linux VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(samples: list[float], action) -> None:
    started = time.perf_counter()
    action()
    samples.append((time.perf_counter() - started) * 1000)


def new_execution(store) -> None:
    """One execution recorded through the real Writer, as an engine's would: the store's change token
    moves, so the page's query cache cannot answer the next action."""
    from dashboard.recorder import Recorder
    from dashboard.writer import Writer

    with Writer(store, flush_interval=None) as writer, Recorder(writer).execution("Page latency probe") as run:
        with run.step("Send Message", "send_message"):
            run.message_sent()


def measure(url: str, runs: int, store) -> dict[str, list[float]]:
    from playwright.sync_api import expect, sync_playwright

    def new_events(settle: float = 1.6) -> None:
        new_execution(store)
        time.sleep(settle)  # the page notices within a second and reloads what it shows

    results: dict[str, list[float]] = {"open the page": [], "switch a tab": [], "expand a flow group": [],
                                       "open an execution": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if "//127.0.0.1" in r.request.url else r.abort())
        page.set_default_timeout(30_000)

        def loaded():
            expect(page.locator("[role=tab][data-tab=all] .count")).not_to_have_text("…")
            page.locator(".group").first.wait_for()

        page.goto(url)  # warm the browser cache: the first visit ever also downloads the scripts
        loaded()
        for _ in range(runs):
            new_execution(store)
            timed(results["open the page"], lambda: (page.goto(url), loaded()))

        tabs = ["failed", "completed", "all"]
        for i in range(runs):
            tab = tabs[i % len(tabs)]

            def switch(tab=tab):
                page.locator(f"[role=tab][data-tab={tab}]").click()
                page.locator(f".group[data-tab={tab}]").first.wait_for()

            new_events()
            timed(results["switch a tab"], switch)
        if tabs[(runs - 1) % len(tabs)] != "all":
            page.locator("[role=tab][data-tab=all]").click()
            page.locator(".group[data-tab=all]").first.wait_for()

        for i in range(runs):
            group = page.locator(".group").nth(i)
            flow = group.get_attribute("data-flow")
            rows = page.locator(".flow-group.expanded [data-rows-of] .execution-row")

            def expand(group=group, rows=rows):
                group.click()
                rows.first.wait_for()

            new_events()
            timed(results["expand a flow group"], expand)
            for j in (1, 3):
                row = rows.nth(j + i % 5)
                execution_id = row.get_attribute("data-execution-id")

                def open_execution(row=row, execution_id=execution_id):
                    row.click()
                    expect(page.locator(".summary .exec-id")).to_have_text(execution_id)
                    page.locator(".step").first.wait_for()

                new_events()
                timed(results["open an execution"], open_execution)
            group.click()  # collapse again
            expect(page.locator(f".group[data-flow='{flow}']")).to_have_attribute("aria-expanded", "false")
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--generate", type=int, metavar="PER_DAY", help="write 30 days of demo history first")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dashboard.store import Store

    if args.generate:
        from dashboard.demo import generate_history

        started = time.perf_counter()
        count = generate_history(Store(args.data), days=30, per_day=args.generate)
        print(f"generated {count:,} executions in {time.perf_counter() - started:.0f} s")
    from dashboard.queries import LogQueries

    store = Store(args.data)
    counts = LogQueries(store).tab_counts()
    files = {ds: len(store.files(ds)) for ds in ("executions", "steps")}
    print(f"{counts['all']:,} executions in {len(store.days())} days; files: {files}; {os.cpu_count()} CPUs")
    port = free_port()
    server = start_server(args.data, port)
    try:
        results = measure(f"http://127.0.0.1:{port}/", args.runs, store)
        peak_mb = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    print(f"peak memory of the dashboard server: {peak_mb:,.0f} MB (VmHWM)")
    print(f"{'action':22} {'median':>8} {'max':>8}  (ms; {args.runs} runs each, executions: {2 * args.runs})")
    for action, samples in results.items():
        print(f"{action:22} {statistics.median(samples):8.0f} {max(samples):8.0f}")


if __name__ == "__main__":
    main()
