"""Where the time goes when a page opens on a busy machine: the server or the browser.

    .venv/bin/python -m benchmarks.page_under_load                       # quiet, then loaded (4 sessions)
    .venv/bin/python -m benchmarks.page_under_load --sessions 4 --runs 5 --data /tmp/flowlogs-pul
    .venv/bin/python -m benchmarks.page_under_load --only loaded --rate 200   # + a load_writer at 200 events/s

The store is `flowlogs demo --data DIR --days 30 --per-day 500 --seed 1`, written once if DIR
holds no logs (about 10 s). Two scenarios, each with its own server on a free port of 127.0.0.1:

- quiet: `flowlogs serve --data DIR --port P`, nothing else running;
- loaded: `flowlogs serve --data DIR --port P --live-demo`, plus --sessions background sessions
  (tabs of one headless Chromium, in a child process of this script: `benchmarks.load_sessions`
  sessions that keep the Execution Logs page open and click round tabs, groups and executions,
  1 s between clicks), plus, with --rate, a `benchmarks.load_writer` at that many events a second.

In each scenario, after a 20 s warm-up, a separate Chromium (its own process, one browser
profile, scripts already in its cache from a first visit) opens each page --runs times by
direct URL, each time in a new tab (the previous one closed):

- "Execution Logs": `/` until its tab counts and flow groups show;
- "Token usage": `/?page=tokens` until its totals, its charts (a Bokeh canvas each) and its
  table rows show.

Each open is split, from the outside:

- document: the HTML's HTTP response (navigation timing, responseEnd - requestStart); Panel builds
  the session (runs the app, creates every component) while answering it, so TTFB is that build;
- pull-doc: the websocket's PULL-DOC-REQ sent -> PULL-DOC-REPLY received (the server serialising
  the document; read from the websocket's frames over CDP, on the browser's network clock);
- server done: when the last websocket message before "ready" arrived, from the request's start
  (after it the page waits for no one but itself);
- browser tail: ready - server done (the last update's rendering);
- waiting on server: the part of the open the page spent waiting on the server, from its network
  events over CDP (benchmarks/server_wait.py, as the load test's server share): the document
  request until its response ended, the websocket handshake and each Bokeh message the page sent
  until the server's last message before the page's next; overlaps count once. browser (rest) =
  ready - waiting on server;
- browser main thread: Chromium's Performance.getMetrics over the open (TaskDuration: everything
  the renderer's main thread did; ScriptDuration; LayoutDuration + RecalcStyleDuration);
- CPU seconds used during the open by the server process, by the measuring Chromium, by the
  background Chromium (and its Playwright driver), and by the whole machine (psutil), and the
  1-minute load average before each open.

The server's query cache is keyed by the store's change token, which only a write moves: in the
quiet scenario the queries are answered from the cache after the first open, under load the
live demo (and the writer) move it now and then, as they would for a person.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_sessions import CHROMIUM, CHROMIUM_ARGS, PAGE_HELPERS, Observations, Session  # noqa: E402
from benchmarks.server_wait import RECEIVED, SENT, NetworkLog  # noqa: E402

VIEWPORT = {"width": 1600, "height": 1000}
WARM_UP = 20.0  # seconds of background load before the first measured open
SETTLE = 1.5  # seconds between closing one measured tab and opening the next
TIMEOUT_MS = 60_000

TOKEN_HELPERS = """
window.__load.tokensReady = function () {
  const shown = (e) => this.shown(e);
  const text = (e) => (e.shadowRoot ? e.shadowRoot.textContent : e.textContent).trim();
  const totals = this.all(".token-totals").filter(shown).some((e) => text(e).length > 0);
  const cards = this.all("[class*=chart-]").filter(shown).length;
  const canvases = this.all("canvas").filter(shown).length;
  const rows = this.all(".tabulator-row").filter(shown).length;
  return totals && cards > 0 && canvases >= cards && rows > 0;
};
"""
PAGES = {"Execution Logs": ("", "loaded"), "Token usage": ("?page=tokens", "tokensReady")}


# -- processes ---------------------------------------------------------------------------------


def ensure_store(data: Path, days: int, per_day: int) -> str:
    from dashboard.store import Store

    if data.exists() and Store(data).days():
        return f"existing store {data}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dashboard.cli", "demo", "--data", str(data), "--days", str(days),
                    "--per-day", str(per_day), "--seed", "1"], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return f"wrote `flowlogs demo --days {days} --per-day {per_day} --seed 1` in {time.perf_counter() - started:.0f} s"


def start_server(data: Path, live_demo: bool, log: Path) -> tuple[subprocess.Popen, str]:
    from benchmarks.load_test import start_server as serve

    return serve(data, log, *(["--live-demo"] if live_demo else []))


def stop(process: subprocess.Popen, stdin_close: bool = False) -> None:
    """Stop a child: by closing its stdin first when asked (a load writer then finishes and flushes)."""
    from benchmarks.load_test import stop as terminate

    if stdin_close and process.stdin and process.poll() is None:
        process.stdin.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            pass
    terminate(process)


def start_child(args: list[str], log: Path) -> subprocess.Popen:
    """A child that runs until its stdin closes (background sessions, load writer)."""
    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                                           "PYTHONUNBUFFERED": "1"},
                            stdin=subprocess.PIPE, stdout=open(log, "w"), stderr=subprocess.STDOUT, text=True)


# -- background sessions (run in a child process: `--background URL N`) -------------------------


async def background(url: str, sessions: int, think: float) -> None:
    """`sessions` people clicking round the Execution Logs page until stdin closes."""
    from playwright.async_api import async_playwright

    seen = Observations()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stopped.set)), daemon=True).start()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=VIEWPORT)
        people = [Session(n, context, url, seen, think) for n in range(sessions)]
        for person in people:
            await person.start()

        async def arrive(person: Session) -> None:
            await asyncio.sleep(person.number * 2.0)
            await person.run(float("inf"))

        tasks = [asyncio.create_task(arrive(p)) for p in people]
        await stopped.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for person in people:
            await person.leave()
        await browser.close()
    by_kind: dict[str, list[float]] = {}
    for kind, ms in seen.latencies:
        by_kind.setdefault(kind, []).append(ms)
    print(json.dumps({"latencies": {k: {"count": len(v), "median": statistics.median(v), "max": max(v)}
                                    for k, v in by_kind.items()},
                      "errors": {k: len(v) for k, v in seen.errors.items()}}), flush=True)


# -- CPU ---------------------------------------------------------------------------------------


def tree_cpu(pid: int | None, exclude: set[int] = frozenset()) -> float:
    """CPU seconds (user + system) of a process and its descendants, as they are now."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        if proc.pid in exclude:
            continue
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def machine_cpu() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def browser_cpu(*others: int | None) -> float:
    """CPU seconds of the measuring Playwright driver and its Chromium: this process's descendants
    but the server and the background children (`others`) and theirs."""
    return tree_cpu(os.getpid(), exclude={os.getpid()}) - sum(tree_cpu(pid) for pid in others)


