"""Failure causes in SQL: each failed execution with its failing step and the cause its error matches,
the SQL twin of `schema.classify_failure` (tests keep them equal)."""

from __future__ import annotations

import pyarrow as pa

from ..schema import FAILURE_CAUSE_PATTERNS, FailureCause, StepStatus
from .search import NARROWED_SCHEMA

CAUSES_SCHEMA = NARROWED_SCHEMA.append(pa.field("cause", pa.string()))


def classified_cte(where: str, params: dict) -> str:
    """CTE `classified`: the failed executions matching `where` (alias e), each with its failing
    step and failure cause (the first pattern of FAILURE_CAUSE_PATTERNS its error matches)."""
    cases = []
    for i, (cause, pattern) in enumerate(FAILURE_CAUSE_PATTERNS):
        params[f"p{i}"] = pattern
        cases.append(f"WHEN regexp_matches(coalesce(f.error_text, ''), $p{i}, 'i') THEN '{cause.value}'")
    params["failed_step"] = StepStatus.FAILED.value
    return f"""
            , failing_step AS (
                SELECT * FROM steps WHERE status = $failed_step
                QUALIFY row_number() OVER (PARTITION BY execution_id ORDER BY step_index) = 1),
            f AS (
                SELECT e.execution_id, e.flow_name, e.status, e.trigger_type, e.trigger_phone,
                       e.started_at, e.finished_at, e.messages_sent, e.messages_failed, e.day,
                       s.step_index AS failed_step_index, s.node_name AS failed_node_name,
                       s.node_type AS failed_node_type, coalesce(s.error, e.error) AS error_text,
                       s.input AS failed_step_input
                FROM executions e LEFT JOIN failing_step s USING (execution_id, day)
                WHERE {where}),
            classified AS (
                SELECT f.* RENAME (error_text AS error),
                       CASE {' '.join(cases)} ELSE '{FailureCause.OTHER.value}' END AS cause
                FROM f)"""
