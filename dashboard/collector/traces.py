"""The steps of traces, numbered by start time, however their spans are split over requests.

An exporter sends a span when it ends, in batches: the spans of one trace come in several requests,
children before their root (the root ends last). A step's index is its place among the spans of its
trace by start time, so a span that arrives later may move others down. Each request therefore
reads the steps its traces already have (stored, or waiting in pending for their root), ranks them
with the new spans, and writes every span whose index is new or taken by another. A step is keyed by
(execution id, index) and the row stored last wins, so after each request the indexes 0..n-1 hold the
n spans in start order, none twice.

Two collectors handling spans of the same trace in the same instant may each rank without the
other's spans; the later request of that trace ranks them all again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec

from ..store import Store
from .otlp import Span, execution_events, moment, step_event

STORED_COLUMNS = ("execution_id, step_index, node_id, node_name, node_type, status, started_at, finished_at, model, "
                  "prompt_tokens, completion_tokens, system_prompt, user_prompt, ai_reply, warnings, error, "
                  "input, output, recorded_at")


@dataclass
class Line:
    """One contract line made from spans, and the batch and span it answers for (None: re-numbered)."""

    text: bytes
    batch: int | None
    span: str | None


def trace_lines(store: Store, spans: list[tuple[int, Span]]) -> list[Line]:
    """The contract lines of the spans of a round (batch number, span), with the steps already stored."""
    by_trace: dict[str, dict[str, tuple[int, Span]]] = {}
    for batch, span in spans:
        by_trace.setdefault(span.trace_id, {})[span.span_id] = (batch, span)  # a span sent twice: the last
    stored = stored_steps(store, by_trace)
    lines: list[Line] = []
    for trace_id, new in by_trace.items():
        lines += _trace(new, stored.get(trace_id, []))
    return lines


def _trace(new: dict[str, tuple[int, Span]], stored: list[dict]) -> list[Line]:
    latest: dict[str, dict] = {}  # node id -> its newest stored row
    winners: dict[int, str] = {}  # index -> node id of the row that wins there now
    newest_at: dict[int, dt.datetime] = {}
    for row in stored:
        if row["node_id"] not in latest or row["recorded_at"] > latest[row["node_id"]]["recorded_at"]:
            latest[row["node_id"]] = row
        index = row["step_index"]
        if index not in newest_at or row["recorded_at"] > newest_at[index]:
            newest_at[index], winners[index] = row["recorded_at"], row["node_id"]
    starts = {node: row["started_at"] for node, row in latest.items()}
    starts.update({sid: moment(span.start_ns) for sid, (_, span) in new.items()})
    order = sorted(starts, key=lambda sid: (starts[sid], sid))
    lines = []
    for index, sid in enumerate(order):
        if sid in new:
            batch, span = new[sid]
            lines.append(Line(_encode(step_event(span, index)), batch, sid))
        elif winners.get(index) != sid:
            lines.append(Line(_encode(_stored_event(latest[sid], index)), None, sid))
    roots = sorted((span.start_ns, sid) for sid, (_, span) in new.items() if span.is_root)
    if roots:
        batch, root = new[roots[0][1]]
        failed = any(span.failed for _, span in new.values() if span is not root) or any(
            row["status"] == "failed" for sid, row in latest.items() if sid not in new)
        lines += [Line(_encode(event), batch, root.span_id) for event in execution_events(root, failed)]
    return lines


def _encode(event: dict) -> bytes:
    return msgspec.json.encode(event)


def _stored_event(row: dict, index: int) -> dict:
    """A stored step as the event that stores it again at another index (its JSON kept as sent)."""
    event = {"type": "step_finished", "execution_id": row["execution_id"], "index": index}
    for name in ("node_id", "node_name", "node_type", "status", "model", "system_prompt", "user_prompt",
                 "ai_reply", "error"):
        event[name] = row[name]
    event["started_at"] = row["started_at"].astimezone(dt.UTC).isoformat()
    event["finished_at"] = row["finished_at"].astimezone(dt.UTC).isoformat()
    event["warnings"] = list(row["warnings"] or [])
    if row["prompt_tokens"] is not None or row["completion_tokens"] is not None:
        event["tokens"] = {"prompt": row["prompt_tokens"] or 0, "completion": row["completion_tokens"] or 0}
    for name in ("input", "output"):
        event[name] = msgspec.Raw(row[name].encode()) if row[name] is not None else None
    return event


def stored_steps(store: Store, by_trace: dict[str, dict[str, tuple[int, Span]]]) -> dict[str, list[dict]]:
    """The step rows already stored for these traces: in the days their spans start in (and the day
    before: a root may start before midnight), and waiting in pending."""
    days = set()
    for spans in by_trace.values():
        day = moment(min(span.start_ns for _, span in spans.values())).date()
        days |= {day - dt.timedelta(days=1), day}
    ids = sorted(by_trace)
    where, params = "WHERE execution_id IN (SELECT unnest($ids))", {"ids": ids}
    found: dict[str, list[dict]] = {}
    for dataset, files in (("steps", lambda: store.files("steps", sorted(days))),
                           ("pending_steps", lambda: store.files("pending_steps"))):
        rows = store.read(lambda dataset=dataset, files=files: store.read_rows(
            dataset, files(), where, params, columns=STORED_COLUMNS))
        for row in rows.to_pylist() if rows.num_columns else []:
            found.setdefault(row["execution_id"], []).append(row)
    return found
