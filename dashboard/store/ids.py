"""Execution ids: time-ordered ids the recorder mints (UUIDv7), the start day such an id encodes, and
the hash the deletions table keeps of a deleted id."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import uuid_utils


def new_id(at: dt.datetime | None = None) -> str:
    """A time-ordered id (UUIDv7) of `at` (default now): sorts by time, unique across processes."""
    if at is None:
        return str(uuid_utils.uuid7())
    return str(uuid_utils.uuid7(nanoseconds=int(at.timestamp()) * 10**9 + at.microsecond * 1000))


def day_from_id(execution_id: str) -> dt.date | None:
    """The start day a UUIDv7 execution id encodes (the recorder's ids); None for other ids.

    Only a hint: an engine may mint its ids otherwise, so callers confirm it.
    """
    try:
        value = uuid.UUID(execution_id)
    except ValueError:
        return None
    if value.version != 7:
        return None
    try:
        return dt.datetime.fromtimestamp((value.int >> 80) / 1000, dt.UTC).date()
    except (ValueError, OverflowError, OSError):
        return None  # a UUIDv7 of a time past year 9999: not one of ours


def id_hash(execution_id: str) -> str:
    """What the deletions table keeps of a deleted id (DuckDB's sha256() gives the same)."""
    return hashlib.sha256(execution_id.encode()).hexdigest()
