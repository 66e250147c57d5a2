"""The engine: one helper per node type, and the contact rows a flow reads (with the planned bad numbers)."""

from __future__ import annotations

import base64
import dataclasses
import functools
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from ..events import E164
from ..recorder import ExecutionRecord, StepRecord
from .clock import LiveClock, SimulatedClock
from .contacts import make_contact
from .failures import (
    AI_FAULTS,
    BAD_PHONES,
    CANCEL,
    HTTP,
    INVALID_PHONE,
    LIVE_STOP_REASON,
    USER_STOP_REASON,
    WHATSAPP,
    WHATSAPP_ERRORS,
    Cancelled,
    FlowError,
    InvalidRecipient,
    TemplateError,
    WhatsAppDisconnected,
    ai_error,
    batch_failure_text,
    http_error,
    invalid_phone_error,
    not_on_whatsapp_error,
    template_error,
)

LIVE_LONG_RUN_SECONDS = (30.0, 180.0)  # real duration of the live demo's long loops
MAX_REPLY_CHARS = 1000  # WhatsApp-friendly cap on AI replies; longer ones are truncated

_E164 = re.compile(E164)


@functools.cache
def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def node_id(name: str) -> str:
    return "n-" + slug(name)


def approx_tokens(chars: int, rng: random.Random) -> int:
    """About four characters a token, as the providers' tokenizers count English-like text."""
    return max(1, round(chars / 4 * rng.uniform(0.93, 1.07)))


