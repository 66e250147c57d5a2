"""How a component loads its data without blocking the page or piling up work.

A component asks `Loader.request()` whenever what it shows may have changed (a tab
switch, a new revision). One load runs at a time; requests that arrive meanwhile
coalesce into one more run. A result that a click overtook (another tab) is dropped
instead of shown; one that only the auto-refresh overtook is shown, then loaded again.
The spinner only appears when a user-initiated load takes long enough to be noticed,
so the auto-refresh never flickers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn

log = logging.getLogger(__name__)

SPINNER_DELAY = 0.3


class Loader:
    def __init__(self, load: Callable[[], Awaitable[Any]], apply: Callable[[Any], None], *,
                 spinner: Any = None, on_error: Callable[[Exception], None] | None = None,
                 on_shown: Callable[[float], None] | None = None):
        """`on_shown(seconds)`: told how long the event loop spent showing each result (LogSource.shown:
        one event loop serves every session, and the auto-refresh is paced by that time too)."""
        self._load = load
        self._on_shown = on_shown
        self._apply = apply
        self._spinner = spinner
        self._on_error = on_error
        self.name = getattr(apply, "__qualname__", "load")
        self._wanted = 0
        self._running = False
        self._spin = False
        self._clicked = 0  # requests that were not the auto-refresh's alone
        self._clicks_shown = 0  # ... counted when the last result was shown (or the loads ended)
        self.auto = False  # while a result is applied: whether only the auto-refresh asked for it
        self.loads = 0  # how many loads finished (tests and benchmarks read it)

    def request(self, *, spin: bool = False, auto: bool = False) -> None:
        """Load again; `auto` when only the auto-refresh asks (a list may then hold still)."""
        self._wanted += 1
        self._spin = self._spin or spin
        self._clicked += not auto
        if not self._running:
            self._running = True
            pn.state.execute(self._run)

    async def _run(self) -> None:
        timer = None
        try:
            while True:
                wanted, clicked = self._wanted, self._clicked
                if self._spin and self._spinner is not None and timer is None:
                    timer = asyncio.get_running_loop().call_later(SPINNER_DELAY, self._show_spinner)
                started = time.perf_counter()
                try:
                    result = await self._load()
                except Exception as exc:  # a vanished file, a full disk: say so, keep the page alive
                    log.exception("loading failed")
                    if wanted == self._wanted:
                        if self._on_error:
                            self._on_error(exc)
                        break
                    continue
                if clicked != self._clicked:
                    continue  # the user asked for something else meanwhile (another tab): not worth showing
                # Shown even when the auto-refresh asked again meanwhile (then loaded again): on a busy
                # server a load can take longer than the refresh gap, and dropping every overtaken
                # result would leave the page showing nothing new for as long as the stream lasts.
                loaded = time.perf_counter()
                self.auto, self._clicks_shown = self._clicked == self._clicks_shown, self._clicked
                try:
                    self._apply(result)
                finally:
                    self.auto = False
                if self._on_shown is not None:
                    self._on_shown(time.perf_counter() - loaded)
                self.loads += 1
                log.debug("%s: loaded in %.0f ms, shown in %.0f ms", self.name, (loaded - started) * 1000,
                          (time.perf_counter() - loaded) * 1000)
                if wanted == self._wanted:
                    break
                # loading again for the auto-refresh only: what the user asked for is on screen
                self._stop_spinner(timer)
                timer = None
        finally:
            self._running = False
            self._clicks_shown = self._clicked
            self._stop_spinner(timer)

    def _stop_spinner(self, timer: asyncio.TimerHandle | None) -> None:
        """No spinner on screen, and none pending."""
        self._spin = False
        if timer is not None:
            timer.cancel()
        if self._spinner is not None and self._spinner.loading:
            self._spinner.loading = False

    def _show_spinner(self) -> None:
        if self._running:
            self._spinner.loading = True
