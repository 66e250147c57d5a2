"""Query results as pandas, through Arrow: DuckDB's own `.df()` builds string columns value by value
(226 ms for the 80 000 failures of a million executions, against 73 ms through Arrow). The frame has
DuckDB's dtypes, so callers see no difference: integers and booleans with NULLs nullable, dates
as datetime64, a NULL list pd.NA."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
             pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}


def frame(table: pa.Table) -> pd.DataFrame:
    """`table` as DuckDB's `.df()` would give it."""
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_date32(column.type):
            column = column.cast(pa.timestamp("us"))
        if column.null_count and column.type in _NULLABLE:
            columns[name] = pd.Series(pd.array(column.to_pylist(), dtype=_NULLABLE[column.type]))
        else:
            columns[name] = column.to_pandas()
            if column.null_count and columns[name].dtype == object:
                columns[name] = columns[name].where(columns[name].notna(), pd.NA)  # lists: NULL is pd.NA there
    return pd.DataFrame(columns) if columns else pd.DataFrame(index=range(table.num_rows))
