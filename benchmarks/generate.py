"""A busy tenant's 30-day history, generated vectorised (numpy) and reproducible by seed.

200 flows with Zipf-like popularity, ~6 steps an execution, a quarter of them AI steps
with about a kilobyte of prompts and reply, realistic input/output JSON. Rows are
written through the store's own write path (Store.write_to_day, as a Writer flush does)
in several files a day, like a day of buffered flushes; `compact` then gives what a
user's compacted store holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from dashboard.schema import EXECUTION_ROW, STEP_ROW
from dashboard.store import Store

FLOWS = 200
NODE_KINDS = [  # node_name, node_type, is_ai
    ("Receive Message", "receive_message", False), ("Loop Rows", "loop_rows", False),
    ("Send Message", "send_message", False), ("AI Response", "ai_response", True),
    ("Classify Intent", "ai_response", True), ("HTTP Request", "http_request", False),
    ("Condition", "condition", False), ("Set Variable", "set_variable", False), ("Delay", "delay", False),
]
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4"]
ERRORS = [
    "WhatsApp account disconnected: session expired, scan the QR code again",
    "Invalid phone number '+49 151 ABC' for contact 'Ana'",
    "OpenAI API error 429: rate limit exceeded",
    "Template variable {{first_name}} is missing for contact 'Bo'",
    "Timeout after 30 s calling https://shop.example/orders",
]
WORDS = ("order delivery invoice refund appointment tomorrow please thanks status shipping address "
         "payment card account subscription cancel change product size colour store opening hours "
         "price discount voucher return exchange warranty support agent customer message").split()


def _texts(rng: np.random.Generator, count: int, words: int) -> np.ndarray:
    """A pool of distinct sentences (so compression sees text, not one repeated string)."""
    picks = rng.integers(0, len(WORDS), size=(count, words))
    return np.array([" ".join(WORDS[i] for i in row).capitalize() + "." for row in picks], dtype=object)


def _uuid7(ms: np.ndarray, rng: np.random.Generator) -> list[str]:
    """UUIDv7 strings for unix-millisecond timestamps (ids tell their day, as the recorder's do)."""
    rand_a = rng.integers(0, 1 << 12, size=len(ms), dtype=np.uint64)
    rand_b = rng.integers(0, 1 << 62, size=len(ms), dtype=np.uint64)
    hi = (ms.astype(np.uint64) << np.uint64(16)) | np.uint64(0x7000) | rand_a
    lo = np.uint64(0x8000000000000000) | rand_b
    out = []
    for h, low in zip(hi.tolist(), lo.tolist(), strict=True):
        x = f"{h:016x}{low:016x}"
        out.append(f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}")
    return out


def generate(root: str | Path, executions: int, *, days: int = 30, seed: int = 1, files_per_day: int = 8,
             today: dt.date | None = None, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write `executions` executions spread over `days` days ending today. Returns row counts."""
    rng = np.random.default_rng(seed)
    store = Store(root)
    today = today or dt.datetime.now(dt.UTC).date()
    flow_names = np.array([f"Flow {i:03d} · " + ["Broadcast", "Support auto-reply", "Campaign", "Reminder",
                                                   "Lead qualification"][i % 5] for i in range(FLOWS)], dtype=object)
    popularity = 1.0 / np.arange(1, FLOWS + 1) ** 1.1
    popularity /= popularity.sum()
    # each flow: a fixed sequence of nodes, ~6 on average, about a quarter AI
    flow_steps = [rng.choice(len(NODE_KINDS), size=int(rng.integers(3, 10)),
                             p=[.1, .1, .25, .17, .08, .1, .08, .07, .05]) for _ in range(FLOWS)]
    prompts, replies = _texts(rng, 4000, 120), _texts(rng, 4000, 40)
    systems = _texts(rng, 50, 60)
    per_day = np.full(days, executions // days)
    per_day[: executions % days] += 1
    counts = {"executions": 0, "steps": 0}
    recorded = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))
    for d in range(days):
        day = today - dt.timedelta(days=days - 1 - d)
        n = int(per_day[d])
        day_ms = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)
        # busier in daytime; today only up to now
        span_ms = min(86_400_000, max(1, int(dt.datetime.now(dt.UTC).timestamp() * 1000) - day_ms))
        start_ms = np.sort(day_ms + (rng.beta(2.2, 2.0, n) * span_ms).astype(np.int64))
        flow = rng.choice(FLOWS, size=n, p=popularity)
        # running executions only in the last two days: a closed day holds none (a run left
        # running by a dead engine is a fault, not history)
        status = rng.choice(["completed", "failed", "completed_with_errors", "cancelled", "running"], size=n,
                            p=[.905, .04, .04, .015, 0] if d < days - 2 else [.88, .04, .04, .015, .025])
        # several files a day, like the flushes of a day of writing; built a file at a time, so
        # memory holds an eighth of a day (10 M executions: a day is 2 M steps)
        for chunk in np.array_split(np.arange(n), files_per_day):
            if not len(chunk):
                continue
            part = slice(int(chunk[0]), int(chunk[-1]) + 1)
            executions, steps = _chunk(rng, start_ms[part], flow[part], status[part], flow_names, flow_steps,
                                       (prompts, replies, systems), recorded)
            for table, dataset in ((executions, "executions"), (steps, "steps")):
                store.write_rows(dataset, {day: table})
            counts["executions"] += executions.num_rows
            counts["steps"] += steps.num_rows
        if progress:
            progress(1)
    return counts


def _chunk(rng: np.random.Generator, start_ms: np.ndarray, flow: np.ndarray, status: np.ndarray,
           flow_names: np.ndarray, flow_steps: list[np.ndarray], texts: tuple[np.ndarray, ...],
           recorded: pa.Scalar) -> tuple[pa.Table, pa.Table]:
    """The execution and step rows of some executions of a day: each runs its flow's nodes,
    with lognormal step durations."""
    prompts, replies, systems = texts
    n = len(start_ms)
    ids = _uuid7(start_ms, rng)
    n_steps = np.array([len(flow_steps[f]) for f in flow])
    exec_of_step = np.repeat(np.arange(n), n_steps)
    index = np.arange(len(exec_of_step)) - np.repeat(np.cumsum(n_steps) - n_steps, n_steps)
    kind = np.concatenate([flow_steps[f] for f in flow])
    dur_ms = rng.lognormal(6.5, 1.0, len(kind)).astype(np.int64) + 50
    step_end = np.cumsum(dur_ms) - np.repeat(np.cumsum(dur_ms)[np.cumsum(n_steps) - 1] -
                                             np.add.reduceat(dur_ms, np.cumsum(n_steps) - n_steps), n_steps)
    step_start_ms = start_ms[exec_of_step] + step_end - dur_ms
    finished_ms = start_ms + np.add.reduceat(dur_ms, np.cumsum(n_steps) - n_steps)
    is_ai = np.array([NODE_KINDS[k][2] for k in kind])
    last_step = np.cumsum(n_steps) - 1
    step_status = np.full(len(kind), "completed", dtype=object)
    failing = np.isin(status, ["failed", "completed_with_errors"])
    step_status[last_step[failing]] = "failed"
    error = np.full(len(kind), None, dtype=object)
    error[last_step[failing]] = rng.choice(ERRORS, size=int(failing.sum()))
    prompt_pick = rng.integers(0, len(prompts), len(kind))
    reply_pick = rng.integers(0, len(replies), len(kind))
    prompt_tokens = np.where(is_ai, np.array([len(p) for p in prompts])[prompt_pick] // 4 + 90, 0)
    completion_tokens = np.where(is_ai, np.array([len(r) for r in replies])[reply_pick] // 4, 0)
    phones = np.char.add("+49151", rng.integers(1_000_000, 9_999_999, len(kind)).astype(str))
    inputs = [f'{{"contact":{{"name":"Contact {i % 997}","phone":"{p}"}},"row":{i}}}'
              for i, p in zip(index.tolist(), phones.tolist(), strict=True)]
    outputs = [f'{{"ok":true,"message_id":"wamid.{i:x}"}}' for i in range(len(kind))]
    ts = pa.timestamp("us", tz="UTC")
    running = status == "running"
    executions = pa.table({
        "execution_id": ids, "flow_id": [f"f-{f}" for f in flow.tolist()], "flow_name": flow_names[flow],
        "trigger_type": np.array(["schedule", "incoming_message", "manual", "schedule", "incoming_message"],
                                 dtype=object)[flow % 5],
        "trigger_phone": np.where(flow % 5 % 3 == 1, phones[:n], None),
        "started_at": pa.array(start_ms * 1000, ts),
        "status": np.where(running, None, status),
        "finished_at": pa.array(np.where(running, 0, finished_ms) * 1000, ts, mask=running),
        "messages_sent": pa.array(np.where(running, 0, n_steps), pa.int32(), mask=running),
        "messages_failed": pa.array((status == "completed_with_errors").astype(np.int32), pa.int32(),
                                    mask=running),
        "error": pa.array([None] * n, pa.string()),
        "recorded_at": pa.array([recorded.as_py()] * n, ts),
    }, schema=EXECUTION_ROW)
    steps = pa.table({
        "execution_id": np.array(ids, dtype=object)[exec_of_step], "step_index": index.astype(np.int32),
        "node_id": np.char.add("n-", kind.astype(str)),
        "node_name": np.array([NODE_KINDS[k][0] for k in range(len(NODE_KINDS))], dtype=object)[kind],
        "node_type": np.array([NODE_KINDS[k][1] for k in range(len(NODE_KINDS))], dtype=object)[kind],
        "status": step_status, "started_at": pa.array(step_start_ms * 1000, ts),
        "finished_at": pa.array((step_start_ms + dur_ms) * 1000, ts),
        "model": pa.array(np.where(is_ai, np.array(MODELS, dtype=object)[flow[exec_of_step] % 4], None),
                          pa.string()),
        "prompt_tokens": pa.array(prompt_tokens, pa.int32(), mask=~is_ai),
        "completion_tokens": pa.array(completion_tokens, pa.int32(), mask=~is_ai),
        "system_prompt": pa.array(np.where(is_ai, systems[rng.integers(0, len(systems), len(kind))], None),
                                  pa.string()),
        "user_prompt": pa.array(np.where(is_ai, prompts[prompt_pick], None), pa.string()),
        "ai_reply": pa.array(np.where(is_ai, replies[reply_pick], None), pa.string()),
        "warnings": pa.array([[] for _ in range(len(kind))], pa.list_(pa.string())),
        "error": pa.array(error, pa.string()), "input": inputs, "output": outputs,
        "recorded_at": pa.array([recorded.as_py()] * len(kind), ts),
    }, schema=STEP_ROW)
    return executions, steps
