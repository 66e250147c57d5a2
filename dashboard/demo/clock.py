"""Clocks: simulated time for history (the engine "works" by advancing it, nothing sleeps), real time
for the live demo, and UUIDv7 execution ids built from either."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid

from ..schema import utc
from ..store import utcnow

LIVE_TIME_SCALE = 1.0  # real seconds per simulated second: a reply flow takes a few seconds


class SimulatedClock:
    """Simulated time for history: the engine 'works' by advancing it; nothing sleeps."""

    scale = 1.0  # simulated seconds are real seconds
    stopping = False  # history is never interrupted

    def __init__(self, start: dt.datetime):
        self._now = utc(start)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)

    def set(self, when: dt.datetime) -> None:
        """Jump to the start of the next execution (executions overlap, so time may go back)."""
        self._now = when


class LiveClock:
    """Real time for the live demo: advancing sleeps (scaled), cut short once stop is set."""

    now = staticmethod(utcnow)

    def __init__(self, stop: threading.Event, scale: float = LIVE_TIME_SCALE):
        self._stop = stop
        self.scale = scale

    def advance(self, seconds: float) -> None:
        self._stop.wait(seconds * self.scale)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def uuid7_at(when: dt.datetime, rng: random.Random) -> str:
    """A UUIDv7 for `when`: 48-bit unix ms, version 7, variant 10, the rest from rng."""
    ms = (when - _EPOCH) // dt.timedelta(milliseconds=1)
    value = (ms & (1 << 48) - 1) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))
