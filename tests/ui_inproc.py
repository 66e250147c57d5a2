"""Helpers of the in-process UI tests (test_ui_state.py, test_ui_viewers.py): a small real store written
through the project's own event builders and Writer, and a way to let the components' loads finish
without a server or a browser.

The components load through `Loader` (dashboard/ui/loader.py), which hands a coroutine to
`pn.state.execute`. Without a Bokeh document Panel runs it on the running event loop, or drives a new
loop to the end when none runs; but a load started from within another load (the rows of a flow
expanded by a link, created when the groups arrive) would then be left on a loop nobody runs again.
`settle()` therefore makes each change inside an event loop of its own and returns once no load is
left on it, as the server's loop would have run them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factories import finished, parsed, started, step, uuid7_at

from dashboard.store import Store
from dashboard.writer import Writer
from tests.loops import run_in_own_loop

SUPPORT = "Support auto-reply"
BROADCAST = "Daily broadcast"
LEAD = "Lead follow-up"
EVIL_FLOW = '<script>window.__xss=1</script> "Promo" & co'
EVIL_NODE = '<img src=x onerror="window.__xss=1">'
RATE_LIMIT = "OpenAI API error 429: rate limit exceeded"
BAD_PHONE = "Invalid phone number '+49 151 ABC' for contact 'Ana'"


def write_store(root: Path, now: dt.datetime | None = None) -> dict[str, str]:
    """Five executions of four flows, all well inside their ranges whatever minute the tests run in:

    - support_ok: Support auto-reply, completed 2 h ago, three steps written out of order (an AI step of
      400 + 100 tokens first), one of them named with HTML
    - support_failed: Support auto-reply, failed 90 min ago at an AI step (50 + 0 tokens): an AI provider error
    - broadcast: Daily broadcast, completed 3 days ago (outside the last 24 hours)
    - evil: a flow whose name is HTML, failed 20 min ago on an invalid phone number
    - running: Lead follow-up, running since 5 min ago with one step done

    Returns the execution ids by those names."""
    now = now or dt.datetime.now(dt.UTC)
    writer = Writer(Store(root), flush_interval=None)
    ids = {}

    def execution(name, flow, ago, status, steps, *, error=None, salt, phone=None):
        at = now - ago
        execution_id = ids[name] = uuid7_at(at, salt)
        events = [started(execution_id, at, flow_name=flow, phone=phone,
                          trigger="incoming_message" if phone else "manual")]
        events += [step(execution_id, index, at + dt.timedelta(seconds=index), **fields) for index, fields in steps]
        if status != "running":
            events.append(finished(execution_id, at + dt.timedelta(seconds=10), status, error=error,
                                   messages_sent=1 if status == "completed" else 0,
                                   messages_failed=1 if status == "failed" else 0))
        for event in events:
            writer.write(parsed(event))

    execution("support_ok", SUPPORT, dt.timedelta(hours=2), "completed",
              [(2, {"node_name": "Send reply"}), (0, {"tokens": (400, 100), "node_name": "AI Response"}),
               (1, {"node_name": EVIL_NODE, "seconds": 4.0, "input": {"order": 42}})],
              salt=1, phone="+4915112345678")
    execution("support_failed", SUPPORT, dt.timedelta(minutes=90), "failed",
              [(0, {"tokens": (50, 0), "status": "failed", "error": RATE_LIMIT})], error=RATE_LIMIT, salt=2)
    execution("broadcast", BROADCAST, dt.timedelta(days=3), "completed", [(0, {})], salt=3)
    execution("evil", EVIL_FLOW, dt.timedelta(minutes=20), "failed",
              [(0, {"status": "failed", "error": BAD_PHONE})], error=BAD_PHONE, salt=4)
    execution("running", LEAD, dt.timedelta(minutes=5), "running", [(0, {})], salt=5)
    writer.close()
    return ids


def settle(action: Callable[[], Any] | None = None, *, timeout: float = 10.0) -> Any:
    """Run `action` (a state change, a click, building a component) on an event loop of its own and
    wait until every load it started has finished and been shown. Returns what `action` returned;
    raises what a load raised past its own error handling."""

    async def main():
        me = asyncio.current_task()
        result = action() if action is not None else None
        seen: set[asyncio.Task] = set()
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # a load scheduled from another thread becomes a task one turn later
            await asyncio.sleep(0.002)
            pending = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
            seen |= pending
            quiet = 0 if pending else quiet + 1
            if time.monotonic() > deadline:
                raise AssertionError(f"loads still running after {timeout} s: {pending}")
        for task in seen:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()
        return result

    return run_in_own_loop(main())
