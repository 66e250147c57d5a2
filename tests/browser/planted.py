"""The logs the browser tests run against, written with the Recorder as a flow engine would.

Executions sit at known times in the last two days; `Logs` records what was planted so
the tests can check the figures the page shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import uuid_utils

from dashboard.recorder import Recorder
from dashboard.store import Store
from dashboard.writer import Writer

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SQL = "'; DROP TABLE executions; --"
XSS_FLOW = f"Evil {SCRIPT} flow {SQL}"
XSS_NODE = f"AI {IMG} node"
XSS_REPLY = f"Sure! {SCRIPT} and {IMG}, $$\\frac{{1}}{{2}}$$ and \\(x^2\\) off"  # TeX: shown as written
XSS_ERROR = f"Recipient {IMG} rejected: {SQL}"

SYSTEM_PROMPT = "You are the friendly support agent of Verde Coffee. Answer in one or two sentences."
AI_REPLY = "Your order #1042 left our roastery this morning and arrives tomorrow."
SEND_ERROR = "Invalid phone number: '+1 555 0100' is not a valid WhatsApp number (row 12)"


@dataclass
class Logs:
    """What the fixture planted."""

    root: Path
    counts: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # flow name -> executions
    running: list[str] = field(default_factory=list)  # ids of running executions
    ai_execution: str = ""  # newest Support auto-reply run: completed, an AI step with prompts and reply
    failed_execution: str = ""  # an Order reminder run whose Send Message step failed
    xss_execution: str = ""
    deletable: str = ""  # a finished Lead follow-up run


def _id_at(when: dt.datetime) -> str:
    return str(uuid_utils.uuid7(nanoseconds=int(when.timestamp() * 1e9)))


def write_logs(root: Path, now: dt.datetime | None = None) -> Logs:
    now = now or dt.datetime.now(dt.timezone.utc)
    clock = [now]
    logs = Logs(root=root)
    statuses: dict[str, str] = {}
    recorder = Recorder(Writer(Store(root), flush_interval=None), clock=lambda: clock[0])

    def run(flow: str, start: dt.datetime, *, trigger="schedule", phone=None, outcome="completed", steps=None,
            finish=True) -> str:
        clock[0] = start
        ex = recorder.execution(flow, trigger=trigger, phone=phone, execution_id=_id_at(start))
        ex.__enter__()
        for name, kind, fill in steps or [("Load Contacts", "loop_rows", None), ("Send Message", "send_message", None)]:
            clock[0] += dt.timedelta(milliseconds=850)
            with ex.step(name, kind, input={"contact": {"name": "Ana", "phone": "+4915112345678"}}) as step:
                clock[0] += dt.timedelta(milliseconds=1200)
                if fill:
                    fill(ex, step)
                elif kind == "send_message":
                    ex.message_sent(2)
                step.output = step.output or {"ok": True}
        if outcome == "cancelled":
            ex.cancel("Stopped by the operator")
        clock[0] += dt.timedelta(milliseconds=300)
        if finish:
            ex.__exit__(None, None, None)
        statuses[ex.execution_id] = ex.status.value if finish else "running"
        logs.runs[flow] = logs.runs.get(flow, 0) + 1
        if not finish:
            logs.running.append(ex.execution_id)
        return ex.execution_id

    def ai_step(ex, step):
        step.ai(model="gpt-4o-mini", system_prompt=SYSTEM_PROMPT, user_prompt="Where is my order #1042?",
                reply=AI_REPLY, prompt_tokens=412, completion_tokens=96)
        step.output = {"reply": AI_REPLY}

    def failed_send(ex, step):
        step.input = {"contact": {"name": "Bruno", "phone": "+1 555 0100", "row": 12}, "template": "order_reminder"}
        step.warn("contact has no first name; used 'there'")
        step.fail(SEND_ERROR)
        ex.message_failed()

    def xss_ai(ex, step):
        step.ai(model="gpt-4o-mini", system_prompt=f"Never run {SQL}", user_prompt=f"Hi {SCRIPT}", reply=XSS_REPLY,
                prompt_tokens=50, completion_tokens=20)
        step.input = {"note": SCRIPT, "img": IMG, "q": SQL, IMG: "a key"}
        step.output = {"reply": XSS_REPLY}

    def xss_fail(ex, step):
        step.fail(XSS_ERROR)

    hour = dt.timedelta(hours=1)
    support = [("Receive Message", "incoming_message", None), ("AI Response", "ai_response", ai_step),
               ("Send Message", "send_message", None)]
    for i in range(7, 0, -1):
        last = run("Support auto-reply", now - i * hour - dt.timedelta(minutes=3), trigger="incoming_message",
                   phone="+4915112345678", steps=support)
    logs.ai_execution = last
    for i in range(30):  # more than a page of 25
        outcome_steps = None
        if i in (4, 17):
            outcome_steps = [("Load Contacts", "loop_rows", None), ("Send Message", "send_message", failed_send)]
        eid = run("Order reminder", now - dt.timedelta(minutes=40 + 37 * i), steps=outcome_steps)
        if i == 4:
            logs.failed_execution = eid
    for i in range(4):
        eid = run("Lead follow-up", now - dt.timedelta(hours=5, minutes=10 * i), trigger="manual",
                  outcome="cancelled" if i == 3 else "completed")
        if i == 1:
            logs.deletable = eid
    run("Lead follow-up", now - dt.timedelta(minutes=2), trigger="manual", finish=False)
    run("Daily digest", now - dt.timedelta(hours=26), steps=[("Build Digest", "ai_response", ai_step)])
    run("Daily digest", now - dt.timedelta(minutes=1), finish=False)
    logs.xss_execution = run(XSS_FLOW, now - dt.timedelta(minutes=20), trigger="incoming_message",
                             phone="+4915199999999",
                             steps=[(XSS_NODE, "ai_response", xss_ai), ("Send Message", "send_message", xss_fail)])
    recorder.close()

    failed = {"failed", "completed_with_errors"}
    logs.counts = {
        "all": len(statuses),
        "running": sum(s == "running" for s in statuses.values()),
        "failed": sum(s in failed for s in statuses.values()),
        "completed": sum(s in ("completed", "cancelled") for s in statuses.values()),
    }
    return logs


def parquet_ids(root: Path, datasets=("executions", "steps", "pending_executions", "pending_steps")) -> set[str]:
    """Every execution id in the live files of these tables, read from the files themselves."""
    store = Store(root)
    ids: set[str] = set()
    for dataset in datasets:
        for path in store.files(dataset):
            ids.update(pq.read_table(path, columns=["execution_id"]).column(0).to_pylist())
    return ids
