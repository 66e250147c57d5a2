"""Ingest throughput (step events a second, one and four writer processes) and the
time from an event written to the change token seeing it."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import sqlite3
import threading
import time
from pathlib import Path

import msgspec

from benchmarks.systems import SQLITE_SCHEMA
from dashboard.events import ExecutionStarted, StepFinished, Tokens, Trigger
from dashboard.schema import TriggerType
from dashboard.store import Store, new_id
from dashboard.writer import Writer

STEPS_PER_EXECUTION = 6
REPLY = "Your order ships tomorrow. " * 12


def _events(count: int, worker: int) -> list:
    """`count` step events (a quarter of them AI steps) of executions started just now."""
    now = dt.datetime.now(dt.UTC)
    events = []
    for e in range(count // STEPS_PER_EXECUTION):
        execution_id = new_id(now)
        events.append(ExecutionStarted(execution_id=execution_id, flow_id=f"f-{worker}", flow_name=f"Flow {e % 50}",
                                       at=now, trigger=Trigger(TriggerType.SCHEDULE)))
        for i in range(STEPS_PER_EXECUTION):
            ai = i % 4 == 3
            events.append(StepFinished(
                execution_id=execution_id, index=i, node_id=f"n-{i}", node_name="AI Response" if ai else "Send",
                node_type="ai_response" if ai else "send_message", status="completed", started_at=now,
                finished_at=now, model="gpt-4o-mini" if ai else None,
                tokens=Tokens(prompt=300, completion=80) if ai else None,
                user_prompt=REPLY * 2 if ai else None, ai_reply=REPLY if ai else None,
                input=msgspec.Raw(b'{"contact":{"name":"Ana","phone":"+4915112345678"}}')))
    return events


def _flowlogs_writer(root: str, count: int, worker: int, barrier, out) -> None:
    events = _events(count, worker)
    barrier.wait()
    start = time.perf_counter()
    with Writer(Store(root), max_rows=20_000, flush_interval=None) as writer:
        for event in events:
            writer.write(event)
    out.put((start, time.perf_counter(), sum(isinstance(e, StepFinished) for e in events)))


def _sqlite_writer(db: str, count: int, worker: int, barrier, out) -> None:
    events = [e for e in _events(count, worker) if isinstance(e, StepFinished)]
    con = sqlite3.connect(db, timeout=60)
    barrier.wait()
    start = time.perf_counter()
    rows = [(e.execution_id, e.index, e.node_id, e.node_name, e.node_type, str(e.status), 0, 0, e.model,
             e.tokens.prompt if e.tokens else None, e.tokens.completion if e.tokens else None, None,
             e.user_prompt, e.ai_reply, None, None, bytes(e.input).decode(), None) for e in events]
    for i in range(0, len(rows), 20_000):
        con.executemany(f"INSERT INTO steps VALUES ({','.join('?' * 18)})", rows[i:i + 20_000])
        con.commit()
    out.put((start, time.perf_counter(), len(rows)))


def throughput(system: str, target: Path, events: int, writers: int) -> float:
    """Step events a second, all writers together, from the first start to the last flush."""
    if system == "sqlite":
        con = sqlite3.connect(target)
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SQLITE_SCHEMA)
        con.close()
    ctx = mp.get_context("spawn")  # delta-rs (its tokio runtime) cannot be used in a forked child
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    fn = _flowlogs_writer if system == "flowlogs" else _sqlite_writer
    procs = [ctx.Process(target=fn, args=(str(target), events // writers, w, barrier, out)) for w in range(writers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    first, last = min(r[0] for r in results), max(r[1] for r in results)
    return sum(r[2] for r in results) / (last - first)


def change_token_latency(root: Path, repeat: int = 20) -> dict[str, float]:
    """ms from write() to a poller seeing the new token: with an explicit flush, and with
    the writer's default background flush."""
    store = Store(root)
    figures = {}
    for mode, interval in (("flush()", None), ("background flush", 1.0)):
        samples = []
        writer = Writer(Store(root), flush_interval=interval)
        for event in _events(STEPS_PER_EXECUTION * repeat, 0)[:: STEPS_PER_EXECUTION + 1][:repeat]:
            seen = threading.Event()
            before = store.change_token()

            def poll(before=before, seen=seen):
                while store.change_token() == before:
                    time.sleep(0.001)
                seen.set()

            poller = threading.Thread(target=poll)
            poller.start()
            start = time.perf_counter()
            writer.write(event)
            if interval is None:
                writer.flush()
            seen.wait(10)
            samples.append((time.perf_counter() - start) * 1000)
            poller.join()
        writer.close()
        samples.sort()
        figures[mode] = samples[len(samples) // 2]
    return figures
