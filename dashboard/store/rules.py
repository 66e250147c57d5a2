"""The merge rule, in SQL: how a day's rows become executions and steps.

Every reader and compaction use these same statements, so results are identical before
and after compaction. An execution's rows merge to one: the started fields come from its
earliest started row; the final fields from its final row with the earliest finished_at
(ties: by status), so a final state never changes whatever arrives after it. A step is
keyed by (execution, index): a re-delivered step counts once, the latest wins.
"""

from __future__ import annotations

import pyarrow as pa

from ..schema import FAILURE_CAUSE_PATTERNS, FAILURE_STATUSES, ExecutionStatus, FailureCause, StepStatus


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


def failures_sql(executions: str, steps: str, where: str, params: dict) -> str:
    """The failed executions matching `where` (alias e), each with its first failed step and failure
    cause: the first pattern of FAILURE_CAUSE_PATTERNS its error matches (the SQL twin of
    `schema.classify_failure`; tests keep them equal). Both relations carry `day`."""
    cases = []
    for i, (cause, pattern) in enumerate(FAILURE_CAUSE_PATTERNS):
        params[f"p{i}"] = pattern
        cases.append(f"WHEN regexp_matches(coalesce(f.error_text, ''), $p{i}, 'i') THEN '{cause.value}'")
    params["failed_step"] = StepStatus.FAILED.value
    return f"""
    SELECT f.* RENAME (error_text AS error),
           CASE {' '.join(cases)} ELSE '{FailureCause.OTHER.value}' END AS cause
    FROM (
        SELECT e.execution_id, e.flow_name, e.status, e.trigger_type, e.trigger_phone,
               e.started_at, e.finished_at, e.messages_sent, e.messages_failed, e.day,
               s.step_index AS failed_step_index, s.node_name AS failed_node_name,
               s.node_type AS failed_node_type, coalesce(s.error, e.error) AS error_text,
               s.input AS failed_step_input
        FROM {executions} e LEFT JOIN (
            SELECT * FROM {steps} WHERE status = $failed_step
            QUALIFY row_number() OVER (PARTITION BY execution_id ORDER BY step_index) = 1) s
          USING (execution_id, day)
        WHERE {where}) f"""


def failure_rollup_sql(executions: str, steps: str, params: dict) -> str:
    """A day's failed executions with their failing step and cause: `failures()` in a file."""
    params["failed_statuses"] = list(FAILURE_STATUSES)
    return f"""
    SELECT * EXCLUDE (day) FROM ({failures_sql(f"({executions})", f"({steps})",
                                               "e.status IN (SELECT unnest($failed_statuses))", params)})
    ORDER BY started_at DESC, execution_id DESC"""


# Executions per (flow, status): a day's rollup, and the live days' share of the page's summaries
ACTIVITY_SQL = """
    SELECT flow_name, status, count(*) AS runs, max(started_at) AS last_started_at,
           max(greatest(started_at, coalesce(finished_at, started_at))) AS last_activity_at
    FROM {relation} WHERE {where} GROUP BY flow_name, status"""


def rollup_sql(executions: str, steps: str, params: dict) -> str:
    """A day's executions per (flow, status): what page open needs, in a few hundred rows."""
    return ACTIVITY_SQL.format(relation=f"({executions})", where="true") + " ORDER BY flow_name, status"


def token_rollup_sql(executions: str, steps: str, params: dict) -> str:
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


def error_rollup_sql(executions: str, steps: str, params: dict) -> str:
    """A day's step errors, each execution's different ones once, by id (so a search of one
    reads a few row groups)."""
    return f"""
    SELECT DISTINCT execution_id, error FROM ({steps}) WHERE error IS NOT NULL ORDER BY execution_id, error"""


# Each rollup kind: the datasets it summarises (each must be one compacted file), and its SQL
# (which may bind parameters of its own).
ROLLUPS = {
    "rollups": (("executions",), rollup_sql),
    "token_rollups": (("executions", "steps"), token_rollup_sql),
    "failure_rollups": (("executions", "steps"), failure_rollup_sql),
    "error_rollups": (("steps",), error_rollup_sql),
}

_SQL_TYPES = {pa.int64(): "BIGINT", pa.string(): "VARCHAR", pa.int32(): "INTEGER",
              pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ", pa.list_(pa.string()): "VARCHAR[]"}


def empty_relation(schema: pa.Schema, with_day: bool) -> str:
    """A typed relation with no rows, for a dataset that has no files."""
    columns = [f"NULL::{_SQL_TYPES[f.type]} AS {f.name}" for f in schema]
    if with_day:
        columns.append("NULL::DATE AS day")
    return f"(SELECT {', '.join(columns)} WHERE false)"