# -- one measured open ---------------------------------------------------------------------------


def open_once(context, url: str, predicate: str, server_pid: int, background_pid: int | None) -> dict:
    page = context.new_page()  # (no request routing: it would turn the HTTP cache off; see CHROMIUM_ARGS)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    network = NetworkLog()
    network.listen(cdp)
    cdp.send("Network.enable")
    before_metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    load = os.getloadavg()[0]
    cpu0 = (tree_cpu(server_pid), browser_cpu(server_pid, background_pid), tree_cpu(background_pid), machine_cpu())
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function("([name]) => window.__load[name]()", arg=[predicate], polling=25, timeout=TIMEOUT_MS)
    total_ms = (time.perf_counter() - started) * 1000
    cpu1 = (tree_cpu(server_pid), browser_cpu(server_pid, background_pid), tree_cpu(background_pid), machine_cpu())
    ready_page_ms = page.evaluate("performance.now()")
    after_metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return {requestStart: n.requestStart, responseStart: n.responseStart,"
                        " responseEnd: n.responseEnd, size: n.transferSize || n.encodedBodySize}; })()")
    page.close()

    def metric(name: str) -> float:
        a, b = after_metrics.get(name, 0.0), before_metrics.get(name, 0.0)
        return (a - b if a >= b else a) * 1000  # the renderer may have been swapped: then its own total

    return {
        "total": total_ms,
        "document": nav["responseEnd"] - nav["requestStart"],
        "ttfb": nav["responseStart"] - nav["requestStart"],
        "html_kb": (nav["size"] or 0) / 1024,
        **network_figures(network, ready_page_ms - nav["requestStart"]),
        "task": metric("TaskDuration"),
        "script": metric("ScriptDuration"),
        "layout": metric("LayoutDuration") + metric("RecalcStyleDuration"),
        "cpu_server": (cpu1[0] - cpu0[0]) * 1000,
        "cpu_browser": (cpu1[1] - cpu0[1]) * 1000,
        "cpu_background": (cpu1[2] - cpu0[2]) * 1000,
        "cpu_machine": (cpu1[3] - cpu0[3]) * 1000,
        "cpu_others": ((cpu1[3] - cpu0[3]) - sum(cpu1[:3]) + sum(cpu0[:3])) * 1000,
        "load": load,
    }


