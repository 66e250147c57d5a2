"""Ingest of the JSON-lines event contract (docs/events.md).

Every line is validated on its own: a bad line is reported with its number and the
field at fault, and the good lines around it are stored. Lines are read with a cap
(`max_line_bytes`): a longer line is rejected and skipped without being held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .schema import (
    LINE_BYTES_PER_FIELD_BYTE,
    MAX_LINE_BYTES,
    EventError,
    ExecutionStarted,
    day_of,
    line_too_long,
    parse_event,
)
from .writer import FlushReport, Writer

SKIP_CHUNK_BYTES = 1 << 20  # an oversized line is read away in pieces of this size


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
    report = IngestReport()
    horizon = writer.store.horizon()
    line_limit = max_line_bytes or default_line_limit(writer.max_field_bytes)
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
        report.truncated += writer.write(event)
        report.accepted += 1
    writer.flush()
    report.written = writer.totals
    return report


def ingest_stream(stream: BinaryIO, writer: Writer, progress: Callable[[int], None] | None = None, *,
                  max_line_bytes: int | None = None) -> IngestReport:
    """`ingest_lines` over a binary stream (a file, stdin), reading each line with the cap."""
    line_limit = max_line_bytes or default_line_limit(writer.max_field_bytes)
    return ingest_lines(read_lines(stream, line_limit), writer, progress, max_line_bytes=line_limit)