@dataclasses.dataclass(eq=False)
class Engine:
    """Runs the nodes of one execution against its record, the way the flow engine does.

    Each helper is one node type: it opens a step, does the node's work by advancing the
    clock, fills input and output, and fails the way that node fails in production. At
    most one planned fault (`fault`) strikes per execution.
    """

    run: ExecutionRecord
    rng: random.Random
    clock: SimulatedClock | LiveClock
    _: dataclasses.KW_ONLY
    fault: str | None = None
    customer: dict | None = None
    long_running: bool = False
    unreachable: set[str] = dataclasses.field(default_factory=set, init=False)  # numbers WhatsApp does not know
    sends: int = dataclasses.field(default=0, init=False)
    disconnect_after: int = dataclasses.field(default=0, init=False)

    def __post_init__(self):
        # a disconnect hits after some messages went out, not always on the first one
        self.disconnect_after = self.rng.choice((0, 0, 1, 2, 4, 9)) if self.fault == WHATSAPP else 0

    # -- plumbing -------------------------------------------------------------------

    def take_fault(self, *kinds: str) -> str | None:
        """The planned fault if it is one of kinds; a fault strikes once."""
        if self.fault in kinds:
            kind, self.fault = self.fault, None
            return kind
        return None

    def work(self, low: float, high: float) -> None:
        self.clock.advance(self.rng.uniform(low, high))

    def step(self, name: str, node_type: str, input: Any = None) -> StepRecord:
        if self.clock.stopping:  # the live demo is shutting down: no new node starts
            raise Cancelled(LIVE_STOP_REASON)
        return self.run.step(name, node_type, node_id=node_id(name), input=input)

    def wamid(self) -> str:
        return "wamid." + base64.b64encode(self.rng.randbytes(27)).decode()

    def row_count(self, low: int, high: int, seconds_per_row: float) -> int:
        """How many rows a loop gets; in the live demo a long run is sized to last 30 s - 3 min."""
        if self.long_running:
            real = self.rng.uniform(*LIVE_LONG_RUN_SECONDS)
            return max(low, round(real / self.clock.scale / seconds_per_row))
        return self.rng.randint(low, high)

    # -- nodes ------------------------------------------------------------------------

    def receive(self, text: str) -> None:
        c = self.customer
        with self.step("Receive Message", "receive_message", input={
                "from": c["phone"], "profile_name": c["name"], "message_id": self.wamid(), "type": "text",
                "text": text}) as step:
            self.work(0.01, 0.08)
            step.output = {"text": text, "contact": c}

    def ai(self, name: str, model: str, system: str, user: str, reply: str, *, input: Any = None,
           output: Any = None) -> str:
        """An AI node: tokens follow the prompt and reply lengths, latency the reply length."""
        rng = self.rng
        with self.step(name, "ai_response", input=input or {"model": model, "temperature": 0.4}) as step:
            kind = self.take_fault(*AI_FAULTS)
            if kind:
                self.work(0.3, 2.5)
                step.ai(model=model, system_prompt=system, user_prompt=user)  # no tokens: the call was refused
                raise ai_error(kind, model, rng)
            prompt_tokens = approx_tokens(len(system) + len(user), rng)
            completion_tokens = approx_tokens(len(reply), rng)
            latency = 0.35 + completion_tokens * rng.uniform(0.008, 0.022) + prompt_tokens * 0.0002
            if rng.random() < 0.02:
                latency += rng.uniform(1.0, 2.5)
                provider = "Anthropic" if model.startswith("claude") else "OpenAI"
                step.warn(f"{provider} returned 429 on the first attempt; succeeded on retry 2")
            self.clock.advance(min(8.0, max(rng.uniform(0.8, 1.4), latency)))
            if len(reply) > MAX_REPLY_CHARS:
                reply = reply[:MAX_REPLY_CHARS]
                step.warn(f"reply truncated to {MAX_REPLY_CHARS} chars")
            step.ai(model=model, system_prompt=system, user_prompt=user, reply=reply,
                    prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
            step.output = output if output is not None else {"reply": reply, "finish_reason": "stop"}
        return reply

    def http(self, name: str, method: str, url: str, *, response: Any, body: Any = None, status: int = 200,
             low: float = 0.1, high: float = 3.0) -> Any:
        request = {"method": method, "url": url}
        if body is not None:
            request["body"] = body
        with self.step(name, "http_request", input=request) as step:
            if self.take_fault(HTTP):
                exc, hung = http_error(self.rng, method, url)
                self.clock.advance(hung)
                raise exc
            self.work(low, high)
            step.output = {"status": status, "body": response}
        return response

    def condition(self, name: str, expression: str, value: Any, result: bool) -> bool:
        with self.step(name, "condition", input={"expression": expression, "value": value}) as step:
            self.work(0.001, 0.01)
            step.output = {"result": result, "branch": "true" if result else "false"}
        return result

    def skip(self, name: str, node_type: str) -> None:
        """A node on the branch a condition did not take."""
        with self.step(name, node_type) as step:
            step.skip()

    def set_variables(self, name: str, values: dict, *, input: Any = None) -> dict:
        with self.step(name, "set_variable", input=input) as step:
            self.work(0.001, 0.02)
            step.output = values
        return values

    def delay(self, name: str, seconds: float) -> None:
        with self.step(name, "delay", input={"seconds": seconds}) as step:
            self.clock.advance(seconds)
            step.output = {"waited_seconds": seconds}

    def read_rows(self, name: str, sheet: str, rows: list[dict]) -> list[dict]:
        with self.step(name, "read_rows", input={"spreadsheet": sheet, "range": "A2:D"}) as step:
            self.work(0.3, 2.5)
            step.output = {"row_count": len(rows), "columns": ["name", "phone", "tags", "language"],
                           "first_rows": rows[:3]}
        return rows

    def loop(self, rows: Sequence, body: Callable[[int, Any], None], *, name: str = "Loop Rows",
             input: Any = None) -> None:
        """A loop node: its step spans its iterations, whose steps follow it in order.

        When an iteration fails or the run is stopped, the loop step itself still closes
        as completed (with how far it got), so the failing step stays the one to look at.
        """
        stop_at = self.rng.randrange(len(rows)) if rows and self.take_fault(CANCEL) else None
        interrupted: BaseException | None = None
        with self.step(name, "loop_rows", input=input or {"row_count": len(rows)}) as step:
            done = 0
            try:
                for i, row in enumerate(rows):
                    if i == stop_at:
                        self.work(0.5, 3.0)  # the operator watched a while, then pressed Stop
                        raise Cancelled(USER_STOP_REASON)
                    body(i, row)
                    done += 1
            except (FlowError, Cancelled) as exc:
                interrupted = exc
                step.warn(f"loop stopped after {done} of {len(rows)} rows")
            step.output = {"iterations": done, "total": len(rows)}
        if interrupted is not None:
            raise interrupted

    def send(self, contact: dict, body: str, *, name: str = "Send Message", template: str | None = None,
             variables: dict | None = None, required: Sequence[str] = (), fallback: dict | None = None,
             continue_on_error: bool = False) -> bool:
        """Send one WhatsApp message (a template when `template` is set; body is its text).

        Bad contact data fails the step: raised (the execution fails) or, in loops that go
        on with the next row, recorded with fail() and counted as a failed message.
        """
        request: dict[str, Any] = {"to": contact["phone"], "contact": contact}
        if template:
            request.update(template=template, language=contact.get("language", "en"), variables=variables)
        else:
            request["text"] = body
        with self.step(name, "send_message", input=request) as step:
            self.work(0.2, 1.5)
            if self.fault == WHATSAPP and self.sends >= self.disconnect_after:
                self.fault = None
                self.run.message_failed()
                raise WhatsAppDisconnected(self.rng.choice(WHATSAPP_ERRORS))
            self.sends += 1
            problem = self._recipient_problem(contact)
            if problem is None and variables is not None:
                variables, problem = self._fill_variables(step, contact, variables, required, fallback or {})
            if problem is not None:
                self.run.message_failed()
                if not continue_on_error:
                    raise problem
                step.fail(str(problem))
                step.output = {"status": "failed"}
                return False
            step.output = {"message_id": self.wamid(), "status": "sent"}
            if variables is not None:
                step.output["text"] = body.format_map(variables)
            self.run.message_sent()
        return True

    def send_batch(self, number: int, contacts: list[dict], text: str, *, template: str) -> None:
        """One Send Message step for a batch: the provider sends ~8 in parallel, bad rows fail alone."""
        with self.step("Send Message", "send_message", input={
                "batch": number, "size": len(contacts), "template": template, "contacts": contacts}) as step:
            self.clock.advance(sum(self.rng.uniform(0.2, 1.5) for _ in range(len(contacts))) / 8)
            if self.fault == WHATSAPP and self.sends >= self.disconnect_after:
                self.fault = None
                self.run.message_failed(len(contacts))
                raise WhatsAppDisconnected(self.rng.choice(WHATSAPP_ERRORS))
            self.sends += 1
            problems = [p for p in map(self._recipient_problem, contacts) if p is not None]
            sent = len(contacts) - len(problems)
            self.run.message_sent(sent)
            step.output = {"sent": sent, "failed": len(problems), "text": text}
            if problems:
                self.run.message_failed(len(problems))
                step.fail(batch_failure_text(problems, len(contacts)))

    def _recipient_problem(self, contact: dict) -> InvalidRecipient | None:
        if not _E164.match(contact["phone"]):
            return invalid_phone_error(contact)
        if contact["phone"] in self.unreachable:
            return not_on_whatsapp_error(contact)
        return None

    def _fill_variables(self, step: StepRecord, contact: dict, variables: dict, required: Sequence[str],
                        fallback: dict) -> tuple[dict, TemplateError | None]:
        filled = dict(variables)
        for var in required:
            if filled.get(var):
                continue
            if var not in fallback:
                return filled, template_error(var, contact)
            filled[var] = fallback[var]
            step.warn("contact has no first name, used fallback" if var == "first_name"
                      else f"variable {{{{{var}}}}} is empty, used fallback")
        return filled, None


def make_contacts(e: Engine, n: int, *, tags: Sequence[str] = (), nameless_share: float = 0.02) -> list[dict]:
    """Contact rows as a sheet holds them: a few without a name, and the planned bad numbers."""
    rng = e.rng
    rows = [make_contact(rng, tags=tags) for _ in range(n)]
    for row in rows:
        if rng.random() < nameless_share:
            row["name"] = ""
    if rows and e.take_fault(INVALID_PHONE):
        for row in rng.sample(rows, min(len(rows), rng.choice((1, 1, 1, 2, 3)))):
            if rng.random() < 0.7:
                row["phone"] = rng.choice(BAD_PHONES)
            else:
                e.unreachable.add(row["phone"])
    return rows
