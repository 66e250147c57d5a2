"""Ingest of the JSON-lines event contract (docs/events.md).

Every line is validated on its own: a bad line is reported with its number and the
field at fault, and the good lines around it are stored. Lines are read with a cap
(`max_line_bytes`): a longer line is rejected and skipped without being held in memory.

An execution cannot finish before it started (its duration would be negative): a finish
before its start is rejected naming `at` when the start is known, from this input or the
store; a start after a finish earlier in this input likewise. A finish whose start is in
neither (it arrives later, in another ingest) cannot be checked here and is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .events import (
    LINE_BYTES_PER_FIELD_BYTE,
    MAX_LINE_BYTES,
    EventError,
    ExecutionFinished,
    ExecutionStarted,
    line_too_long,
    parse_event,
)
from .schema import day_of, utc
from .writer import FlushReport, Writer

SKIP_CHUNK_BYTES = 1 << 20  # an oversized line is read away in pieces of this size
HELD_FINISHES = 2_000  # finishes whose start is not in the input, checked against the store in one batch


@dataclass(frozen=True)
class OversizedLine:
    """A line over the cap, read away unseen: only its length is known."""

    size: int

    def __len__(self) -> int:
        return self.size


def read_lines(stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | OversizedLine]:
    """The lines of a binary stream (newline excluded from the cap). A line over `max_line_bytes`
    comes as an OversizedLine: memory holds at most `max_line_bytes` + 1 bytes of it at a time."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        if line.endswith(b"\n") or len(line) <= max_line_bytes:
            yield line
            continue
        size = len(line)
        del line
        while True:
            rest = stream.readline(SKIP_CHUNK_BYTES)
            if not rest:
                break
            if rest.endswith(b"\n"):
                size += len(rest) - 1
                break
            size += len(rest)
        yield OversizedLine(size)


def default_line_limit(max_field_bytes: int) -> int:
    """Room for every payload field of a step at its limit (see MAX_LINE_BYTES); never below the default."""
    return max(MAX_LINE_BYTES, LINE_BYTES_PER_FIELD_BYTE * max_field_bytes)


