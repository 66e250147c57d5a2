"""OpenTelemetry traces (OTLP/HTTP, protobuf or JSON) read as flowlogs events.

A trace is an execution and each of its spans a step (docs/collector.md has the whole mapping):

- execution id: the trace id (32 hex digits); flow name: the root span's `flowlogs.flow.name`
  attribute (or the resource's), else the root span's name; flow id: `flowlogs.flow.id`, else the
  flow name; trigger: `flowlogs.trigger.type` / `flowlogs.trigger.phone`, else manual.
- a step per span: node id = span id, node name = span name, node type = `flowlogs.node.type`, else
  `ai_response` for a GenAI span (any `gen_ai.*` attribute or event), `http_request` for an HTTP
  client, else the span kind; status failed when the span's status is ERROR, with its exception
  (or status message) as the error.
- GenAI attributes fill the AI fields: model (`gen_ai.response.model`, else `gen_ai.request.model`),
  tokens (`gen_ai.usage.input_tokens` / `output_tokens`, or the older `prompt_tokens` /
  `completion_tokens`), prompts and reply from `gen_ai.input.messages` / `gen_ai.output.messages`,
  `gen_ai.system_instructions`, `gen_ai.prompt` / `gen_ai.completion` (whole, indexed
  `gen_ai.prompt.0.content`, or as span events) and the `gen_ai.*.message` / `gen_ai.choice` events.
- the root span (no parent, or a remote one) ends the execution: failed when it failed, completed
  with errors when another span failed, else completed.

This module only reads requests and spans; which index each step gets is traces.py's concern.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .genai import CONTENT_KEYS, ai_fields, is_genai, text_attr

STATUS_ERROR = 2
REMOTE_PARENT = 0x300  # SpanFlags: "has is_remote" and "is_remote" (the parent lives in another process)
KINDS = {2: "server", 3: "client", 4: "producer", 5: "consumer"}  # internal and unspecified: "span"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class OtlpError(ValueError):
    """A request that is not an OTLP trace export; the message says why."""


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    remote_parent: bool
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return not self.parent_id or self.remote_parent

    @property
    def failed(self) -> bool:
        return self.status_code == STATUS_ERROR


# -- decoding -------------------------------------------------------------------------------


def decode_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpError(f"not an OTLP protobuf ExportTraceServiceRequest ({exc})") from None
    return request


def decode_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON: protobuf's JSON mapping, except that ids are hex (protobuf's JSON would read base64)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OtlpError(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OtlpError("not an OTLP JSON ExportTraceServiceRequest (expected an object)")
    for resource_spans in _list(data.get("resourceSpans", data.get("resource_spans"))):
        for scope_spans in _list(_get(resource_spans, "scopeSpans", "scope_spans")):
            for span in _list(_get(scope_spans, "spans")):
                _hex_ids_to_base64(span)
                for link in _list(_get(span, "links")):
                    _hex_ids_to_base64(link)
    try:
        return json_format.ParseDict(data, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OtlpError(f"not an OTLP JSON ExportTraceServiceRequest ({exc})") from None


def _get(value: Any, *names: str) -> Any:
    return next((value[n] for n in names if isinstance(value, dict) and n in value), None)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _hex_ids_to_base64(item: Any) -> None:
    if not isinstance(item, dict):
        return
    for name in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"):
        value = item.get(name)
        if isinstance(value, str) and value:
            try:
                item[name] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise OtlpError(f"{name} {value[:40]!r} is not hex") from None


def any_value(value) -> Any:
    """An OTLP AnyValue as a plain Python value (bytes as base64 text)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def attributes(items) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in items}


def spans_of(request: ExportTraceServiceRequest) -> tuple[list[Span], list[tuple[str, str]]]:
    """The spans of a request, and (span, reason) for each one that cannot be read."""
    spans, rejected = [], []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for raw in scope_spans.spans:
                span_id = binascii.hexlify(raw.span_id).decode()
                problem = _problem(raw)
                if problem:
                    rejected.append((span_id or "(no span id)", problem))
                    continue
                spans.append(Span(
                    trace_id=binascii.hexlify(raw.trace_id).decode(), span_id=span_id,
                    parent_id=binascii.hexlify(raw.parent_span_id).decode(),
                    remote_parent=raw.flags & REMOTE_PARENT == REMOTE_PARENT, name=raw.name, kind=raw.kind,
                    start_ns=raw.start_time_unix_nano, end_ns=raw.end_time_unix_nano, status_code=raw.status.code,
                    status_message=raw.status.message, attributes=attributes(raw.attributes),
                    events=[(e.name, attributes(e.attributes)) for e in raw.events], resource=resource))
    return spans, rejected


