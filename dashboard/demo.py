"""A realistic flow simulator: drives the recorder exactly as the flow engine would.

    generate_history("data/logs", days=30, per_day=500)   # a month of history, in seconds
    run_live("data/logs", per_day=500, stop=event)         # new executions in real time, at history's pace

The tenant is Verde Coffee Roasters, a specialty roaster with an online shop and three
cafés (Berlin, São Paulo, Madrid). Its flows cover every shape the Execution Logs page
shows: AI auto-replies to incoming WhatsApp messages, scheduled broadcasts looping over
contact rows, manual campaigns, HTTP lookups, conditions with skipped branches, and the
failures the help page lists (WhatsApp disconnected, invalid phone numbers, AI provider
errors, missing template variables) at realistic rates.

History runs on a SimulatedClock that the engine "works" by advancing, so a month takes
seconds, and everything random comes from random.Random(seed): the same seed and `now`
give identical data, down to the execution ids (UUIDv7 built from the simulated start).
The live demo uses the real clock and real (scaled) sleeps, one thread per execution.
It starts executions at the history's pace (`per_day`, following the same daily curve), at
least one a minute; stopped (Ctrl+C, SIGTERM, or its stop event), it cancels the executions
it started, as a flow engine shut down cleanly does, and flushes.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import itertools
import json
import random
import re
import signal
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .queries import LogQueries
from .recorder import ExecutionRecord, Recorder, StepRecord
from .schema import E164, FailureCause, TriggerType, utc
from .store import Store, utcnow
from .writer import Writer

Progress = Callable[[int], None]

HISTORY_MAX_ROWS = 50_000
LIVE_FLUSH_INTERVAL = 0.5  # seconds: new events show up on the page within a second
LIVE_TIME_SCALE = 1.0  # real seconds per simulated second: a reply flow takes a few seconds
LIVE_LONG_RUN_SECONDS = (30.0, 180.0)  # real duration of the live demo's long loops
LIVE_MAX_GAP = 60.0  # seconds: the live demo starts an execution at least this often, whatever the hour
DEFAULT_PER_DAY = 500  # executions a day of `flowlogs demo` (and `make demo`)
MAX_REPLY_CHARS = 1000  # WhatsApp-friendly cap on AI replies; longer ones are truncated
USER_STOP_REASON = "Stopped by user"
LIVE_STOP_REASON = "stopped: the demo engine was shut down"


# ---------------------------------------------------------------------------
# Clocks


class SimulatedClock:
    """Simulated time for history: the engine 'works' by advancing it; nothing sleeps."""

    scale = 1.0  # simulated seconds are real seconds
    stopping = False  # history is never interrupted

    def __init__(self, start: dt.datetime):
        self._now = utc(start)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)

    def set(self, when: dt.datetime) -> None:
        """Jump to the start of the next execution (executions overlap, so time may go back)."""
        self._now = when


class LiveClock:
    """Real time for the live demo: advancing sleeps (scaled), cut short once stop is set."""

    now = staticmethod(utcnow)

    def __init__(self, stop: threading.Event, scale: float = LIVE_TIME_SCALE):
        self._stop = stop
        self.scale = scale

    def advance(self, seconds: float) -> None:
        self._stop.wait(seconds * self.scale)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def uuid7_at(when: dt.datetime, rng: random.Random) -> str:
    """A UUIDv7 for `when`: 48-bit unix ms, version 7, variant 10, the rest from rng."""
    ms = (when - _EPOCH) // dt.timedelta(milliseconds=1)
    value = (ms & (1 << 48) - 1) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


# ---------------------------------------------------------------------------
# Failures: the exceptions nodes raise, and the messages they carry. Each message is
# worded so schema.classify_failure files it under the intended cause (tests check).


class FlowError(Exception):
    """A node failure the engine does not recover from: the execution fails."""


class WhatsAppDisconnected(FlowError):
    pass


class InvalidRecipient(FlowError):
    pass


class TemplateError(FlowError):
    pass


class RateLimitError(FlowError):
    pass


class AuthenticationError(FlowError):
    pass


class OverloadedError(FlowError):
    pass


class HTTPError(FlowError):
    pass


class RequestTimeout(FlowError):
    pass


class Cancelled(Exception):
    """Raised between steps when the execution is stopped; it ends as cancelled."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Fault kinds planned per execution (one at most).
WHATSAPP = "whatsapp_disconnected"
INVALID_PHONE = "invalid_phone"
TEMPLATE = "template_missing"
AI_RATE_LIMIT = "ai_rate_limit"
AI_AUTH = "ai_auth"
AI_OVERLOADED = "ai_overloaded"
AI_QUOTA = "ai_quota"
HTTP = "http_error"
CANCEL = "cancelled"
AI_FAULTS = (AI_RATE_LIMIT, AI_AUTH, AI_OVERLOADED, AI_QUOTA)

WHATSAPP_ERRORS = (  # the expired session is the common one, hence twice
    "WhatsApp account disconnected: session expired, scan the QR code again",
    "WhatsApp account disconnected: session expired, scan the QR code again",
    "WhatsApp session closed by the server: the linked device was logged out",
    "WhatsApp connection lost while sending (socket closed after 30 s)",
)
BAD_PHONES = ("+49 151 ABC", "0151-2345", "+55 (11) 9", "12345", "+44 7700 90O123", "+34 6", "n/a", "+1 555-CAFE")


def ai_error(kind: str, model: str, rng: random.Random) -> FlowError:
    anthropic = model.startswith("claude")
    provider = "Anthropic" if anthropic else "OpenAI"
    if kind == AI_RATE_LIMIT:
        unit = rng.choice(("requests", "tokens"))
        return RateLimitError(f"{provider} API error 429: rate limit exceeded for {model} ({unit} per minute)")
    if kind == AI_AUTH:
        if anthropic:
            return AuthenticationError("Anthropic API key invalid (401)")
        key = f"sk-proj-****{rng.getrandbits(16):04x}"
        return AuthenticationError(f"OpenAI API key invalid (401): incorrect API key provided: {key}")
    if kind == AI_OVERLOADED:
        code = 529 if anthropic else 503
        return OverloadedError(f"{provider} API error {code}: model {model} overloaded, please retry later")
    if anthropic:
        return RateLimitError("Anthropic API error 400: credit balance too low, add credits to keep using the API")
    return RateLimitError("OpenAI API error 429: you exceeded your current quota, check your plan and billing details")


def invalid_phone_error(contact: dict) -> InvalidRecipient:
    return InvalidRecipient(f"Invalid phone number '{contact['phone']}' for contact '{contact_label(contact)}'")


def not_on_whatsapp_error(contact: dict) -> InvalidRecipient:
    return InvalidRecipient(f"Recipient {contact['phone']} is not on WhatsApp (error 131026)")


def template_error(variable: str, contact: dict) -> TemplateError:
    label = contact.get("name") or contact.get("phone")
    return TemplateError(f"Template variable {{{{{variable}}}}} is missing for contact '{label}'")


def sample_errors() -> list[tuple[FailureCause, str]]:
    """One rendered message of every failure the simulator produces, with its intended cause."""
    rng = random.Random(0)
    contact = {"name": "Ana Souza", "phone": "+49 151 ABC"}
    out = [(FailureCause.WHATSAPP_CONNECTION, f"WhatsAppDisconnected: {m}") for m in WHATSAPP_ERRORS]
    out += [(FailureCause.INVALID_PHONE, str(invalid_phone_error(contact))),
            (FailureCause.INVALID_PHONE, str(not_on_whatsapp_error({"phone": "+4917612345678"}))),
            (FailureCause.INVALID_PHONE, batch_failure_text([invalid_phone_error(contact)] * 2, 100)),
            (FailureCause.TEMPLATE_VARIABLE, f"TemplateError: {template_error('first_name', contact)}"),
            (FailureCause.TEMPLATE_VARIABLE, str(template_error("time", {"phone": "+4917612345678"})))]
    for kind in AI_FAULTS:
        for model in MODELS:
            exc = ai_error(kind, model, rng)
            out.append((FailureCause.AI_PROVIDER, f"{type(exc).__name__}: {exc}"))
    for url in ("https://verde-coffee.myshopify.com/admin/api/2024-10/orders.json?name=%23VC-10482",
                "https://api.hubapi.com/crm/v3/objects/deals"):
        for seed in range(8):
            exc = http_error(random.Random(seed), "GET", url)[0]
            out.append((FailureCause.OTHER, f"{type(exc).__name__}: {exc}"))
    return out


def http_error(rng: random.Random, method: str, url: str) -> tuple[FlowError, float]:
    """An upstream failure and how long the request hung before it."""
    if rng.random() < 0.35:
        return RequestTimeout(f"{method} {url} timed out after 30 s"), 30.0
    code, reason = rng.choice(((502, "Bad Gateway"), (500, "Internal Server Error"), (503, "Service Unavailable"),
                               (504, "Gateway Timeout")))
    return HTTPError(f"{code} {reason} from {method} {url}"), rng.uniform(0.1, 2.0)


def batch_failure_text(problems: Sequence[Exception], size: int) -> str:
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return f"{problems[0]}{more}; {len(problems)} of {size} messages in this batch failed"


# ---------------------------------------------------------------------------
# Contacts: names, E.164 numbers and languages of the tenant's customers.

# (country, language, calling code, mobile prefixes, digits after the prefix, weight)
COUNTRIES = (
    ("DE", "de", "+49", ("151", "152", "157", "160", "170", "176"), 8, 30),
    ("AT", "de", "+43", ("664", "660", "676"), 7, 4),
    ("BR", "pt", "+55", ("119", "219", "319", "419"), 8, 20),
    ("PT", "pt", "+351", ("91", "92", "93", "96"), 7, 6),
    ("ES", "es", "+34", ("6", "7"), 8, 12),
    ("MX", "es", "+52", ("55", "33", "81"), 8, 8),
    ("AR", "es", "+54", ("911", "9351"), 7, 4),
    ("GB", "en", "+44", ("7",), 9, 6),
    ("US", "en", "+1", ("212", "415", "646", "305", "512"), 7, 5),
    ("IN", "en", "+91", ("98", "99", "97", "90"), 8, 5),
)
FIRST_NAMES = {
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Tobias", "Katharina", "Mehmet",
           "Aylin"),
    "pt": ("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Rafael", "Camila", "Thiago", "Larissa"),
    "es": ("Carlos", "Lucía", "Javier", "Sofía", "Diego", "Valentina", "Mateo", "Camila", "Alejandro", "Isabel"),
    "en": ("James", "Emily", "Oliver", "Priya", "Aisha", "Daniel", "Chloe", "Arjun", "Grace", "Michael"),
}
LAST_NAMES = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann", "Yılmaz"),
    "pt": ("Silva", "Souza", "Oliveira", "Santos", "Pereira", "Costa", "Almeida", "Ferreira"),
    "es": ("García", "Martínez", "López", "Hernández", "González", "Rodríguez", "Pérez", "Sánchez"),
    "en": ("Smith", "Patel", "Johnson", "Williams", "Brown", "Khan", "Taylor", "Okafor"),
}
TAGS = ("newsletter", "vip", "espresso", "filter-coffee", "subscription", "cafe-regular", "wholesale", "lapsed-90d")
MANAGER = {"name": "Jana Krüger", "phone": "+4915201234567", "tags": ["staff", "manager"], "language": "de"}
OPS_MANAGER = {"name": "Rafael Costa", "phone": "+5511987650123", "tags": ["staff"], "language": "pt"}
CAFES = {"de": "Kreuzberg", "pt": "Pinheiros", "es": "Malasaña", "en": "Kreuzberg"}

