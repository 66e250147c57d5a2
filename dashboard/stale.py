"""Executions left running by a flow engine that died: closed as failed after a silence.

Without this, a crashed engine's execution shows "running" for ever, and Clear all and
retention must keep it. The close is an ordinary execution_finished event written
through the Writer, so it follows the merge rule: if the engine's own finish turns up
later with an earlier time, that one wins.
"""

from __future__ import annotations

import datetime as dt

from .events import ExecutionFinished
from .queries import LogQueries
from .schema import ExecutionStatus
from .store import utcnow
from .writer import Writer

DEFAULT_SILENCE = dt.timedelta(hours=24)


def close_stale_executions(queries: LogQueries, silence: dt.timedelta = DEFAULT_SILENCE,
                           now: dt.datetime | None = None) -> list[str]:
    """Close as failed every running execution with no event for `silence`. Returns their ids."""
    now = now or utcnow()
    stale = queries.stale_running(now - silence)
    hours = silence.total_seconds() / 3600
    with Writer(queries.store, flush_interval=None) as writer:
        for row in stale.itertuples():
            writer.write(ExecutionFinished(
                execution_id=row.execution_id, at=now, status=ExecutionStatus.FAILED.value,
                error=f"No event for {hours:g} h since {row.last_event_at:%Y-%m-%d %H:%M} UTC: the flow engine "
                      "stopped reporting; closed by flowlogs"))
    return stale.execution_id.tolist()
