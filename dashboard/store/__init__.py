"""The store: execution and step logs as Delta tables partitioned by day, on a local folder
or object storage. See core.py for the layout, and each module for one concern."""

from .compaction import MERGE_LIMIT, SMALL_FILE_BYTES
from .core import (
    DEFAULT_RETENTION_DAYS,
    ExecutionNotFound,
    ExecutionRunning,
    Progress,
    Store,
    StoreError,
    connect,
    retry_on_vanished_files,
    utcnow,
)
from .ids import day_from_id, id_hash, new_id
from .location import Location, LocationError
from .rules import ROLLUPS, executions_sql, merged_execution_rows_sql, steps_sql
from .tables import SPECS, day_of_file
from .writes import is_compacted

__all__ = ["DEFAULT_RETENTION_DAYS", "MERGE_LIMIT", "ROLLUPS", "SMALL_FILE_BYTES", "SPECS", "ExecutionNotFound",
           "ExecutionRunning", "Location", "LocationError", "Progress", "Store", "StoreError", "connect",
           "day_from_id", "day_of_file", "executions_sql", "id_hash", "is_compacted", "merged_execution_rows_sql",
           "new_id", "retry_on_vanished_files", "steps_sql", "utcnow"]
