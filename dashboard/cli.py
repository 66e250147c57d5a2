"""`flowlogs`: the command line. Every query command has a `--json` twin whose
field names are those of the event contract (docs/events.md), so what a person reads
a script can fetch."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import sys
import threading
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .logs import Logs, open_logs
from .prices import PriceFileError
from .queries import TOKEN_GROUPS, LogQueries, parse_time
from .reports import TOKEN_FORMATS, shown_models
from .schema import MAX_FIELD_BYTES, MIN_FIELD_BYTES, Tab, UnreadableJson, read_json
from .store import DEFAULT_RETENTION_DAYS, ExecutionNotFound, ExecutionRunning, LocationError, StoreError
from .ui.format import TRIGGER_LABELS
from .writer import WRITE_ERRORS, describe_write_error

app = typer.Typer(help="Execution logs of flows: record, ingest, query, delete and retain.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)
LISTED_IDS = 10  # ids a human-readable message lists before "… and N more"


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"flowlogs {package_version('flowlogs')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False):
    """Execution logs of flows: record, ingest, query, delete and retain."""

DataDir = Annotated[str, typer.Option(
    "--data", envvar="FLOWLOGS_DATA",
    help="Data location of the logs: a folder, or an object-store URL such as s3://bucket/prefix "
         "(credentials from the environment: AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Status = Annotated[Tab, typer.Option("--status", help="Filter tab.", case_sensitive=False)]
Since = Annotated[str | None, typer.Option(help="From this date or time (ISO 8601, UTC if no zone).")]
Until = Annotated[str | None, typer.Option(help="Up to this date (inclusive) or time.")]
DEFAULT_DATA = "data/logs"
PricesFile = Annotated[Path | None, typer.Option(
    "--prices", exists=True, dir_okay=False,
    help="Price file (TOML) for the estimated cost; default: FLOWLOGS_PRICES, else prices.toml in --data.")]


# -- output helpers ----------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-ready value: datetimes as ISO 8601 UTC, NaN and NaT as null."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # partition days come back as naive midnight
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [_plain(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    return value


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n")


LONG_WORD = 16  # a column is not made narrower than its longest word, up to this many characters
_ISO_UTC = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$")


def _cell(value: Any) -> str:
    """A value as a table shows it; times to the second, with a space where the line may break."""
    text = "" if value is None else str(_plain(value))
    return _ISO_UTC.sub(r"\1 \2Z", text)


def _table(rows: list[dict], columns: list[str], title: str | None = None, *, ids: tuple[str, ...] = (),
           optional: tuple[str, ...] = ()) -> None:
    """Rows as a table that fits the terminal (80 columns when piped) without cutting a value.

    Columns in `ids` hold ids (several are separated by spaces): never wrapped or cut, so an id can be copied
    into `flowlogs show`. The other columns wrap between words; when they cannot keep their words whole, the
    `optional` columns are left out, in that order, and the caption says which (--json has every field)."""
    cells = [{c: _cell(row.get(c)) for c in columns} for row in rows]
    texts = {c: [c, *(line[c] for line in cells)] for c in columns}
    wants = {c: max(len(text) for text in texts[c]) for c in columns}
    longest_word = {c: max((len(w) for text in texts[c] for w in text.split()), default=1) for c in columns}
    floors = {c: longest_word[c] if c in ids else min(longest_word[c], LONG_WORD) for c in columns}

    def room(shown: list[str]) -> int:  # characters for the cells: borders and padding take 3 a column, plus 1
        return out.width - 1 - 3 * len(shown)

    shown = list(columns)
    for column in optional:
        if sum(floors[c] for c in shown) <= room(shown):
            break
        shown.remove(column)
    widths = _share(room(shown), {c: wants[c] for c in shown}, {c: floors[c] for c in shown})
    left_out = [c for c in columns if c not in shown]
    caption = f"left out at {out.width} columns: {', '.join(left_out)} (--json has every field)" if left_out else None
    table = Table(title=title, caption=caption, header_style="bold")
    for column in shown:
        table.add_column(column, width=widths[column], no_wrap=column in ids, overflow="fold")
    for line in cells:
        table.add_row(*(escape(line[c]) for c in shown))  # escape(): log text is shown as text, never as markup
    # on a terminal too narrow even for the ids, the table is drawn wider and the terminal wraps its lines
    least = 1 + sum(3 + (widths[c] or floors[c]) for c in shown)
    (out if least <= out.width else Console(width=least)).print(table)


def _share(room: int, wants: dict[str, int], floors: dict[str, int]) -> dict[str, int | None]:
    """Column widths: as wide as their text when it fits (None: rich measures), else each column gets its floor
    and the characters left go, one at a time, to the column that lacks the most. Rich's own shrinking does not
    keep a column's min_width, so the widths are set here."""
    if sum(wants.values()) <= room:
        return dict.fromkeys(wants)
    widths = dict(floors)
    for _ in range(max(0, room - sum(widths.values()))):
        column = max(wants, key=lambda c: wants[c] - widths[c])
        if widths[column] >= wants[column]:
            break
        widths[column] += 1
    return widths


