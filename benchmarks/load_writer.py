"""One load-test writer: executions at a steady number of events a second, through the real Recorder.

    python -m benchmarks.load_writer --data DIR --rate 500 [--max-seconds 600] [--seed 1]

Runs until its stdin closes (the load test closes it when the sessions are done) or
--max-seconds pass. Executions interleave as a busy engine's do: every event slot either
advances an execution already under way (its next step, or its end) or starts a new one,
so each slot is exactly one event and the rate holds. A tenth of the executions are long
runs whose steps come seconds apart, so the Running tab is never empty. On stop, the
executions still under way end as cancelled and the writer is closed (a last flush).

Prints one JSON line a second ({"emitted": N, "errors": N, ...}) and a final one with
"done": true: events emitted, acknowledged (stored by a flush that returned), the paced
rate, and the first write errors.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import threading
import time

from dashboard.recorder import ExecutionRecord, Recorder
from dashboard.store import Store, utcnow
from dashboard.writer import Writer

FLOWS = 200  # a busy tenant's flows: new executions spread over many groups, as in production
KINDS = ("Support auto-reply", "Broadcast", "Campaign", "Reminder", "Lead qualification")
TRIGGERS = ("incoming_message", "schedule", "manual", "schedule", "incoming_message")
NODES = (  # node_name, node_type, is_ai
    ("Receive Message", "receive_message", False), ("AI Response", "ai_response", True),
    ("Send Message", "send_message", False), ("HTTP Request", "http_request", False),
    ("Condition", "condition", False), ("Classify Intent", "ai_response", True),
)
ERRORS = (
    "WhatsApp account disconnected: session expired, scan the QR code again",
    "OpenAI API error 429: rate limit exceeded for gpt-4o-mini (requests per minute)",
    "Template variable {{first_name}} is missing for contact 'Bo'",
)
LONG_RUN_SHARE = 0.1
REPORT_EVERY = 1.0


class Execution:
    """One execution under way: its record and the steps it still has to run."""

    def __init__(self, record: ExecutionRecord, steps: int, gap: float, fails: bool):
        self.record = record
        self.steps_left = steps
        self.gap = gap  # seconds between its events
        self.fails = fails
        self.steps_done = 0
        self.error: str | None = None


class Simulation:
    """Decides what the next event is, and emits it through the recorder."""

    def __init__(self, recorder: Recorder, seed: int):
        self.recorder = recorder
        self.rng = random.Random(seed)
        self.flows = [(f"Load {i:03d} · {KINDS[i % 5]}", f"load-{i:03d}", TRIGGERS[i % 5]) for i in range(FLOWS)]
        self.due: list[tuple[float, int, Execution]] = []  # (when its next event is due, tiebreak, execution)
        self.serial = 0

    def emit_one(self, now: float) -> None:
        if self.due and self.due[0][0] <= now:
            _, _, execution = heapq.heappop(self.due)
            self.advance(execution, now)
        else:
            self.start(now)

    def start(self, now: float) -> None:
        name, flow_id, trigger = self.rng.choice(self.flows)
        phone = f"+49151{self.rng.randint(1_000_000, 9_999_999)}" if trigger == "incoming_message" else None
        record = self.recorder.execution(name, flow_id=flow_id, trigger=trigger, phone=phone)
        # executions interleave, so the recorder's context managers are entered and left by hand
        record.__enter__()
        long_run = self.rng.random() < LONG_RUN_SHARE
        gap = self.rng.uniform(2.0, 8.0) if long_run else self.rng.uniform(0.05, 0.6)
        self.schedule(Execution(record, self.rng.randint(3, 8), gap, self.rng.random() < 0.05), now)

    def schedule(self, execution: Execution, now: float) -> None:
        self.serial += 1
        heapq.heappush(self.due, (now + execution.gap, self.serial, execution))

    def advance(self, execution: Execution, now: float) -> None:
        if execution.steps_left == 0:  # its end, one event of its own
            failure = RuntimeError(execution.error) if execution.error else None
            execution.record.__exit__(type(failure) if failure else None, failure, None)
            return
        execution.steps_left -= 1
        last = execution.steps_left == 0
        name, node_type, is_ai = NODES[execution.steps_done % len(NODES)]
        execution.steps_done += 1
        step = execution.record.step(name, node_type, node_id=f"n-{node_type}",
                                     input={"contact": {"name": "Contact", "phone": "+4915112345678"},
                                            "row": execution.steps_done})
        step.__enter__()
        if is_ai:
            step.ai(model="gpt-4o-mini", system_prompt="You are the support agent of a coffee roaster.",
                    user_prompt="Where is my order? It was due yesterday.",
                    reply="Your order ships tomorrow; here is the tracking link.", prompt_tokens=412,
                    completion_tokens=96)
        step.output = {"ok": True}
        if last and execution.fails:  # the failing step; the execution fails with it at its next slot
            execution.error = self.rng.choice(ERRORS)
            step.__exit__(RuntimeError, RuntimeError(execution.error), None)
        else:
            step.__exit__(None, None, None)
            if node_type == "send_message":
                execution.record.message_sent()
        self.schedule(execution, now)

    def cancel_all(self) -> int:
        """End every execution still under way as cancelled (the load test is over)."""
        count = 0
        while self.due:
            _, _, execution = heapq.heappop(self.due)
            execution.record.cancel("Stopped: load test over")
            execution.record.__exit__(None, None, None)
            count += 1
        return count


def run(data: str, rate: float, max_seconds: float, seed: int, stop: threading.Event) -> dict:
    writer = Writer(Store(data))  # the defaults a flow engine gets: flush every second or every 5 000 rows
    recorder = Recorder(writer, clock=utcnow)
    simulation = Simulation(recorder, seed)
    errors: list[str] = []
    error_count = 0
    emitted = 0
    started = time.monotonic()
    next_report = started + REPORT_EVERY
    deadline = started + max_seconds

    def note(exc: BaseException) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < 5:
            errors.append(f"{type(exc).__name__}: {exc}")

    seen_flush_error = None
    while not stop.is_set() and (now := time.monotonic()) < deadline:
        due = int((now - started) * rate)
        while emitted < due:
            try:
                simulation.emit_one(now)
            except Exception as exc:  # a write error is what the load test reports
                note(exc)
            emitted += 1
        if writer.last_error is not None and writer.last_error is not seen_flush_error:
            seen_flush_error = writer.last_error  # a background flush failed (kept for retry)
            note(writer.last_error)
        if now >= next_report:
            print(json.dumps({"emitted": emitted, "errors": error_count}), flush=True)
            next_report += REPORT_EVERY
        stop.wait(0.01)  # events go out in 10 ms batches: steady, without a wake-up per event
    paced_seconds = time.monotonic() - started
    paced = emitted
    try:
        emitted += simulation.cancel_all()
        recorder.close()
    except Exception as exc:
        note(exc)
    totals = writer.totals
    return {"done": True, "emitted": emitted, "paced_events": paced, "paced_seconds": paced_seconds,
            "rate": paced / paced_seconds if paced_seconds else 0.0,
            "acknowledged": totals.stored + totals.pending, "refused_expired": len(totals.refused_expired),
            "errors": error_count, "first_errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--rate", type=float, required=True, help="events a second")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop even if stdin stays open")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stop = threading.Event()

    def wait_for_stdin_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_stdin_eof, daemon=True).start()
    print(json.dumps(run(args.data, args.rate, args.max_seconds, args.seed, stop)), flush=True)


if __name__ == "__main__":
    main()
