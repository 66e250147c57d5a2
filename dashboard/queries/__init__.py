"""The read side: DuckDB SQL over the store's tables, returning pandas (no Panel: a notebook or a cron
job uses it as the page does).

`core.py` is `LogQueries`, every query the page, the CLI, the reports and the notebooks run;
`relations.py` builds and runs their SQL over the store's files, and `live.py` merges a live day's new
files once for all of them; `lookup.py` reads one execution of a compacted day without SQL; `pages.py`
finds the days a page of a flow's executions lies in; `search.py` and `causes.py` are the SQL that
narrows executions to a search or a failure cause; `frames.py` turns results into pandas through Arrow;
`times.py` reads and normalises range bounds.
"""

from .core import TOKEN_GROUPS, LogQueries
from .search import Search
from .times import parse_time

__all__ = ["TOKEN_GROUPS", "LogQueries", "Search", "parse_time"]