def _records(frame) -> list[dict]:
    return [_plain(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


@contextmanager
def _progress(description: str, total: int | None):
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def _time(text: str | None) -> dt.datetime | dt.date | None:
    try:
        return parse_time(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-20 or 2026-11-20T08:00Z)") from None


def _logs(data: str, prices: Path | None = None) -> Logs:
    """The data location a command works on, opened once (a bad location is a clear error)."""
    try:
        return open_logs(data, prices=prices)
    except LocationError as exc:
        _fail(str(exc), 2)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def _trigger_text(trigger: dict) -> str:
    """A trigger as people read it: "incoming message from +4915112345678", "schedule", "manual"."""
    label = TRIGGER_LABELS.get(trigger["type"], trigger["type"]).lower()
    return f"{label} from {trigger['phone']}" if trigger.get("phone") else label


def _resolve_flow(queries: LogQueries, name: str | None) -> str | None:
    """The stored flow name that `name` means, ignoring case as the dashboard's search does.

    A name that matches no flow is an error naming the nearest flows, not an empty table."""
    if name is None:
        return None
    names = [str(n) for n in queries.flow_groups(Tab.ALL)["flow_name"]]
    if name in names:
        return name
    same = [n for n in names if n.casefold() == name.casefold()]
    if len(same) == 1:
        return same[0]
    if same:
        _fail(f"several flows are named {name!r} ignoring case: {', '.join(map(repr, same))}; give the exact name")
    folded = {n.casefold(): n for n in names}
    near = [folded[n] for n in difflib.get_close_matches(name.casefold(), list(folded), n=3, cutoff=0.6)]
    near += [n for n in names if name.casefold() in n.casefold() and n not in near]  # "support" → "Support ..."
    _fail(f"no flow named {name!r}" + (f"; did you mean {' or '.join(map(repr, near[:3]))}?" if near else ""))


def _trigger(row: dict) -> dict:
    trigger = {"type": row.pop("trigger_type")}
    phone = row.pop("trigger_phone")
    if phone is not None:
        trigger["phone"] = phone
    return trigger


def _execution_json(row: dict) -> dict:
    row = dict(row)
    row.pop("day", None)
    row["trigger"] = _trigger(row)
    if (row.get("duration_ms") or 0) < 0:  # a finish stored before a start that came later: unknown, never negative
        row["duration_ms"] = None
    return row


def _step_json(step: dict) -> dict:
    step = dict(step)
    prompt, completion = step.pop("prompt_tokens"), step.pop("completion_tokens")
    step.pop("total_tokens", None)
    step["tokens"] = None if prompt is None and completion is None else {"prompt": prompt, "completion": completion}
    # read_json never raises: a value stored too deep or with a number out of range comes back as its text
    step["input"] = read_json(step["input"])
    step["output"] = read_json(step["output"])
    return step


# -- writing ------------------------------------------------------------------------


@app.command()
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
    from .demo import generate_history, run_live, stopped_by_signals

    logs = _logs(data)
    end = _time(now)
    if isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end, dt.time(12), dt.timezone.utc)
    with _progress("writing demo history", total=days * per_day) as advance:
        count = generate_history(logs.store, days=days, per_day=per_day, seed=seed, now=end, progress=advance)
    err.print(f"wrote {count:,} executions over {days} days to {data}")
    if live:
        err.print(f"producing live executions at the pace of {per_day:,} a day; Ctrl+C to stop")
        stop = threading.Event()
        with stopped_by_signals(stop):  # a stopped engine cancels what it started, then flushes
            count = run_live(logs.store, seed=seed, per_day=per_day, stop=stop)
        err.print(f"stopped after {count:,} live executions; the running ones were cancelled")


@app.command()
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
    from .ingest import ingest_stream
    from .writer import WriteFailed, Writer

    logs = _logs(data)
    if file == "-":
        stream, size = sys.stdin.buffer, None
    else:
        path = Path(file)
        if not path.is_file():
            _fail(f"no such file: {file}", 2)
        stream, size = path.open("rb"), path.stat().st_size
    try:
        with _progress(f"ingesting {file}", total=size) as advance, \
                Writer(logs.store, max_rows=20_000, flush_interval=None, max_field_bytes=max_field_bytes) as writer:
            report = ingest_stream(stream, writer, progress=advance, max_line_bytes=max_line_bytes)
    except WriteFailed as exc:
        _fail(f"could not write to the data directory {exc.directory}: {exc.reason}. The events since the last "
              "successful flush are not stored; run the same ingest again once it is writable (events already "
              "stored are stored once).")
    finally:
        stream.close() if file != "-" else None
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
    if not report.ok:
        raise typer.Exit(1)


# -- queries --------------------------------------------------------------------------


@app.command()
def flows(data: DataDir = DEFAULT_DATA, status: Status = Tab.ALL, as_json: AsJson = False):
    """Flow groups, most recent activity first."""
    rows = _records(_logs(data).queries.flow_groups(status))
    fields = ["flow_name", "runs", "latest_status", "has_failures", "last_run_at"]
    rows = [{k: r[k] for k in fields} for r in rows]
    _emit_json(rows) if as_json else _table(rows, fields, title=f"Flows ({status.value})", optional=("has_failures",))


@app.command()
def counts(data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """How many executions each filter tab shows."""
    tab_counts = _logs(data).queries.tab_counts()
    _emit_json(tab_counts) if as_json else _table([tab_counts], [t.value for t in Tab], title="Executions")


@app.command()
def executions(data: DataDir = DEFAULT_DATA,
               flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
               status: Status = Tab.ALL,
               limit: Annotated[int, typer.Option(min=1)] = 50,
               offset: Annotated[int, typer.Option(min=0)] = 0,
               as_json: AsJson = False):
    """Executions newest first, a page at a time. --flow ignores case."""
    queries = _logs(data).queries
    flow = _resolve_flow(queries, flow)
    rows = [_execution_json(r) for r in _records(queries.executions(flow, status, limit=limit, offset=offset))]
    fields = ["execution_id", "flow_name", "status", "trigger", "started_at", "finished_at", "duration_ms",
              "messages_sent", "messages_failed"]
    rows = [{k: r[k] for k in fields} for r in rows]
    if as_json:
        _emit_json(rows)
    else:
        for r in rows:
            r["trigger"] = _trigger_text(r["trigger"])
        _table(rows, fields, ids=("execution_id",), optional=(
            "finished_at", "messages_failed", "messages_sent", "trigger", "duration_ms", "started_at"))


@app.command()
def show(execution_id: str, data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """One execution with every step in order."""
    record = _logs(data).queries.execution(execution_id)
    if record is None:
        _fail(f"no execution with id {execution_id!r}")
    record = _execution_json(_plain(record))
    record["steps"] = [_step_json(s) for s in record["steps"]]
    if as_json:
        _emit_json(record)
        return
    head = {}
    for key, value in record.items():  # the trigger as people read it, beside the flow it started
        if key not in ("steps", "trigger"):
            head[key] = value
        if key == "flow_name":
            head["trigger"] = _trigger_text(record["trigger"])
    for key, value in head.items():
        out.print(f"[bold]{key}[/bold]: {escape(str(value))}", highlight=False)
    for step in record["steps"]:
        colour = {"failed": "red", "skipped": "yellow"}.get(step["status"], "green")
        tokens = step["tokens"]
        # numbered from 1 as the dashboard numbers them; --json keeps the contract's 0-based `index`
        out.print(f"\n[{colour}]#{step['index'] + 1} {escape(step['node_name'])} ({escape(step['node_type'])}) "
                  f"{step['status']}[/{colour}] {step['duration_ms']} ms"
                  + (f" · {tokens['prompt']}+{tokens['completion']} tokens" if tokens else ""), highlight=False)
        for key in ("model", "system_prompt", "user_prompt", "ai_reply", "warnings", "error", "input", "output"):
            if step.get(key) not in (None, []):
                value = step[key] if isinstance(step[key], str) else json.dumps(step[key], ensure_ascii=False)
                note = f" [dim](as text: {value.reason})[/dim]" if isinstance(value, UnreadableJson) else ""
                out.print(f"  [dim]{key}[/dim]:{note} {escape(value)}", highlight=False)


@app.command()
def tokens(data: DataDir = DEFAULT_DATA,
           by: Annotated[str, typer.Option(help=f"Group by {'|'.join(TOKEN_GROUPS)}.")] = "day",
           since: Since = None, until: Until = None,
           fmt: Annotated[str, typer.Option("--format", help=f"{'|'.join(TOKEN_FORMATS)}.")] = "table",
           as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="Write to this file instead of stdout (html: default tokens-report.html).",
               dir_okay=False)] = None,
           prices: PricesFile = None):
    """Token usage and estimated cost of AI steps by day, flow, node or model: a table, CSV, JSON, or an
    HTML report with charts that opens offline (the same report as notebooks/token_usage.ipynb)."""
    if by not in TOKEN_GROUPS:
        raise typer.BadParameter(f"choose one of {', '.join(TOKEN_GROUPS)}", param_hint="--by")
    fmt = fmt.lower()
    if fmt not in TOKEN_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(TOKEN_FORMATS)}", param_hint="--format")
    if as_json:
        if fmt not in ("table", "json"):
            raise typer.BadParameter(f"--json is --format json; it conflicts with --format {fmt}", param_hint="--json")
        fmt = "json"
    try:
        report = _logs(data, prices).report(_time(since), _time(until))
    except PriceFileError as exc:
        _fail(str(exc))
    if fmt == "html":
        path = output or Path("tokens-report.html")
        try:
            report.save_html(path, by=by)
        except OSError as exc:
            _fail(f"cannot write {path}: {exc}")
        totals = report.totals()
        err.print(f"wrote {escape(str(path))}: {totals['total_tokens']:,} tokens, estimated cost {totals['cost']}")
        return
    if fmt == "table":
        frame = shown_models(report.by(by))  # a step without a model reads (no model), never unknown
        columns = [c for c in frame.columns if c not in ("cost_usd", "unpriced_tokens")]
        totals = report.totals()
        table = Table(title=f"Tokens by {by}", header_style="bold", caption=(
            f"{totals['total_tokens']:,} tokens in {totals['ai_steps']:,} AI steps · estimated cost {totals['cost']}"))
        for column in columns:
            table.add_column(column, justify="right" if frame[column].dtype.kind in "iuf" else "left")
        for row in _records(frame[columns]):
            table.add_row(*(escape("" if row[c] is None else str(row[c])) for c in columns))
        if output is None:
            out.print(table)
            return
        try:
            with open(output, "w", encoding="utf-8") as fh:
                Console(file=fh, width=160).print(table)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc}")
        return
    body = report.to_csv(by) if fmt == "csv" else report.to_json(by)
    if output is None:
        sys.stdout.write(body)
    else:
        try:
            output.write_text(body, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc}")