def _problem(raw) -> str | None:
    if len(raw.trace_id) != 16 or not any(raw.trace_id):
        return "traceId: expected 16 bytes, not all zero"
    if len(raw.span_id) != 8 or not any(raw.span_id):
        return "spanId: expected 8 bytes, not all zero"
    if raw.parent_span_id and len(raw.parent_span_id) != 8:
        return "parentSpanId: expected 8 bytes"
    if not raw.start_time_unix_nano:
        return "startTimeUnixNano: missing"
    if raw.end_time_unix_nano < raw.start_time_unix_nano:
        return "endTimeUnixNano: before startTimeUnixNano"
    return None


# -- spans as events ------------------------------------------------------------------------


def moment(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch as a UTC time, to the microsecond (what the store keeps)."""
    return EPOCH + dt.timedelta(microseconds=ns // 1000)


def iso(ns: int) -> str:
    """Nanoseconds since the epoch as the contract's timestamp."""
    return moment(ns).isoformat().replace("+00:00", "Z")


def step_event(span: Span, index: int) -> dict:
    """The step_finished event of a span (its `input` and `output` as Python values)."""
    ai = ai_fields(span.attributes, span.events)
    error, warnings = _error(span)
    event = {"type": "step_finished", "execution_id": span.trace_id, "index": index, "node_id": span.span_id,
             "node_name": span.name or "(unnamed span)", "node_type": node_type(span),
             "status": "failed" if span.failed else "completed",
             "started_at": iso(span.start_ns), "finished_at": iso(span.end_ns), "warnings": warnings,
             "error": error, "input": _input(span, ai), "output": _output(ai)}
    event.update({k: ai[k] for k in ("model", "tokens", "system_prompt", "user_prompt", "ai_reply") if ai.get(k)})
    return event


def execution_events(root: Span, any_step_failed: bool) -> list[dict]:
    """execution_started and execution_finished of the trace whose root span this is."""
    attrs = {**root.resource, **root.attributes}  # the span's own attributes win over its resource's
    flow_name = text_attr(attrs, "flowlogs.flow.name") or root.name or "(unnamed trace)"
    trigger = {"type": text_attr(attrs, "flowlogs.trigger.type") or "manual"}
    if text_attr(attrs, "flowlogs.trigger.phone"):
        trigger["phone"] = text_attr(attrs, "flowlogs.trigger.phone")
    status = "failed" if root.failed else "completed_with_errors" if any_step_failed else "completed"
    return [
        {"type": "execution_started", "execution_id": root.trace_id,
         "flow_id": text_attr(attrs, "flowlogs.flow.id") or flow_name, "flow_name": flow_name,
         "at": iso(root.start_ns), "trigger": trigger},
        {"type": "execution_finished", "execution_id": root.trace_id, "at": iso(root.end_ns), "status": status,
         "error": _error(root)[0] if root.failed else None},
    ]


def node_type(span: Span) -> str:
    given = text_attr(span.attributes, "flowlogs.node.type")
    if given:
        return given
    if is_genai(span.attributes, span.events):
        return "ai_response"
    if span.kind == 3 and any(k in span.attributes for k in ("http.request.method", "http.method", "url.full")):
        return "http_request"
    return KINDS.get(span.kind, "span")


def _error(span: Span) -> tuple[str | None, list[str]]:
    """The span's error (when its status is ERROR) and warnings for exceptions it recorded otherwise."""
    exceptions = [_exception_text(attrs) for name, attrs in span.events if name == "exception"]
    if span.failed:
        return (exceptions[-1] if exceptions else span.status_message or "span status ERROR"), []
    return None, [f"exception recorded: {text}" for text in exceptions]


def _exception_text(attrs: dict) -> str:
    kind, message = attrs.get("exception.type"), attrs.get("exception.message")
    return ": ".join(str(part) for part in (kind, message) if part) or "exception"


def _input(span: Span, ai: dict) -> dict:
    """What the step was given: its attributes (minus the message texts, kept apart) and its input messages."""
    given: dict[str, Any] = {"attributes": {k: v for k, v in span.attributes.items()
                                            if not k.startswith(CONTENT_KEYS)}}
    if ai.get("input_messages"):
        given["messages"] = ai["input_messages"]
    if span.is_root and span.resource:
        given["resource"] = span.resource
    return given


def _output(ai: dict) -> dict | None:
    return {"messages": ai["output_messages"]} if ai.get("output_messages") else None
