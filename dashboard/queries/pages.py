"""Which days a page of executions lies in, newest first.

Days hold executions by their start, so the order newest first is day by day: given how many
rows each day holds (from the day rollups), a page reads only the days its rows fall in.
"""

from __future__ import annotations

import datetime as dt


def page_window(counts: dict[dt.date, int], offset: int, limit: int) -> tuple[list[dt.date], int]:
    """(the days rows [offset, offset + limit) of the newest-first order fall in, plus a day on each
    side, oldest first; the page's offset within them). A start sent again across midnight keeps
    its first day, so an execution may sort among the next day's rows: the neighbours cover it."""
    newest_first = sorted(counts, reverse=True)
    first = last = None
    seen = 0
    for i, day in enumerate(newest_first):
        if first is None and seen + counts[day] > offset:
            first = i
        seen += counts[day]
        last = i
        if seen >= offset + limit:
            break
    if first is None:
        return [], 0  # past the last execution
    lo, hi = max(first - 1, 0), last + 1
    skipped = sum(counts[d] for d in newest_first[:lo])
    return sorted(newest_first[lo:hi + 1]), offset - skipped