@app.command()
def failures(data: DataDir = DEFAULT_DATA, since: Since = None, until: Until = None,
             flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
             as_json: AsJson = False):
    """Failed executions with their failing step and the failure cause. --flow ignores case."""
    queries = _logs(data).queries
    rows = _records(queries.failures(_time(since), _time(until), _resolve_flow(queries, flow)))
    for row in rows:
        row.pop("day", None)
        row["trigger"] = _trigger(row)
        row["failed_step_input"] = read_json(row["failed_step_input"])  # one bad value never hides the rest
    if as_json:
        _emit_json(rows)
    else:
        _table(rows, ["execution_id", "flow_name", "status", "started_at", "failed_node_name", "cause", "error"],
               ids=("execution_id",), optional=("status", "failed_node_name", "started_at", "cause"))


# -- management ------------------------------------------------------------------------


@app.command()
def delete(execution_id: str, data: DataDir = DEFAULT_DATA):
    """Delete one execution and its steps from disk (running ones are refused). Written to the audit log."""
    logs = _logs(data)
    try:
        day = logs.store.delete_execution(execution_id)
    except (ExecutionNotFound, ExecutionRunning) as exc:
        _audit(logs, "delete", "not found" if isinstance(exc, ExecutionNotFound) else "refused: running",
               execution_ids=[execution_id])
        _fail(str(exc))
    except WRITE_ERRORS as exc:  # a full or read-only disk: said, audited, and the delete can be run again
        _audit(logs, "delete", f"failed: {describe_write_error(exc)}", execution_ids=[execution_id])
        _fail(f"could not delete {execution_id!r} from {logs.store.root}: {describe_write_error(exc)}; "
              "nothing deleted is shown again, and the same command finishes the delete")
    _audit(logs, "delete", "deleted", execution_ids=[execution_id])
    err.print(f"deleted execution {escape(execution_id)} (day {day})")


