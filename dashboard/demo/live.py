"""The live demo: new executions in real time at the history's pace, one thread each; stopped (Ctrl+C,
SIGTERM or its stop event), it cancels the executions it started and flushes."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..queries import LogQueries
from ..recorder import Recorder
from ..store import Store, utcnow
from ..writer import Writer
from .catalog import FLOWS, MANUAL, run_execution
from .clock import LIVE_TIME_SCALE, LiveClock
from .history import DEFAULT_PER_DAY, HOUR_CUM, HOUR_WEIGHTS, WEEKDAY_FACTORS

LIVE_FLUSH_INTERVAL = 0.5  # seconds: new events show up on the page within a second
LIVE_MAX_GAP = 60.0  # seconds: the live demo starts an execution at least this often, whatever the hour

_LIVE_SHORT = [f for f in FLOWS if not f.daily and f.trigger != MANUAL]
_LIVE_SHORT_CUM = list(itertools.accumulate(f.weight for f in _LIVE_SHORT))
_LIVE_LONG = [f for f in FLOWS if f.long_running]


def live_rate(per_day: float, when: dt.datetime) -> float:
    """Executions a second that a history of `per_day` has at `when`: its hour of the day and weekday,
    as plan_day spreads them. 500 a day is about 0.6 a minute at midday and 0.05 at 3 a.m."""
    share = HOUR_WEIGHTS[when.hour] / HOUR_CUM[-1]
    return per_day * WEEKDAY_FACTORS[when.weekday()] * share / 3600


def history_per_day(queries: LogQueries) -> int:
    """Executions a day in a data location's history (whole days before today), or DEFAULT_PER_DAY
    without history: `flowlogs serve --live-demo` runs the live demo at the pace of the data it shows."""
    store = queries.store
    days = [d for d in store.days() if d < utcnow().date()]
    if not days:
        return DEFAULT_PER_DAY
    executions = queries.tab_counts(since=days[0], until=days[-1])["all"]
    return max(1, round(executions / len(days)))


@contextmanager
def stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl+C (SIGINT) and SIGTERM set `stop` instead of interrupting the engine wherever it is: it then
    cancels what it started and flushes, which an exception landing in that clean-up could cut short.
    Only the main thread can take signals; a signal the shell told the process to ignore stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_live(store: Store, *, seed: int | None = None, per_day: float = DEFAULT_PER_DAY,
             rate: float | None = None, max_gap: float = LIVE_MAX_GAP, stop: threading.Event | None = None,
             long_running_share: float = 0.1, time_scale: float = LIVE_TIME_SCALE) -> int:
    """Produce new executions in real time until `stop` is set (or Ctrl-C). Returns how many.

    Executions start at the pace of a history of `per_day` (`live_rate`: today's bars and the
    sparklines do not jump when the live demo runs), or at a constant `rate` a second if given,
    and never more than `max_gap` seconds apart, so the page shows activity within a minute.
    Each runs in its own thread, so several run at once; a `long_running_share` of them loop
    over rows for 30 s - 3 min. On stop, the running ones end as cancelled (LIVE_STOP_REASON)
    and the writer is flushed and closed.
    """
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive (executions per second), not {rate}")
    if per_day <= 0:
        raise ValueError(f"per_day must be positive, not {per_day}")
    stop = stop or threading.Event()
    master = random.Random(seed)
    recorder = Recorder(Writer(store, flush_interval=LIVE_FLUSH_INTERVAL), clock=utcnow)
    clock = LiveClock(stop, time_scale)
    workers: list[threading.Thread] = []
    count = 0
    try:
        while not stop.is_set():
            long_running = master.random() < long_running_share
            if long_running:
                flow = master.choice(_LIVE_LONG)
            else:
                flow = master.choices(_LIVE_SHORT, cum_weights=_LIVE_SHORT_CUM)[0]
            rng = random.Random(master.getrandbits(64))
            worker = threading.Thread(target=run_execution, args=(recorder, flow, rng, clock),
                                      kwargs={"long_running": long_running}, name=f"demo-{flow.id}", daemon=True)
            worker.start()
            count += 1
            workers = [w for w in workers if w.is_alive()] + [worker]
            pace = rate if rate is not None else live_rate(per_day, utcnow())
            stop.wait(min(master.expovariate(pace), max_gap))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()  # running executions cancel at their next step
        for worker in workers:
            worker.join()
        recorder.close()
    return count
