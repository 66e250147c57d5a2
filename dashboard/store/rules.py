"""The merge rule, in SQL: how a day's rows become executions and steps.

Every reader and compaction use these same statements, so results are identical before
and after compaction. An execution's rows merge to one: the started fields come from its
earliest started row; the final fields from its final row with the earliest finished_at
(ties: by status), so a final state never changes whatever arrives after it. A step is
keyed by (execution, index): a re-delivered step counts once, the latest wins.
"""

from __future__ import annotations

import pyarrow as pa

from ..schema import ExecutionStatus


def merged_execution_rows_sql(source: str) -> str:
    """One row per execution in the row schema (status NULL while running)."""
    return f"""
    SELECT execution_id, day,
      s.flow_id, s.flow_name, s.trigger_type, s.trigger_phone, s.started_at,
      f.status, f.finished_at, f.messages_sent, f.messages_failed, f.error,
      recorded_at
    FROM (
      SELECT execution_id, day,
        arg_min({{'flow_id': flow_id, 'flow_name': flow_name, 'trigger_type': trigger_type,
                  'trigger_phone': trigger_phone, 'started_at': started_at}}, started_at)
          FILTER (WHERE started_at IS NOT NULL) AS s,
        arg_min({{'status': status, 'finished_at': finished_at, 'messages_sent': messages_sent,
                  'messages_failed': messages_failed, 'error': error}}, (finished_at, status))
          FILTER (WHERE status IS NOT NULL) AS f,
        max(recorded_at) AS recorded_at
      FROM {source}
      GROUP BY execution_id, day
    )"""


def executions_sql(source: str, merged: bool = False) -> str:
    """The executions as users see them: started ones only, running until final.

    merged=True reads rows that compaction already merged (one per execution) as they are.
    """
    rows = source if merged else f"({merged_execution_rows_sql(source)})"
    return f"""
    SELECT * REPLACE (coalesce(status, '{ExecutionStatus.RUNNING}') AS status)
    FROM {rows}
    WHERE started_at IS NOT NULL"""


def steps_sql(source: str, merged: bool = False) -> str:
    """One row per (execution, step index): a re-delivered step counts once, the latest wins."""
    if merged:
        return f"SELECT * FROM {source}"
    return f"""
    SELECT * FROM {source}
    QUALIFY row_number() OVER (PARTITION BY execution_id, step_index ORDER BY recorded_at DESC) = 1"""


def rollup_sql(executions: str, steps: str) -> str:
    """A day's executions per (flow, status): what page open needs, in a few hundred rows."""
    return f"""
    SELECT flow_name, status, count(*) AS runs, max(started_at) AS last_started_at,
           max(greatest(started_at, coalesce(finished_at, started_at))) AS last_activity_at
    FROM ({executions}) GROUP BY flow_name, status ORDER BY flow_name, status"""


def token_rollup_sql(executions: str, steps: str) -> str:
    """A day's AI steps per (flow, node, model): what the token report needs. A step without a
    model keeps model NULL: it is not the same as a model someone named "unknown"."""
    return f"""
    SELECT e.flow_name, s.node_id, s.node_name, s.node_type, s.model,
           sum(coalesce(s.prompt_tokens, 0))::BIGINT AS prompt_tokens,
           sum(coalesce(s.completion_tokens, 0))::BIGINT AS completion_tokens,
           count(*)::BIGINT AS ai_steps
    FROM ({steps}) s JOIN ({executions}) e USING (execution_id)
    WHERE s.prompt_tokens IS NOT NULL OR s.completion_tokens IS NOT NULL
    GROUP BY ALL ORDER BY ALL"""


# Each rollup kind: the datasets it summarises (each must be one compacted file), and its SQL.
ROLLUPS = {
    "rollups": (("executions",), rollup_sql),
    "token_rollups": (("executions", "steps"), token_rollup_sql),
}

_SQL_TYPES = {pa.int64(): "BIGINT", pa.string(): "VARCHAR", pa.int32(): "INTEGER",
              pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ", pa.list_(pa.string()): "VARCHAR[]"}


def empty_relation(schema: pa.Schema, with_day: bool) -> str:
    """A typed relation with no rows, for a dataset that has no files."""
    columns = [f"NULL::{_SQL_TYPES[f.type]} AS {f.name}" for f in schema]
    if with_day:
        columns.append("NULL::DATE AS day")
    return f"(SELECT {', '.join(columns)} WHERE false)"
