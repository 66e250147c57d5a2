"""The three designs measured side by side, each behind the same operations.

- flowlogs: our day-partitioned Parquet store read through LogQueries (DuckDB).
- sqlite: the usual run-history design (n8n keeps executions in SQLite/Postgres tables):
  an executions table indexed on flow, start time and status, a steps table indexed
  by execution id; retention is DELETE, and only VACUUM gives the disk back.
- pandas: the naive analytics design: every file loaded into DataFrames.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from dashboard.queries import LogQueries
from dashboard.schema import FAILURE_STATUSES, Tab
from dashboard.store import Store

SQLITE_SCHEMA = """
CREATE TABLE executions (
  execution_id TEXT PRIMARY KEY, flow_id TEXT, flow_name TEXT, trigger_type TEXT, trigger_phone TEXT,
  started_at INTEGER, status TEXT, finished_at INTEGER, messages_sent INTEGER, messages_failed INTEGER, error TEXT);
CREATE INDEX executions_flow ON executions (flow_name, started_at);
CREATE INDEX executions_started ON executions (started_at);
CREATE INDEX executions_status ON executions (status);
CREATE TABLE steps (
  execution_id TEXT, step_index INTEGER, node_id TEXT, node_name TEXT, node_type TEXT, status TEXT,
  started_at INTEGER, finished_at INTEGER, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
  system_prompt TEXT, user_prompt TEXT, ai_reply TEXT, warnings TEXT, error TEXT, input TEXT, output TEXT,
  PRIMARY KEY (execution_id, step_index));
"""

EXEC_COLUMNS = ["execution_id", "flow_id", "flow_name", "trigger_type", "trigger_phone", "started_at", "status",
                "finished_at", "messages_sent", "messages_failed", "error"]
DEEP_OFFSET = 5_000  # a deep page of one flow's executions
STEP_COLUMNS = ["execution_id", "step_index", "node_id", "node_name", "node_type", "status", "started_at",
                "finished_at", "model", "prompt_tokens", "completion_tokens", "system_prompt", "user_prompt",
                "ai_reply", "warnings", "error", "input", "output"]


def _epoch_us(column):
    return column.cast("int64")


def load_sqlite(parquet_root: Path, db: Path) -> None:
    """Copy a compacted store into the SQLite baseline, a day at a time."""
    if db.exists():
        db.unlink()
    con = sqlite3.connect(db)
    con.executescript(SQLITE_SCHEMA)
    store = Store(parquet_root)
    for day in store.days():
        for dataset, columns in (("executions", EXEC_COLUMNS), ("steps", STEP_COLUMNS)):
            for path in store.files(dataset, [day]):
                table = pq.read_table(path, columns=columns)
                arrays = []
                for name in columns:
                    col = table.column(name)
                    if name.endswith("_at"):
                        col = _epoch_us(col)
                    arrays.append(col.to_pylist())
                if dataset == "steps":
                    i = columns.index("warnings")
                    arrays[i] = [None if not w else "\n".join(w) for w in arrays[i]]
                if dataset == "executions":  # running until a final status
                    i = columns.index("status")
                    arrays[i] = [s or "running" for s in arrays[i]]
                marks = ",".join("?" * len(columns))
                con.executemany(f"INSERT OR REPLACE INTO {dataset} VALUES ({marks})", zip(*arrays, strict=True))
        con.commit()
    con.close()


class Flowlogs:
    name = "flowlogs"

    def __init__(self, root: Path):
        self.root = root
        self.queries = LogQueries(Store(root))
        self.store = self.queries.store

    def page_open(self):
        return self.queries.flow_groups(Tab.ALL), self.queries.tab_counts()

    def tab_switch(self):
        return self.queries.flow_groups(Tab.FAILED), self.queries.tab_counts()

    def rollup_read(self):
        """The reference for page open: flow groups straight from the per-day rollup files."""
        files = self.store.files("rollups")
        with self.store.cursor() as con:
            return con.execute("SELECT flow_name, sum(runs), max(last_started_at), arg_max(status, last_started_at) "
                               "FROM read_parquet($f) GROUP BY flow_name", {"f": files}).fetchall()

    def flow_page(self, flow: str):
        return self.queries.executions(flow, Tab.ALL, limit=25)

    def flow_page_deep(self, flow: str):
        return self.queries.executions(flow, Tab.ALL, limit=25, offset=DEEP_OFFSET)

    def detail(self, execution_id: str):
        return self.queries.execution(execution_id)

    def failures(self):
        return self.queries.failures()

    def failure_causes(self):
        return self.queries.failure_causes()

    def search(self, text: str):
        """What the page runs for a search: the tab counts, the flow groups, the first flow's first page."""
        counts = self.queries.tab_counts(search=text)
        groups = self.queries.flow_groups(search=text)
        rows = self.queries.executions(groups.flow_name.iloc[0], search=text, limit=25) if len(groups) else None
        return counts, groups, rows

    search_id = search_phone = search_error = search

    def token_report(self):
        return self.queries.token_usage("day"), self.queries.token_usage("model")

    def delete_one(self, execution_id: str):
        self.store.delete_execution(execution_id)

    def clear_all(self):
        self.store.clear_all()

    def retention_oldest_day(self, days: int):
        self.store.apply_retention(days - 1)

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())  # data, logs, everything