@app.command()
def clear(data: DataDir = DEFAULT_DATA,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False):
    """Delete every execution except running ones."""
    logs = _logs(data)
    tab_counts = logs.queries.tab_counts()
    doomed = tab_counts["all"] - tab_counts["running"]
    if not yes:
        typer.confirm(f"Delete {doomed:,} executions ({tab_counts['running']:,} running ones are kept)?", abort=True)
    with _progress("clearing", total=len(logs.store.all_days())) as advance:
        try:
            deleted = logs.store.clear_all(progress=advance)
        except WRITE_ERRORS as exc:
            _audit(logs, "clear", f"failed: {describe_write_error(exc)}")
            _fail(f"could not clear {logs.store.root}: {describe_write_error(exc)}; run it again to finish")
    _audit(logs, "clear", "deleted", count=deleted)
    err.print(f"deleted {deleted:,} executions; {tab_counts['running']:,} running ones kept")


def _audit(logs: Logs, action: str, outcome: str, **target) -> None:
    """Who deleted what and when (dashboard/audit.py); the command line's user is the login name."""
    from .audit import cli_user

    try:
        logs.audit.record(user=cli_user(), role="admin", via="cli", action=action, outcome=outcome, **target)
    except WRITE_ERRORS as exc:
        err.print(f"[red]error:[/red] could not write the audit log: {escape(describe_write_error(exc))}")


