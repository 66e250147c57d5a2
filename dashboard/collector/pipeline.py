"""The collector's pipeline: batches in, one writer flush per round, answers out.

HTTP handlers admit a request (or answer 429: at most `max_pending` requests are read or wait at a
time, so a flood costs bounded memory), read its body and hand the batch over. One worker thread
takes every batch waiting, as a round: it answers the retries of stored batches from their receipts,
validates the others line by line into the writer (as `flowlogs ingest` does), flushes once, records
the receipts, and only then answers: an answer with accepted events means they are committed. Many
events per flush is what makes the throughput (each flush is one Delta commit per table), and under
load the batches that arrive during a round make the next one.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..events import MAX_FIELD_BYTES
from ..ingest import buffer_lines
from ..store import Store
from ..writer import Writer, describe_write_error
from .otlp import Span
from .receipts import Receipts
from .traces import trace_lines

log = logging.getLogger(__name__)

MAX_PENDING = 32  # requests read or waiting at a time; more get 429
ROUND_BYTES = 32 * 1024 * 1024  # bodies taken into one round at most (one flush stays well under the writer's 64 MB)


@dataclass
class Batch:
    """A request's body, decoded: contract lines (`events`) or the spans of an OTLP export (`traces`)."""

    kind: str
    key: str  # receipts.batch_key
    body_sha256: str
    size: int
    lines: list[bytes] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (span id, reason) of spans not read
    answer: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


@dataclass
class Answer:
    status: int
    body: dict
    retry_after: int | None = None


class Collector:
    """Admission, the queue of read batches, and the worker thread that stores them."""

    def __init__(self, store: Store, *, max_pending: int = MAX_PENDING, max_field_bytes: int = MAX_FIELD_BYTES,
                 round_bytes: int = ROUND_BYTES, receipts: Receipts | None = None):
        self.store = store
        self.max_pending = max_pending
        self.max_field_bytes = max_field_bytes
        self.round_bytes = round_bytes
        self.receipts = receipts or Receipts(store)
        self.writer = self._new_writer()
        self._admitted = 0
        self._queue: deque[Batch] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.last_round_seconds = 0.0

    def _new_writer(self) -> Writer:
        # the worker alone decides when to flush: once per round
        return Writer(self.store, flush_interval=None, max_rows=1 << 40, max_field_bytes=self.max_field_bytes)

    # -- admission (called from the HTTP loop) ---------------------------------------------

    def admit(self) -> bool:
        with self._cond:
            if self._stopping or self._admitted >= self.max_pending:
                return False
            self._admitted += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._admitted -= 1

    @property
    def admitted(self) -> int:
        """Requests admitted and not answered yet (being read, waiting, or in the round)."""
        return self._admitted

    def retry_after(self) -> int:
        """Seconds a refused client should wait: about one round."""
        return max(1, round(self.last_round_seconds + 0.5))

    def submit(self, batch: Batch) -> concurrent.futures.Future:
        with self._cond:
            if self._stopping:
                batch.answer.set_result(Answer(503, {"error": "the collector is stopping"}, 1))
            else:
                self._queue.append(batch)
                self._cond.notify()
        return batch.answer

    # -- the worker ---------------------------------------------------------------------------

    def start(self) -> Collector:
        self._thread = threading.Thread(target=self._run, name="flowlogs-collector", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Store what was handed over, answer it, and stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                batches = [self._queue.popleft()]
                size = batches[0].size
                while self._queue and size + self._queue[0].size <= self.round_bytes:
                    size += self._queue[0].size
                    batches.append(self._queue.popleft())
            started = time.monotonic()
            self._round(batches)
            self.last_round_seconds = time.monotonic() - started

    def _round(self, batches: list[Batch]) -> None:
        leaders: dict[str, Batch] = {}  # the same batch twice in a round is stored once
        for batch in batches:
            leaders.setdefault(batch.key, batch)
        answers: dict[str, Answer] = {}
        try:
            known = self.receipts.find(sorted(leaders))
            answers.update({key: _replay(leaders[key], *known[key]) for key in known})
            fresh = [batch for key, batch in leaders.items() if key not in known]
            results = self._buffer(fresh)
            self.writer.flush()
        except Exception as exc:  # a full disk, a lost connection to object storage: nothing acknowledged
            log.exception("a round of %d batches could not be stored", len(batches))
            self.writer = self._new_writer()  # what it kept buffered is not acknowledged: the clients send it again
            reason = describe_write_error(exc)
            for key in leaders:
                answers.setdefault(key, Answer(503, {"error": f"could not store the batch: {reason}"}, 5))
        else:
            self._record(fresh, results)
            answers.update(results)
        for batch in batches:
            leader = leaders[batch.key]
            reused = batch is not leader and batch.body_sha256 != leader.body_sha256
            _settle(batch, _key_reused() if reused else answers[batch.key])

    def _buffer(self, fresh: list[Batch]) -> dict[str, Answer]:
        """Validate every fresh batch into the writer; their answers once the flush has returned."""
        horizon = self.store.horizon()
        answers = {}
        for batch in fresh:
            if batch.kind == "events":
                report = buffer_lines(batch.lines, self.writer, horizon=horizon)
                answers[batch.key] = Answer(200, {
                    "accepted": report.accepted, "rejected": [_rejection(r) for r in report.rejected],
                    "truncated": report.truncated, "replayed": False})
        traced = [b for b in fresh if b.kind == "traces"]
        if traced:
            answers.update(self._buffer_traces(traced, horizon))
        return answers

    def _buffer_traces(self, traced: list[Batch], horizon) -> dict[str, Answer]:
        lines = trace_lines(self.store, [(i, span) for i, b in enumerate(traced) for span in b.spans])
        report = buffer_lines([line.text for line in lines], self.writer, horizon=horizon)
        rejected: list[list[dict]] = [[{"span": s, "reason": r} for s, r in b.unreadable] for b in traced]
        for rejection in report.rejected:
            line = lines[rejection.line - 1]
            entry = {"span": line.span, "field": rejection.field, "reason": rejection.reason}
            if line.batch is None:
                log.warning("a stored step could not be numbered again: %s", entry)
            else:
                rejected[line.batch].append(entry)
        answers = {}
        for i, batch in enumerate(traced):
            refused = {r["span"] for r in rejected[i]}
            answers[batch.key] = Answer(200, {"accepted": len({s.span_id for s in batch.spans} - refused),
                                              "rejected": rejected[i], "replayed": False})
        return answers

    def _record(self, fresh: list[Batch], answers: dict[str, Answer]) -> None:
        try:
            self.receipts.record([(b.key, b.body_sha256, answers[b.key].body) for b in fresh])
        except Exception:  # stored but not receipted: a retry stores it again, which the merge rule reads once
            log.exception("the receipts of %d stored batches could not be recorded", len(fresh))


def _rejection(rejection) -> dict:
    return {"line": rejection.line, "field": rejection.field, "reason": rejection.reason, "message": str(rejection)}


def _replay(batch: Batch, body_sha256: str, answer: dict) -> Answer:
    """The answer a stored batch got, again; a known Idempotency-Key with another body is refused."""
    return Answer(200, {**answer, "replayed": True}) if body_sha256 == batch.body_sha256 else _key_reused()


def _key_reused() -> Answer:
    return Answer(422, {"error": "this Idempotency-Key was used before for a different body; "
                                 "use a new key for a new batch"})


def _settle(batch: Batch, answer: Answer) -> None:
    if not batch.answer.done():
        batch.answer.set_result(answer)
