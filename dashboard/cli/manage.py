"""The commands that write: demo, ingest, delete, clear, retention, close-stale, compact, migrate."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from ..events import MAX_FIELD_BYTES, MIN_FIELD_BYTES
from ..logs import Logs
from ..store import DEFAULT_RETENTION_DAYS, ExecutionNotFound, ExecutionRunning, StoreError
from ..writer import WRITE_ERRORS, describe_write_error
from .options import DEFAULT_DATA, DataDir, open_data, time_option
from .output import LISTED_IDS, emit_json, err, escape, fail, progress_bar

# -- writing ------------------------------------------------------------------------


def demo(data: DataDir = DEFAULT_DATA,
         days: Annotated[int, typer.Option(min=1, help="Days of history, ending now.")] = 30,
         per_day: Annotated[int, typer.Option(min=1, help="Executions a day.")] = 500,
         seed: Annotated[int, typer.Option(help="Same seed and --now, same data.")] = 1,
         now: Annotated[str | None, typer.Option(help="End the history at this time (ISO 8601) instead of now.")]
         = None,
         live: Annotated[bool, typer.Option(
             help="Then keep producing new executions at the history's pace (--per-day over the day, at least one "
                  "a minute) until stopped; Ctrl+C or SIGTERM cancels the running ones.")] = False):
    """Write realistic demo history (a flow simulator driving the recorder)."""
    from ..demo import generate_history, run_live, stopped_by_signals

    logs = open_data(data)
    end = time_option(now)
    if isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end, dt.time(12), dt.timezone.utc)
    with progress_bar("writing demo history", total=days * per_day) as advance:
        count = generate_history(logs.store, days=days, per_day=per_day, seed=seed, now=end, progress=advance)
    err.print(f"wrote {count:,} executions over {days} days to {data}")
    if live:
        err.print(f"producing live executions at the pace of {per_day:,} a day; Ctrl+C to stop")
        stop = threading.Event()
        with stopped_by_signals(stop):  # a stopped engine cancels what it started, then flushes
            count = run_live(logs.store, seed=seed, per_day=per_day, stop=stop)
        err.print(f"stopped after {count:,} live executions; the running ones were cancelled")


def ingest(file: Annotated[str, typer.Argument(help="A JSON-lines file of events, or - for stdin.")],
           data: DataDir = DEFAULT_DATA,
           max_field_bytes: Annotated[int, typer.Option(
               envvar="FLOWLOGS_MAX_FIELD_BYTES", min=MIN_FIELD_BYTES,
               help="Payload fields (prompts, reply, error, input/output) over this many UTF-8 bytes are stored "
                    "cut, with a warning on the step.")] = MAX_FIELD_BYTES,
           max_line_bytes: Annotated[int | None, typer.Option(
               envvar="FLOWLOGS_MAX_LINE_BYTES", min=1024,
               help="Longer lines are rejected unread. [default: 16 x --max-field-bytes, at least 16 MB]")] = None):
    """Store the events of a JSON-lines file (the event contract: docs/events.md). Exit status 1 if any line was
    rejected."""
    from ..ingest import ingest_stream
    from ..writer import WriteFailed, Writer

    logs = open_data(data)
    stream, size = _input(file)
    try:
        with progress_bar(f"ingesting {file}", total=size) as advance, \
                Writer(logs.store, max_rows=20_000, flush_interval=None, max_field_bytes=max_field_bytes) as writer:
            report = ingest_stream(stream, writer, progress=advance, max_line_bytes=max_line_bytes)
    except WriteFailed as exc:
        fail(f"could not write to the data directory {exc.directory}: {exc.reason}. The events since the last "
             "successful flush are not stored; run the same ingest again once it is writable (events already "
             "stored are stored once).")
    finally:
        stream.close() if file != "-" else None
    _print_ingest_report(report, max_field_bytes)
    if not report.ok:
        raise typer.Exit(1)


def _input(file: str):
    """The byte stream `ingest` reads (stdin for -) and its size, if known; a missing file is a usage error."""
    if file == "-":
        return sys.stdin.buffer, None
    path = Path(file)
    if not path.is_file():
        fail(f"no such file: {file}", 2)
    return path.open("rb"), path.stat().st_size


def _print_ingest_report(report, max_field_bytes: int) -> None:
    """What `ingest` stored and rejected, on stderr: each rejected line, then the totals."""
    for rejection in report.rejected:
        sys.stderr.write(f"{rejection}\n")
    written = report.written
    if report.truncated:
        err.print(f"cut {report.truncated:,} payload fields over {max_field_bytes:,} bytes (a warning on each step "
                  "says how much)")
    err.print(f"stored {report.accepted:,} events, rejected {len(report.rejected):,} lines"
              + (f", {report.waiting:,} wait for their execution_started" if report.waiting else "")
              + (f", {written.dropped_deleted:,} belong to deleted executions" if written.dropped_deleted else ""))
    if written.refused_expired:
        refused = written.refused_expired
        more = f" … and {len(refused) - LISTED_IDS} more" if len(refused) > LISTED_IDS else ""
        err.print(f"refused events of {len(refused)} executions older than retention: "
                  + escape(", ".join(refused[:LISTED_IDS]) + more))


# -- management ------------------------------------------------------------------------


def delete(execution_id: str, data: DataDir = DEFAULT_DATA):
    """Delete one execution and its steps from disk (running ones are refused). Written to the audit log."""
    logs = open_data(data)
    try:
        day = logs.store.delete_execution(execution_id)
    except (ExecutionNotFound, ExecutionRunning) as exc:
        _audit(logs, "delete", "not found" if isinstance(exc, ExecutionNotFound) else "refused: running",
               execution_ids=[execution_id])
        fail(str(exc))
    except WRITE_ERRORS as exc:  # a full or read-only disk: said, audited, and the delete can be run again
        _audit(logs, "delete", f"failed: {describe_write_error(exc)}", execution_ids=[execution_id])
        fail(f"could not delete {execution_id!r} from {logs.store.root}: {describe_write_error(exc)}; "
             "nothing deleted is shown again, and the same command finishes the delete")
    _audit(logs, "delete", "deleted", execution_ids=[execution_id])
    err.print(f"deleted execution {escape(execution_id)} (day {day})")


def clear(data: DataDir = DEFAULT_DATA,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False):
    """Delete every execution except running ones."""
    logs = open_data(data)
    tab_counts = logs.queries.tab_counts()
    doomed = tab_counts["all"] - tab_counts["running"]
    if not yes:
        typer.confirm(f"Delete {doomed:,} executions ({tab_counts['running']:,} running ones are kept)?", abort=True)
    with progress_bar("clearing", total=len(logs.store.all_days())) as advance:
        try:
            deleted = logs.store.clear_all(progress=advance)
        except WRITE_ERRORS as exc:
            _audit(logs, "clear", f"failed: {describe_write_error(exc)}")
            fail(f"could not clear {logs.store.root}: {describe_write_error(exc)}; run it again to finish")
    _audit(logs, "clear", "deleted", count=deleted)
    err.print(f"deleted {deleted:,} executions; {tab_counts['running']:,} running ones kept")


def _audit(logs: Logs, action: str, outcome: str, **target) -> None:
    """Who deleted what and when (dashboard/audit.py); the command line's user is the login name."""
    from ..audit import cli_user

    try:
        logs.audit.record(user=cli_user(), role="admin", via="cli", action=action, outcome=outcome, **target)
    except WRITE_ERRORS as exc:
        err.print(f"[red]error:[/red] could not write the audit log: {escape(describe_write_error(exc))}")