_E164 = re.compile(E164)
# One entry per unit of weight, so a single random index picks a country (broadcasts make many contacts).
_COUNTRY_TABLE = tuple((lang, code, prefixes, digits, FIRST_NAMES[lang], LAST_NAMES[lang])
                       for _, lang, code, prefixes, digits, weight in COUNTRIES for _ in range(weight))


def _tag_table(tags: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Tags chosen by 3 random bits each (a tag when its bits are 0: 1 in 8), for every bit pattern."""
    return tuple(tuple(t for i, t in enumerate(tags) if (bits >> 3 * i) & 7 == 0) for bits in range(8 ** len(tags)))


_TAGS_LOW, _TAGS_HIGH = _tag_table(TAGS[:4]), _tag_table(TAGS[4:])


def make_contact(rng: random.Random, *, tags: Sequence[str] = ()) -> dict:
    lang, code, prefixes, digits, firsts, lasts = _COUNTRY_TABLE[int(rng.random() * len(_COUNTRY_TABLE))]
    # one draw of random bits feeds every field: contact generation dominates the broadcasts
    bits = rng.getrandbits(96)
    phone = code + prefixes[(bits & 0xFF) % len(prefixes)] + str((bits >> 48) % 10**digits).zfill(digits)
    name = f"{firsts[(bits >> 8 & 0xFF) % len(firsts)]} {lasts[(bits >> 16 & 0xFF) % len(lasts)]}"
    extra = _TAGS_LOW[bits >> 24 & 0xFFF] + _TAGS_HIGH[bits >> 36 & 0xFFF]
    return {"name": name, "phone": phone, "tags": [*tags, *extra], "language": lang}


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


def first_name(contact: dict) -> str | None:
    name = contact.get("name")
    return name.split()[0] if name else None


def contact_label(contact: dict) -> str:
    return first_name(contact) or contact.get("phone") or "unknown"


def order_number(rng: random.Random) -> str:
    return f"#VC-{rng.randint(10000, 48999)}"


# ---------------------------------------------------------------------------
# The engine: one helper per node type.


@functools.cache
def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def node_id(name: str) -> str:
    return "n-" + slug(name)


def approx_tokens(chars: int, rng: random.Random) -> int:
    """About four characters a token, as the providers' tokenizers count English-like text."""
    return max(1, round(chars / 4 * rng.uniform(0.93, 1.07)))


class Engine:
    """Runs the nodes of one execution against its record, the way the flow engine does.

    Each helper is one node type: it opens a step, does the node's work by advancing the
    clock, fills input and output, and fails the way that node fails in production. At
    most one planned fault (`fault`) strikes per execution.
    """

    def __init__(self, run: ExecutionRecord, rng: random.Random, clock: SimulatedClock | LiveClock, *,
                 fault: str | None = None, customer: dict | None = None, long_running: bool = False):
        self.run = run
        self.rng = rng
        self.clock = clock
        self.fault = fault
        self.customer = customer
        self.long_running = long_running
        self.unreachable: set[str] = set()  # well-formed numbers WhatsApp does not know
        self.sends = 0
        # a disconnect hits after some messages went out, not always on the first one
        self.disconnect_after = rng.choice((0, 0, 1, 2, 4, 9)) if fault == WHATSAPP else 0

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


# ---------------------------------------------------------------------------
# What customers write, and what the tenant answers, per language.

MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4")

SUPPORT_INTENTS = ("order_status", "return_request", "product_question", "opening_hours", "complaint", "human_agent")
SUPPORT_INTENT_WEIGHTS = (34, 10, 24, 12, 12, 8)
HUMAN_INTENTS = ("complaint", "human_agent")

SUPPORT_MESSAGES = {
    "en": {
        "order_status": ("Hi, where is my order {order}? It's been 5 days already",
                         "hey any update on {order}?? tracking hasn't moved since monday",
                         "Hello! I ordered the Ethiopia Yirgacheffe last week (order {order}), when will it arrive?"),
        "return_request": ("The V60 dripper arrived cracked :( can I get a replacement? Order {order}",
                           "I got the wrong grinder burrs in order {order}, how do I return them?"),
        "product_question": ("Is the Colombia Huila good for espresso or more for filter?",
                             "Do you sell decaf beans? My wife can't have caffeine after 4pm",
                             "What grind size should I use for a French press with the Casa Blend?"),
        "opening_hours": ("What time does the Kreuzberg café open on Sunday?", "Are you open on bank holidays?"),
        "complaint": ("Second time my subscription box arrived late. Not happy at all.",
                      "The beans from order {order} taste stale, roast date was 2 months ago!!"),
        "human_agent": ("Can I talk to a real person please", "I need to speak to someone about our wholesale invoice"),
    },
    "pt": {
        "order_status": ("Oi, cadê meu pedido {order}? Já faz uma semana",
                         "Boa tarde! Meu pedido {order} ainda não chegou, podem verificar?"),
        "return_request": ("Recebi o moedor com defeito (pedido {order}), como faço a troca?",),
        "product_question": ("Vocês têm café descafeinado?", "Qual café vocês recomendam para coado?"),
        "opening_hours": ("Que horas a cafeteria de Pinheiros abre no sábado?",),
        "complaint": ("O café do pedido {order} chegou com a embalagem rasgada, muito decepcionado",),
        "human_agent": ("Quero falar com um atendente, por favor",),
    },
    "es": {
        "order_status": ("Hola, ¿dónde está mi pedido {order}?",
                         "Buenas, mi pedido {order} sigue sin llegar, ¿me ayudan?"),
        "return_request": ("Me llegó la prensa francesa rota (pedido {order}), ¿cómo la devuelvo?",),
        "product_question": ("¿Qué café me recomiendan para moka italiana?", "¿Tienen suscripción mensual?"),
        "opening_hours": ("¿A qué hora abre la cafetería de Malasaña los domingos?",),
        "complaint": ("Pedí molido para espresso y me llegó en grano entero. Qué mal.",),
        "human_agent": ("¿Puedo hablar con una persona?",),
    },
    "de": {
        "order_status": ("Hallo, wo bleibt meine Bestellung {order}?",
                         "Guten Tag, Bestellung {order} ist laut DHL seit Tagen im Verteilzentrum. Können Sie "
                         "nachfragen?"),
        "return_request": ("Die Mühle aus Bestellung {order} macht komische Geräusche, kann ich sie zurückschicken?",),
        "product_question": ("Welche Bohnen empfehlen Sie für Siebträger?",
                             "Gibt es den Casa Blend auch in 1 kg?"),
        "opening_hours": ("Hat das Café in Kreuzberg am Feiertag geöffnet?",),
        "complaint": ("Schon wieder kam das Abo zu spät. Sehr ärgerlich.",),
        "human_agent": ("Ich möchte bitte mit einem Mitarbeiter sprechen",),
    },
}

SIGNATURE = "\n— Lina, Verde Coffee"
SUPPORT_REPLIES = {
    "en": {
        "order_status": "Hi {first}! Your order {order} left our roastery on {shipped} and is with DHL now "
                        "(tracking {tracking}). The latest scan says it is at the local depot, so it should "
                        "arrive {eta}. You can follow it here: https://www.dhl.de/en/track?id={tracking} ☕",
        "return_request": "I'm sorry about that, {first}! Equipment can be returned within 30 days and for damaged "
                          "items we cover the shipping. I've emailed you a prepaid return label for order {order}; "
                          "once the parcel is scanned we send a replacement or a refund within 3 business days, "
                          "your choice.",
        "product_question": "Good question, {first}! {product} If you tell me your brewer (espresso machine, V60, "
                            "French press or moka pot) I can suggest the right grind size too.",
        "opening_hours": "Hi {first}! Our cafés are open Mon–Fri 7:30–19:00 and Sat–Sun 9:00–18:00. On public "
                         "holidays we're closed, but the online shop ships as usual. See you soon! ☕",
    },
    "pt": {
        "order_status": "Oi {first}! Seu pedido {order} saiu da torrefação em {shipped} e está com os Correios "
                        "(rastreio {tracking}). Ele já está no centro de distribuição e deve chegar {eta}. "
                        "Acompanhe aqui: https://rastreamento.correios.com.br/?objeto={tracking} ☕",
        "return_request": "Poxa, {first}, sinto muito! Equipamentos podem ser trocados em até 30 dias e o frete "
                          "é por nossa conta. Enviei por e-mail a etiqueta de devolução do pedido {order}; assim "
                          "que for postado, mandamos um novo ou devolvemos o valor em até 3 dias úteis.",
        "product_question": "Ótima pergunta, {first}! {product} Me conta qual método você usa (espresso, V60, "
                            "prensa francesa ou moka) que eu indico a moagem ideal.",
        "opening_hours": "Oi {first}! A cafeteria de Pinheiros abre de seg a sex das 7:30 às 19:00 e sáb e dom "
                         "das 9:00 às 18:00. Nos feriados fechamos, mas a loja online continua enviando. ☕",
    },
    "es": {
        "order_status": "¡Hola {first}! Tu pedido {order} salió del tostadero el {shipped} y ya está con Correos "
                        "Express (seguimiento {tracking}). Está en la delegación local, así que debería llegar "
                        "{eta}. Puedes seguirlo aquí: https://s.correosexpress.com/{tracking} ☕",
        "return_request": "¡Lo siento mucho, {first}! Los accesorios se pueden devolver en 30 días y si llegan "
                          "dañados pagamos nosotros el envío. Te he mandado por email la etiqueta de devolución del "
                          "pedido {order}; en cuanto la escaneen, te enviamos otro o te devolvemos el dinero.",
        "product_question": "¡Buena pregunta, {first}! {product} Si me dices con qué preparas el café (espresso, "
                            "V60, prensa francesa o moka) te recomiendo también la molienda.",
        "opening_hours": "¡Hola {first}! La cafetería de Malasaña abre de lunes a viernes de 7:30 a 19:00 y los "
                         "fines de semana de 9:00 a 18:00. Los festivos cerramos, pero la tienda online sigue "
                         "enviando. ☕",
    },
    "de": {
        "order_status": "Hallo {first}! Deine Bestellung {order} hat unsere Rösterei am {shipped} verlassen und ist "
                        "bei DHL (Sendungsnummer {tracking}). Laut letztem Scan liegt sie im Zustellzentrum und "
                        "kommt voraussichtlich {eta}. Verfolgen: https://www.dhl.de/de/privatkunden.html?"
                        "piececode={tracking} ☕",
        "return_request": "Das tut mir leid, {first}! Zubehör kannst du innerhalb von 30 Tagen zurückschicken, bei "
                          "Schäden übernehmen wir den Versand. Das Retourenlabel für Bestellung {order} ist in deinem "
                          "Postfach; sobald das Paket gescannt ist, schicken wir Ersatz oder erstatten den Betrag.",
        "product_question": "Gute Frage, {first}! {product} Wenn du mir sagst, womit du brühst (Siebträger, V60, "
                            "French Press oder Mokkakanne), empfehle ich dir auch den passenden Mahlgrad.",
        "opening_hours": "Hallo {first}! Unser Café in Kreuzberg hat Mo–Fr 7:30–19:00 und Sa–So 9:00–18:00 "
                         "geöffnet. An Feiertagen ist geschlossen, der Onlineshop versendet wie gewohnt. ☕",
    },
}
PRODUCT_TIPS = {
    "en": ("For espresso I'd pick our Brasil Cerrado (chocolate, hazelnut) or the Casa Blend, both medium-dark, "
           "250 g for €11.90.", "For filter our Ethiopia Yirgacheffe is lovely: jasmine, lemon and peach, light "
           "roast, 250 g for €14.50.", "Yes! Our Swiss Water decaf from Colombia tastes of caramel and red apple, "
           "250 g for €12.50."),
    "pt": ("Para espresso recomendo o Brasil Cerrado (chocolate e avelã) ou o Casa Blend, torra média-escura, "
           "250 g por R$ 59,90.", "Para coado o Etiópia Yirgacheffe é incrível: jasmim, limão e pêssego, 250 g "
           "por R$ 74,90.", "Temos sim! O descafeinado Swiss Water da Colômbia tem notas de caramelo, 250 g por "
           "R$ 62,90."),
    "es": ("Para moka o espresso te recomiendo el Brasil Cerrado (chocolate, avellana) o el Casa Blend, 250 g "
           "por 11,90 €.", "Para filtro el Etiopía Yirgacheffe es precioso: jazmín, limón y melocotón, 250 g "
           "por 14,50 €.", "¡Sí! Tenemos suscripción mensual desde 24 €: eliges tostado y molienda y lo "
           "enviamos el primer lunes de cada mes."),
    "de": ("Für Siebträger empfehle ich den Brasil Cerrado (Schokolade, Haselnuss) oder den Casa Blend, "
           "250 g für 11,90 €.", "Den Casa Blend gibt es auch als 1-kg-Beutel für 39,90 €, ideal für Büro "
           "und Vieltrinker.", "Für Filter ist der Äthiopien Yirgacheffe toll: Jasmin, Zitrone, Pfirsich, "
           "250 g für 14,50 €."),
}
# A long brewing guide some replies append: those exceed MAX_REPLY_CHARS and get truncated.
BREW_GUIDE = ("\n\nQuick brewing guide: espresso 18 g in, 36 g out in 27–30 s at 93 °C; V60 15 g to 250 g "
              "water at 94 °C, bloom 30 s with 40 g, total time 2:45–3:15; French press 30 g coarse to 500 g "
              "water, steep 4 min, break the crust, wait 5 more minutes and pour slowly; moka pot fill the "
              "basket without tamping, start with hot water and take it off the heat as soon as it gurgles. "
              "Store beans airtight, away from light, and grind just before brewing for the best cup. If "
              "your espresso runs too fast (under 22 s) grind finer; if it chokes or tastes bitter, grind "
              "coarser or lower the dose by half a gram. For filter, sour cups mean under-extraction (grind "
              "finer, hotter water), dry or bitter cups mean over-extraction (grind coarser).")
HANDOFF = {
    "en": "Thanks for your message, {first}. I've passed it to a teammate who will reply here within the next "
          "hour (Mon–Sat 8:00–20:00).",
    "pt": "Obrigada pela mensagem, {first}. Já passei para alguém da equipe, que responde por aqui em até uma "
          "hora (seg–sáb 8:00–20:00).",
    "es": "Gracias por tu mensaje, {first}. Se lo he pasado a un compañero que te responderá aquí en menos de "
          "una hora (lun–sáb 8:00–20:00).",
    "de": "Danke für deine Nachricht, {first}. Ich habe sie an eine Kollegin weitergegeben, die dir innerhalb "
          "einer Stunde hier antwortet (Mo–Sa 8:00–20:00).",
}
ETA = {"en": ("tomorrow", "on Thursday", "within 2 days"), "pt": ("amanhã", "na quinta-feira", "em até 2 dias"),
       "es": ("mañana", "el jueves", "en 2 días"), "de": ("morgen", "am Donnerstag", "in den nächsten 2 Tagen")}

SUPPORT_SYSTEM = (
    "You are Lina, the WhatsApp support assistant of Verde Coffee Roasters, a specialty coffee roaster with an "
    "online shop and three cafés (Berlin-Kreuzberg, São Paulo-Pinheiros, Madrid-Malasaña).\n"
    "Rules:\n"
    "- Answer in the customer's language, warm and concise (max. 600 characters, no headings).\n"
    "- Use only the order data provided; never invent tracking numbers, prices or delivery dates.\n"
    "- Shipping: Germany 1–2 business days (DHL), EU 3–5 days, Brazil 4–8 days (Correios). Free shipping "
    "over €35 / R$199.\n"
    "- Returns: unopened coffee within 14 days; equipment within 30 days, we email a prepaid label.\n"
    "- Café hours: Mon–Fri 7:30–19:00, Sat–Sun 9:00–18:00; closed on public holidays.\n"
    "- If the customer is angry, asks for a human or mentions an invoice, say a teammate will take over.\n"
    "Sign off with \"— Lina, Verde Coffee\"."
)
CLASSIFY_SYSTEM = (
    "Classify the customer's WhatsApp message for Verde Coffee Roasters into exactly one intent: order_status, "
    "return_request, product_question, opening_hours, complaint, human_agent. Detect the language (ISO 639-1). "
    "Respond with JSON only: {\"intent\": ..., \"language\": ..., \"confidence\": 0..1}."
)


def support_prompt(e: Engine, text: str, intent: str, order: str, tracking: str) -> str:
    """The user prompt the support node builds: profile, order data, the conversation, the message."""
    rng, c = e.rng, e.customer
    orders = rng.randint(1, 14)
    profile = (f"Customer: {c['name'] or 'unknown'} ({c['phone']}), language: {c['language']}, "
               f"tags: {', '.join(c['tags']) or 'none'}, orders: {orders}, lifetime value: €{orders * 23.4:.2f}")
    data = "Order data: none (not about an order)"
    if intent in ("order_status", "return_request"):
        item = rng.choice(CART_ITEMS)
        data = (f"Order data (Shopify): {{\"name\": \"{order}\", \"created_at\": \"{shipped_on(e, 4)}\", "
                f"\"financial_status\": \"paid\", \"fulfillment_status\": \"fulfilled\", \"line_items\": "
                f"[{{\"title\": \"{item}\", \"quantity\": {rng.randint(1, 3)}}}], \"shipping_address\": "
                f"{{\"country_code\": \"{c['phone'][1:3]}\"}}, \"tracking\": {{\"company\": \"DHL\", "
                f"\"number\": \"{tracking}\", \"last_event\": \"arrived at delivery depot\"}}}}")
    turns = rng.choice(((), ("customer: hello?",), ("assistant: Hi! How can I help you today? ☕",
                                                    "customer: I have a question")))
    conversation = "\n".join(turns) or "(new conversation)"
    return (f"{profile}\nDetected intent: {intent}\n{data}\n\nConversation so far:\n{conversation}\n\n"
            f"New message:\n{text}\n\nWrite the reply.")


def support_message(rng: random.Random, lang: str, intent: str, order: str) -> str:
    return rng.choice(SUPPORT_MESSAGES[lang][intent]).format(order=order)


def shipped_on(e: Engine, days_ago: int) -> str:
    return (e.clock.now() - dt.timedelta(days=days_ago)).strftime("%d.%m.")


def tracking_number(rng: random.Random) -> str:
    return "00340434" + str(rng.randrange(10**12)).zfill(12)


# ---------------------------------------------------------------------------
# The flows. Each takes an Engine and runs its nodes in order.


def support_auto_reply(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    intent = rng.choices(SUPPORT_INTENTS, weights=SUPPORT_INTENT_WEIGHTS)[0]
    order = order_number(rng)
    text = support_message(rng, lang, intent, order)
    e.receive(text)
    verdict = {"intent": intent, "language": lang, "confidence": round(rng.uniform(0.71, 0.99), 2)}
    e.ai("Classify Intent", "gpt-4o-mini", CLASSIFY_SYSTEM, text, json.dumps(verdict), output=verdict,
         input={"model": "gpt-4o-mini", "temperature": 0, "response_format": "json_object"})
    needs_human = intent in HUMAN_INTENTS
    e.condition("Needs Human?", "{{intent}} in ['complaint', 'human_agent']", intent, needs_human)
    if needs_human:
        e.send(MANAGER, f"🔔 {c['name']} ({c['phone']}) needs a human ({intent}): \"{text}\"",
               name="Notify Support Team")
        e.skip("AI Response", "ai_response")
        e.send(c, HANDOFF[lang].format(first=first))
        return
    e.skip("Notify Support Team", "send_message")
    # an A/B test sends a tenth of the conversations to the bigger model
    model = "gpt-4o" if rng.random() < 0.1 else "gpt-4o-mini"
    tracking = tracking_number(rng)
    user = support_prompt(e, text, intent, order, tracking)
    reply = SUPPORT_REPLIES[lang][intent].format(
        first=first, order=order, shipped=shipped_on(e, 3), tracking=tracking,
        eta=rng.choice(ETA[lang]), product=rng.choice(PRODUCT_TIPS[lang]))
    if intent == "product_question" and rng.random() < 0.15:
        reply += BREW_GUIDE
    reply = e.ai("AI Response", model, SUPPORT_SYSTEM, user, reply + SIGNATURE,
                 input={"model": model, "temperature": 0.4, "message": text, "intent": intent})
    e.send(c, reply)


ORDER_STATUS = {"en": ("on its way with DHL", "being packed at the roastery"),
                "pt": ("a caminho com os Correios", "sendo embalado na torrefação"),
                "es": ("en camino con Correos Express", "preparándose en el tostadero"),
                "de": ("mit DHL unterwegs", "wird gerade in der Rösterei gepackt")}
ORDER_UPDATE = {
    "en": "Hi {first_name}! Your order {order_number} is {status}. Track it here: {tracking_url}",
    "pt": "Oi {first_name}! Seu pedido {order_number} está {status}. Acompanhe aqui: {tracking_url}",
    "es": "¡Hola {first_name}! Tu pedido {order_number} está {status}. Síguelo aquí: {tracking_url}",
    "de": "Hallo {first_name}! Deine Bestellung {order_number} ist {status}. Sendungsverfolgung: {tracking_url}",
}
ASK_ORDER = {
    "en": "Happy to check, {first}! Could you send me your order number? It starts with #VC and is in your "
          "confirmation email.",
    "pt": "Claro, {first}! Pode me mandar o número do pedido? Ele começa com #VC e está no e-mail de confirmação.",
    "es": "¡Claro, {first}! ¿Me pasas el número de pedido? Empieza por #VC y está en el email de confirmación.",
    "de": "Gern, {first}! Schickst du mir die Bestellnummer? Sie beginnt mit #VC und steht in der "
          "Bestätigungsmail.",
}
VAGUE_ORDER_MESSAGES = {"en": "hi where is my package", "pt": "oi, meu pedido ainda não chegou",
                        "es": "hola, no me ha llegado el pedido", "de": "Hallo, mein Paket ist noch nicht da"}
EXTRACT_SYSTEM = ("Extract the Verde Coffee order number (format #VC-12345) from the customer's message. "
                  "Respond with JSON only: {\"order_number\": string|null}.")


def order_status_lookup(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    order = order_number(rng)
    has_number = rng.random() < 0.8
    text = support_message(rng, lang, "order_status", order) if has_number else VAGUE_ORDER_MESSAGES[lang]
    e.receive(text)
    extracted = {"order_number": order if has_number else None}
    e.ai("Extract Order Number", "gpt-4o-mini", EXTRACT_SYSTEM, text, json.dumps(extracted), output=extracted,
         input={"model": "gpt-4o-mini", "temperature": 0, "response_format": "json_object"})
    if not e.condition("Order Number Found?", "{{order_number}} is not empty", extracted["order_number"],
                       has_number):
        e.skip("Get Order", "http_request")
        e.send(c, ASK_ORDER[lang].format(first=first))
        return
    # a misconfigured run sends the tracking template for an order that has not shipped yet
    misconfigured = e.take_fault(TEMPLATE)
    fulfilled = not misconfigured and rng.random() < 0.75
    tracking = tracking_number(rng) if fulfilled else None
    url = f"https://verde-coffee.myshopify.com/admin/api/2024-10/orders.json?name=%23{order[1:]}&status=any"
    found = e.http("Get Order", "GET", url, low=0.15, high=1.2, response={"orders": [{
        "name": order, "financial_status": "paid", "fulfillment_status": "fulfilled" if fulfilled else None,
        "tracking_company": "DHL" if fulfilled else None, "tracking_number": tracking,
        "line_items": [{"title": "Casa Blend 250 g", "quantity": rng.randint(1, 3), "price": "11.90"}]}]})
    status = ORDER_STATUS[lang][0 if fulfilled else 1]
    variables = {"first_name": first, "order_number": found["orders"][0]["name"], "status": status,
                 "tracking_url": f"https://verdecoffee.com/track/{tracking}" if tracking else None}
    required = ("first_name", "order_number", "tracking_url") if misconfigured else ("first_name",)
    if not fulfilled and not misconfigured:
        variables["tracking_url"] = "https://verdecoffee.com/account/orders"
    e.send(c, ORDER_UPDATE[lang], template="order_update", variables=variables, required=required,
           fallback={"first_name": "there"})


LEAD_MESSAGES = {
    "en": ("Hi, I run a small café in Leeds (2 locations) and we're looking for a new espresso roaster, about "
           "{kg} kg a week. Do you do wholesale?", "Hello, we're an office of 120 people in London, could you "
           "supply beans for our bean-to-cup machines? Roughly {kg} kg per week."),
    "de": ("Hallo, wir eröffnen im Mai ein Café in Leipzig und suchen eine Rösterei, ca. {kg} kg pro Woche. "
           "Bieten Sie Großhandel an?",),
    "es": ("Hola, tengo un restaurante en Valencia y buscamos café de especialidad, unos {kg} kg a la semana. "
           "¿Trabajáis con hostelería?",),
    "pt": ("Olá, tenho uma padaria em Campinas e quero servir café especial, uns {kg} kg por semana. Vocês "
           "vendem no atacado?",),
}
LEAD_SYSTEM = (
    "You qualify wholesale leads for Verde Coffee Roasters. Score 0-100 how likely the sender becomes a wholesale "
    "customer: cafés, restaurants and offices buying 10+ kg a week score high; private customers score low. "
    "Minimum order is 10 kg/month. Extract segment (cafe, restaurant, office, retail, private), city and "
    "estimated weekly volume in kg. Respond with JSON only: {\"score\": int, \"segment\": str, \"city\": str, "
    "\"volume_kg_week\": number, \"summary\": str}."
)
LEAD_REPLIES = {
    "en": ("Thanks {first}! That sounds like a great fit. Our wholesale lead Marta will call you within one "
           "business day with samples and pricing for ~{kg} kg a week.", "Thanks {first}! Here is our wholesale "
           "price list: https://verdecoffee.com/wholesale.pdf (minimum order 10 kg a month). Reply here with "
           "any questions."),
    "de": ("Danke {first}! Das passt sehr gut. Marta aus unserem Großhandelsteam ruft dich innerhalb eines "
           "Werktags an, mit Mustern und Preisen für ca. {kg} kg pro Woche.", "Danke {first}! Hier ist unsere "
           "Großhandelspreisliste: https://verdecoffee.com/wholesale.pdf (Mindestbestellung 10 kg im Monat)."),
    "es": ("¡Gracias {first}! Encaja muy bien. Marta, de nuestro equipo mayorista, te llamará en un día "
           "laborable con muestras y precios para unos {kg} kg a la semana.", "¡Gracias {first}! Aquí tienes "
           "nuestra tarifa mayorista: https://verdecoffee.com/wholesale.pdf (pedido mínimo 10 kg al mes)."),
    "pt": ("Obrigada, {first}! Tem tudo a ver com a gente. A Marta, do atacado, vai te ligar em até um dia útil "
           "com amostras e preços para uns {kg} kg por semana.", "Obrigada, {first}! Aqui está nossa tabela de "
           "atacado: https://verdecoffee.com/wholesale.pdf (pedido mínimo de 10 kg por mês)."),
}


def lead_qualification(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    kg = rng.choice((4, 8, 12, 15, 20, 25, 40))
    text = rng.choice(LEAD_MESSAGES[lang]).format(kg=kg)
    e.receive(text)
    score = min(98, max(12, round(kg * 3.2 + rng.uniform(-10, 20))))
    segment = rng.choice(("cafe", "restaurant", "office"))
    verdict = {"score": score, "segment": segment, "city": rng.choice(("Leeds", "Leipzig", "Valencia", "Campinas")),
               "volume_kg_week": kg, "summary": f"{segment.title()} asking for about {kg} kg/week of espresso "
               f"beans; wants wholesale pricing and samples."}
    e.ai("Qualify Lead", "claude-sonnet-4", LEAD_SYSTEM, f"From: {c['name']} ({c['phone']})\n\n{text}",
         json.dumps(verdict, ensure_ascii=False), output=verdict,
         input={"model": "claude-sonnet-4", "temperature": 0, "max_tokens": 400})
    hot = e.condition("Hot Lead?", "{{score}} >= 70", score, score >= 70)
    if hot:
        e.http("Create CRM Deal", "POST", "https://api.hubapi.com/crm/v3/objects/deals", low=0.3, high=1.8,
               body={"properties": {"dealname": f"Wholesale – {c['name']}", "pipeline": "wholesale",
                                    "dealstage": "qualifiedtobuy", "amount": str(kg * 52 * 18)}},
               response={"id": str(rng.randrange(10**10, 10**11)), "createdAt": e.clock.now().isoformat()},
               status=201)
    else:
        e.skip("Create CRM Deal", "http_request")
    e.send(c, LEAD_REPLIES[lang][0 if hot else 1].format(first=first, kg=kg))


RESERVATION_MESSAGES = {
    "en": "Hi! Can I book a table for {n} {day} at {time}?",
    "pt": "Oi! Queria reservar uma mesa para {n} pessoas {day} às {time}",
    "es": "Hola, ¿tenéis mesa para {n} {day} a las {time}?",
    "de": "Hallo, haben Sie {day} um {time} einen Tisch für {n} Personen frei?",
}
RESERVATION_DAYS = {"en": ("today", "tomorrow", "on Saturday"), "pt": ("hoje", "amanhã", "no sábado"),
                    "es": ("hoy", "mañana", "el sábado"), "de": ("heute", "morgen", "am Samstag")}
RESERVATION_REPLIES = {
    "en": ("Done, {first}! Your table for {n} {day} at {time} at our {cafe} café is booked (ref {ref}). "
           "See you soon ☕", "Sorry {first}, we're fully booked {day} at {time}. We still have {alt1} or {alt2}, "
           "shall I book one of those?"),
    "pt": ("Pronto, {first}! Sua mesa para {n} {day} às {time} na cafeteria de {cafe} está reservada "
           "(código {ref}). Até logo ☕", "Poxa, {first}, {day} às {time} estamos lotados. Temos {alt1} ou "
           "{alt2}, quer que eu reserve?"),
    "es": ("¡Listo, {first}! Tu mesa para {n} {day} a las {time} en la cafetería de {cafe} está reservada "
           "(ref. {ref}). ¡Hasta pronto! ☕", "Lo siento, {first}, {day} a las {time} estamos completos. Nos "
           "quedan {alt1} o {alt2}, ¿te reservo alguna?"),
    "de": ("Erledigt, {first}! Dein Tisch für {n} {day} um {time} in unserem Café in {cafe} ist reserviert "
           "(Nr. {ref}). Bis bald ☕", "Sorry {first}, {day} um {time} sind wir ausgebucht. Frei wären noch "
           "{alt1} oder {alt2}, soll ich einen davon buchen?"),
}
RESERVATION_SYSTEM = (
    "Extract a table reservation request for a Verde Coffee café from the message. Today is {today}. Resolve "
    "relative days to ISO dates, times to 24h HH:MM. Respond with JSON only: {{\"party_size\": int, \"date\": "
    "\"YYYY-MM-DD\", \"time\": \"HH:MM\", \"cafe\": \"Kreuzberg|Pinheiros|Malasaña\"}}."
)


def cafe_table_reservations(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    n, day_index = rng.randint(2, 8), rng.randrange(3)
    day = RESERVATION_DAYS[lang][day_index]
    time = rng.choice(("09:30", "10:00", "11:30", "13:00", "15:30", "17:00"))
    text = RESERVATION_MESSAGES[lang].format(n=n, day=day, time=time)
    e.receive(text)
    date = (e.clock.now() + dt.timedelta(days=(0, 1, 3)[day_index])).date().isoformat()
    request = {"party_size": n, "date": date, "time": time, "cafe": CAFES[lang]}
    e.ai("Parse Reservation", "claude-3-5-haiku", RESERVATION_SYSTEM.format(today=e.clock.now().date()), text,
         json.dumps(request, ensure_ascii=False), output=request,
         input={"model": "claude-3-5-haiku", "temperature": 0, "max_tokens": 200})
    available = rng.random() < 0.7
    slots = [time] if available else ["12:30", "16:00"]
    e.http("Check Availability", "GET", f"https://booking.verdecoffee.com/api/v1/availability?cafe="
           f"{CAFES[lang].lower()}&date={date}&party={n}", low=0.1, high=0.9,
           response={"available": available, "free_slots": slots})
    ref = f"R-{rng.randint(10000, 99999)}"
    if e.condition("Table Available?", "{{available}} == true", available, available):
        e.http("Book Table", "POST", "https://booking.verdecoffee.com/api/v1/reservations", low=0.2, high=1.1,
               body={**request, "name": c["name"], "phone": c["phone"]},
               response={"reservation_id": ref, "status": "confirmed"}, status=201)
    else:
        e.skip("Book Table", "http_request")
    reply = RESERVATION_REPLIES[lang][0 if available else 1]
    e.send(c, reply.format(first=first, n=n, day=day, time=time, cafe=CAFES[lang], ref=ref,
                           alt1=slots[0], alt2=slots[-1]))


FEEDBACK_MESSAGES = {
    "en": (("5! the flat white was amazing and the staff super friendly", "positive"),
           ("2 - waited 20 minutes for a cappuccino and it was lukewarm", "negative"),
           ("4, great coffee but the wifi kept dropping", "neutral")),
    "pt": (("5! Melhor pão de queijo de Pinheiros, café perfeito", "positive"),
           ("1. O atendente foi grosso e o café veio errado", "negative")),
    "es": (("5, el cold brew está buenísimo", "positive"), ("2, muy lento el servicio el sábado", "negative")),
    "de": (("5 Sterne, bester Cortado in Kreuzberg!", "positive"),
           ("2 – Kuchen war alt und die Musik viel zu laut", "negative")),
}
FEEDBACK_THANKS = {"en": "Thank you, {first}! We read every message and pass it on to the team 💚",
                   "pt": "Obrigado, {first}! Lemos todas as mensagens e passamos para a equipe 💚",
                   "es": "¡Gracias, {first}! Leemos todos los mensajes y se los pasamos al equipo 💚",
                   "de": "Danke, {first}! Wir lesen jede Nachricht und geben sie ans Team weiter 💚"}
SENTIMENT_SYSTEM = ("Analyze the sentiment of café guest feedback. Respond with JSON only: {\"sentiment\": "
                    "\"positive|neutral|negative\", \"score\": -1..1, \"topics\": [string]}.")


def feedback_sentiment(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang = c["language"]
    text, sentiment = rng.choice(FEEDBACK_MESSAGES[lang])
    e.receive(text)
    score = {"positive": 0.8, "neutral": 0.1, "negative": -0.7}[sentiment] + round(rng.uniform(-0.15, 0.15), 2)
    analysis = {"sentiment": sentiment, "score": round(score, 2),
                "topics": rng.sample(["service", "coffee", "wait time", "food", "atmosphere"], 2)}
    e.ai("Analyze Sentiment", "gpt-4o-mini", SENTIMENT_SYSTEM, text, json.dumps(analysis), output=analysis)
    if e.condition("Negative?", "{{sentiment}} == 'negative'", sentiment, sentiment == "negative"):
        e.send(MANAGER, f"⚠️ Negative feedback from {c['name']} ({c['phone']}): \"{text}\"", name="Alert Manager")
    else:
        e.skip("Alert Manager", "send_message")
    e.http("Log Feedback", "POST", "https://sheets.googleapis.com/v4/spreadsheets/1qVfX0cFeedback2025/values/"
           "Feedback!A:E:append?valueInputOption=USER_ENTERED", low=0.2, high=1.4,
           body={"values": [[e.clock.now().isoformat(), c["phone"], text, sentiment, analysis["score"]]]},
           response={"updates": {"updatedRange": "Feedback!A1:E1", "updatedRows": 1}})
    e.send(c, FEEDBACK_THANKS[lang].format(first=first_name(c)))


WELCOME_MESSAGES = {"en": ("JOIN", "Hi, I'd like to get your offers"), "pt": ("Oi! Quero receber as ofertas",),
                    "es": ("Hola, quiero suscribirme", "ALTA"), "de": ("START", "Hallo, ich möchte den Newsletter")}
WELCOME = {
    "en": "Welcome to Verde Coffee, {first_name}! ☕ You'll get our roast drops and café offers here, at most "
          "twice a week. Reply STOP anytime to unsubscribe.",
    "pt": "Bem-vindo à Verde Coffee, {first_name}! ☕ Você vai receber nossos lançamentos e ofertas por aqui, no "
          "máximo duas vezes por semana. Responda SAIR para cancelar.",
    "es": "¡Bienvenido a Verde Coffee, {first_name}! ☕ Te enviaremos novedades y ofertas como mucho dos veces por "
          "semana. Responde BAJA cuando quieras.",
    "de": "Willkommen bei Verde Coffee, {first_name}! ☕ Du bekommst hier neue Röstungen und Café-Angebote, "
          "höchstens zweimal pro Woche. Antworte STOP zum Abmelden.",
}
CATALOG = {"en": "Here is our spring catalog 📖 https://verdecoffee.com/catalog-en.pdf — 10% off your first order "
                 "with WELCOME10.",
           "pt": "Aqui está nosso catálogo 📖 https://verdecoffee.com/catalogo-pt.pdf — 10% na primeira compra com "
                 "BEMVINDO10.",
           "es": "Aquí tienes nuestro catálogo 📖 https://verdecoffee.com/catalogo-es.pdf — 10% en tu primer pedido "
                 "con BIENVENIDA10.",
           "de": "Hier ist unser Frühjahrskatalog 📖 https://verdecoffee.com/katalog-de.pdf — 10 % auf die erste "
                 "Bestellung mit WILLKOMMEN10."}


def welcome_new_subscriber(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang = c["language"]
    e.receive(rng.choice(WELCOME_MESSAGES[lang]))
    profile = dict(c, name=c["name"] if rng.random() > 0.1 else "")  # WhatsApp profiles without a name
    e.set_variables("Save Contact", {"contact": {**profile, "tags": ["newsletter"],
                                                 "opted_in_at": e.clock.now().isoformat()}},
                    input={"phone": c["phone"], "profile_name": profile["name"]})
    e.send(profile, WELCOME[lang], template="welcome_subscriber", variables={"first_name": first_name(profile)},
           required=("first_name",), fallback={"first_name": "friend"}, name="Send Welcome")
    e.delay("Wait 20 s", 20.0)
    e.send(c, CATALOG[lang], name="Send Catalog")


WORKSHOPS = ("Latte Art Basics", "Home Espresso Masterclass", "Cupping Session", "Filter Brewing 101")
REMINDER = {
    "en": "Hi {first_name}, a reminder: {workshop} today at {time} at Verde Coffee {cafe}. Reply C to cancel.",
    "pt": "Oi {first_name}, lembrete: {workshop} hoje às {time} na Verde Coffee {cafe}. Responda C para cancelar.",
    "es": "Hola {first_name}, te recordamos: {workshop} hoy a las {time} en Verde Coffee {cafe}. Responde C para "
          "cancelar.",
    "de": "Hallo {first_name}, Erinnerung: {workshop} heute um {time} bei Verde Coffee {cafe}. Antworte C zum "
          "Absagen.",
}


def appointment_reminders(e: Engine) -> None:
    rng = e.rng
    now = e.clock.now()
    hour = now.hour
    # workshops run 9:00-19:00; the hourly run reminds the sessions two hours ahead
    n = e.row_count(2, 40, 1.0) if e.long_running else (rng.randint(0, 9) if 7 <= hour <= 17 else 0)
    contacts = make_contacts(e, n)
    slot = f"{(hour + 2) % 24:02d}:{rng.choice(('00', '30'))}"
    rows = [dict(row, workshop=rng.choice(WORKSHOPS), time=slot) for row in contacts]
    if rows and e.take_fault(TEMPLATE):
        rng.choice(rows)["time"] = None  # a calendar event without a start time
    window = f"timeMin={now:%Y-%m-%dT%H}:00:00Z&timeMax={now + dt.timedelta(hours=3):%Y-%m-%dT%H}:00:00Z"
    e.http("Fetch Appointments", "GET", "https://www.googleapis.com/calendar/v3/calendars/"
           f"workshops%40verdecoffee.com/events?{window}&singleEvents=true", low=0.2, high=1.5,
           response={"items": [{"summary": r["workshop"], "start": r["time"],
                                "attendee": {"name": r["name"], "phone": r["phone"]}} for r in rows[:5]],
                     "count": len(rows)})
    if not e.condition("Any Appointments?", "{{items.length}} > 0", len(rows), bool(rows)):
        e.skip("Loop Rows", "loop_rows")
        return

    def remind(_: int, row: dict) -> None:
        lang = row["language"]
        e.send(row, REMINDER[lang], template="workshop_reminder", continue_on_error=True,
               variables={"first_name": first_name(row), "workshop": row["workshop"], "time": row["time"],
                          "cafe": CAFES[lang]},
               required=("first_name", "time"), fallback={"first_name": "there"})

    e.loop(rows, remind, input={"source": "Fetch Appointments", "row_count": len(rows)})


CART_SYSTEM = (
    "You write short, friendly WhatsApp reminders for customers of Verde Coffee Roasters who left items in their "
    "cart. Write in the customer's language, max. 300 characters, one emoji at most, mention the items by name, "
    "include the cart link and the discount code exactly as given. No pressure tactics, no invented prices."
)
CART_REPLIES = {
    "en": "Hi {first}! You left {items} in your cart 🛒 Still thinking it over? It's saved here: {url} and with "
          "{code} you get 10% off until midnight.",
    "pt": "Oi {first}! Você deixou {items} no carrinho 🛒 Ainda pensando? Ele está salvo aqui: {url} e com {code} "
          "você ganha 10% até meia-noite.",
    "es": "¡Hola {first}! Dejaste {items} en tu carrito 🛒 ¿Lo sigues pensando? Está guardado aquí: {url} y con "
          "{code} tienes un 10% hasta medianoche.",
    "de": "Hallo {first}! Du hast {items} im Warenkorb gelassen 🛒 Noch am Überlegen? Er ist hier gespeichert: {url} "
          "und mit {code} bekommst du bis Mitternacht 10 %.",
}
CART_ITEMS = ("Casa Blend 250 g", "Ethiopia Yirgacheffe 250 g", "V60 Dripper", "Hand Grinder Comandante C40",
              "Colombia Decaf 250 g", "Subscription Box (3 months)", "Brasil Cerrado 1 kg")


def abandoned_cart_followup(e: Engine) -> None:
    rng = e.rng
    n = rng.choice((0, 0, 1, 1, 2, 2, 3, 4))
    customers = make_contacts(e, n, nameless_share=0.0)
    carts = [{"id": rng.randrange(10**13, 10**14), "customer": cust,
              "items": rng.sample(CART_ITEMS, rng.randint(1, 3)),
              "url": f"https://verdecoffee.com/cart/recover/{rng.getrandbits(64):016x}"} for cust in customers]
    since = (e.clock.now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    e.http("Get Abandoned Carts", "GET", "https://verde-coffee.myshopify.com/admin/api/2024-10/checkouts.json?"
           f"created_at_min={since}&limit=50", low=0.2, high=1.6,
           response={"checkouts": [{"id": cart["id"], "line_items": cart["items"],
                                    "phone": cart["customer"]["phone"]} for cart in carts]})
    if not e.condition("Any Carts?", "{{checkouts.length}} > 0", len(carts), bool(carts)):
        e.skip("Loop Rows", "loop_rows")
        return

    def follow_up(_: int, cart: dict) -> None:
        cust = cart["customer"]
        lang, items = cust["language"], ", ".join(cart["items"])
        user = (f"Customer: {cust['name']} (language: {lang})\nCart items: {items}\nCart link: {cart['url']}\n"
                f"Discount code: COMEBACK10 (10%, valid until midnight)")
        reply = CART_REPLIES[lang].format(first=first_name(cust), items=items, url=cart["url"], code="COMEBACK10")
        text = e.ai("Write Reminder", "gpt-4o-mini", CART_SYSTEM, user, reply,
                    input={"model": "gpt-4o-mini", "temperature": 0.7, "cart_id": cart["id"]})
        e.send(cust, text, continue_on_error=True)

    e.loop(carts, follow_up, input={"source": "Get Abandoned Carts", "row_count": len(carts)})


OFFERS = ("2 for 1 on all 250 g bags until Sunday", "free V60 filters with every order over €30",
          "20% off the Ethiopia Yirgacheffe today only")
PROMO = {
    "en": "Hi {first_name}! ☕ Today at Verde Coffee: {offer}. Order at verdecoffee.com or show this message in "
          "our cafés.",
    "pt": "Oi {first_name}! ☕ Hoje na Verde Coffee: {offer}. Peça em verdecoffee.com ou mostre esta mensagem na "
          "cafeteria.",
    "es": "¡Hola {first_name}! ☕ Hoy en Verde Coffee: {offer}. Pide en verdecoffee.com o enseña este mensaje en "
          "la cafetería.",
    "de": "Hallo {first_name}! ☕ Heute bei Verde Coffee: {offer}. Bestell auf verdecoffee.com oder zeig diese "
          "Nachricht im Café.",
}


def daily_promo_broadcast(e: Engine) -> None:
    rng = e.rng
    contacts = e.read_rows("Read Contacts", "Promo subscribers", make_contacts(
        e, e.row_count(15, 60, 0.9), tags=("newsletter",), nameless_share=0.04))
    offer = OFFERS[e.clock.now().toordinal() % len(OFFERS)]
    e.set_variables("Today's Offer", {"offer": offer, "valid_until": f"{e.clock.now():%Y-%m-%d}T23:59:59Z"},
                    input={"weekday": e.clock.now().strftime("%A")})
    if rng.random() < 0.3:
        contacts = [c for c in contacts if "lapsed-90d" not in c["tags"]]  # some days skip lapsed contacts

    def send(_: int, row: dict) -> None:
        e.send(row, PROMO[row["language"]], template="daily_offer", continue_on_error=True,
               variables={"first_name": first_name(row), "offer": offer}, required=("first_name",),
               fallback={"first_name": "there"})

    e.loop(contacts, send, input={"source": "Read Contacts", "row_count": len(contacts)})


NEWSLETTER_SYSTEM = (
    "You are the copywriter of Verde Coffee Roasters. Write the intro of this week's WhatsApp newsletter: "
    "3 short paragraphs, friendly and concrete, max. 700 characters, at most two emojis, no hashtags. Mention the "
    "new arrivals and the café event given below with their real names and dates. End with a call to action to "
    "the shop link. Our voice: curious about coffee, never snobby, a little playful. Avoid superlatives like "
    "'best ever', avoid the words 'delve' and 'elevate'. The text goes to {count} subscribers in Germany, Spain, "
    "Portugal and Brazil; keep it in English, it is translated downstream."
)
NEWSLETTER_INTROS = (
    "New week, new beans! ☕ This Monday we're opening a fresh lot of {coffee}: think {notes}. It's roasted on "
    "Tuesdays and ships the same day, so it reaches you at its best.\n\nOn {event_day} our {cafe} café hosts "
    "{event}, free for subscribers (just reply YES to save a seat).\n\nGrab a bag before the lot runs out: "
    "https://verdecoffee.com/new",
    "Hello coffee friends! This week is all about {coffee}, a small lot we've been waiting for since spring: "
    "{notes}, lovely as filter and surprisingly sweet as espresso.\n\nMark {event_day} in your calendar: {event} "
    "at our {cafe} café, with tastings from 17:00.\n\nThe lot is limited to 300 bags, so don't wait too long: "
    "https://verdecoffee.com/new",
)
COFFEES = (("Kenya Nyeri AA", "blackcurrant, grapefruit and brown sugar"),
           ("Guatemala Huehuetenango", "milk chocolate, orange and almond"),
           ("Rwanda Kivu", "red apple, hibiscus and honey"))


def weekly_newsletter(e: Engine) -> None:
    rng = e.rng
    contacts = e.read_rows("Read Contacts", "Newsletter subscribers", make_contacts(
        e, e.row_count(400, 2500, 0.11), tags=("newsletter",), nameless_share=0.0))
    coffee, notes = rng.choice(COFFEES)
    event_day = (e.clock.now() + dt.timedelta(days=rng.randint(2, 5))).strftime("%A %d %B")
    facts = {"coffee": coffee, "notes": notes, "event_day": event_day, "cafe": rng.choice(list(CAFES.values())[:3]),
             "event": rng.choice(("a latte art throwdown", "a cupping of three Kenyan lots", "a home espresso Q&A"))}
    user = "\n".join(f"{k}: {v}" for k, v in facts.items()) + "\nshop link: https://verdecoffee.com/new"
    intro = e.ai("Write Newsletter Intro", "gpt-4o", NEWSLETTER_SYSTEM.format(count=len(contacts)), user,
                 rng.choice(NEWSLETTER_INTROS).format(**facts),
                 input={"model": "gpt-4o", "temperature": 0.8, "max_tokens": 400})
    batches = [contacts[i:i + 100] for i in range(0, len(contacts), 100)]
    e.loop(batches, lambda i, batch: e.send_batch(i + 1, batch, intro, template="weekly_newsletter"),
           input={"source": "Read Contacts", "row_count": len(contacts), "batch_size": 100})


REPORT_SYSTEM = (
    "You are the analyst of Verde Coffee Roasters. Every night you summarize yesterday's sales for the owner, who "
    "reads it on WhatsApp before 7 am. Structure: one sentence with total revenue and the change versus the same "
    "weekday last week; one bullet per channel (online shop and each café) with revenue, orders and the top "
    "seller; then 'Worth a look:' with anything unusual (a drop over 20%, an item selling out, refunds, a café "
    "with fewer than 60 orders); then two concrete suggestions. Use euros with two decimals, compare only with "
    "the numbers given, never guess causes you cannot see in the data, and keep it under 1000 characters. Use "
    "plain text and bullets, no markdown tables, no headings, no emojis except one at the very end."
)
REPORT_ITEMS = (("Casa Blend 250 g", 11.9), ("Brasil Cerrado 250 g", 10.5), ("Ethiopia Yirgacheffe 250 g", 14.5),
                ("Colombia Decaf 250 g", 12.5), ("Subscription Box", 29.0), ("V60 Dripper", 24.0),
                ("Flat White", 3.8), ("Cappuccino", 3.5), ("Cold Brew", 4.2), ("Pastel de Nata", 2.6),
                ("Pão de Queijo", 2.2), ("Tostada con tomate", 3.9))
CHANNELS = ("Online Shop", "Café Kreuzberg", "Café Pinheiros", "Café Malasaña")


def nightly_sales_report(e: Engine) -> None:
    rng = e.rng
    day = (e.clock.now() - dt.timedelta(days=1)).date()
    lines, totals, tops = [], {}, {}
    for channel in CHANNELS:
        items = REPORT_ITEMS[:6] if channel == "Online Shop" else REPORT_ITEMS[:2] + REPORT_ITEMS[6:]
        best = ("", 0.0)
        for item, price in items:
            units = rng.randint(3, 140)
            revenue = units * price
            change = rng.uniform(-0.35, 0.3)
            lines.append(f"{channel},{item},{units},{revenue:.2f},{change:+.0%}")
            totals[channel] = totals.get(channel, 0.0) + revenue
            if revenue > best[1]:
                best = (item, revenue)
        tops[channel] = best[0]
    orders = {ch: rng.randint(45, 420) for ch in CHANNELS}
    e.http("Fetch Shop Orders", "GET", "https://verde-coffee.myshopify.com/admin/api/2024-10/orders.json?"
           f"created_at_min={day}T00:00:00Z&created_at_max={day}T23:59:59Z&status=any&limit=250",
           low=0.4, high=3.0, response={"count": orders["Online Shop"], "revenue": round(totals["Online Shop"], 2),
                                        "currency": "EUR"})
    e.http("Fetch Café Sales", "POST", "https://connect.squareup.com/v2/orders/search", low=0.3, high=2.5,
           body={"location_ids": ["L8KZ1XBERLIN", "L2PQ7SPAULO", "L5MM3MADRID"],
                 "query": {"filter": {"date_time_filter": {"closed_at": {"start_at": f"{day}T00:00:00Z"}}}}},
           response={"orders": sum(orders[ch] for ch in CHANNELS[1:]),
                     "revenue": round(sum(totals[ch] for ch in CHANNELS[1:]), 2)})
    total = sum(totals.values())
    change = rng.uniform(-0.25, 0.2)
    e.set_variables("Aggregate Totals", {"day": day.isoformat(), "total_eur": round(total, 2),
                                         "vs_last_week": f"{change:+.1%}",
                                         "by_channel": {ch: round(v, 2) for ch, v in totals.items()}},
                    input={"rows": len(lines)})
    user = (f"Date: {day:%A %Y-%m-%d}\nTotal revenue: €{total:.2f} ({change:+.1%} vs. same weekday last week)\n"
            "Orders: " + ", ".join(f"{ch} {n}" for ch, n in orders.items()) + "\n\n"
            "channel,item,units,revenue_eur,vs_last_week\n" + "\n".join(lines))
    slow = min(CHANNELS[1:], key=lambda ch: orders[ch])
    anomaly = orders[slow] < 60 or change < -0.2
    bullets = "\n".join(f"• {ch}: €{totals[ch]:.2f} from {orders[ch]} orders, top seller {tops[ch]}"
                        for ch in CHANNELS)
    reply = (f"Good morning Jana! Yesterday ({day:%A}) Verde Coffee made €{total:.2f} across all channels, "
             f"{change:+.1%} versus last {day:%A}.\n\n{bullets}\n\nWorth a look: "
             + (f"{slow} had only {orders[slow]} orders, well below its usual level; refunds were normal. "
                if anomaly else "nothing unusual in orders; refunds were normal. ")
             + f"Stock: {rng.choice(REPORT_ITEMS[:4])[0]} is down to {rng.randint(8, 40)} bags, the next roast is "
             f"planned for {rng.choice(('Tuesday', 'Thursday'))}."
             + f"\n\nSuggestions:\n1. Push {tops['Online Shop']} in tomorrow's promo while stock is high.\n"
             f"2. Move one barista from the quietest hours at {slow} to the morning rush.\n\nHave a good day ☕")
    if rng.random() < 0.4:  # the model ignores the length limit now and then: the reply gets truncated
        reply += ("\n\nDetails by hour: the morning peak (8–10) brought 41% of café revenue, lunch 23%, the "
                  "afternoon 28% and the evening 8%. Online orders peaked at 21:00 after the newsletter reminder. "
                  "Refunds: 2 orders (€23.80), both for damaged V60 drippers shipped from the Berlin warehouse.")
    summary = e.ai("Summarize Report", "gpt-4o", REPORT_SYSTEM, user, reply,
                   input={"model": "gpt-4o", "temperature": 0.2, "max_tokens": 600, "rows": len(lines)})
    if e.condition("Anomalies Found?", "{{anomaly}} == true", anomaly, anomaly):
        e.send(MANAGER, f"⚠️ {slow}: only {orders[slow]} orders yesterday. Full report below.", name="Alert Owner")
    else:
        e.skip("Alert Owner", "send_message")
    e.send(MANAGER, summary, name="Send Report")
    e.send(OPS_MANAGER, summary, name="Send Report to Ops")


PAYMENT_REMINDER = {
    "en": "Hi {first_name}, invoice {invoice_no} of {amount} was due on {due_date}. You can pay here: "
          "https://pay.verdecoffee.com/{invoice_no}. Thanks! — Verde Coffee Wholesale",
    "pt": "Oi {first_name}, a fatura {invoice_no} de {amount} venceu em {due_date}. Pague aqui: "
          "https://pay.verdecoffee.com/{invoice_no}. Obrigado! — Verde Coffee Atacado",
    "es": "Hola {first_name}, la factura {invoice_no} de {amount} venció el {due_date}. Puedes pagarla aquí: "
          "https://pay.verdecoffee.com/{invoice_no}. ¡Gracias! — Verde Coffee Mayorista",
    "de": "Hallo {first_name}, die Rechnung {invoice_no} über {amount} war am {due_date} fällig. Hier kannst du "
          "bezahlen: https://pay.verdecoffee.com/{invoice_no}. Danke! — Verde Coffee Großhandel",
}


def payment_reminders(e: Engine) -> None:
    rng = e.rng
    today = e.clock.now().date()
    contacts = make_contacts(e, e.row_count(3, 18, 1.0), tags=("wholesale",), nameless_share=0.0)
    invoices = [dict(row, invoice_no=f"INV-{today:%Y}-{rng.randint(1000, 4999)}",
                     amount=f"€{rng.uniform(180, 2400):.2f}",
                     due_date=(today - dt.timedelta(days=rng.randint(3, 60))).isoformat(),
                     paid=rng.random() < 0.15) for row in contacts]
    if invoices and e.take_fault(TEMPLATE):
        rng.choice(invoices)["amount"] = None  # a draft invoice synced without its total
    e.http("Fetch Overdue Invoices", "GET", "https://api.xero.com/api.xro/2.0/Invoices?where=Status%3D%3D"
           f"%22AUTHORISED%22%26%26DueDate%3C{today}&order=DueDate", low=0.4, high=2.5,
           response={"Invoices": [{"InvoiceNumber": i["invoice_no"], "AmountDue": i["amount"],
                                   "DueDate": i["due_date"]} for i in invoices[:5]], "count": len(invoices)})

    def remind(_: int, inv: dict) -> None:
        if e.condition("Already Paid?", "{{payment_status}} == 'paid'", "paid" if inv["paid"] else "open",
                       inv["paid"]):
            e.skip("Send Message", "send_message")
            return
        variables = {k: inv[k] for k in ("invoice_no", "amount", "due_date")}
        e.send(inv, PAYMENT_REMINDER[inv["language"]], template="payment_reminder", continue_on_error=True,
               variables={"first_name": first_name(inv), **variables},
               required=("first_name", "invoice_no", "amount", "due_date"))

    e.loop(invoices, remind, input={"source": "Fetch Overdue Invoices", "row_count": len(invoices)})


REVIEW_REQUEST = {
    "en": "Hi {first_name}! How are you enjoying your order {order_number}? A quick review helps our small "
          "roastery a lot ⭐ {review_link}",
    "pt": "Oi {first_name}! Está gostando do pedido {order_number}? Uma avaliação rápida ajuda muito a nossa "
          "torrefação ⭐ {review_link}",
    "es": "¡Hola {first_name}! ¿Qué tal tu pedido {order_number}? Una reseña rápida ayuda mucho a nuestro "
          "pequeño tostadero ⭐ {review_link}",
    "de": "Hallo {first_name}! Wie schmeckt dir deine Bestellung {order_number}? Eine kurze Bewertung hilft "
          "unserer kleinen Rösterei sehr ⭐ {review_link}",
}


def review_request(e: Engine) -> None:
    rng = e.rng
    day = (e.clock.now() - dt.timedelta(days=5)).date()
    customers = make_contacts(e, e.row_count(8, 40, 0.9), nameless_share=0.03)
    orders = [dict(row, order_number=order_number(rng)) for row in customers]
    e.http("Get Delivered Orders", "GET", "https://verde-coffee.myshopify.com/admin/api/2024-10/orders.json?"
           f"fulfillment_status=shipped&updated_at_min={day}T00:00:00Z&updated_at_max={day}T23:59:59Z",
           low=0.3, high=2.0, response={"orders": [o["order_number"] for o in orders[:10]], "count": len(orders)})

    def ask(_: int, order: dict) -> None:
        e.send(order, REVIEW_REQUEST[order["language"]], template="review_request", continue_on_error=True,
               variables={"first_name": first_name(order), "order_number": order["order_number"],
                          "review_link": f"https://g.page/r/verde-coffee/review?o={order['order_number'][1:]}"},
               required=("first_name", "order_number"), fallback={"first_name": "there"})

    e.loop(orders, ask, input={"source": "Get Delivered Orders", "row_count": len(orders)})


LAUNCH_SYSTEM = (
    "Write a WhatsApp announcement for a Verde Coffee Roasters product launch. Max. 450 characters, one emoji, "
    "no hashtags, a clear call to action with the link, and the early-bird detail given. Friendly, specific, "
    "not pushy. It is sent to customers who opted in to launch news."
)
LAUNCH_TEXTS = (
    "It's here: the Verde Home Espresso Kit ☕ Our Casa Blend, a Comandante grinder and a dial-in guide from our "
    "head roaster, everything you need for café-level espresso at home. Early birds get free shipping and a "
    "second bag of beans until Friday: https://verdecoffee.com/kit",
    "Our first anaerobic Brazil has landed ☕ Santa Lúcia natural, tasting of strawberry jam, cacao nib and "
    "rum raisin. Only 200 bags this season, and subscribers get them 24 hours early: "
    "https://verdecoffee.com/santa-lucia",
)


def product_launch_campaign(e: Engine) -> None:
    rng = e.rng
    contacts = e.read_rows("Read Contacts", "Launch list (segment: espresso, vip)", make_contacts(
        e, e.row_count(150, 1200, 0.18), tags=("espresso",), nameless_share=0.0))
    text = e.ai("Write Launch Message", "claude-3-5-haiku", LAUNCH_SYSTEM,
                "Product: Verde Home Espresso Kit\nLink: https://verdecoffee.com/kit\nEarly bird: free shipping and "
                "a second bag of beans until Friday", rng.choice(LAUNCH_TEXTS),
                input={"model": "claude-3-5-haiku", "temperature": 0.7, "max_tokens": 300})
    batches = [contacts[i:i + 50] for i in range(0, len(contacts), 50)]

    def send(i: int, batch: list[dict]) -> None:
        e.send_batch(i + 1, batch, text, template="product_launch")
        if i + 1 < len(batches):
            e.clock.advance(rng.uniform(2.0, 5.0))  # throttled to stay under the messaging tier limit

    e.loop(batches, send, input={"source": "Read Contacts", "row_count": len(contacts), "batch_size": 50})


REENGAGE = {
    "en": "We miss you, {first_name}! ☕ It's been a while, so here's 15% off your next order with code {code}: "
          "https://verdecoffee.com",
    "pt": "Sentimos sua falta, {first_name}! ☕ Faz tempo, então aqui vai 15% no próximo pedido com o código {code}: "
          "https://verdecoffee.com",
    "es": "¡Te echamos de menos, {first_name}! ☕ Ha pasado un tiempo, así que aquí tienes un 15% con el código "
          "{code}: https://verdecoffee.com",
    "de": "Wir vermissen dich, {first_name}! ☕ Lange nicht gesehen, deshalb gibt's 15 % auf die nächste "
          "Bestellung mit dem Code {code}: https://verdecoffee.com",
}


def reengagement_campaign(e: Engine) -> None:
    rng = e.rng
    # this flow's template has no fallback for first_name: rows without a name fail
    nameless = 0.03 if e.take_fault(TEMPLATE) else 0.0
    contacts = e.read_rows("Read Contacts", "Lapsed customers (90 days)", make_contacts(
        e, e.row_count(20, 120, 1.0), tags=("lapsed-90d",), nameless_share=nameless))
    if nameless and all(c["name"] for c in contacts):
        rng.choice(contacts)["name"] = ""
    for c in contacts:
        c["opted_out"] = rng.random() < 0.06

    def send(_: int, row: dict) -> None:
        if e.condition("Opted Out?", "{{opted_out}} == true", row["opted_out"], row["opted_out"]):
            e.skip("Send Message", "send_message")
            return
        e.send(row, REENGAGE[row["language"]], template="we_miss_you", continue_on_error=True,
               variables={"first_name": first_name(row), "code": "MISSYOU15"}, required=("first_name",))

    e.loop(contacts, send, input={"source": "Read Contacts", "row_count": len(contacts)})


# ---------------------------------------------------------------------------
# The flow catalog.

INCOMING = TriggerType.INCOMING_MESSAGE.value
SCHEDULE = TriggerType.SCHEDULE.value
MANUAL = TriggerType.MANUAL.value


@dataclass(frozen=True, eq=False)
class Flow:
    """A flow of the tenant: its trigger, its nodes (`run`), how often it runs and how it fails.

    Scheduled flows without `every` run once a day at minute `at` (on `weekday` only, if
    set); all others share the day's traffic by `weight`, sub-daily schedules snapped to
    their grid of `every` minutes starting `at` minutes past midnight.
    """

    name: str
    trigger: str
    run: Callable[[Engine], None]
    faults: tuple[tuple[str, float], ...]  # (fault kind, probability per execution)
    max_seconds: float  # an upper bound of a run's duration: today's runs must end by `now`
    weight: float = 0.0
    every: int | None = None
    at: int = 0
    weekday: int | None = None
    long_running: bool = False  # a loop the live demo sizes to last 30 s - 3 min

    @property
    def id(self) -> str:
        return "flow-" + slug(self.name)

    @property
    def daily(self) -> bool:
        return self.trigger == SCHEDULE and self.every is None


FLOWS: tuple[Flow, ...] = (
    Flow("Support Auto-Reply", INCOMING, support_auto_reply, weight=26, max_seconds=90,
         faults=((AI_RATE_LIMIT, 0.035), (AI_AUTH, 0.006), (AI_OVERLOADED, 0.01), (WHATSAPP, 0.025))),
    Flow("Order Status Lookup", INCOMING, order_status_lookup, weight=15, max_seconds=120,
         faults=((HTTP, 0.012), (AI_RATE_LIMIT, 0.015), (WHATSAPP, 0.02), (TEMPLATE, 0.03))),
    Flow("Lead Qualification", INCOMING, lead_qualification, weight=5, max_seconds=120,
         faults=((AI_AUTH, 0.02), (AI_OVERLOADED, 0.015), (HTTP, 0.012), (WHATSAPP, 0.015))),
    Flow("Café Table Reservations", INCOMING, cafe_table_reservations, weight=9, max_seconds=120,
         faults=((AI_RATE_LIMIT, 0.015), (AI_QUOTA, 0.008), (HTTP, 0.012), (WHATSAPP, 0.018))),
    Flow("Feedback Sentiment Analysis", INCOMING, feedback_sentiment, weight=7, max_seconds=120,
         faults=((AI_RATE_LIMIT, 0.02), (HTTP, 0.01), (WHATSAPP, 0.018))),
    Flow("Welcome New Subscriber", INCOMING, welcome_new_subscriber, weight=8, max_seconds=90,
         faults=((WHATSAPP, 0.04),)),
    Flow("Appointment Reminders", SCHEDULE, appointment_reminders, weight=8, every=60, max_seconds=120,
         faults=((INVALID_PHONE, 0.1), (TEMPLATE, 0.05), (WHATSAPP, 0.015), (HTTP, 0.01)), long_running=True),
    Flow("Abandoned Cart Follow-up", SCHEDULE, abandoned_cart_followup, weight=9, every=30, at=15,
         max_seconds=150, faults=((AI_RATE_LIMIT, 0.03), (INVALID_PHONE, 0.05), (WHATSAPP, 0.015), (HTTP, 0.01))),
    Flow("Product Launch Campaign", MANUAL, product_launch_campaign, weight=0.6, max_seconds=600,
         faults=((CANCEL, 0.06), (INVALID_PHONE, 0.3), (WHATSAPP, 0.04), (AI_OVERLOADED, 0.02)),
         long_running=True),
    Flow("Re-engagement Campaign", MANUAL, reengagement_campaign, weight=1.8, max_seconds=300,
         faults=((CANCEL, 0.05), (TEMPLATE, 0.08), (INVALID_PHONE, 0.12), (WHATSAPP, 0.03)), long_running=True),
    Flow("Daily Promo Broadcast", SCHEDULE, daily_promo_broadcast, at=9 * 60, max_seconds=180,
         faults=((INVALID_PHONE, 0.2), (WHATSAPP, 0.04), (CANCEL, 0.03)), long_running=True),
    Flow("Nightly Sales Report", SCHEDULE, nightly_sales_report, at=2 * 60, max_seconds=180,
         faults=((AI_RATE_LIMIT, 0.04), (AI_QUOTA, 0.02), (HTTP, 0.04))),
    Flow("Wholesale Payment Reminders", SCHEDULE, payment_reminders, at=10 * 60 + 30, max_seconds=120,
         faults=((TEMPLATE, 0.08), (INVALID_PHONE, 0.05), (HTTP, 0.03)), long_running=True),
    Flow("Review Request", SCHEDULE, review_request, at=16 * 60, max_seconds=150,
         faults=((INVALID_PHONE, 0.12), (WHATSAPP, 0.03)), long_running=True),
    Flow("Weekly Newsletter", SCHEDULE, weekly_newsletter, at=10 * 60, weekday=0, max_seconds=900,
         faults=((INVALID_PHONE, 0.5), (WHATSAPP, 0.05), (AI_RATE_LIMIT, 0.03)), long_running=True),
)
FLOW_NAMES = tuple(f.name for f in FLOWS)
_EVENT_DRIVEN = [f for f in FLOWS if not f.daily]
_EVENT_CUM = list(itertools.accumulate(f.weight for f in _EVENT_DRIVEN))
_UNSCHEDULED = [f for f in _EVENT_DRIVEN if f.every is None]
_UNSCHEDULED_CUM = list(itertools.accumulate(f.weight for f in _UNSCHEDULED))
_LIVE_SHORT = [f for f in _EVENT_DRIVEN if f.trigger != MANUAL]
_LIVE_SHORT_CUM = list(itertools.accumulate(f.weight for f in _LIVE_SHORT))
_LIVE_LONG = [f for f in FLOWS if f.long_running]


def pick_fault(rng: random.Random, faults: Sequence[tuple[str, float]]) -> str | None:
    roll = rng.random()
    for kind, chance in faults:
        if roll < chance:
            return kind
        roll -= chance
    return None


def run_execution(recorder: Recorder, flow: Flow, rng: random.Random, clock: SimulatedClock | LiveClock, *,
                  execution_id: str | None = None, long_running: bool = False) -> None:
    """Run one execution of a flow, recording it the way the engine does."""
    customer = make_contact(rng) if flow.trigger == INCOMING else None
    fault = pick_fault(rng, flow.faults)
    try:
        with recorder.execution(flow.name, flow_id=flow.id, trigger=flow.trigger,
                                phone=customer["phone"] if customer else None, execution_id=execution_id) as run:
            engine = Engine(run, rng, clock, fault=fault, customer=customer, long_running=long_running)
            try:
                flow.run(engine)
            except Cancelled as stop:
                run.cancel(stop.reason)
    except FlowError:
        pass  # already recorded: the failed step and the failed execution


# ---------------------------------------------------------------------------
# History.

# Relative traffic per UTC hour: quiet nights, busy from breakfast to the evening.
HOUR_WEIGHTS = (0.5, 0.35, 0.3, 0.3, 0.35, 0.5, 0.9, 1.6, 2.6, 3.4, 3.8, 3.9,
                4.0, 3.9, 3.8, 3.7, 3.7, 3.6, 3.4, 3.1, 2.7, 2.0, 1.3, 0.8)
_HOUR_CUM = list(itertools.accumulate(HOUR_WEIGHTS))
WEEKDAY_FACTORS = (1.04, 1.03, 1.02, 1.03, 1.05, 0.94, 0.92)  # Monday .. Sunday


def plan_day(rng: random.Random, day: dt.date, per_day: int) -> list[tuple[dt.datetime, Flow]]:
    """The executions of a whole day, (start, flow) in start order: about per_day (±10%)."""
    midnight = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    total = round(per_day * min(1.1, max(0.9, WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.97, 1.03))))
    plan = [(f.at * 60 + rng.uniform(0.2, 2.5), f) for f in FLOWS
            if f.daily and f.weekday in (None, day.weekday())]
    count = max(0, total - len(plan))
    flows = rng.choices(_EVENT_DRIVEN, cum_weights=_EVENT_CUM, k=count)
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=count)
    taken: set[tuple[str, int]] = set()
    for flow, hour in zip(flows, hours, strict=True):
        second = hour * 3600 + rng.random() * 3600
        if flow.every:
            period, offset = flow.every * 60, flow.at * 60
            slot = int((second - offset) // period) * period + offset
            if slot < 0:
                slot += period
            if (flow.name, slot) not in taken:
                taken.add((flow.name, slot))
                second = slot + rng.uniform(0.2, 2.5)  # scheduler latency
            else:  # that run already exists: the traffic goes to an event-driven flow
                flow = rng.choices(_UNSCHEDULED, cum_weights=_UNSCHEDULED_CUM)[0]
        plan.append((second, flow))
    plan.sort(key=lambda p: p[0])
    return [(midnight + dt.timedelta(seconds=s), f) for s, f in plan]


def first_run_of_today(rng: random.Random, now: dt.datetime) -> list[tuple[dt.datetime, Flow]]:
    """One support conversation, so today has its partition even just after midnight (if it fits)."""
    flow = FLOWS[0]
    midnight = dt.datetime.combine(now.date(), dt.time(), dt.timezone.utc)
    room = (now - midnight).total_seconds() - flow.max_seconds
    return [(midnight + dt.timedelta(seconds=rng.uniform(0, room)), flow)] if room > 0 else []


def generate_history(store: Store, *, days: int = 30, per_day: int = DEFAULT_PER_DAY, seed: int = 1,
                     now: dt.datetime | None = None, progress: Progress | None = None) -> int:
    """Write `days` days of history ending at `now` (today only up to now). Returns the executions.

    Each day gets about per_day executions spread over a daily curve; a day's randomness
    comes from (seed, day), so the same seed and now always give the same data.
    """
    if now is None:
        now = utcnow()
    now = utc(now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc))  # a naive `now` is taken as UTC
    clock = SimulatedClock(now)
    recorder = Recorder(Writer(store, max_rows=HISTORY_MAX_ROWS, flush_interval=None), clock=clock.now)
    count = reported = 0
    try:
        for back in range(days - 1, -1, -1):
            day = now.date() - dt.timedelta(days=back)
            rng = random.Random(f"flowlogs-demo:{seed}:{day.isoformat()}")
            # history holds finished runs only: none that would still be running at `now`
            runs = [(start, flow) for start, flow in plan_day(rng, day, per_day)
                    if start + dt.timedelta(seconds=flow.max_seconds) <= now]
            if not runs and back == 0:
                runs = first_run_of_today(rng, now)
            for start, flow in runs:
                clock.set(start)
                run_execution(recorder, flow, rng, clock, execution_id=uuid7_at(start, rng))
                count += 1
                if progress and count - reported >= 500:
                    progress(count - reported)
                    reported = count
    finally:
        recorder.close()
    if progress and count > reported:
        progress(count - reported)
    return count


# ---------------------------------------------------------------------------
# Live.


def live_rate(per_day: float, when: dt.datetime) -> float:
    """Executions a second that a history of `per_day` has at `when`: its hour of the day and weekday,
    as plan_day spreads them. 500 a day is about 0.6 a minute at midday and 0.05 at 3 a.m."""
    share = HOUR_WEIGHTS[when.hour] / _HOUR_CUM[-1]
    return per_day * WEEKDAY_FACTORS[when.weekday()] * share / 3600


def history_per_day(queries: LogQueries) -> int:
    """Executions a day in a data location's history (whole days before today), or DEFAULT_PER_DAY
    without history: `flowlogs serve --live-demo` runs the live demo at the pace of the data it shows."""
    store = queries.store
    days = [d for d in store.days() if d < utcnow().date()]
    if not days:
        return DEFAULT_PER_DAY
    executions = queries.tab_counts(since=days[0], until=days[-1])["all"]
    return max(1, round(executions / len(days)))


@contextmanager
def stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl+C (SIGINT) and SIGTERM set `stop` instead of interrupting the engine wherever it is: it then
    cancels what it started and flushes, which an exception landing in that clean-up could cut short.
    Only the main thread can take signals; a signal the shell told the process to ignore stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_live(store: Store, *, seed: int | None = None, per_day: float = DEFAULT_PER_DAY,
             rate: float | None = None, max_gap: float = LIVE_MAX_GAP, stop: threading.Event | None = None,
             long_running_share: float = 0.1, time_scale: float = LIVE_TIME_SCALE) -> int:
    """Produce new executions in real time until `stop` is set (or Ctrl-C). Returns how many.

    Executions start at the pace of a history of `per_day` (`live_rate`: today's bars and the
    sparklines do not jump when the live demo runs), or at a constant `rate` a second if given,
    and never more than `max_gap` seconds apart, so the page shows activity within a minute.
    Each runs in its own thread, so several run at once; a `long_running_share` of them loop
    over rows for 30 s - 3 min. On stop, the running ones end as cancelled (LIVE_STOP_REASON)
    and the writer is flushed and closed.
    """
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive (executions per second), not {rate}")
    if per_day <= 0:
        raise ValueError(f"per_day must be positive, not {per_day}")
    stop = stop or threading.Event()
    master = random.Random(seed)
    recorder = Recorder(Writer(store, flush_interval=LIVE_FLUSH_INTERVAL), clock=utcnow)
    clock = LiveClock(stop, time_scale)
    workers: list[threading.Thread] = []
    count = 0
    try:
        while not stop.is_set():
            long_running = master.random() < long_running_share
            if long_running:
                flow = master.choice(_LIVE_LONG)
            else:
                flow = master.choices(_LIVE_SHORT, cum_weights=_LIVE_SHORT_CUM)[0]
            rng = random.Random(master.getrandbits(64))
            worker = threading.Thread(target=run_execution, args=(recorder, flow, rng, clock),
                                      kwargs={"long_running": long_running}, name=f"demo-{flow.id}", daemon=True)
            worker.start()
            count += 1
            workers = [w for w in workers if w.is_alive()] + [worker]
            pace = rate if rate is not None else live_rate(per_day, utcnow())
            stop.wait(min(master.expovariate(pace), max_gap))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()  # running executions cancel at their next step
        for worker in workers:
            worker.join()
        recorder.close()
    return count
