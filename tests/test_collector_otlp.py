"""OpenTelemetry traces into the collector: the real SDK and its OTLP/HTTP exporter (protobuf) sending to
127.0.0.1, and OTLP/JSON posted by hand. A trace is an execution, its spans steps in start order
(however the exporter splits them over requests), GenAI attributes fill the AI fields."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from collecting import post, running_collector
from factories import live_rows
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode


@pytest.fixture
def collector(tmp_path):
    with running_collector(str(tmp_path / "logs")) as running:
        yield running


def tracer_to(url: str, key: str):
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    return provider, provider.get_tracer("flowlogs-test")


def chat_span(tracer) -> None:
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attribute("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
        span.set_attribute("gen_ai.usage.input_tokens", 412)
        span.set_attribute("gen_ai.usage.output_tokens", 96)
        span.set_attribute("gen_ai.input.messages", json.dumps([
            {"role": "system", "parts": [{"type": "text", "content": "You are the support agent."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Where is my order #VC-37954?"}]}]))
        span.set_attribute("gen_ai.output.messages", json.dumps([
            {"role": "assistant", "parts": [{"type": "text", "content": "It ships tomorrow."}],
             "finish_reason": "stop"}]))


def test_the_sdk_exporter_sends_a_trace_in_two_requests_and_it_reads_as_one_execution(collector):
    service, logs, key = collector
    provider, tracer = tracer_to(service.url, key)
    with tracer.start_as_current_span("Support auto-reply") as root:
        trace_id = format(root.get_span_context().trace_id, "032x")
        root.set_attribute("flowlogs.trigger.type", "incoming_message")
        root.set_attribute("flowlogs.trigger.phone", "+4915112345678")
        with tracer.start_as_current_span("Receive Message") as span:
            span.set_attribute("flowlogs.node.type", "receive_message")
        chat_span(tracer)
        time.sleep(0.002)
        with tracer.start_as_current_span("Send Message") as span:
            try:
                raise ConnectionError("WhatsApp connection failed: 503 from graph.facebook.com")
            except ConnectionError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
        assert provider.force_flush()  # the children now, their root in a later request (as when it runs long)
        assert live_rows(logs.store.root) == {"pending_steps": 3}  # waiting for their root
    assert provider.force_flush()
    provider.shutdown()

    execution = logs.queries.execution(trace_id)
    assert (execution["flow_name"], execution["status"], execution["trigger_phone"]) == (
        "Support auto-reply", "completed_with_errors", "+4915112345678")
    steps = execution["steps"]
    assert [(s["index"], s["node_name"], s["node_type"], s["status"]) for s in steps] == [
        (0, "Support auto-reply", "span", "completed"), (1, "Receive Message", "receive_message", "completed"),
        (2, "chat gpt-4o-mini", "ai_response", "completed"), (3, "Send Message", "span", "failed")]
    chat = steps[2]
    assert (chat["model"], chat["prompt_tokens"], chat["completion_tokens"]) == ("gpt-4o-mini-2024-07-18", 412, 96)
    assert (chat["system_prompt"], chat["user_prompt"], chat["ai_reply"]) == (
        "You are the support agent.", "Where is my order #VC-37954?", "It ships tomorrow.")
    assert json.loads(chat["input"])["messages"][1]["role"] == "user"
    assert steps[3]["error"] == "ConnectionError: WhatsApp connection failed: 503 from graph.facebook.com"
    failure = logs.queries.failures().iloc[0]
    assert (failure["failed_node_name"], failure["cause"]) == ("Send Message", "whatsapp_connection")
    # the root came with the last request: the steps numbered earlier were numbered again, none twice
    rows = live_rows(logs.store.root)
    assert rows["executions"] == 2 and rows["steps"] >= 4 and "pending_steps" not in rows
    assert int(logs.queries.token_usage("model").prompt_tokens.sum()) == 412


def test_a_failed_root_fails_the_execution_and_a_retry_is_answered_from_its_receipt(collector):
    service, logs, key = collector
    provider, tracer = tracer_to(service.url, key)
    with tracer.start_as_current_span("Daily broadcast") as root:
        trace_id = format(root.get_span_context().trace_id, "032x")
        chat_span(tracer)
        root.set_status(Status(StatusCode.ERROR, "template variable first_name is missing"))
    provider.shutdown()
    execution = logs.queries.execution(trace_id)
    assert (execution["status"], execution["error"]) == ("failed", "template variable first_name is missing")
    assert [s["index"] for s in execution["steps"]] == [0, 1]

    body = json.dumps(otlp_json(trace_id="5b8efff798038103d269b633813fc60c"))
    first = post(f"{service.url}/v1/traces", body, key, Content_Type="application/json")
    again = post(f"{service.url}/v1/traces", body, key, Content_Type="application/json")
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["accepted"] == first.json()["accepted"]
    assert post(f"{service.url}/v1/traces", body, None, Content_Type="application/json").status_code == 401
    assert post(f"{service.url}/v1/traces", body, key, Content_Type="text/plain").status_code == 415
    assert post(f"{service.url}/v1/traces", b"\xff\x00garbage", key,
                Content_Type="application/x-protobuf").status_code == 400


def attr(key: str, value) -> dict:
    kind = {bool: "boolValue", int: "intValue", float: "doubleValue"}.get(type(value), "stringValue")
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def otlp_json(trace_id: str) -> dict:
    """An OTLP/JSON export as an exporter in another language sends it: a root, two GenAI spans written
    the older ways (indexed attributes; events), and two spans that cannot be read."""
    start = int((dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).timestamp()) * 10**9
    ms = 10**6

    def span(span_id, name, begin, end, parent="", attributes=(), events=(), **more):
        return {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": name, "kind": 1,
                "startTimeUnixNano": str(start + begin * ms), "endTimeUnixNano": str(start + end * ms),
                "attributes": list(attributes), "events": list(events), **more}

    return {"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "node-engine")]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": [
            span("eee19b7ec3c1b174", "POST /webhook", 0, 900, attributes=[attr("flowlogs.flow.name", "Order status")]),
            span("aaa19b7ec3c1b175", "openai.chat", 100, 400, parent="eee19b7ec3c1b174", attributes=[
                attr("gen_ai.system", "openai"), attr("gen_ai.request.model", "gpt-4o"),
                attr("gen_ai.usage.prompt_tokens", 30), attr("gen_ai.usage.completion_tokens", 5),
                attr("gen_ai.prompt.0.role", "system"), attr("gen_ai.prompt.0.content", "Be brief."),
                attr("gen_ai.prompt.1.role", "user"), attr("gen_ai.prompt.1.content", "Status of 42?"),
                attr("gen_ai.completion.0.role", "assistant"), attr("gen_ai.completion.0.content", "Shipped.")]),
            span("bbb19b7ec3c1b176", "anthropic.messages", 500, 800, parent="eee19b7ec3c1b174",
                 attributes=[attr("gen_ai.request.model", "claude-sonnet")],
                 events=[{"name": "gen_ai.user.message", "timeUnixNano": str(start + 500 * ms),
                          "attributes": [attr("content", "And order 43?")]},
                         {"name": "gen_ai.choice", "timeUnixNano": str(start + 800 * ms),
                          "attributes": [attr("message", json.dumps({"content": "Also shipped."}))]}]),
            span("0000000000000000", "no id", 10, 20, parent="eee19b7ec3c1b174"),
            span("ccc19b7ec3c1b177", "ends before it starts", 30, 20, parent="eee19b7ec3c1b174"),
        ]}]}]}


def test_otlp_json_with_genai_attributes_of_older_conventions_and_rejected_spans(collector):
    service, logs, key = collector
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    answer = post(f"{service.url}/v1/traces", json.dumps(otlp_json(trace_id)), key, Content_Type="application/json")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["accepted"] == 3 and body["partialSuccess"]["rejectedSpans"] == "2"
    assert "span 0000000000000000: spanId: expected 8 bytes" in body["partialSuccess"]["errorMessage"]
    assert "endTimeUnixNano: before startTimeUnixNano" in body["partialSuccess"]["errorMessage"]
    execution = logs.queries.execution(trace_id)
    assert (execution["flow_name"], execution["status"], execution["trigger_type"]) == (
        "Order status", "completed", "manual")
    steps = {s["node_name"]: s for s in execution["steps"]}
    openai, anthropic = steps["openai.chat"], steps["anthropic.messages"]
    assert (openai["node_type"], openai["model"], openai["prompt_tokens"], openai["completion_tokens"]) == (
        "ai_response", "gpt-4o", 30, 5)
    assert (openai["system_prompt"], openai["user_prompt"], openai["ai_reply"]) == (
        "Be brief.", "Status of 42?", "Shipped.")
    assert (anthropic["user_prompt"], anthropic["ai_reply"]) == ("And order 43?", "Also shipped.")
    assert json.loads(steps["POST /webhook"]["input"])["resource"] == {"service.name": "node-engine"}


def test_protobuf_answers_are_protobuf_with_partial_success(collector):
    service, _, key = collector
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    data = otlp_json("1af7651916cd43dd8448eb211c80319d")
    for item in data["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # protobuf's JSON mapping has base64 ids
        for name in ("traceId", "spanId", "parentSpanId"):
            item[name] = base64.b64encode(bytes.fromhex(item[name])).decode()
    request = json_format.ParseDict(data, ExportTraceServiceRequest())
    answer = post(f"{service.url}/v1/traces", request.SerializeToString(), key,
                  Content_Type="application/x-protobuf")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/x-protobuf"
    response = ExportTraceServiceResponse.FromString(answer.content)
    assert response.partial_success.rejected_spans == 2


def test_the_python_example_of_docs_collector_md_runs_against_a_collector(collector, subprocess_env):
    service, logs, key = collector
    page = (Path(__file__).resolve().parents[1] / "docs" / "collector.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"^```python\n(.*?)^```", page, flags=re.M | re.S)
    env = {**subprocess_env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{service.url}/v1/traces",
           "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"Authorization=Bearer%20{key}"}
    ran = subprocess.run([sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    (execution_id,) = logs.queries.executions(limit=5).execution_id
    execution = logs.queries.execution(execution_id)
    assert (execution["flow_name"], execution["trigger_phone"], execution["status"]) == (
        "Support auto-reply", "+4915112345678", "completed")
    assert [(s["node_name"], s["model"], s["prompt_tokens"]) for s in execution["steps"]] == [
        ("Support auto-reply", None, None), ("chat gpt-4o-mini", "gpt-4o-mini", 412)]
