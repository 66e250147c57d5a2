"""Query results as pandas, through Arrow: DuckDB's own `.df()` builds string columns value by value
(226 ms for the 80 000 failures of a million executions, against 73 ms through Arrow). The frame has
DuckDB's dtypes, so callers see no difference: integers and booleans with NULLs nullable, dates
as datetime64, a NULL list pd.NA."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

# pandas' nullable dtypes, by name: the dict needs no pandas to be built
_NULLABLE = {pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32", pa.int64(): "Int64", pa.uint8(): "UInt8",
             pa.uint16(): "UInt16", pa.uint32(): "UInt32", pa.uint64(): "UInt64", pa.bool_(): "boolean"}


def frame(table: pa.Table) -> pd.DataFrame:
    """`table` as DuckDB's `.df()` would give it."""
    import pandas as pd  # imported here: a command that reads no frame (`flowlogs counts`) starts without pandas

    dates = [i for i, kind in enumerate(table.schema.types) if pa.types.is_date32(kind)]
    for i in dates:
        table = table.set_column(i, table.schema.field(i).name, table.column(i).cast(pa.timestamp("us")))
    result = table.to_pandas()  # in one call: a Series per column cost a small page 8 ms
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and column.type in _NULLABLE:
            result[name] = pd.array(column.to_pylist(), dtype=_NULLABLE[column.type])
        elif column.null_count and result[name].dtype == object:
            result[name] = result[name].where(result[name].notna(), pd.NA)  # lists: NULL is pd.NA there
    return result
