"""Dashboard sessions for the load test: one headless Chromium, one browser context per session.

Playwright's async API drives every session from one event loop (one task each). A
session loops until the deadline: open the page, switch two filter tabs, expand a flow
group, open one of its executions in the detail panel, close it, and start again with a
fresh page load; between clicks it pauses as a person reading would (`think`).

The sessions are tabs of one window, but each stands for a person whose browser is in front:
Chromium's throttling of background tabs is turned off (with it, a background tab's click sent
its first message up to 3 s late), and its HTTP cache stays on (requests to other hosts are
refused by host rules, not by Playwright's routing, which would turn the cache off and fetch
every script again on each page load).

Each interaction is timed from the click (or navigation) until its answer is on screen.
"On screen" is checked inside the page by `PAGE_HELPERS` every POLL_MS, reaching into
Panel's shadow roots: Playwright's own waits back off to 500 ms between checks, which
would round a slow answer up by as much.

With `watch_server`, each session also reads its page's network events over CDP
(benchmarks/server_wait.py) and, once the clicking is over, gives each interaction its
server share: how much of it the page spent waiting on the server (the document request,
each Bokeh message until the server's answer), the rest being the browser's own time; and
the share's lower bound, each message counted only until the server's first reply.
Both are timed on `time.monotonic()`, the clock of CDP's timestamps.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.server_wait import NetworkLog

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run",
                 # Each person's browser is in front of them: a background tab's timers would be held to
                 # about one run a second, and its first message of a click sent up to 3 s late
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows",
                 # Nothing leaves the machine (font requests and the like fail to resolve), without
                 # routing requests through Playwright, which turns the browser's HTTP cache off
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
INTERACTION_TIMEOUT_MS = 30_000
POLL_MS = 25
TABS = ("all", "running", "failed", "completed")
KINDS = ("first visit", "open the page", "switch a tab", "expand a flow group", "open an execution",
         "close the execution")
ARRIVALS_SHARE = 0.2  # of the duration, over which the sessions arrive
LEAVE_AFTER = 2.0  # seconds the sessions stay idle before leaving, and the server has after they left
PICK_AMONG = 10  # groups and rows are picked among the first ten shown, where people click

PAGE_HELPERS = """
(() => {
  // Every shadow root the page creates, so a query need not walk the whole DOM to find them.
  const roots = [];
  let dirty = true;
  let checked = 0;
  const watch = (node) => new MutationObserver(() => { dirty = true; })
    .observe(node, {subtree: true, childList: true, attributes: true, characterData: true});
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attachShadow.call(this, init);
    roots.push(root);
    watch(root);
    return root;
  };
  watch(document);
  window.__load = {
    // The wait predicate: evaluated again only once the DOM changed, or after 250 ms (a change
    // mutation observers cannot see, such as layout), so twenty waiting pages cost little CPU.
    check(name, args) {
      const now = performance.now();
      if (!dirty && now - checked < 250) return false;
      dirty = false;
      checked = now;
      return this[name](...args);
    },
    all(selector) {
      const out = [...document.querySelectorAll(selector)];
      for (const root of roots) if (root.host.isConnected) out.push(...root.querySelectorAll(selector));
      return out;
    },
    shown(el) { return el.getClientRects().length > 0; },
    loaded() {
      const count = this.all("[role=tab][data-tab=all] .count")[0];
      return !!count && count.textContent !== "\\u2026" && this.shown(count)
        && this.all(".group, .groups .empty").length > 0;
    },
    tabShown(tab) {
      if (!this.all(`[role=tab][data-tab=${tab}][aria-selected=true]`).length) return false;
      const groups = this.all(".group");
      if (groups.length) return groups.every((g) => g.dataset.tab === tab);
      return this.all(".groups .empty").some((e) => !e.textContent.startsWith("Loading"));
    },
    // the collapsed groups shown, the ones a session expands: a group expanded in an earlier round
    // stays so across tabs, and a click on it would close it (its rows, already there, would pass
    // for the answer, then vanish under the next click)
    groups() {
      return this.all(".group[aria-expanded=false]").filter((g) => this.shown(g)).map((g) => g.dataset.flow);
    },
    rowsOf(flow) {
      return this.all("[data-rows-of]").filter((r) => r.dataset.rowsOf === flow)
        .flatMap((r) => [...r.querySelectorAll(".execution-row")]).filter((r) => this.shown(r));
    },
    // the finished executions shown under a group: the ones a session opens
    rows(flow) {
      return this.rowsOf(flow).filter((r) => r.dataset.status !== "running").map((r) => r.dataset.executionId);
    },
    // expanded once its rows are shown, whatever their status: under a live stream the newest
    // page may hold only running executions, and waiting for one to finish is not the page's latency
    expanded(flow) {
      return this.all(".group[aria-expanded=true]").some((g) => g.dataset.flow === flow)
        && this.rowsOf(flow).length > 0;
    },
    // open once its steps are shown; one cancelled before its first step has none to show
    opened(id) {
      const noSteps = this.all(".summary .fact").some((f) => f.firstChild.textContent === "Steps"
        && f.lastChild.textContent === "0" && this.shown(f));
      return this.all(".summary .exec-id").some((e) => e.textContent === id && this.shown(e))
        && (noSteps || this.all(".step").some((s) => this.shown(s)));
    },
    closed() { return !this.all(".summary").some((e) => this.shown(e)); },
    // what the page shows, for the message of an interaction that timed out
    describe() {
      const text = (sel) => this.all(sel).filter((e) => this.shown(e)).map((e) => e.textContent.slice(0, 60));
      return JSON.stringify({tabs: text("[role=tab][aria-selected=true]"), open: text(".summary .exec-id"),
        message: text(".summary .message"), steps: this.all(".step").filter((e) => this.shown(e)).length,
        selected: this.all(".execution-row.selected").map((r) => r.dataset.executionId),
        expanded: this.all(".group[aria-expanded=true]").map((g) => g.dataset.flow),
        held: this.all(".held-note").some((e) => this.shown(e)), loading: this.all(".pn-loading").length,
        url: location.search});
    },
  };
})();
"""


@dataclass
class Observations:
    """What all sessions saw: (kind, ms) per interaction, (kind, ms) of it waiting on the server and the
    lower bound of that (sessions that watch the server only, added once they stopped), errors by kind."""

    started: float = field(default_factory=time.monotonic)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    server: list[tuple[str, float]] = field(default_factory=list)
    server_first_reply: list[tuple[str, float]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str, source: str, message: str) -> None:
        at = time.monotonic() - self.started
        self.errors.setdefault(kind, []).append(f"{source} at {at:.0f} s: {message.strip()[:800]}")

    def ignore(self, kind: str) -> None:
        self.ignored[kind] = self.ignored.get(kind, 0) + 1


def css_string(value: str) -> str:
    """A CSS attribute value in quotes, whatever characters it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ") + '"'


