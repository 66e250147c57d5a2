"""History: the executions of a day over a daily curve, and generate_history, which runs them on a
simulated clock (a month takes seconds; the same seed and `now` give the same data)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable

from ..recorder import Recorder
from ..schema import utc
from ..store import Store, utcnow
from ..writer import Writer
from .catalog import FLOWS, Flow, run_execution
from .clock import SimulatedClock, uuid7_at

Progress = Callable[[int], None]

HISTORY_MAX_ROWS = 50_000
DEFAULT_PER_DAY = 500  # executions a day of `flowlogs demo` (and `make demo`)

# Relative traffic per UTC hour: quiet nights, busy from breakfast to the evening.
HOUR_WEIGHTS = (0.5, 0.35, 0.3, 0.3, 0.35, 0.5, 0.9, 1.6, 2.6, 3.4, 3.8, 3.9,
                4.0, 3.9, 3.8, 3.7, 3.7, 3.6, 3.4, 3.1, 2.7, 2.0, 1.3, 0.8)
HOUR_CUM = list(itertools.accumulate(HOUR_WEIGHTS))
WEEKDAY_FACTORS = (1.04, 1.03, 1.02, 1.03, 1.05, 0.94, 0.92)  # Monday .. Sunday

_EVENT_DRIVEN = [f for f in FLOWS if not f.daily]
_EVENT_CUM = list(itertools.accumulate(f.weight for f in _EVENT_DRIVEN))
_UNSCHEDULED = [f for f in _EVENT_DRIVEN if f.every is None]
_UNSCHEDULED_CUM = list(itertools.accumulate(f.weight for f in _UNSCHEDULED))


def plan_day(rng: random.Random, day: dt.date, per_day: int) -> list[tuple[dt.datetime, Flow]]:
    """The executions of a whole day, (start, flow) in start order: about per_day (±10%)."""
    midnight = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    total = round(per_day * min(1.1, max(0.9, WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.97, 1.03))))
    plan = [(f.at * 60 + rng.uniform(0.2, 2.5), f) for f in FLOWS
            if f.daily and f.weekday in (None, day.weekday())]
    count = max(0, total - len(plan))
    flows = rng.choices(_EVENT_DRIVEN, cum_weights=_EVENT_CUM, k=count)
    hours = rng.choices(range(24), cum_weights=HOUR_CUM, k=count)
    taken: set[tuple[str, int]] = set()
    for flow, hour in zip(flows, hours, strict=True):
        second = hour * 3600 + rng.random() * 3600
        if flow.every:
            period, offset = flow.every * 60, flow.at * 60
            slot = int((second - offset) // period) * period + offset
            if slot < 0:
                slot += period
            if (flow.name, slot) not in taken:
                taken.add((flow.name, slot))
                second = slot + rng.uniform(0.2, 2.5)  # scheduler latency
            else:  # that run already exists: the traffic goes to an event-driven flow
                flow = rng.choices(_UNSCHEDULED, cum_weights=_UNSCHEDULED_CUM)[0]
        plan.append((second, flow))
    plan.sort(key=lambda p: p[0])
    return [(midnight + dt.timedelta(seconds=s), f) for s, f in plan]


def first_run_of_today(rng: random.Random, now: dt.datetime) -> list[tuple[dt.datetime, Flow]]:
    """One support conversation, so today has its partition even just after midnight (if it fits)."""
    flow = FLOWS[0]
    midnight = dt.datetime.combine(now.date(), dt.time(), dt.timezone.utc)
    room = (now - midnight).total_seconds() - flow.max_seconds
    return [(midnight + dt.timedelta(seconds=rng.uniform(0, room)), flow)] if room > 0 else []


def generate_history(store: Store, *, days: int = 30, per_day: int = DEFAULT_PER_DAY, seed: int = 1,
                     now: dt.datetime | None = None, progress: Progress | None = None) -> int:
    """Write `days` days of history ending at `now` (today only up to now). Returns the executions.

    Each day gets about per_day executions spread over a daily curve; a day's randomness
    comes from (seed, day), so the same seed and now always give the same data.
    """
    if now is None:
        now = utcnow()
    now = utc(now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc))  # a naive `now` is taken as UTC
    clock = SimulatedClock(now)
    recorder = Recorder(Writer(store, max_rows=HISTORY_MAX_ROWS, flush_interval=None), clock=clock.now)
    count = reported = 0
    try:
        for back in range(days - 1, -1, -1):
            day = now.date() - dt.timedelta(days=back)
            rng = random.Random(f"flowlogs-demo:{seed}:{day.isoformat()}")
            # history holds finished runs only: none that would still be running at `now`
            runs = [(start, flow) for start, flow in plan_day(rng, day, per_day)
                    if start + dt.timedelta(seconds=flow.max_seconds) <= now]
            if not runs and back == 0:
                runs = first_run_of_today(rng, now)
            for start, flow in runs:
                clock.set(start)
                run_execution(recorder, flow, rng, clock, execution_id=uuid7_at(start, rng))
                count += 1
                if progress and count - reported >= 500:
                    progress(count - reported)
                    reported = count
    finally:
        recorder.close()
    if progress and count > reported:
        progress(count - reported)
    return count
