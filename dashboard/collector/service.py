"""A running collector: its HTTP server, pipeline, keys and upkeep, on one data location.

`flowlogs collect` runs one until SIGTERM or Ctrl+C; the tests start one in a thread. Each has a
tornado loop of its own: handlers only read bodies and answer, the pipeline's thread does the work.
Stopping lets the requests in flight finish (each gets its answer) before the process ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application

from ..events import MAX_FIELD_BYTES
from ..store import Store
from ..upkeep import start_merging
from .http import Limits, routes
from .keys import REFRESH_SECONDS, IngestKeys
from .pipeline import MAX_PENDING, Collector
from .receipts import WINDOW_HOURS, Receipts

log = logging.getLogger(__name__)

TIDY_INTERVAL = 5.0  # seconds between tidyings of the receipts (expiry, merging their small files): a file a round
STOP_SECONDS = 30.0  # requests in flight get this long to be answered when the collector stops


@dataclass(frozen=True)
class Options:
    limits: Limits = Limits()
    max_pending: int = MAX_PENDING
    key_refresh: float = REFRESH_SECONDS
    receipt_hours: float = WINDOW_HOURS
    max_field_bytes: int = MAX_FIELD_BYTES
    merge_interval: float | None = 5.0  # today's small files merged (None: left to a dashboard server)


def start_collecting(store: Store, options: Options, stop: threading.Event) -> tuple[Collector, IngestKeys]:
    """The pipeline and keys of a collector, and its upkeep threads (until `stop`): what a dashboard
    server with `--collect` adds beside its own upkeep."""
    receipts = Receipts(store, window_hours=options.receipt_hours)
    collector = Collector(store, max_pending=options.max_pending, max_field_bytes=options.max_field_bytes,
                          receipts=receipts).start()
    threading.Thread(target=_tidy, args=(receipts, stop), name="flowlogs-receipts", daemon=True).start()
    return collector, IngestKeys(store, refresh=options.key_refresh)


def _tidy(receipts: Receipts, stop: threading.Event) -> None:
    while not stop.wait(TIDY_INTERVAL):
        try:
            receipts.tidy()
        except Exception:  # a lost race or a full disk: next time
            log.exception("tidying the receipts failed; trying again in %s s", TIDY_INTERVAL)


class CollectorService:
    def __init__(self, store: Store, *, address: str = "127.0.0.1", port: int = 4318, options: Options = Options()):
        self.store, self.address, self.requested_port, self.options = store, address, port, options
        self.port: int | None = None
        self._stop = threading.Event()
        self._loop: IOLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HTTPServer | None = None
        self.collector: Collector | None = None

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"

    def start(self) -> CollectorService:
        """Listen (in a thread of its own) and return once requests are taken."""
        self.store.location.make_dirs()
        self.collector, keys = start_collecting(self.store, self.options, self._stop)
        if self.options.merge_interval:
            start_merging(self.store, self._stop, interval=self.options.merge_interval)
        sockets = bind_sockets(self.requested_port, self.address)  # here: a port in use fails the caller
        self.port = sockets[0].getsockname()[1]
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(sockets, keys, ready), name="flowlogs-http",
                                        daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def _serve(self, sockets, keys: IngestKeys, ready: threading.Event) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        self._loop = IOLoop.current()
        limits = self.options.limits
        app = Application(routes(self.collector, keys, limits))
        # headers must come within the read timeout too: a client that never finishes them holds nothing long
        self._server = HTTPServer(app, idle_connection_timeout=limits.read_timeout, body_timeout=limits.read_timeout,
                                  max_body_size=limits.max_body_bytes + 65536)
        self._server.add_sockets(sockets)
        ready.set()
        self._loop.start()
        self._loop.close(all_fds=True)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Take no new connection, answer the requests in flight (up to `timeout` s), then stop."""
        if self._loop is None:
            return
        self._loop.add_callback(self._server.stop)
        deadline = time.monotonic() + timeout
        while self.collector.admitted and time.monotonic() < deadline:
            time.sleep(0.05)
        self.collector.stop(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        self._loop.add_callback(self._loop.stop)
        self._thread.join(timeout)
        self._loop = None

    def wait(self) -> None:
        """Block until `stop` (from a signal handler, say)."""
        while self._loop is not None:
            time.sleep(0.2)