def is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    host = url.split("/")[2].split(":")[0] if "://" in url else ""
    return host in ("127.0.0.1", "localhost")


class Session:
    """One person at the dashboard, in their own browser context; with `watch_server`, its page's
    network events are read over CDP, for the server's share of each interaction."""

    def __init__(self, number: int, context, url: str, seen: Observations, think: float, reload: bool = False,
                 watch_server: bool = False):
        self.number = number
        self.network = NetworkLog() if watch_server else None
        self.windows: list[tuple[str, float, float]] = []  # (kind, started, ended) of each interaction
        self.reload = reload
        self.name = f"session {number}"
        self.context = context
        self.url = url
        self.seen = seen
        self.think_seconds = think
        self.rng = random.Random(number)
        self.page = None
        self.tab = "all"
        self.doing = ""

    async def start(self) -> None:
        self.page = page = await self.context.new_page()
        await page.add_init_script(PAGE_HELPERS)
        page.on("requestfailed", self._failed)
        page.set_default_timeout(INTERACTION_TIMEOUT_MS)
        page.on("pageerror", lambda exc: self.seen.error("page error", self.name, str(exc)))
        page.on("console", self._console)
        page.on("response", self._response)
        if self.network is not None:
            cdp = await self.context.new_cdp_session(page)
            self.network.listen(cdp)
            await cdp.send("Network.enable")

    async def leave(self) -> None:
        """Leave the page as a person closing the tab does, once nothing is in flight: the browser
        closes its websocket. Killing the browser instead cut sessions mid-message, and Bokeh logged
        each message that arrived for a session it had already let go as an AssertionError."""
        try:
            await self.page.goto("about:blank", wait_until="load")
        except Exception:  # noqa: BLE001 - leaving a page that already broke is not a finding
            pass

    def _failed(self, request) -> None:
        if not is_local(request.url):  # refused by the host rules above: nothing leaves the machine
            self.seen.ignore("request to another host, refused")

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and not is_local(message.location.get("url", "")):
            return  # a request to another host, refused by the host rules
        self.seen.error("console error", self.name, message.text)

    def _response(self, response) -> None:
        if response.status >= 500:
            self.seen.error("HTTP 5xx", self.name, f"{response.status} {response.request.method} {response.url}")

    # -- interactions -----------------------------------------------------------------------

    async def _until(self, predicate: str, *args) -> None:
        await self.page.wait_for_function("([name, args]) => window.__load.check(name, args)",
                                          arg=[predicate, list(args)], polling=POLL_MS,
                                          timeout=INTERACTION_TIMEOUT_MS)

    def _click(self, selector: str) -> Callable:
        """A click on what `selector` finds, as a person's: the pointer moves there and presses.

        `force` skips Playwright's wait for the element to be "stable" over two animation frames:
        twenty sessions are tabs of one window, and a tab in the background gets about one frame
        a second, so that wait alone added 1-3 s to every click of every session but the front
        one (a person's own browser window is in front). The pointer and the click are real,
        once the element is shown."""
        from playwright.async_api import Error

        async def click() -> None:
            target = self.page.locator(selector)
            await target.wait_for(state="visible")  # (force does not wait for the page to show it)
            # as a person does: scroll it into view, point at it (the list holds still under the
            # pointer), then press; a forced click that scrolls first could land where the list
            # had just redrawn under a pointer the scroll moved off it
            for attempt in range(3):
                try:
                    await target.scroll_into_view_if_needed()
                    await target.hover(force=True)
                    await target.click(force=True)
                    return
                except Error as exc:  # redrawn between finding it and pointing: point at the new one
                    if "not attached" not in str(exc) or attempt == 2:
                        raise

        return click

    async def _timed(self, kind: str, act: Callable, predicate: str, *args) -> None:
        self.doing = f"{kind} {', '.join(map(repr, args))}".strip()  # named in the error if it fails
        started = time.monotonic()
        await act()
        await self._until(predicate, *args)
        ended = time.monotonic()
        self.seen.latencies.append((kind, (ended - started) * 1000))
        self.windows.append((kind, started, ended))

    def add_server_share(self) -> None:
        """Each interaction's time waiting on the server into `seen.server`, its lower bound into
        `seen.server_first_reply`: once the clicking is over, when its every websocket frame has arrived
        (CDP's events come apart from the page's answers)."""
        if self.network is None:
            return
        if self.network.frames and not -0.001 <= self.network.lag < 1.0:  # CDP's events come after their time
            self.seen.error("CDP's clock is not time.monotonic()", self.name,
                            f"events came {self.network.lag * 1000:.0f} ms after their timestamp at the least")
        windows = [(started, ended) for _, started, ended in self.windows]
        for shares, first_reply in ((self.seen.server, False), (self.seen.server_first_reply, True)):
            waited = self.network.waiting(windows, first_reply)
            shares += [(kind, seconds * 1000) for (kind, _, _), seconds in zip(self.windows, waited, strict=True)]

    async def _think(self) -> None:
        await asyncio.sleep(self.think_seconds * self.rng.uniform(0.5, 1.5))

    async def open_page(self, kind: str) -> None:
        # from the navigation until the page shows its data; the load event does not matter
        await self._timed(kind, lambda: self.page.goto(self.url, wait_until="commit"), "loaded")
        self.tab = "all"

    async def switch_tab(self, tab: str) -> None:
        # the tab bar is not held like the list: a click checks that the tab is stable and is what
        # the pointer would hit (a background tab pays a frame or two for it)
        await self._timed("switch a tab", self.page.locator(f"[role=tab][data-tab={tab}]").click, "tabShown", tab)
        self.tab = tab

    async def expand_group(self) -> str | None:
        # the pointer goes to the list first, as a person's does before reading it: the list then
        # holds still under it, and the group read is still there for the click
        self.doing = "point at the flow list"
        box = await self.page.locator(".groups").bounding_box()  # the list itself is always drawn
        if box is None:
            return None
        await self.page.mouse.move(box["x"] + 40, box["y"] + 20)  # on its first group
        flows = (await self.page.evaluate("window.__load.groups()"))[:PICK_AMONG]
        if not flows:
            return None
        flow = self.rng.choice(flows)
        await self._timed("expand a flow group", self._click(f".group[data-flow={css_string(flow)}]"), "expanded", flow)
        return flow

    async def open_execution(self, flow: str) -> bool:
        ids = (await self.page.evaluate("(f) => window.__load.rows(f)", flow))[:PICK_AMONG]
        if not ids:
            return False
        execution_id = self.rng.choice(ids)
        row = f".execution-row[data-execution-id={css_string(execution_id)}]"
        await self._timed("open an execution", self._click(row), "opened", execution_id)
        return True

    async def close_execution(self) -> None:
        await self._timed("close the execution", self._click(".summary button.close"), "closed")

    async def one_round(self) -> None:
        """Two tabs, a flow group, one of its executions opened and closed (then a fresh page, if asked)."""
        for tab in self.rng.sample([t for t in TABS if t != "all"], 2):
            await self._think()
            await self.switch_tab(tab)
        if self.tab == "running":  # its executions are still under way: open finished ones elsewhere
            await self._think()
            await self.switch_tab(self.rng.choice(["all", "failed", "completed"]))
        await self._think()
        flow = await self.expand_group()
        if flow is not None:
            await self._think()
            if await self.open_execution(flow):
                await self._think()
                await self.close_execution()
        if self.reload:
            await self._think()
            await self.open_page("open the page")

    async def _explain(self, exc: Exception) -> str:
        """The error's first line, what Playwright last saw (a click's call log says what was in the
        way), and what the page showed (asked at once: the error has just been raised)."""
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        said = lines[0] if lines else type(exc).__name__
        seen = f" Last seen: {lines[-1]}" if len(lines) > 1 else ""
        try:
            shown = await self.page.evaluate("window.__load.describe()")
        except Exception:  # the page itself is gone: what Playwright said is all there is
            shown = "(no page)"
        return f"{said}{seen} The page showed: {shown}"

    async def run(self, deadline: float) -> None:
        """Rounds until the deadline; the round under way is finished, so every kind gets measured."""
        from playwright.async_api import Error, TimeoutError

        first, on_page = True, False
        while True:
            try:
                if not on_page:  # the first visit, or after an error: start again from a fresh page
                    await self.open_page("first visit" if first else "open the page")
                    first, on_page = False, True
                await self.one_round()
            except TimeoutError as exc:
                on_page = False
                self.seen.error("interaction timed out (30 s)", self.name, f"{self.doing}: {await self._explain(exc)}")
            except Error as exc:
                on_page = False
                self.seen.error("interaction failed", self.name, f"{self.doing}: {await self._explain(exc)}")
            if time.monotonic() >= deadline:
                return