@app.command()
def audit(data: DataDir = DEFAULT_DATA, as_json: AsJson = False,
          limit: Annotated[int, typer.Option(min=1, help="The most recent entries only.")] = 100):
    """Who deleted what and when: every delete and Clear all, from the dashboard and the command line,
    including refused attempts."""
    entries = _logs(data).audit.entries()[-limit:]
    if as_json:
        _emit_json(entries)
    elif not entries:
        err.print("the audit log is empty: nothing was deleted")
    else:
        for entry in entries:
            entry["what"] = " ".join(entry.get("execution_ids") or []) or (
                f"{entry['count']:,} executions" if "count" in entry else "")
        _table(entries, ["at", "user", "role", "via", "action", "what", "outcome"], title="Audit log", ids=("what",),
               optional=("via", "role", "user", "outcome"))


@app.command()
def retention(data: DataDir = DEFAULT_DATA,
              days: Annotated[int, typer.Option(min=1, help="Days to keep, today included.")] = DEFAULT_RETENTION_DAYS):
    """Drop day partitions older than --days (running executions are kept)."""
    store = _logs(data).store
    with _progress("retention", total=len(store.all_days())) as advance:
        try:
            dropped = store.apply_retention(days, progress=advance)
        except WRITE_ERRORS as exc:
            _fail(f"could not apply retention to {store.root}: {describe_write_error(exc)}; run it again")
    err.print(f"dropped {len(dropped)} day(s)" + (f": {dropped[0]} … {dropped[-1]}" if dropped else ""))


