"""Which days a page of executions lies in, newest first.

Days hold executions by their start, so the order newest first is day by day: given how many
rows each day holds (from the day rollups), a page reads only the days its rows fall in.
"""

from __future__ import annotations

import datetime as dt


def page_window(counts: dict[dt.date, int], offset: int, limit: int
                ) -> tuple[list[dt.date], int, dt.date | None]:
    """(the days rows [offset, offset + limit) of the newest-first order fall in, plus the day before
    them, oldest first; the page's offset within them; the day after them, or None).

    A start sent again across midnight keeps its first day, so an execution may sort among the
    neighbouring days' rows. The newer neighbour is read with the page; the older one only when
    its latest start reaches the page (`LogQueries.executions` looks): page 1 reads one day."""
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
        return [], 0, None  # past the last execution
    lo = max(first - 1, 0)
    skipped = sum(counts[d] for d in newest_first[:lo])
    older = newest_first[last + 1] if last + 1 < len(newest_first) else None
    return sorted(newest_first[lo:last + 1]), offset - skipped, older