def network_figures(network: NetworkLog, ready: float) -> dict:
    """The open's websocket timings and its wait on the server, in ms from the document request
    (CDP's clock), given when the page was ready, from the request's start (the page's clock)."""
    origin = min(span[0] for span in network.documents.values())  # (Network.enable came before the navigation)
    timeline = [(round((ts - origin) * 1000, 1), d, m, n) for ts, d, m, n in network.frames]
    out_pull = [t for t, d, m, _ in timeline if d == SENT and m == "PULL-DOC-REQ"]
    in_pull = [t for t, d, m, _ in timeline if d == RECEIVED and m == "PULL-DOC-REPLY"]
    before_ready = [t for t, d, _, _ in timeline if d == RECEIVED and t <= ready]
    server_done = max(before_ready) if before_ready else float("nan")
    waited = network.waiting([(origin, origin + ready / 1000)])[0] * 1000
    return {
        "ws_open": min((t for t, _, _, _ in timeline), default=float("nan")),
        "pull_doc": (in_pull[0] - out_pull[0]) if out_pull and in_pull else float("nan"),
        "pull_reply_kb": sum(n for _, d, _, n in timeline if d == RECEIVED) / 1024,
        "server_done": server_done,
        "browser_tail": ready - server_done,
        "waiting": waited,
        "browser_rest": ready - waited,
        "timeline": timeline,
        "ready": ready,
        "ws_messages_in": sum(1 for _, d, m, _ in timeline if d == RECEIVED and m),
    }


