"""Privacy options: masked phone numbers, and AI prompts and replies hidden from viewers.

Pure functions over the plain values the page sends to the browser, applied on the
server (see `RedactedSource`), so that what is hidden never reaches the browser:

    mask_phone("+4915112345678")                 -> "+49 151 ••• 678"
    mask_phones_in_text("call +1 415 555 0132")  -> "call +1 415 ••• 132"
    Privacy(mask_phones=True, hide_ai_text=True).redact(record)

A phone number keeps its country code, its first group and its last 3 digits; at least
4 digits are always masked (on a short number the first group, then the last digits,
give way). In free text only international numbers (`+49…`, `0049…`) are recognised,
so order numbers and dates are left alone; JSON values under a phone-like key
(`phone`, `to`, `from`, `wa_id`, ...) are masked whatever their format.

Hidden AI text is hidden by field and position, never by looking for the text: a reply
that a later step quotes cut to 1 000 characters, trimmed, upper-cased or re-encoded
matches nothing, yet it is still the reply. For a viewer, in an execution:

- every step's `system_prompt`, `user_prompt` and `ai_reply` are HIDDEN;
- from the first AI step on (the AI step included: an engine puts the model's output in its
  `output` and hands it on as the next steps' `input`), each step's `input` and `output` are
  replaced whole by HIDDEN_DATA (keys too: a parsed model answer has the model's keys), each
  warning by HIDDEN_MARK, and its `error` by HIDDEN_ERROR with the failure cause;
- the execution's `error`, if the execution has an AI step, likewise;
- everything else stays: names, types, statuses, times, durations, model, tokens, messages,
  the failure cause, and the steps before the first AI step (whose data cannot quote a reply
  of this execution; a prompt quoted there word for word is still marked hidden).

Rows given without their steps (a page of executions) cannot tell whether an AI step came
first: their errors are hidden the same way. An AI step is a step with a prompt, a reply, a
model or tokens.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from .json_values import UnreadableJson, read_json
from .schema import classify_failure

MASK = "•••"
HIDDEN = "hidden: only admins see AI prompts and replies"  # what a viewer sees in place of the text
HIDDEN_MARK = "[hidden]"  # what replaces a prompt quoted word for word, and each warning that may quote a reply
HIDDEN_DATA = "hidden: only admins see the data of steps from the first AI step on"  # a whole input or output
HIDDEN_ERROR = "hidden: only admins see errors that may quote an AI reply"  # followed by " (cause: ...)"
MIN_MASKED = 4  # digits a masked number always hides
KEEP_LAST = 3
KEEP_FIRST = 3  # digits of the first group when the number is written without separators

# Keys whose value is a phone number (executions and rows: trigger_phone / phone; JSON payloads: the rest).
PHONE_KEYS = frozenset({"phone", "trigger_phone", "phone_number", "phonenumber", "mobile", "msisdn", "wa_id",
                        "to", "from", "recipient", "sender", "contact_phone", "customer_phone"})
AI_TEXT_KEYS = frozenset({"system_prompt", "user_prompt", "ai_reply"})
AI_STEP_KEYS = AI_TEXT_KEYS | {"model", "prompt_tokens", "completion_tokens"}  # any of these set: an AI step
JSON_TEXT_KEYS = frozenset({"input", "output", "failed_step_input"})  # JSON documents stored as text
FREE_TEXT_KEYS = frozenset({"error", "warnings", "message", "text", "body", "snippet", "match"})

# `+` or `00`, then digit groups with single separators; atomic groups and possessive
# quantifiers (Python 3.11) so a long run of digits can never make the search backtrack.
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?>\+|00)\d++(?>[ .\-/]?\(?\d++\)?)*+")
_GROUP = re.compile(r"\d+")
_PHONE_VALUE = re.compile(r"(?:\+|00)?[\d .()\-/]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def looks_like_phone(value: str) -> bool:
    """A JSON value under a phone-like key (`to`, `from`) is masked only if it is a number, not a date."""
    text = value.strip()
    digits = sum(c.isdigit() for c in text)
    return 7 <= digits <= 17 and _PHONE_VALUE.fullmatch(text) is not None and not _DATE.match(text)


def _country_code(digits: str) -> str:
    """The calling code at the start of an international number: 1 to 3 digits (E.164 codes are prefix-free)."""
    for size in (1, 2, 3):
        if int(digits[:size] or 0) in COUNTRY_CODE_TO_REGION_CODE:
            return digits[:size]
    return digits[:min(3, len(digits))]  # an unassigned code: keep as much as a real one would show


def mask_phone(phone: Any) -> Any:
    """`+49 151 ••• 678`: country code, first group and last 3 digits kept, the middle masked."""
    if not isinstance(phone, str):
        return phone
    text = phone.strip()
    groups = _GROUP.findall(text)
    digits = "".join(groups)
    if not digits:
        return phone  # "unknown", "" : nothing to hide
    international = text.startswith("+") or text.startswith("00")
    country = ""
    if international:
        if text.startswith("00"):
            digits, groups = digits[2:], ([groups[0][2:]] if groups[0][2:] else []) + groups[1:]
        written = groups[0] if len(groups) > 1 and len(groups[0]) <= 3 else None
        country = written if written and int(written) in COUNTRY_CODE_TO_REGION_CODE else _country_code(digits)
        national = digits[len(country):]
        rest = groups[1:] if written == country else [national]
    else:
        national, rest = digits, groups
    first = rest[0] if len(rest) > 1 else national[:KEEP_FIRST]
    first = first[:4]  # a long first group would give too much away
    last = KEEP_LAST
    if len(national) - len(first) - last < MIN_MASKED:
        first = first[:max(0, len(national) - MIN_MASKED - last)]
    if len(national) - len(first) - last < MIN_MASKED:
        last = max(0, len(national) - MIN_MASKED)
    parts = [f"+{country}" if international else "", first, MASK, national[len(national) - last:] if last else ""]
    return " ".join(p for p in parts if p)


def _mask_match(match: re.Match) -> str:
    found = match.group(0)
    digits = sum(c.isdigit() for c in found) - (2 if found.startswith("00") else 0)
    return mask_phone(found) if 8 <= digits <= 15 else found  # E.164: at most 15 digits


def mask_phones_in_text(text: Any) -> Any:
    """Every international phone number inside free text, masked."""
    if not isinstance(text, str) or ("+" not in text and "00" not in text):
        return text
    return _PHONE_IN_TEXT.sub(_mask_match, text)


def _hide_quoted(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, HIDDEN_MARK)
    return text


@dataclass(frozen=True)
class Privacy:
    """What one session may see. `redact` returns new values; cached results are never mutated."""

    mask_phones: bool = False
    hide_ai_text: bool = False

    @property
    def active(self) -> bool:
        return self.mask_phones or self.hide_ai_text

    def redact(self, value: Any, secrets: tuple[str, ...] = (), *, may_quote_ai: bool = True) -> Any:
        """Dicts, lists and tuples walked; strings changed only under the keys that say what they hold.

        A dict with `steps` is an execution, redacted by position (`_execution`). Anything else may
        quote an AI reply (`may_quote_ai`): a row's error comes without the steps that would tell."""
        if not self.active:
            return value
        if isinstance(value, dict):
            if isinstance(value.get("steps"), list):
                return self._execution(value, secrets)
            return {key: self._field(str(key), item, secrets, may_quote_ai) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact(item, secrets, may_quote_ai=may_quote_ai) for item in value]
        if isinstance(value, tuple):
            return tuple(self.redact(item, secrets, may_quote_ai=may_quote_ai) for item in value)
        return value

    def _execution(self, record: dict, secrets: tuple[str, ...]) -> dict:
        steps = record["steps"]
        first_ai = min((step_index(s) for s in steps if is_ai_step(s)), default=None) if self.hide_ai_text else None
        if self.hide_ai_text:
            secrets = secrets + ai_texts(steps)  # prompts quoted word for word before the first AI step
        redacted = {}
        for key, item in record.items():
            if key == "steps":
                redacted[key] = [self.redact(s, secrets, may_quote_ai=first_ai is not None and
                                             step_index(s) >= first_ai) if isinstance(s, dict) else s for s in item]
            else:  # the execution's own error may quote a reply of any of its AI steps
                redacted[key] = self._field(str(key), item, secrets, may_quote_ai=first_ai is not None)
        return redacted

    def _field(self, key: str, value: Any, secrets: tuple[str, ...], may_quote_ai: bool) -> Any:
        name = key.lower()
        hide = self.hide_ai_text and may_quote_ai
        if name in AI_TEXT_KEYS and isinstance(value, str):
            return HIDDEN if self.hide_ai_text else value
        if name in JSON_TEXT_KEYS and isinstance(value, str):
            return json.dumps(HIDDEN_DATA) if hide else self.json_text(value, secrets)
        if name in FREE_TEXT_KEYS and isinstance(value, (str, list, tuple)):
            if isinstance(value, str):
                return hidden_error(value) if hide and name == "error" else HIDDEN_MARK if hide else \
                    self.text(value, secrets)
            return [HIDDEN_MARK if hide and isinstance(v, str) else self.text(v, secrets) if isinstance(v, str)
                    else self.redact(v, secrets, may_quote_ai=may_quote_ai) for v in value]
        if isinstance(value, (dict, list, tuple)):
            return self.redact(value, secrets, may_quote_ai=may_quote_ai)
        if not isinstance(value, str):
            return value
        if name in PHONE_KEYS:
            return mask_phone(value) if self.mask_phones else value
        return value

    def text(self, value: str, secrets: tuple[str, ...] = ()) -> str:
        if secrets:
            value = _hide_quoted(value, secrets)
        return mask_phones_in_text(value) if self.mask_phones else value

    def json_text(self, text: str, secrets: tuple[str, ...] = ()) -> str:
        """A JSON document stored as text, redacted value by value (keys too); other text as free text."""
        document = read_json(text)  # bounded depth: the walk below recurses once per level
        if isinstance(document, UnreadableJson):
            return self.text(text, secrets)  # too deep or a number out of range: masked as free text
        redacted = self._json_value(document, None, secrets)
        return text if redacted == document else json.dumps(redacted, ensure_ascii=False)

    def _json_value(self, value: Any, key: str | None, secrets: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {self.text(k, secrets): self._json_value(v, k, secrets) for k, v in value.items()}
        if isinstance(value, list):
            return [self._json_value(v, key, secrets) for v in value]
        if self.mask_phones and key is not None and key.lower() in PHONE_KEYS and isinstance(value, (str, int)) \
                and not isinstance(value, bool) and looks_like_phone(str(value)):
            return mask_phone(str(value))
        if isinstance(value, str):
            return self.text(value, secrets)
        return value


def hidden_error(error: str) -> str:
    """An error that may quote an AI reply, as a viewer sees it: that it is hidden, and its failure cause."""
    return f"{HIDDEN_ERROR} (cause: {classify_failure(error).label})"


def step_index(step: dict) -> int:
    index = step.get("index", step.get("step_index"))
    return int(index) if isinstance(index, (int, float)) or str(index).isdigit() else 0


def is_ai_step(step: dict) -> bool:
    """A step where an engine puts a model's input or output: a prompt, a reply, a model or tokens."""
    return any(step.get(key) is not None and step.get(key) == step.get(key) for key in AI_STEP_KEYS)  # NaN: unset


def ai_texts(steps: list[dict]) -> tuple[str, ...]:
    """The prompts and replies of these steps, longest first (so a longer quote is hidden whole)."""
    texts = {s.get(k) for s in steps if isinstance(s, dict) for k in AI_TEXT_KEYS}
    return tuple(sorted((t for t in texts if isinstance(t, str) and len(t.strip()) >= 4), key=len, reverse=True))


class RedactedSource:
    """The page's data source seen through one session's `Privacy`: every method that returns log
    data (rows, an execution, a page of search results) redacts it before a component gets it.

    An explicit interface, the LogSource's public one: nothing else of the source (its store, its
    queries, its cache) can be reached through it, so nothing unredacted can leak by a new name."""

    def __init__(self, source, privacy: Privacy):
        self._source = source
        self.privacy = privacy

    # -- no private text: tokens, counts, ids, names -----------------------------------------

    def change_token(self) -> str:
        return self._source.change_token()

    def live_token(self) -> str:
        return self._source.live_token()

    def refresh_gap(self) -> float:
        return self._source.refresh_gap()

    def shown(self, seconds: float) -> None:
        self._source.shown(seconds)

    def prefetch(self, tab: str, execution_id: str | None = None, scope=None) -> None:
        """Warms the shared cache; what a session reads from it comes through the methods below."""
        if scope is None:
            self._source.prefetch(tab, execution_id)
        else:
            self._source.prefetch(tab, execution_id, scope)

    def token_usage_detail(self, since, until):
        return self._source.token_usage_detail(since, until)

    def last_success_id(self, record: dict) -> str | None:
        return self._source.last_success_id(record)

    async def tab_counts(self, *args, **kwargs) -> dict[str, int]:
        return await self._source.tab_counts(*args, **kwargs)

    def tab_counts_now(self, *args, **kwargs) -> dict[str, int]:
        return self._source.tab_counts_now(*args, **kwargs)

    async def deletable_count(self) -> tuple[int, int]:
        return await self._source.deletable_count()

    async def delete_execution(self, execution_id: str) -> None:
        await self._source.delete_execution(execution_id)

    async def clear_all(self, progress=None) -> int:
        return await self._source.clear_all(progress)

    # -- log data: redacted ------------------------------------------------------------------

    async def flow_groups(self, *args, **kwargs) -> list[dict]:
        return self.privacy.redact(await self._source.flow_groups(*args, **kwargs))

    def flow_groups_now(self, *args, **kwargs) -> list[dict]:
        return self.privacy.redact(self._source.flow_groups_now(*args, **kwargs))

    async def executions_page(self, *args, **kwargs) -> tuple[list[dict], bool]:
        return self.privacy.redact(await self._source.executions_page(*args, **kwargs))

    def executions_page_now(self, *args, **kwargs) -> tuple[list[dict], bool]:
        return self.privacy.redact(self._source.executions_page_now(*args, **kwargs))

    async def failure_causes(self, *args, **kwargs) -> list[dict]:
        return self.privacy.redact(await self._source.failure_causes(*args, **kwargs))

    def failure_causes_now(self, *args, **kwargs) -> list[dict]:
        return self.privacy.redact(self._source.failure_causes_now(*args, **kwargs))

    async def execution(self, execution_id: str) -> dict | None:
        return self.privacy.redact(await self._source.execution(execution_id))

    def execution_now(self, execution_id: str) -> dict | None:
        return self.privacy.redact(self._source.execution_now(execution_id))
