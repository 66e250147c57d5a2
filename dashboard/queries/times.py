"""Time range bounds of the queries: parsed from text, as UTC datetimes, and the day they fall on.
Ranges are on an execution's start and prune whole day partitions."""

from __future__ import annotations

import datetime as dt


def bound_day(ts: dt.datetime | dt.date | None) -> dt.date | None:
    """The UTC day of a range bound; a date is its own day."""
    if ts is None or isinstance(ts, dt.date) and not isinstance(ts, dt.datetime):
        return ts
    return ts.astimezone(dt.UTC).date() if ts.tzinfo else ts.date()


def parse_time(value: str | dt.date | dt.datetime | None) -> dt.date | dt.datetime | None:
    """A range bound from ISO 8601 text (`2026-11-01`, `2026-11-01T08:00Z`); a time without a
    zone is UTC. A date stays a date: as `until` it covers its whole day. Raises ValueError."""
    if not isinstance(value, str):
        return value
    if len(value) == 10:
        return dt.date.fromisoformat(value)
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def bound_utc(ts: dt.datetime | dt.date | None, end: bool = False) -> dt.datetime | None:
    """A range bound as an aware UTC datetime; a bare date covers its whole day."""
    if ts is None:
        return None
    if not isinstance(ts, dt.datetime):
        ts = dt.datetime.combine(ts + dt.timedelta(days=1) if end else ts, dt.time(), dt.UTC)
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
