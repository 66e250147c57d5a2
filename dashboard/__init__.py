"""flowlogs: execution logs of flows, stored as day-partitioned Parquet and queried with DuckDB."""

import warnings

# DuckDB's own DataFrame conversion (.df()) calls a pandas API that pandas 3.1 deprecates;
# the warning is about DuckDB's internals, not ours, and would fire on every query.
warnings.filterwarnings("ignore", message="The inplace keyword", module="duckdb")
warnings.filterwarnings("ignore", message="The inplace keyword")
