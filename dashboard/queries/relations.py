"""How a query reads the store: `executions` and `steps` defined over the visible files of its days
(compacted files as they are, other files merged by the store's rule, live days merged only for the
executions their new files touch), run on a DuckDB cursor of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..store import day_of_file, executions_sql, steps_sql
from .frames import frame
from .live import LiveExecutions

if TYPE_CHECKING:
    from ..store import Store


class SqlRunner:
    """Runs the queries of one `LogQueries`: thread-safe, each call on its own cursor."""

    def __init__(self, store: Store, con, lock: threading.Lock):
        self.store = store
        self._con = con
        self._lock = lock
        self._live = LiveExecutions(store, con, lock)

    def sql(self, body: str, params: dict[str, Any] | None = None, *, days=None, rows: bool = False,
            arrow: bool = False, base_filter: str = "", id_filter: str = ""):
        """Run body with `executions` and `steps` defined over the visible files of `days`.

        Returns a DataFrame, with rows=True a list of dicts (no pandas: a point lookup spends
        more time building a frame than reading the file), with arrow=True a pyarrow Table.
        `base_filter`: a condition the body applies anyway, on a column every row of an execution
        shares (its flow), also applied to a live day's compacted file before the merge. DuckDB
        cannot push it through the merge's aggregation by itself, and without it a flow's page
        read the whole of today's 400 000-execution file (74 of 118 ms). `id_filter`: the same
        for a condition on execution_id alone, which also narrows the ids the new files touch.
        """

        def run():
            bound = dict(params or {})
            relations = {}
            for dataset, merge in (("executions", executions_sql), ("steps", steps_sql)):
                if dataset not in body:
                    continue  # binding a read_parquet opens its files: skip what the query does not use
                relations[dataset] = self._relation(dataset, merge, days, bound, base_filter, id_filter)
            # (a body over registered tables alone still opens with a CTE: its own start with a comma)
            ctes = ",\n".join(f"{name} AS ({sql})" for name, sql in relations.items()) or "no_files AS (SELECT 1)"
            return self._run(f"WITH {ctes}\n{body}", bound, rows=rows, arrow=arrow)

        return self.store.read(run)

    def _relation(self, dataset: str, merge, days, bound: dict, base_filter: str, id_filter: str) -> str:
        """The SQL of `dataset` over its visible files of `days`, binding the file lists it reads in `bound`."""
        compacted, other, bases, deltas = self.store.files_by_layer(dataset, days)
        bound[f"{dataset}_compacted"], bound[f"{dataset}_other"] = compacted, other
        if len(compacted) == 1 and not other and not bases:
            # one compacted file (a detail lookup): a plain read, its day a constant,
            # skips hive partitioning and the schema union (8.2 -> ~4 ms a lookup)
            day = day_of_file(compacted[0])
            return merge(
                f"(SELECT *, DATE '{day.isoformat()}' AS day FROM read_parquet(${dataset}_compacted))",
                merged=True)
        # the merge rule over files not compacted; none there: left out (planning it over an empty
        # relation cost a flow's page 8 of its 19 ms), unless no file is there at all
        parts = [merge(self.store.source(dataset, other, f"{dataset}_other"))] if other or not (
            compacted or bases) else []
        if compacted:  # already merged by compaction: read as they are
            parts.append(merge(self.store.source(dataset, compacted, f"{dataset}_compacted"),
                               merged=True))
        if bases:  # live days: merge only the executions their new files touch
            parts += self._live_parts(dataset, merge, bases, deltas, bound, base_filter, id_filter)
        return " UNION ALL BY NAME ".join(f"({p})" for p in parts)

    def _live_parts(self, dataset: str, merge, bases: list[str], deltas: list[str], bound: dict,
                    base_filter: str, id_filter: str) -> list[str]:
        """The rows of live days: the executions their new files touch, merged, then the others as compacted."""
        bound[f"{dataset}_bases"] = bases
        base = self.store.source(dataset, bases, f"{dataset}_bases")
        narrow = "".join(f" AND ({c})" for c in (base_filter, id_filter) if c)
        if dataset == "executions":  # merged once per set of files, for every query
            bound["executions_touched"] = self._live.merged(bases, deltas)
            touched_rows = merge("executions_touched", merged=True)
            touched = "(SELECT execution_id FROM executions_touched)"
        else:  # steps carry prompts and replies: merged per query, narrowed to its ids
            bound["steps_deltas"] = deltas
            delta = self.store.source(dataset, deltas, "steps_deltas")
            touched = f"(SELECT execution_id FROM {delta}{f' WHERE {id_filter}' if id_filter else ''})"
            touched_rows = merge(f"(SELECT * FROM {base} WHERE execution_id IN {touched}{narrow} "
                                 f"UNION ALL BY NAME SELECT * FROM {delta})")
        return [touched_rows, merge(f"(SELECT * FROM {base} WHERE execution_id NOT IN {touched}{narrow})",
                                    merged=True)]

    def _run(self, sql: str, bound: dict, *, rows: bool, arrow: bool):
        """Run `sql` on a cursor of its own: tables in `bound` registered by name, the rest its parameters."""
        with self._lock:
            cursor = self._con.cursor()
        for name, table in [(k, v) for k, v in bound.items() if isinstance(v, pa.Table)]:
            cursor.register(name, table)  # an in-memory table, queried by name
            del bound[name]
        try:
            values = {k: v for k, v in bound.items() if f"${k}" in sql}
            if arrow or not rows:
                table = cursor.sql(sql, params=values).to_arrow_table()
                return table if arrow else frame(table)
            result = cursor.execute(sql, values)
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        finally:
            cursor.close()

