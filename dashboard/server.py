"""Serve the dashboard from Python: what `flowlogs serve` calls.

Retention runs in the background of the server (first at start-up, then every
`retention_interval` seconds), and so does compaction of days with many small files;
`live_demo=True` also runs the demo flow simulator, so a fresh install shows live
executions.
"""

from __future__ import annotations

import logging
import os
import threading

import panel as pn

from . import web
from .auth import AccessConfig, check_listen
from .logs import Logs, open_logs
from .store import DEFAULT_RETENTION_DAYS
from .ui.bundle import skip_unused_mathjax
from .ui.page import create_page
from .ui.source import LogSource
from .upkeep import start_upkeep

log = logging.getLogger(__name__)


DEMO_STOP_SECONDS = 30  # the live demo's in-flight executions are cancelled and flushed within this


def _run_demo(logs: Logs, stop: threading.Event) -> None:
    from . import demo  # imported only when asked for

    try:
        demo.run_live(logs.store, stop=stop, per_day=demo.history_per_day(logs.queries))  # the history's pace
    except Exception:
        log.exception("live demo stopped")


def shared_source(logs: Logs) -> LogSource:
    """The one LogSource of a server process: its sessions share its cached results."""
    return LogSource(logs.queries, cache=os.environ.get("FLOWLOGS_QUERY_CACHE", "1") != "0")


def _stop_on_sigterm() -> None:
    """SIGTERM stops the server as Ctrl+C does (Panel handles only SIGINT): `serve` then returns and its
    clean-up runs (the live demo cancels its running executions) instead of the process dying mid-write."""
    import signal

    from tornado.ioloop import IOLoop

    def stop_loop(*_):
        loop = IOLoop.current()
        loop.asyncio_loop.call_soon_threadsafe(loop.stop)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop_loop)


def _start_demo(logs: Logs, stop: threading.Event) -> threading.Thread:
    """The live demo's flow simulator, in a thread until `stop` is set."""
    demo = threading.Thread(target=_run_demo, args=(logs, stop), name="flowlogs-demo", daemon=True)
    demo.start()
    return demo


def _start_collector(logs: Logs, stop: threading.Event):
    """The collector (until `stop` is set) and the routes of its endpoints, to serve beside the page."""
    from .collector import Options, routes, start_collecting

    options = Options()
    collector, keys = start_collecting(logs.store, options, stop)
    return collector, routes(collector, keys, options.limits)


def _prepare_panel() -> None:
    """What Panel needs set before it serves the first session."""
    # the token page's table: loaded up front, or a session opened before it (a health check) leaves
    # the next sessions without its JavaScript, and their page never loads
    pn.extension("tabulator", notifications=False)
    skip_unused_mathjax()
    _stop_on_sigterm()


def serve(logs: Logs, *, port: int = 5006, address: str = "127.0.0.1", show: bool = False,
          retention_days: int = DEFAULT_RETENTION_DAYS, retention_interval: float = 86400,
          live_demo: bool = False, compact_interval: float | None = 300,
          access: AccessConfig | None = None, allow_origins: list[str] | tuple[str, ...] = (),
          collect: bool = False) -> None:
    """Serve the Execution Logs page until interrupted (blocking).

    `compact_interval` (seconds, None for never) compacts days that collected many small
    files, which keeps the page fast while writers add a file per flush.
    `access` turns on Panel's sign-in (basic auth or OAuth) and the roles and privacy
    options (dashboard/auth.py); without it only a loopback address is served (AccessError).
    `allow_origins`: other host[:port] names the browser may reach the server by (a reverse proxy, the LAN name).
    `collect`: also serve the collector's endpoints (/v1/events, /v1/traces; dashboard/collector/).
    """
    access = (access or AccessConfig()).validate()
    check_listen(address, access)  # before anything starts: nothing is served beyond loopback without sign-in
    logs.location.make_dirs()
    web.install(access, logs.store)  # before the server answers anything: sign-outs, headers, SameSite (web.py)
    stop = threading.Event()
    start_upkeep(logs.queries, stop, retention_days=retention_days, retention_interval=retention_interval,
                 compact_interval=compact_interval)
    demo = _start_demo(logs, stop) if live_demo else None
    source = shared_source(logs)
    collector, patterns = _start_collector(logs, stop) if collect else (None, [])
    _prepare_panel()
    try:
        pn.serve(
            lambda: create_page(logs, source, access=access),  # a function: one fresh page per session
            port=port,
            address=address,
            show=show,
            threaded=False,
            title="Execution Logs · flowlogs",
            websocket_origin=sorted({f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}", *allow_origins}),
            extra_patterns=patterns,
            **access.panel_options(),
        )
    finally:
        if collector is not None:
            collector.stop()  # the batches handed over are stored before the process ends
        stop.set()
        if demo is not None:  # a daemon thread dies with the process: let it cancel and flush first
            demo.join(DEMO_STOP_SECONDS)


if __name__ == "__main__":  # python -m dashboard.server DATA_DIR [PORT]
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.environ.get("FLOWLOGS_DEBUG"):
        logging.getLogger("dashboard").setLevel(logging.DEBUG)
    serve(open_logs(sys.argv[1]), port=int(sys.argv[2]) if len(sys.argv) > 2 else 5006)
