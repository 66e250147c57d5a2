"""Helpers of the collector's tests: a collector on 127.0.0.1 in this process, and requests to it."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from dashboard.collector import CollectorService, IngestKeys, Limits, Options
from dashboard.logs import Logs, open_logs

FLOWLOGS = Path(sys.executable).with_name("flowlogs")


@contextlib.contextmanager
def running_collector(location: str, *, max_body_bytes: int = 1 << 20, max_pending: int = 32,
                      read_timeout: float = 10.0):
    """(service, logs, key): a collector on a free port of 127.0.0.1 with one ingest key; stopped after."""
    logs = open_logs(location)
    key = IngestKeys(logs.store).add("engine-1")
    options = Options(limits=Limits(max_body_bytes=max_body_bytes, read_timeout=read_timeout),
                      max_pending=max_pending, key_refresh=0, merge_interval=None)
    service = CollectorService(logs.store, port=0, options=options).start()
    try:
        yield service, logs, key
    finally:
        service.stop()


def post(url: str, body: bytes | str, key: str | None, **headers) -> requests.Response:
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = body.encode() if isinstance(body, str) else body
    return requests.post(url, data=data, headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=60)


def jsonl(events: list[dict]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


@contextlib.contextmanager
def collector_process(location: str, env: dict, *extra: str):
    """`flowlogs collect` in a process of its own on a free port; yields its URL, stops it with SIGTERM."""
    process = subprocess.Popen([str(FLOWLOGS), "collect", "--data", location, "--port", "0", *extra],
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = _announced_url(process)
        # the rest of its output is read away, or a full pipe would stop it
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield url
    finally:
        process.terminate()
        process.wait(60)


def _announced_url(process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError(f"flowlogs collect ended: {''.join(seen)}")
        seen.append(line)
        match = re.search(r"at (http://[\d.]+:\d+)/v1/events", "".join(seen).replace("\n", ""))
        if match:
            return match.group(1)
    raise RuntimeError(f"flowlogs collect did not start: {''.join(seen)}")


def stored_counts(logs: Logs) -> dict:
    """What the store answers: executions by tab, and AI steps (every test step has tokens)."""
    tokens = logs.queries.token_usage("flow")
    return {"tabs": logs.queries.tab_counts(), "ai_steps": int(tokens.ai_steps.sum()) if len(tokens) else 0}