def retention(data: DataDir = DEFAULT_DATA,
              days: Annotated[int, typer.Option(min=1, help="Days to keep, today included.")] = DEFAULT_RETENTION_DAYS):
    """Drop day partitions older than --days (running executions are kept)."""
    store = open_data(data).store
    with progress_bar("retention", total=len(store.all_days())) as advance:
        try:
            dropped = store.apply_retention(days, progress=advance)
        except WRITE_ERRORS as exc:
            fail(f"could not apply retention to {store.root}: {describe_write_error(exc)}; run it again")
    err.print(f"dropped {len(dropped)} day(s)" + (f": {dropped[0]} … {dropped[-1]}" if dropped else ""))


def close_stale(data: DataDir = DEFAULT_DATA,
                hours: Annotated[float, typer.Option(min=0, help="Silence after which to close.")] = 24,
                as_json: Annotated[bool, typer.Option("--json", help='Print {"closed": [every id]}.')] = False):
    """Close as failed the running executions from which no event came for --hours."""
    from ..stale import close_stale_executions

    closed = close_stale_executions(open_data(data).queries, dt.timedelta(hours=hours))
    listed = ": " + ", ".join(closed[:LISTED_IDS]) if closed else ""
    more = f" … and {len(closed) - LISTED_IDS} more; --json lists all" if len(closed) > LISTED_IDS else ""
    if as_json:
        emit_json({"closed": closed})
    else:
        err.print(escape(f"closed {len(closed)} execution(s) silent for {hours:g} h{listed}{more}"), highlight=False)


def compact(data: DataDir = DEFAULT_DATA,
            rewrite: Annotated[bool, typer.Option(
                "--rewrite", help="Rewrite days compacted already too (after an upgrade that sorts them otherwise).")
            ] = False):
    """Merge each day's small files into one sorted file per dataset."""
    store = open_data(data).store
    with progress_bar("compacting", total=len(store.all_days())) as advance:
        try:
            done = store.compact(progress=advance, rewrite=rewrite)
        except (*WRITE_ERRORS, StoreError) as exc:
            fail(f"could not compact {store.root}: {describe_write_error(exc)}; run it again")
    err.print(f"compacted {len(done)} day(s)")


def migrate(source: Annotated[Path, typer.Option(
                "--from", exists=True, file_okay=False,
                help="A data directory written by flowlogs before Delta tables (its own layout).")],
            data: DataDir = DEFAULT_DATA):
    """Copy a store of the layout before Delta tables into a new data location (a folder or an
    object-store URL), then compact it. The old directory is only read."""
    from ..store.migrate import migrate as migrate_store

    store = open_data(data).store
    with progress_bar("migrating", total=None) as advance:
        try:
            copied = migrate_store(source, store, progress=advance)
        except StoreError as exc:
            fail(str(exc), 2)
        except WRITE_ERRORS as exc:
            fail(f"could not write to {store.root}: {describe_write_error(exc)}")
    err.print(f"migrated {escape(str(source))} to {escape(store.root)}: "
              + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in copied.items() if count))
