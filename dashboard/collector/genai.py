"""GenAI semantic conventions: the model, tokens, prompts and reply of a span.

Instrumentations have written these several ways over the conventions' versions; each is read:
`gen_ai.input.messages` / `gen_ai.output.messages` (JSON messages with parts) and
`gen_ai.system_instructions`; `gen_ai.prompt` / `gen_ai.completion` whole, or indexed as OpenLLMetry
writes them (`gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`); and span events
(`gen_ai.system.message`, `gen_ai.user.message`, ..., `gen_ai.choice`, `gen_ai.content.prompt`,
`gen_ai.content.completion`). The user prompt is the last non-system input message (the turn the
call answers); the whole conversation is kept in the step's input.
"""

from __future__ import annotations

import json
from typing import Any

Events = list[tuple[str, dict[str, Any]]]
CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                "gen_ai.prompt", "gen_ai.completion")


def text_attr(attrs: dict, name: str) -> str | None:
    value = attrs.get(name)
    return str(value) if value not in (None, "") else None




def is_genai(attrs: dict, events: Events) -> bool:
    return any(k.startswith("gen_ai.") for k in attrs) or any(name.startswith("gen_ai.") for name, _ in events)


def ai_fields(attrs: dict, events: Events) -> dict:
    """Model, tokens, prompts and reply of a GenAI span's attributes and events (empty for others)."""
    found: dict[str, Any] = {"model": text_attr(attrs, "gen_ai.response.model")
                             or text_attr(attrs, "gen_ai.request.model")}
    prompt = _count(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    completion = _count(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    if prompt is not None or completion is not None:
        found["tokens"] = {"prompt": prompt or 0, "completion": completion or 0}
    inputs, outputs = input_messages(attrs, events), output_messages(attrs, events)
    found["input_messages"], found["output_messages"] = inputs, outputs
    system = [_message_text(m) for m in inputs if m.get("role") == "system"]
    instructions = attrs.get("gen_ai.system_instructions")
    if instructions is not None:
        system.insert(0, _parts_text(_maybe_json(instructions)))
    users = [_message_text(m) for m in inputs if m.get("role") != "system"]
    found["system_prompt"] = "\n\n".join(t for t in system if t) or None
    found["user_prompt"] = next((t for t in reversed(users) if t), None)  # the turn this call answers
    found["ai_reply"] = "\n\n".join(t for t in map(_message_text, outputs) if t) or None
    return found


def _count(attrs: dict, *names: str) -> int | None:
    for name in names:
        value = attrs.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def _from_attributes(attrs: dict, current: str, legacy: str, role: str) -> list[dict] | None:
    """Messages from a span's attributes: the current convention's, the older one's, or the older
    one indexed (`gen_ai.prompt.0.content`, …); None when none of them is there."""
    for name in (current, legacy):
        if name in attrs:
            return _messages(attrs[name], role)
    return _indexed(attrs, legacy) or None


def input_messages(attrs: dict, events: Events) -> list[dict]:
    found = _from_attributes(attrs, "gen_ai.input.messages", "gen_ai.prompt", "user")
    return found if found is not None else [m for name, event in events for m in _input_event(name, event)]


def output_messages(attrs: dict, events: Events) -> list[dict]:
    found = _from_attributes(attrs, "gen_ai.output.messages", "gen_ai.completion", "assistant")
    return found if found is not None else [m for name, event in events for m in _output_event(name, event)]


def _input_event(name: str, event: dict) -> list[dict]:
    """The messages of a span event of the older conventions, sent to the model."""
    if name in ("gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message", "gen_ai.tool.message"):
        return [{"role": event.get("role", name.split(".")[1]), "content": _maybe_json(event.get("content"))}]
    if name == "gen_ai.content.prompt" and "gen_ai.prompt" in event:
        return _messages(event["gen_ai.prompt"], "user")
    return []


def _output_event(name: str, event: dict) -> list[dict]:
    """The messages of a span event of the older conventions, from the model."""
    if name == "gen_ai.choice":
        message = _maybe_json(event.get("message"))
        content = message.get("content") if isinstance(message, dict) else event.get("content", message)
        return [{"role": "assistant", "content": _maybe_json(content)}]
    if name == "gen_ai.content.completion" and "gen_ai.completion" in event:
        return _messages(event["gen_ai.completion"], "assistant")
    return []


def _messages(value: Any, role: str) -> list[dict]:
    """Messages from an attribute: a JSON list of messages, one message, or plain text."""
    value = _maybe_json(value)
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        return [m if isinstance(m, dict) else {"role": role, "content": m} for m in value]
    return [{"role": role, "content": value}] if value not in (None, "") else []


def _indexed(attrs: dict, prefix: str) -> list[dict]:
    """OpenLLMetry's `gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`, ..."""
    found: dict[int, dict] = {}
    for key, value in attrs.items():
        parts = key[len(prefix) + 1:].split(".", 1) if key.startswith(prefix + ".") else []
        if len(parts) == 2 and parts[0].isdigit():
            found.setdefault(int(parts[0]), {})[parts[1]] = value
    return [found[i] for i in sorted(found)]


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _message_text(message: dict) -> str:
    if not isinstance(message, dict):
        return _parts_text(message)
    content = message.get("content")
    return _parts_text(content if content is not None else message.get("parts"))


def _parts_text(value: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for name in ("content", "text"):
            if isinstance(value.get(name), str):
                return value[name]
        return ""
    if isinstance(value, list):
        return "\n".join(t for t in map(_parts_text, value) if t)
    return str(value)