@app.command()
def quarantine(data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """Files moved aside because they were not readable Parquet (corrupt, cut short, foreign)."""
    moved = _logs(data).store.quarantined()
    if as_json:
        _emit_json(moved)
    elif not moved:
        err.print("no file was moved to quarantine")
    else:
        _table(moved, ["at", "file", "moved_to", "reason"], title="Quarantined files")


@app.command("close-stale")
def close_stale(data: DataDir = DEFAULT_DATA,
                hours: Annotated[float, typer.Option(min=0, help="Silence after which to close.")] = 24,
                as_json: Annotated[bool, typer.Option("--json", help='Print {"closed": [every id]}.')] = False):
    """Close as failed the running executions from which no event came for --hours."""
    from .stale import close_stale_executions

    closed = close_stale_executions(_logs(data).queries, dt.timedelta(hours=hours))
    listed = ": " + ", ".join(closed[:LISTED_IDS]) if closed else ""
    more = f" … and {len(closed) - LISTED_IDS} more; --json lists all" if len(closed) > LISTED_IDS else ""
    if as_json:
        _emit_json({"closed": closed})
    else:
        err.print(escape(f"closed {len(closed)} execution(s) silent for {hours:g} h{listed}{more}"), highlight=False)


@app.command()
def compact(data: DataDir = DEFAULT_DATA):
    """Merge each day's small files into one sorted file per dataset."""
    store = _logs(data).store
    with _progress("compacting", total=len(store.all_days())) as advance:
        try:
            done = store.compact(progress=advance)
        except (*WRITE_ERRORS, StoreError) as exc:
            _fail(f"could not compact {store.root}: {describe_write_error(exc)}; run it again")
    err.print(f"compacted {len(done)} day(s)")


@app.command()
def migrate(source: Annotated[Path, typer.Option(
                "--from", exists=True, file_okay=False,
                help="A data directory written by flowlogs before Delta tables (its own layout).")],
            data: DataDir = DEFAULT_DATA):
    """Copy a store of the layout before Delta tables into a new data location (a folder or an
    object-store URL), then compact it. The old directory is only read."""
    from .store.migrate import migrate as migrate_store

    store = _logs(data).store
    with _progress("migrating", total=None) as advance:
        try:
            copied = migrate_store(source, store, progress=advance)
        except StoreError as exc:
            _fail(str(exc), 2)
        except WRITE_ERRORS as exc:
            _fail(f"could not write to {store.root}: {describe_write_error(exc)}")
    err.print(f"migrated {escape(str(source))} to {escape(store.root)}: "
              + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in copied.items() if count))