def measure(url: str, runs: int, server_pid: int, background_pid: int | None) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {name: [] for name in PAGES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(PAGE_HELPERS + TOKEN_HELPERS)
        context.set_default_timeout(TIMEOUT_MS)
        for query, predicate in PAGES.values():  # a first visit: scripts into the browser's cache
            open_once(context, url + query, predicate, server_pid, background_pid)
        for i in range(runs):
            for name, (query, predicate) in PAGES.items():
                time.sleep(SETTLE)  # the previous tab's session goes
                results[name].append(open_once(context, url + query, predicate, server_pid, background_pid))
                r = results[name][-1]
                print(f"  {name:15} run {i + 1}: {r['total']:6.0f} ms (document {r['document']:.0f}, "
                      f"server done {r['server_done']:.0f}, browser main thread {r['task']:.0f})", flush=True)
        browser.close()
    return results


def scenario(label: str, data: Path, sessions: int, live_demo: bool, rate: float, runs: int, think: float,
             logs: Path) -> dict:
    print(f"{label}: {sessions} background sessions, live demo {'on' if live_demo else 'off'}, "
          f"writer {rate:g} events/s; load average {os.getloadavg()[0]:.2f}", flush=True)
    server, url = start_server(data, live_demo, logs / f"{label}-server.log")
    children: list[subprocess.Popen] = []
    bg_report: dict = {}
    try:
        bg = None
        if sessions:
            bg = start_child(["benchmarks.page_under_load", "--background", url, str(sessions), "--think", str(think)],
                             logs / f"{label}-sessions.log")
            children.append(bg)
        if rate > 0:
            children.append(start_child(["benchmarks.load_writer", "--data", str(data), "--rate", str(rate),
                                         "--seed", "7", "--max-seconds", "900"], logs / f"{label}-writer.log"))
        if children:
            time.sleep(WARM_UP)
        window0 = (time.monotonic(), tree_cpu(server.pid), browser_cpu(server.pid, *(c.pid for c in children)),
                   tree_cpu(bg.pid if bg else None), machine_cpu())
        results = measure(url, runs, server.pid, bg.pid if bg else None)
        seconds = time.monotonic() - window0[0]
        window = {"seconds": seconds,
                  "server": (tree_cpu(server.pid) - window0[1]) / seconds,
                  "background sessions": (tree_cpu(bg.pid if bg else None) - window0[3]) / seconds,
                  "whole machine": (machine_cpu() - window0[4]) / seconds}
    finally:
        for child in children:
            stop(child, stdin_close=True)
        stop(server)
    if sessions:
        lines = (logs / f"{label}-sessions.log").read_text().strip().splitlines()
        try:
            bg_report = json.loads(lines[-1]) if lines else {}
        except ValueError:
            bg_report = {"unreadable": lines[-1][:300]}
    return {"label": label, "sessions": sessions, "live_demo": live_demo, "rate": rate, "results": results,
            "cores": window, "background": bg_report}


# -- the report --------------------------------------------------------------------------------

COLUMNS = [("total", "open"), ("document", "document"), ("ttfb", "TTFB"), ("pull_doc", "pull-doc"),
           ("waiting", "waiting on server"), ("browser_rest", "browser (rest)"),
           ("server_done", "server done"), ("browser_tail", "browser tail"), ("task", "main thread"),
           ("script", "script"), ("layout", "layout+style"), ("cpu_server", "server CPU"),
           ("cpu_browser", "browser CPU"), ("cpu_background", "bg CPU"), ("cpu_machine", "machine CPU"),
           ("cpu_others", "others' CPU"), ("load", "load")]


def report(scenarios: list[dict], runs: int) -> str:
    lines = [f"ms, median / max of {runs} opens (load: 1-minute load average before each open)", "",
             "| scenario | page | " + " | ".join(title for _, title in COLUMNS) + " |",
             "|---|---|" + "---:|" * len(COLUMNS)]
    for s in scenarios:
        for page, samples in s["results"].items():
            cells = []
            for key, _ in COLUMNS:
                values = [r[key] for r in samples if r[key] == r[key]]
                if not values:
                    cells.append("–")
                elif key == "load":
                    cells.append(f"{statistics.median(values):.1f} / {max(values):.1f}")
                else:
                    cells.append(f"{statistics.median(values):,.0f} / {max(values):,.0f}")
            lines.append(f"| {s['label']} | {page} | " + " | ".join(cells) + " |")
    lines += ["", "| scenario | cores used during the measurement (server, background sessions, "
              "whole machine) | background sessions' own latencies (median / max ms) |", "|---|---|---|"]
    for s in scenarios:
        c = s["cores"]
        bg = s["background"].get("latencies", {})
        bgs = "; ".join(f"{k} {v['median']:,.0f} / {v['max']:,.0f} ({v['count']})" for k, v in bg.items()) or "–"
        errors = s["background"].get("errors")
        if errors:
            bgs += f"; errors {errors}"
        lines.append(f"| {s['label']} | {c['server']:.2f}, "
                     f"{c['background sessions']:.2f}, {c['whole machine']:.2f} of {os.cpu_count()} "
                     f"over {c['seconds']:.0f} s | {bgs} |")
    extra = {}
    for s in scenarios:
        for page, samples in s["results"].items():
            extra[f"{s['label']} {page}"] = (statistics.median(r["html_kb"] for r in samples),
                                             statistics.median(r["pull_reply_kb"] for r in samples),
                                             statistics.median(r["ws_messages_in"] for r in samples))
    lines += ["", "sizes (median): " + "; ".join(f"{k}: HTML {a:,.0f} KB, websocket in {b:,.0f} KB in {c:.0f} messages"
                                                  for k, (a, b, c) in extra.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/flowlogs-pul"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=4, help="background sessions in the loaded scenario")
    parser.add_argument("--rate", type=float, default=0, help="load_writer events/s in the loaded scenario (0: none)")
    parser.add_argument("--no-live-demo", action="store_true", help="loaded scenario without --live-demo")
    parser.add_argument("--think", type=float, default=1.0, help="background sessions' mean pause between clicks")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["quiet", "loaded"], help="run one scenario")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    parser.add_argument("--background", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.background:
        asyncio.run(background(args.background[0], int(args.background[1]), args.think))
        return
    data = args.data.resolve()
    print(ensure_store(data, args.days, args.per_day), flush=True)
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"flowlogs-pul-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; logs in {logs}", flush=True)
    scenarios = []
    if args.only != "loaded":
        scenarios.append(scenario("quiet", data, 0, False, 0, args.runs, args.think, logs))
    if args.only != "quiet":
        scenarios.append(scenario("loaded", data, args.sessions, not args.no_live_demo, args.rate, args.runs,
                                  args.think, logs))
    print()
    print(report(scenarios, args.runs))
    if args.json:
        args.json.write_text(json.dumps(scenarios, indent=1))


if __name__ == "__main__":
    main()
