"""Failure causes in SQL over the query's `executions` and `steps`: each failed execution with its
failing step and the cause its error matches (the rule itself is the store's `failures_sql`, which
compaction also writes into the day's failure rollup)."""

from __future__ import annotations

import pyarrow as pa

from ..store.rules import failures_sql
from .search import NARROWED_SCHEMA

CAUSES_SCHEMA = NARROWED_SCHEMA.append(pa.field("cause", pa.string()))


def classified_cte(where: str, params: dict) -> str:
    """CTE `classified`: the failed executions matching `where` (alias e), each with its failing
    step and failure cause."""
    return f", classified AS ({failures_sql('executions', 'steps', where, params)})"
