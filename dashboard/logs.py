"""The objects that work on one data location, built once where a program starts.

The command line, the served dashboard and a notebook each open a data location once
(`open_logs`) and hand the result down: one Store (the Delta tables), the LogQueries over
it, its audit log and its price file. Nothing below them turns a path into a store again.

    from dashboard.logs import open_logs

    logs = open_logs("data/logs")            # or "s3://bucket/prefix"
    logs.queries.tab_counts()
    logs.report(since="2026-11-01").by("model")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .audit import AuditLog
from .prices import PriceFile
from .queries import LogQueries
from .store import Location, Store

if TYPE_CHECKING:
    from .reports import TokenReport


@dataclass(frozen=True)
class Logs:
    """One data location: its store, queries, audit log and price file."""

    store: Store
    queries: LogQueries
    audit: AuditLog
    prices: PriceFile

    @property
    def location(self) -> Location:
        return self.store.location

    def report(self, since=None, until=None, prices=None) -> TokenReport:
        """The token report of a range, priced from this location's price file unless `prices` says
        otherwise (a dict, a Prices, or another price file's path)."""
        from .reports import TokenReport

        return TokenReport.of(self.queries, prices if prices is not None else self.prices, since=since, until=until)


def open_logs(where: str | os.PathLike | Location, *, prices: str | os.PathLike | None = None) -> Logs:
    """Open a data location: a local folder (created on the first write) or an object-store URL.
    `prices`: a price file other than FLOWLOGS_PRICES or the location's own prices.toml."""
    store = Store(where)
    return Logs(store=store, queries=LogQueries(store), audit=AuditLog(store),
                prices=PriceFile.of(store.location, prices))
