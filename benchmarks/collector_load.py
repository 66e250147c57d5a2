"""The collector under load: clients post batches of events with ingest keys for a while, then the
store is counted. Nothing may be lost or doubled.

    python -m benchmarks.collector_load --clients 8 --rate 5000 --duration 60 --batch 512

Starts `flowlogs collect` (a process of its own, as in production) on a scratch folder (--data, default
a new temporary one), gives each client thread a key of its own, and has each post batches of whole
executions (a start, six AI steps, a finish: 8 events) at its share of --rate, as an engine flushing
its buffer would. A batch is sent again, unchanged, after a 429 or 503 (waiting Retry-After) or a
lost connection: the collector's receipts must store it once. After --duration the clients stop, the
collector is stopped with SIGTERM, and the store is counted through LogQueries (executions by tab,
AI steps of the token report) and row by row (a doubled event would show there).

Prints the achieved rate (events acknowledged per second), p50/p99 acknowledgement latency (from the
first send of a batch to its 200), errors by kind, lost and doubled events, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

STEPS = 6  # per execution: with its start and finish, 8 events


@dataclass
class ClientResult:
    events: int = 0  # acknowledged
    executions: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)


def execution_lines(client: int, n: int, at: dt.datetime) -> list[str]:
    """The 8 events of one execution, as an engine writes them (AI steps with tokens, so the token
    report counts every step)."""
    x = f"load-{client}-{n}"
    t = at.isoformat().replace("+00:00", "Z")
    lines = [json.dumps({"type": "execution_started", "execution_id": x, "flow_id": f"f-{n % 40}",
                         "flow_name": f"Load flow {n % 40}", "at": t, "trigger": {"type": "schedule"}})]
    for i in range(STEPS):
        lines.append(json.dumps({
            "type": "step_finished", "execution_id": x, "index": i, "node_id": f"n-{i}", "node_name": f"Step {i}",
            "node_type": "ai_response", "status": "completed", "started_at": t, "finished_at": t,
            "model": "gpt-4o-mini", "tokens": {"prompt": 1, "completion": 1},
            "user_prompt": "Where is my order?", "ai_reply": "Your order ships tomorrow.",
            "input": {"text": "Where is my order?", "contact": {"name": "Ana", "phone": "+4915112345678"}}}))
    lines.append(json.dumps({"type": "execution_finished", "execution_id": x, "at": t, "status": "completed",
                             "messages_sent": 1}))
    return lines


def client(number: int, url: str, key: str, rate: float, batch: int, until: float, result: ClientResult,
           offset: float = 0.0) -> None:
    """Post batches at `rate` events a second until `until`; `offset` (a share of the interval) spreads
    the clients' sends over it, as independent engines' would be."""
    per_batch = max(1, batch // (STEPS + 2))  # whole executions
    interval = per_batch * (STEPS + 2) / rate
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    due = time.monotonic() + offset * interval
    while due < until:
        time.sleep(max(0.0, due - time.monotonic()))
        at = dt.datetime.now(dt.UTC)
        lines = [line for k in range(per_batch) for line in execution_lines(number, result.executions + k, at)]
        first_sent = time.monotonic()
        if _send(session, url, "\n".join(lines).encode(), result):
            result.latencies.append(time.monotonic() - first_sent)
            result.events += len(lines)
            result.executions += per_batch
        due += interval  # paced: a late batch is sent at once, the next keeps the schedule


def _send(session: requests.Session, url: str, body: bytes, result: ClientResult) -> bool:
    """Post until stored (the same body each time: the collector stores it once)."""
    for _ in range(100):
        try:
            answer = session.post(f"{url}/v1/events", data=body, timeout=60)
        except requests.RequestException as exc:
            result.errors[type(exc).__name__] += 1
            time.sleep(0.5)
            continue
        if answer.status_code == 200:
            if answer.json()["rejected"]:
                result.errors["rejected lines"] += len(answer.json()["rejected"])
            return True
        result.errors[f"HTTP {answer.status_code}"] += 1
        time.sleep(float(answer.headers.get("Retry-After", 1)))
    return False


def start_collector(data: str) -> tuple[subprocess.Popen, str]:
    flowlogs = Path(sys.executable).with_name("flowlogs")
    process = subprocess.Popen([str(flowlogs), "collect", "--data", data, "--port", "0"], stderr=subprocess.PIPE,
                               text=True)
    seen = ""
    while True:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError(f"flowlogs collect ended: {seen}")
        seen += line
        match = re.search(r"at (http://[\d.]+:\d+)/v1/events", seen.replace("\n", ""))
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, match.group(1)


def count(data: str) -> dict:
    """What the store holds: merged (LogQueries) and raw rows (a doubled event shows there)."""
    from dashboard.logs import open_logs

    logs = open_logs(data)
    tokens = logs.queries.token_usage("flow")
    store = logs.store
    raw = {ds: store.read_rows(ds, store.files(ds), columns="count(*) AS n").column(0)[0].as_py()
           for ds in ("executions", "steps") if store.files(ds)}
    return {"executions": logs.queries.tab_counts()["all"], "ai_steps": int(tokens.ai_steps.sum()),
            "raw_execution_rows": raw.get("executions", 0), "raw_step_rows": raw.get("steps", 0)}


def run(data: str, clients: int, rate: float, duration: float, batch: int) -> dict:
    from dashboard.collector import IngestKeys
    from dashboard.logs import open_logs

    keys = IngestKeys(open_logs(data).store)
    client_keys = [keys.add(f"load-client-{i}") for i in range(clients)]
    process, url = start_collector(data)
    results = [ClientResult() for _ in range(clients)]
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i, url, client_keys[i], rate / clients, batch,
                                                     started + duration, results[i], i / clients))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    load = os.getloadavg()
    process.send_signal(signal.SIGTERM)
    process.wait(120)
    return summary(results, elapsed, count(data), load)


def summary(results: list[ClientResult], elapsed: float, stored: dict, load: tuple) -> dict:
    latencies = sorted(t for r in results for t in r.latencies)
    sent_executions = sum(r.executions for r in results)
    sent_events = sum(r.events for r in results)
    errors = sum((r.errors for r in results), Counter())
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else None  # noqa: E731
    return {
        "events_acknowledged": sent_events, "seconds": round(elapsed, 1),
        "events_per_second": round(sent_events / elapsed), "batches": len(latencies),
        "ack_p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
        "ack_p99_ms": round(quantile(0.99)) if latencies else None, "errors": dict(errors),
        "lost_executions": sent_executions - stored["executions"],
        "lost_steps": sent_executions * STEPS - stored["ai_steps"],
        "doubled_rows": (stored["raw_execution_rows"] - 2 * sent_executions)
        + (stored["raw_step_rows"] - STEPS * sent_executions),
        "stored": stored, "load_average": [round(x, 2) for x in load],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a scratch folder (default: a new temporary one)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=5000, help="events a second, all clients together")
    parser.add_argument("--duration", type=float, default=60, help="seconds of sending")
    parser.add_argument("--batch", type=int, default=512, help="events a batch (whole executions of 8)")
    args = parser.parse_args()
    data = args.data or tempfile.mkdtemp(prefix="flowlogs-collector-load-")
    result = run(data, args.clients, args.rate, args.duration, args.batch)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