async def run_sessions(url: str, sessions: int, duration: float, think: float, seen: Observations,
                       on_started: Callable[[], None] | None = None,
                       on_finished: Callable[[], None] | None = None, *,
                       separate_profiles: bool = False, reload: bool = False) -> None:
    """`sessions` people at the dashboard for `duration` seconds; what they see goes into `seen`.

    By default the sessions are tabs of one browser profile: an operator's browser keeps Bokeh's
    5 MB of JavaScript compiled after the first visit, while twenty cold profiles on the server's
    own two cores measure Chromium's start-up more than the dashboard. `separate_profiles` gives
    each its own context; `reload` loads the page afresh at the end of every round. Each session
    watches the server: `seen.server` gets the server's share of each interaction at the end."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shared = None if separate_profiles else await browser.new_context(viewport={"width": 1600, "height": 1000})
        people = [Session(n, shared or await browser.new_context(viewport={"width": 1600, "height": 1000}),
                          url, seen, think, reload, watch_server=True) for n in range(sessions)]
        for person in people:
            await person.start()
        if on_started:
            on_started()
        deadline = time.monotonic() + duration

        async def arrive(person: Session) -> None:
            # people arrive over the first fifth of the run, not all in the same second
            await asyncio.sleep(person.number * duration * ARRIVALS_SHARE / sessions)
            await person.run(deadline)

        await asyncio.gather(*(arrive(p) for p in people))
        if on_finished:
            on_finished()  # before the browser closes: its processes' CPU time is still readable
        await asyncio.sleep(LEAVE_AFTER)  # the last answers arrive
        for person in people:
            person.add_server_share()
        await asyncio.gather(*(p.leave() for p in people))
        await asyncio.sleep(LEAVE_AFTER)  # the server lets the sessions go
        await browser.close()