@app.command()
def serve(data: DataDir = DEFAULT_DATA,
          port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 5006,
          address: Annotated[str, typer.Option(
              help="Address to listen on. Anything but 127.0.0.1, ::1 or localhost needs --users or --oauth-provider."
          )] = "127.0.0.1",
          retention_days: Annotated[int, typer.Option(min=1, help="Days of logs to keep.")] = DEFAULT_RETENTION_DAYS,
          retention_interval: Annotated[float, typer.Option(help="Seconds between retention runs.")] = 86400,
          live_demo: Annotated[bool, typer.Option(help="Also produce live demo executions.")] = False,
          show: Annotated[bool, typer.Option(help="Open a browser.")] = False,
          prices: PricesFile = None,
          users: Annotated[Path | None, typer.Option(
              envvar="FLOWLOGS_USERS", dir_okay=False,
              help='Sign in with a users file (JSON or TOML): {"alice": {"password": "...", "role": "admin"}}; '
                   "roles are viewer (reads) and admin (may also delete).")] = None,
          oauth_provider: Annotated[str | None, typer.Option(
              envvar="FLOWLOGS_OAUTH_PROVIDER", help="Sign in with Panel's OAuth: github, google, azure, okta, ...")]
          = None,
          oauth_key: Annotated[str | None, typer.Option(envvar="FLOWLOGS_OAUTH_KEY", help="OAuth client id.")] = None,
          oauth_secret: Annotated[str | None, typer.Option(
              envvar="FLOWLOGS_OAUTH_SECRET", help="OAuth client secret (better from the environment).")] = None,
          oauth_redirect_uri: Annotated[str | None, typer.Option(
              envvar="FLOWLOGS_OAUTH_REDIRECT_URI", help="OAuth redirect URI, if not this server's /login.")] = None,
          admins: Annotated[str | None, typer.Option(
              envvar="FLOWLOGS_ADMINS", help="With OAuth: comma-separated user names that are admins; "
                                             "everyone else is a viewer.")] = None,
          cookie_secret: Annotated[str | None, typer.Option(
              envvar="FLOWLOGS_COOKIE_SECRET", help="Signs the login cookie; required with sign-in "
                                                    "(better from the environment).")] = None,
          allow_origin: Annotated[list[str] | None, typer.Option(
              help="Another host[:port] the browser reaches the server by (reverse proxy, LAN name).")] = None,
          mask_phones: Annotated[bool, typer.Option(
              envvar="FLOWLOGS_MASK_PHONES", help="Show phone numbers as +49 151 ••• 678 to everyone.")] = False,
          hide_ai_text: Annotated[bool, typer.Option(
              envvar="FLOWLOGS_HIDE_AI_TEXT", help="Hide AI prompts and replies from viewers.")] = False,
          collect: Annotated[bool, typer.Option(
              help="Also take events at /v1/events and /v1/traces, as flowlogs collect does (ingest keys).")]
          = False):
    """Serve the Execution Logs dashboard."""
    from .auth import AccessConfig, AccessError, check_listen
    from .server import serve as serve_dashboard

    try:
        access = AccessConfig.from_options(
            users_file=users, oauth_provider=oauth_provider, oauth_key=oauth_key, oauth_secret=oauth_secret,
            oauth_redirect_uri=oauth_redirect_uri, admins=admins, cookie_secret=cookie_secret,
            mask_phones=mask_phones, hide_ai_text=hide_ai_text)
        check_listen(address, access)
    except AccessError as exc:
        _fail(str(exc), 2)
    how = ("basic auth, " + f"{len(access.users)} users" if access.users else
           f"OAuth ({access.oauth_provider})" if access.oauth_provider else "no sign-in, loopback only")
    err.print(f"serving {escape(str(data))} at http://{address}:{port}/ ({escape(how)}; Ctrl+C to stop)")
    serve_dashboard(_logs(data, prices), port=port, address=address, show=show, retention_days=retention_days,
                    retention_interval=retention_interval, live_demo=live_demo, access=access,
                    allow_origins=tuple(allow_origin or ()), collect=collect)


from . import cli_collect  # noqa: E402, F401  (flowlogs collect, flowlogs keys: registered on `app`)

if __name__ == "__main__":
    app()
