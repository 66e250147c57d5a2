"""Ingest of the JSON-lines event contract (EVENTS.md).

Every line is validated on its own: a bad line is reported with its number and the
field at fault, and the good lines around it are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .schema import EventError, ExecutionStarted, day_of, parse_event
from .writer import FlushReport, Writer


@dataclass
class Rejection:
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class IngestReport:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    written: FlushReport = field(default_factory=FlushReport)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.written.refused_expired


def ingest_lines(lines: Iterable[bytes | str], writer: Writer,
                 progress: Callable[[int], None] | None = None) -> IngestReport:
    """Validate and write each line; flush at the end (the events are then acknowledged)."""
    report = IngestReport()
    horizon = writer.store.horizon()
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(len(line))
        if not line.strip():
            continue
        try:
            event = parse_event(line)
        except EventError as exc:
            report.rejected.append(Rejection(number, exc.field, exc.reason))
            continue
        if isinstance(event, ExecutionStarted) and horizon and day_of(event.at) < horizon:
            report.rejected.append(Rejection(
                number, "at", f"execution started on {day_of(event.at)}, before the retention horizon {horizon}"))
            continue
        writer.write(event)
        report.accepted += 1
    writer.flush()
    report.written = writer.totals
    return report
