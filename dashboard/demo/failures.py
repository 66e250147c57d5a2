"""Failures: the exceptions nodes raise, the fault kinds planned per execution, and the messages they
carry. Each message is worded so schema.classify_failure files it under the intended cause (tests check)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..schema import FailureCause
from .contacts import contact_label
from .texts import MODELS

USER_STOP_REASON = "Stopped by user"
LIVE_STOP_REASON = "stopped: the demo engine was shut down"


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