# Control characters and line separators of a reason (which may quote the line) are shown escaped:
# one rejection is one line of output, and a line cannot forge another ("...\nline 9: ...").
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))} | {
    0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


@dataclass
class Rejection:
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        text = f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"
        return text.translate(_ESCAPES)


@dataclass
class IngestReport:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    truncated: int = 0  # payload fields cut to the writer's max_field_bytes (a warning on each step says so)
    written: FlushReport = field(default_factory=FlushReport)
    waiting: int = 0  # of the rows that waited for their execution_started, those that still do at the end

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.written.refused_expired


def ingest_lines(lines: Iterable[bytes | str | OversizedLine], writer: Writer,
                 progress: Callable[[int], None] | None = None, *,
                 max_line_bytes: int | None = None) -> IngestReport:
    """Validate and write each line; flush at the end (the events are then acknowledged).

    Payload fields over the writer's `max_field_bytes` are stored cut; lines over `max_line_bytes`
    (default: `default_line_limit` of the writer's field limit) are rejected.
    """
    report = buffer_lines(lines, writer, progress, max_line_bytes=max_line_bytes)
    writer.flush()
    report.written = writer.totals
    report.waiting = writer.still_waiting()
    return report


def buffer_lines(lines: Iterable[bytes | str | OversizedLine], writer: Writer,
                 progress: Callable[[int], None] | None = None, *,
                 max_line_bytes: int | None = None, horizon: dt.date | None | bool = False) -> IngestReport:
    """`ingest_lines` without its flush: the accepted events are in the writer's buffer, not yet
    acknowledged. The collector validates several batches this way, then flushes them once, and
    reads the retention horizon once for them all (`horizon`; False: read it here)."""
    report = IngestReport()
    if horizon is False:
        horizon = writer.store.horizon()
    line_limit = max_line_bytes or default_line_limit(writer.max_field_bytes)
    order = _StartBeforeFinish(writer, report)
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(len(line))
        if isinstance(line, OversizedLine):
            report.rejected.append(Rejection(number, None, line_too_long(line.size, line_limit)))
            continue
        if not line.strip():
            continue
        try:
            event = parse_event(line, line_limit)
        except EventError as exc:
            report.rejected.append(Rejection(number, exc.field, exc.reason))
            continue
        if isinstance(event, ExecutionStarted) and horizon and day_of(event.at) < horizon:
            report.rejected.append(Rejection(
                number, "at", f"execution started on {day_of(event.at)}, before the retention horizon {horizon}"))
            continue
        if order.admit(number, event):
            _write(writer, report, event)
    order.check_held()
    return report


def _write(writer: Writer, report: IngestReport, event) -> None:
    report.truncated += writer.write(event)
    report.accepted += 1


def _iso(ts: dt.datetime) -> str:
    return utc(ts).isoformat()


class _StartBeforeFinish:
    """Rejects a finish before its start, and a start after a finish, as each line comes.

    The start or finish it is compared with is the earliest of this input (the merge keeps the
    earliest), or for a finish the stored start: finishes whose start is not (yet) in the input are
    held and checked against the store in batches, then written (events may come in any order)."""

    def __init__(self, writer: Writer, report: IngestReport):
        self.writer, self.report = writer, report
        self.starts: dict[str, dt.datetime] = {}
        self.finishes: dict[str, dt.datetime] = {}
        self.held: list[tuple[int, ExecutionFinished]] = []

    def admit(self, number: int, event) -> bool:
        """Whether to write `event` now (False: rejected, or held for `check_held`)."""
        if isinstance(event, ExecutionStarted):
            finish = self.finishes.get(event.execution_id)
            if finish is not None and finish < event.at:
                self._reject(number, f"execution started at {_iso(event.at)}, after it finished at {_iso(finish)}")
                return False
            start = self.starts.get(event.execution_id)
            self.starts[event.execution_id] = event.at if start is None else min(start, event.at)
            return True
        if isinstance(event, ExecutionFinished):
            start = self.starts.get(event.execution_id)
            if start is not None and event.at < start:
                self._reject(number, self._before(event, start))
                return False
            finish = self.finishes.get(event.execution_id)
            self.finishes[event.execution_id] = event.at if finish is None else min(finish, event.at)
            if start is None:
                self.held.append((number, event))
                if len(self.held) >= HELD_FINISHES:
                    self.check_held()
                return False
        return True

    def check_held(self) -> None:
        """Check the held finishes against starts that came later in the input or are stored; write the good."""
        held, self.held = self.held, []
        unknown = {e.execution_id for _, e in held if e.execution_id not in self.starts}
        # one batched look at the store: most inputs hold each execution whole, so this is rare
        stored = {x: started for x, (_, started) in self.writer.store.find_starts(unknown).items()} if unknown else {}
        for number, event in held:
            start = self.starts.get(event.execution_id) or stored.get(event.execution_id)
            if start is not None and event.at < start:
                self._reject(number, self._before(event, start))
            else:
                _write(self.writer, self.report, event)
        self.report.rejected.sort(key=lambda r: r.line)  # a held line's rejection comes in its line's place

    @staticmethod
    def _before(event: ExecutionFinished, start: dt.datetime) -> str:
        return f"execution finished at {_iso(event.at)}, before it started at {_iso(start)}"

    def _reject(self, number: int, reason: str) -> None:
        self.report.rejected.append(Rejection(number, "at", reason))


def ingest_stream(stream: BinaryIO, writer: Writer, progress: Callable[[int], None] | None = None, *,
                  max_line_bytes: int | None = None) -> IngestReport:
    """`ingest_lines` over a binary stream (a file, stdin), reading each line with the cap."""
    line_limit = max_line_bytes or default_line_limit(writer.max_field_bytes)
    return ingest_lines(read_lines(stream, line_limit), writer, progress, max_line_bytes=line_limit)
