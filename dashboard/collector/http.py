"""The collector's HTTP endpoints (tornado), as `flowlogs collect` and `flowlogs serve --collect` mount them.

    POST /v1/events        JSON lines of the event contract (docs/events.md); gzip accepted
    POST /v1/traces        OTLP/HTTP traces, protobuf or JSON
    GET  /v1/openapi.json  the description of both (dashboard/collector/openapi.json)

Each request is checked in this order, before its body is read: the ingest key (401), the declared
size (413), the content type (415), room in the queue (429 with Retry-After). The body is then read
up to the limit (413 past it, whatever Content-Length said) within `read_timeout` seconds (the
connection is closed after that), decompressed up to the limit, and handed to the pipeline; the
answer comes once the batch is committed.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from tornado.ioloop import IOLoop
from tornado.web import RequestHandler, stream_request_body

from . import otlp
from .keys import IngestKeys
from .pipeline import Answer, Batch, Collector
from .receipts import batch_key

log = logging.getLogger(__name__)

OPENAPI = Path(__file__).with_name("openapi.json")
MAX_BODY_BYTES = 8 * 1024 * 1024
READ_TIMEOUT = 30.0
PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_ERRORS_IN_MESSAGE = 20  # rejected spans named in an OTLP partial-success message


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = MAX_BODY_BYTES  # compressed and decompressed
    read_timeout: float = READ_TIMEOUT  # seconds to send a whole body


class TooLarge(ValueError):
    pass


def gunzip(data: bytes, limit: int) -> bytes:
    """A gzip body decompressed, never more than `limit` bytes of it (a small bomb stays small)."""
    out, rest = bytearray(), data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += inflater.decompress(rest, limit + 1 - len(out))
        if len(out) > limit or inflater.unconsumed_tail:
            raise TooLarge(f"the body is over {limit:,} bytes once decompressed")
        if not inflater.eof:
            raise gzip.BadGzipFile("the gzip body is cut short")
        rest = inflater.unused_data  # a further gzip member
    return bytes(out)


@stream_request_body
class _BatchHandler(RequestHandler):
    kind = ""

    def initialize(self, collector: Collector, keys: IngestKeys, limits: Limits) -> None:
        self.collector, self.keys, self.limits = collector, keys, limits
        self.sender: str | None = None
        self.body = bytearray()
        self.admitted = False
        self.submitted = False

    def check_xsrf_cookie(self) -> None:  # a key, not a cookie, authorises: no cross-site form can hold one
        pass

    async def prepare(self) -> None:
        if self.request.method != "POST":
            return self._refuse(405, f"{self.request.path} takes POST", Allow="POST")
        self.sender = await self._sender()
        if self.sender is None:
            return self._refuse(401, "no valid ingest key: send Authorization: Bearer KEY (flowlogs keys add NAME)",
                                **{"WWW-Authenticate": 'Bearer realm="flowlogs"'})
        declared = self.request.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            return self._refuse(413, self._too_large_text())
        problem = self._unsupported()
        if problem:
            return self._refuse(415, problem)
        if not self.collector.admit():
            return self._refuse(429, "too many batches waiting; send it again after Retry-After seconds",
                                **{"Retry-After": str(self.collector.retry_after())})
        self.admitted = True
        # tornado refuses a longer body by itself (closing): our own check below answers 413 first
        self.request.connection.set_max_body_size(self.limits.max_body_bytes + 65536)
        self.request.connection.set_body_timeout(self.limits.read_timeout)

    async def _sender(self) -> str | None:
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        if self.keys.fresh():
            return self.keys.check(token.strip())
        return await IOLoop.current().run_in_executor(None, self.keys.check, token.strip())

    def _unsupported(self) -> str | None:
        encoding = self.request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            return f"Content-Encoding {encoding!r} is not supported; send gzip or none"
        return None

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self.body += chunk
        if len(self.body) > self.limits.max_body_bytes:
            self.body = bytearray()
            self._refuse(413, self._too_large_text())  # the connection is closed: the rest is never read

    def _too_large_text(self) -> str:
        return f"the body is over the limit of {self.limits.max_body_bytes:,} bytes; send smaller batches"

    async def post(self) -> None:
        if self._finished:
            return
        try:
            body = self._decoded()
            batch = self._batch(body)
        except TooLarge as exc:
            return self._refuse(413, str(exc))
        except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
            return self._refuse(400, f"the body is not valid gzip ({exc})")
        except otlp.OtlpError as exc:
            return self._refuse(400, str(exc))
        self.submitted = True
        try:
            answer = await asyncio.wrap_future(self.collector.submit(batch))
        finally:
            self._release()  # its place in the queue is free once it is answered, not when the client leaves
        self._respond(answer)

    def _decoded(self) -> bytes:
        body, self.body = bytes(self.body), bytearray()
        if self.request.headers.get("Content-Encoding", "").strip().lower() == "gzip":
            return gunzip(body, self.limits.max_body_bytes)
        return body

    def _batch(self, body: bytes) -> Batch:
        key = batch_key(self.kind, self.sender, self.request.headers.get("Idempotency-Key"), body)
        return Batch(self.kind, key, hashlib.sha256(body).hexdigest(), len(body))

    def _refuse(self, status: int, message: str, **headers: str) -> None:
        self._respond(Answer(status, {"error": message}), headers)

    def _respond(self, answer: Answer, headers: dict[str, str] | None = None) -> None:
        self.set_status(answer.status)
        for name, value in (headers or {}).items():
            self.set_header(name, value)
        if answer.retry_after:
            self.set_header("Retry-After", str(answer.retry_after))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer.body, ensure_ascii=False))

    def on_finish(self) -> None:
        self._release()

    def on_connection_close(self) -> None:  # a client gone mid-body, or one too slow (read timeout)
        if not self.submitted:  # a batch handed over keeps its place until it is stored
            self._release()

    def _release(self) -> None:
        if self.admitted:
            self.admitted = False
            self.collector.release()


class EventsHandler(_BatchHandler):
    """POST /v1/events: JSON lines of the event contract."""

    kind = "events"

    def _batch(self, body: bytes) -> Batch:
        batch = super()._batch(body)
        batch.lines = body.split(b"\n")
        if batch.lines and not batch.lines[-1]:
            batch.lines.pop()  # the newline ending the last line does not start another
        return batch


class TracesHandler(_BatchHandler):
    """POST /v1/traces: OTLP/HTTP, protobuf or JSON; answered in the encoding it was sent in."""

    kind = "traces"

    def _content_type(self) -> str:
        return self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _unsupported(self) -> str | None:
        if self._content_type() not in (PROTOBUF, JSON):
            return f"Content-Type must be {PROTOBUF} or {JSON}, not {self._content_type() or 'none'!r}"
        return super()._unsupported()

    def _batch(self, body: bytes) -> Batch:
        batch = super()._batch(body)
        request = otlp.decode_protobuf(body) if self._content_type() == PROTOBUF else otlp.decode_json(body)
        batch.spans, batch.unreadable = otlp.spans_of(request)
        return batch

    def _respond(self, answer: Answer, headers: dict[str, str] | None = None) -> None:
        if answer.status != 200 or self._content_type() != PROTOBUF:
            body = answer.body if answer.status != 200 else _otlp_json(answer.body)
            return super()._respond(Answer(answer.status, body, answer.retry_after), headers)
        self.set_status(200)
        self.set_header("Content-Type", PROTOBUF)
        response = ExportTraceServiceResponse()
        rejected = answer.body.get("rejected") or []
        if rejected:
            response.partial_success.CopyFrom(ExportTracePartialSuccess(
                rejected_spans=len(rejected), error_message=_span_errors(rejected)))
        self.finish(response.SerializeToString())


def _span_errors(rejected: list[dict]) -> str:
    texts = [f"span {r['span']}: " + (f"{r['field']}: " if r.get("field") else "") + r["reason"]
             for r in rejected[:MAX_ERRORS_IN_MESSAGE]]
    more = len(rejected) - len(texts)
    return "; ".join(texts) + (f"; and {more} more" if more > 0 else "")


def _otlp_json(answer: dict) -> dict:
    """OTLP/JSON's answer, with flowlogs' own fields beside it."""
    rejected = answer.get("rejected") or []
    partial = {"rejectedSpans": str(len(rejected)), "errorMessage": _span_errors(rejected)} if rejected else {}
    return {"partialSuccess": partial, **answer}


class OpenApiHandler(RequestHandler):
    """GET /v1/openapi.json."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(OPENAPI.read_bytes())


def routes(collector: Collector, keys: IngestKeys, limits: Limits = Limits()) -> list[tuple]:
    """The collector's URL patterns, for a tornado Application or Panel's `extra_patterns`."""
    options = {"collector": collector, "keys": keys, "limits": limits}
    return [(r"/v1/events", EventsHandler, options), (r"/v1/traces", TracesHandler, options),
            (r"/v1/openapi\.json", OpenApiHandler)]