class SQLite:
    name = "sqlite"

    def __init__(self, db: Path):
        self.db = db
        self.con = sqlite3.connect(db)

    def page_open(self, statuses=None):
        where = "" if statuses is None else f"WHERE status IN ({','.join('?' * len(statuses))})"
        args = statuses or ()
        groups = self.con.execute(f"""
            SELECT flow_name, count(*), max(started_at),
                   sum(status IN ('failed', 'completed_with_errors')) > 0,
                   (SELECT status FROM executions e2 WHERE e2.flow_name = e.flow_name ORDER BY started_at DESC LIMIT 1)
            FROM executions e {where} GROUP BY flow_name ORDER BY max(started_at) DESC""", args).fetchall()
        counts = self.con.execute("SELECT status, count(*) FROM executions GROUP BY status").fetchall()
        return groups, counts

    def tab_switch(self):
        return self.page_open(list(FAILURE_STATUSES))

    def flow_page(self, flow: str):
        return self.con.execute("SELECT * FROM executions WHERE flow_name = ? ORDER BY started_at DESC LIMIT 25",
                                (flow,)).fetchall()

    def flow_page_deep(self, flow: str):
        return self.con.execute("SELECT * FROM executions WHERE flow_name = ? ORDER BY started_at DESC "
                                f"LIMIT 25 OFFSET {DEEP_OFFSET}", (flow,)).fetchall()

    def failures(self):
        """Failed executions with their first failed step (the cause is classified in the app)."""
        return self.con.execute("""
            SELECT e.*, s.step_index, s.node_name, s.node_type, coalesce(s.error, e.error), s.input
            FROM executions e LEFT JOIN steps s ON s.execution_id = e.execution_id AND s.step_index =
                 (SELECT min(step_index) FROM steps f WHERE f.execution_id = e.execution_id AND f.status = 'failed')
            WHERE e.status IN ('failed', 'completed_with_errors') ORDER BY e.started_at DESC""").fetchall()

    def _search(self, where: str, args: tuple):
        """The page's three queries for a search, over the executions `where` keeps."""
        kept = f"SELECT * FROM executions WHERE {where}"
        counts = self.con.execute(f"SELECT status, count(*) FROM ({kept}) GROUP BY status", args).fetchall()
        groups = self.con.execute(f"SELECT flow_name, count(*), max(started_at) FROM ({kept}) GROUP BY flow_name "
                                  "ORDER BY 3 DESC", args).fetchall()
        rows = self.con.execute(f"SELECT * FROM ({kept}) WHERE flow_name = ? ORDER BY started_at DESC LIMIT 25",
                                (*args, groups[0][0])).fetchall() if groups else []
        return counts, groups, rows

    def search_id(self, text: str):
        return self._search("execution_id = ?", (text,))  # the primary key: SQLite's best case

    def search_phone(self, text: str):
        digits = "".join(c for c in text if c.isdigit())
        return self._search("replace(replace(trigger_phone, ' ', ''), '+', '') LIKE ?", (f"%{digits}%",))

    def search_error(self, text: str):
        like = f"%{text}%"
        return self._search("error LIKE ? OR execution_id IN (SELECT execution_id FROM steps WHERE error LIKE ?)",
                            (like, like))

    def detail(self, execution_id: str):
        head = self.con.execute("SELECT * FROM executions WHERE execution_id = ?", (execution_id,)).fetchone()
        steps = self.con.execute("SELECT * FROM steps WHERE execution_id = ? ORDER BY step_index",
                                 (execution_id,)).fetchall()
        return head, steps

    def token_report(self):
        by_day = self.con.execute("""
            SELECT date(e.started_at / 1000000, 'unixepoch') AS day, sum(s.prompt_tokens), sum(s.completion_tokens)
            FROM steps s JOIN executions e USING (execution_id) WHERE s.prompt_tokens IS NOT NULL
            GROUP BY day ORDER BY day""").fetchall()
        by_model = self.con.execute("""
            SELECT model, sum(prompt_tokens), sum(completion_tokens) FROM steps
            WHERE prompt_tokens IS NOT NULL GROUP BY model""").fetchall()
        return by_day, by_model

    def delete_one(self, execution_id: str):
        self.con.execute("DELETE FROM steps WHERE execution_id = ?", (execution_id,))
        self.con.execute("DELETE FROM executions WHERE execution_id = ?", (execution_id,))
        self.con.commit()

    def clear_all(self):
        self.con.execute("DELETE FROM steps WHERE execution_id IN "
                         "(SELECT execution_id FROM executions WHERE status != 'running')")
        self.con.execute("DELETE FROM executions WHERE status != 'running'")
        self.con.commit()
        self.con.execute("VACUUM")

    def retention_oldest_day(self, days: int):
        oldest = self.con.execute("SELECT min(started_at) FROM executions").fetchone()[0]
        day_start = dt.datetime.fromtimestamp(oldest / 1e6, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        cutoff = int((day_start + dt.timedelta(days=1)).timestamp() * 1e6)
        self.con.execute("DELETE FROM steps WHERE execution_id IN (SELECT execution_id FROM executions "
                         "WHERE started_at < ? AND status != 'running')", (cutoff,))
        self.con.execute("DELETE FROM executions WHERE started_at < ? AND status != 'running'", (cutoff,))
        self.con.commit()
        self.con.execute("VACUUM")  # without it the file keeps every byte

    def disk_bytes(self) -> int:
        return os.path.getsize(self.db)


class Pandas:
    """Everything in memory: the load is the price of every cold start."""

    name = "pandas"

    def __init__(self, root: Path):
        store = Store(root)
        self.executions = pd.concat([pd.read_parquet(f) for f in store.files("executions")], ignore_index=True)
        self.executions["status"] = self.executions["status"].fillna("running")
        self.steps = pd.concat([pd.read_parquet(f) for f in store.files("steps")], ignore_index=True)

    def page_open(self, statuses=None):
        frame = self.executions if statuses is None else self.executions[self.executions.status.isin(statuses)]
        latest = frame.sort_values("started_at").groupby("flow_name").tail(1).set_index("flow_name").status
        groups = frame.groupby("flow_name").agg(runs=("execution_id", "size"), last_run_at=("started_at", "max"))
        groups["latest_status"] = latest
        counts = self.executions.status.value_counts()
        return groups.sort_values("last_run_at", ascending=False), counts

    def tab_switch(self):
        return self.page_open(list(FAILURE_STATUSES))

    def flow_page(self, flow: str):
        return self.executions[self.executions.flow_name == flow].nlargest(25, "started_at")

    def detail(self, execution_id: str):
        head = self.executions[self.executions.execution_id == execution_id]
        return head, self.steps[self.steps.execution_id == execution_id].sort_values("step_index")

    def token_report(self):
        ai = self.steps[self.steps.prompt_tokens.notna()]
        joined = ai.merge(self.executions[["execution_id", "started_at"]], on="execution_id", suffixes=("", "_e"))
        by_day = joined.groupby(joined.started_at_e.dt.date)[["prompt_tokens", "completion_tokens"]].sum()
        return by_day, ai.groupby("model")[["prompt_tokens", "completion_tokens"]].sum()


def copy_tree(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst
