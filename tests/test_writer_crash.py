"""A writer killed with SIGKILL, often in the middle of a flush or a compaction, loses no
acknowledged event and never leaves a file that readers see half written.

The writer process (tests/worker.py crash) prints "FLUSH k" before and "ACK k" after each
flush of batch k (and "COMPACT k" before compacting). Batch k holds the starts of group k
and, early, the steps and finishes of group k+1 (they wait in pending/ until their start
comes). So once "ACK k" was printed, every execution of groups <= k must be visible,
finished, with exactly its three steps.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import files_under_one

from dashboard.queries import LogQueries
from dashboard.store import Store

WORKER = Path(__file__).with_name("worker.py")
GROUP = 30  # executions per group, as in worker.py
ROUNDS = 6


class WriterProcess:
    def __init__(self, root: str, first: int, env: dict, batches: int | None = None):
        args = [sys.executable, str(WORKER), "crash", str(root), str(first)]
        if batches is not None:
            args += ["--batches", str(batches)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for text in self.proc.stdout:
            self.lines.put(text.rstrip("\n") if text.endswith("\n") else "")  # a torn last line counts for nothing

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} from the writer; stderr: {self.proc.stderr.read()}") from None
            self.seen.append(text)
            if text.startswith(prefix):
                return text

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def acked(self) -> list[int]:
        time.sleep(0.05)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return [int(text.split()[1]) for text in self.seen if text.startswith("ACK ")]


def _date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def check_store(root: str, groups_acked: set[int]) -> None:
    """Every acknowledged execution is there, whole; nothing is counted twice; every visible file reads."""
    store = Store(root)
    for table in store.tables:  # every live file reads whole: a torn one raises here
        for path in store.files(table):
            pq.read_table(pa.BufferReader(files_under_one(path)))
    queries = LogQueries(store)
    executions = queries.executions(limit=100_000)
    assert executions.execution_id.is_unique
    visible = dict(zip(executions.execution_id, executions.status, strict=True))
    for g in sorted(groups_acked):
        for i in range(GROUP):
            x = f"c{g}-{i}"
            assert visible.get(x) == ("completed" if i % 3 else "failed"), f"acknowledged {x} is {visible.get(x)}"
    for g in sorted(groups_acked)[:: max(1, len(groups_acked) // 4)]:
        record = queries.execution(f"c{g}-0")  # the run past midnight: under the day it started
        assert [s["index"] for s in record["steps"]] == [0, 1, 2]
        assert _date(record["day"]) == _date(record["started_at"]) < _date(record["steps"][2]["started_at"])
    # Two AI steps a run, none counted twice. A run's steps are acknowledged with the batch before
    # its start's (or with it): a visible run of such a group shows them, even if its start was not.
    steps_acked = groups_acked | {g + 1 for g in groups_acked}
    whole = sum(int(x[1:].split("-")[0]) in steps_acked for x in visible)
    ai_steps = int(queries.token_usage(by="flow").ai_steps.sum())
    assert 2 * whole <= ai_steps <= 2 * len(visible)
    statuses = list(visible.values())
    assert queries.tab_counts() == {"all": len(statuses), "running": statuses.count("running"),
                                    "failed": statuses.count("failed"), "completed": statuses.count("completed")}
    assert int(queries.flow_groups().runs.sum()) == len(statuses)


@pytest.mark.slow
def test_killed_writer_loses_no_acknowledged_event(location: str, subprocess_env: dict):
    data_root = location
    rounds = ROUNDS if "://" not in location else 3  # HTTP round trips: fewer rounds (3: each kind of kill)
    rng = random.Random(1234)
    acked: set[int] = set()
    first = 0
    kills = {"FLUSH": 0, "COMPACT": 0}
    for round_ in range(rounds):
        writer = WriterProcess(data_root, first, subprocess_env)
        writer.wait_for("READY")
        if round_ % 3 == 1:  # right after a flush began: mid-flush most of the time
            writer.wait_for(f"FLUSH {first + rng.randrange(4)}")
            time.sleep(rng.uniform(0, 0.03))
        elif round_ % 3 == 2:  # right after a compaction began
            writer.wait_for("COMPACT ")
            time.sleep(rng.uniform(0, 0.08))
        else:  # anywhere
            time.sleep(rng.uniform(0.2, 1.5))
        writer.kill()
        done = writer.acked()
        last = writer.seen[-1].split()[0]
        kills[last] = kills.get(last, 0) + 1
        acked.update(done)
        check_store(data_root, acked)
        first = max(done, default=first - 1) + 1
    # A last writer that is not killed: the groups whose steps were acknowledged early get their start.
    writer = WriterProcess(data_root, first, subprocess_env, batches=2)
    assert writer.proc.wait(timeout=120) == 0, writer.proc.stderr.read()
    acked.update(writer.acked())
    assert len(acked) >= rounds // 2, f"too few batches were acknowledged to prove anything: {sorted(acked)}"
    assert kills["FLUSH"] >= 1 and kills["COMPACT"] >= 1, f"no kill landed in a flush or a compaction: {kills}"
    check_store(data_root, acked)
    Store(data_root).compact()  # compaction after the crashes: same answers, torn temp files never read
    check_store(data_root, acked)
