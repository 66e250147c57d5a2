"""The commands that read: flows, counts, executions, show, tokens, failures, quarantine, audit."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..json_values import UnreadableJson, read_json
from ..prices import PriceFileError
from ..queries import TOKEN_GROUPS, LogQueries
from ..schema import Tab
from .options import DEFAULT_DATA, AsJson, DataDir, PricesFile, Since, Status, Until, open_data, time_option
from .output import emit_json, err, escape, fail, out, plain, print_table, records

TOKEN_FORMATS = ("table", "csv", "json", "html")  # what `tokens --format` writes (each made by dashboard.reports)

# -- what the rows become -------------------------------------------------------------


def _trigger_text(trigger: dict) -> str:
    """A trigger as people read it: "incoming message from +4915112345678", "schedule", "manual"."""
    from ..ui.format import TRIGGER_LABELS  # imported here: ui.format imports pandas, which `counts` never needs

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
        fail(f"several flows are named {name!r} ignoring case: {', '.join(map(repr, same))}; give the exact name")
    folded = {n.casefold(): n for n in names}
    near = [folded[n] for n in difflib.get_close_matches(name.casefold(), list(folded), n=3, cutoff=0.6)]
    near += [n for n in names if name.casefold() in n.casefold() and n not in near]  # "support" → "Support ..."
    fail(f"no flow named {name!r}" + (f"; did you mean {' or '.join(map(repr, near[:3]))}?" if near else ""))


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


# -- listings ---------------------------------------------------------------------------


def flows(data: DataDir = DEFAULT_DATA, status: Status = Tab.ALL, as_json: AsJson = False):
    """Flow groups, most recent activity first."""
    rows = records(open_data(data).queries.flow_groups(status))
    fields = ["flow_name", "runs", "latest_status", "has_failures", "last_run_at"]
    rows = [{k: r[k] for k in fields} for r in rows]
    emit_json(rows) if as_json else print_table(rows, fields, title=f"Flows ({status.value})",
                                                optional=("has_failures",))


def counts(data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """How many executions each filter tab shows."""
    tab_counts = open_data(data).queries.tab_counts()
    emit_json(tab_counts) if as_json else print_table([tab_counts], [t.value for t in Tab], title="Executions")


def executions(data: DataDir = DEFAULT_DATA,
               flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
               status: Status = Tab.ALL,
               limit: Annotated[int, typer.Option(min=1)] = 50,
               offset: Annotated[int, typer.Option(min=0)] = 0,
               as_json: AsJson = False):
    """Executions newest first, a page at a time. --flow ignores case."""
    queries = open_data(data).queries
    flow = _resolve_flow(queries, flow)
    rows = [_execution_json(r) for r in records(queries.executions(flow, status, limit=limit, offset=offset))]
    fields = ["execution_id", "flow_name", "status", "trigger", "started_at", "finished_at", "duration_ms",
              "messages_sent", "messages_failed"]
    rows = [{k: r[k] for k in fields} for r in rows]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            r["trigger"] = _trigger_text(r["trigger"])
        print_table(rows, fields, ids=("execution_id",), optional=(
            "finished_at", "messages_failed", "messages_sent", "trigger", "duration_ms", "started_at"))


def failures(data: DataDir = DEFAULT_DATA, since: Since = None, until: Until = None,
             flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
             as_json: AsJson = False):
    """Failed executions with their failing step and the failure cause. --flow ignores case."""
    queries = open_data(data).queries
    rows = records(queries.failures(time_option(since), time_option(until), _resolve_flow(queries, flow)))
    for row in rows:
        row.pop("day", None)
        row["trigger"] = _trigger(row)
        row["failed_step_input"] = read_json(row["failed_step_input"])  # one bad value never hides the rest
    if as_json:
        emit_json(rows)
    else:
        print_table(rows, ["execution_id", "flow_name", "status", "started_at", "failed_node_name", "cause", "error"],
                    ids=("execution_id",), optional=("status", "failed_node_name", "started_at", "cause"))


def quarantine(data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """Files moved aside because they were not readable Parquet (corrupt, cut short, foreign)."""
    moved = open_data(data).store.quarantined()
    if as_json:
        emit_json(moved)
    elif not moved:
        err.print("no file was moved to quarantine")
    else:
        print_table(moved, ["at", "file", "moved_to", "reason"], title="Quarantined files")


def audit(data: DataDir = DEFAULT_DATA, as_json: AsJson = False,
          limit: Annotated[int, typer.Option(min=1, help="The most recent entries only.")] = 100):
    """Who deleted what and when: every delete and Clear all, from the dashboard and the command line,
    including refused attempts."""
    entries = open_data(data).audit.entries()[-limit:]
    if as_json:
        emit_json(entries)
    elif not entries:
        err.print("the audit log is empty: nothing was deleted")
    else:
        for entry in entries:
            entry["what"] = " ".join(entry.get("execution_ids") or []) or (
                f"{entry['count']:,} executions" if "count" in entry else "")
        print_table(entries, ["at", "user", "role", "via", "action", "what", "outcome"], title="Audit log",
                    ids=("what",), optional=("via", "role", "user", "outcome"))


# -- one execution ----------------------------------------------------------------------


def show(execution_id: str, data: DataDir = DEFAULT_DATA, as_json: AsJson = False):
    """One execution with every step in order."""
    record = open_data(data).queries.execution(execution_id)
    if record is None:
        fail(f"no execution with id {execution_id!r}")
    record = _execution_json(plain(record))
    record["steps"] = [_step_json(s) for s in record["steps"]]
    if as_json:
        emit_json(record)
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
        _print_step(step)


def _print_step(step: dict) -> None:
    """A step as `show` prints it: a coloured head line, then each field it has, indented."""
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


# -- tokens -----------------------------------------------------------------------------


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
    fmt = _token_format(by, fmt, as_json)
    try:
        report = open_data(data, prices).report(time_option(since), time_option(until))
    except PriceFileError as exc:
        fail(str(exc))
    if fmt == "html":
        _write_html_report(report, output or Path("tokens-report.html"), by)
    elif fmt == "table":
        _print_token_table(report, by, output)
    else:
        _write_text(report.to_csv(by) if fmt == "csv" else report.to_json(by), output)


def _token_format(by: str, fmt: str, as_json: bool) -> str:
    """The output format `tokens` was asked for (--json is --format json); a bad --by or --format is a usage
    error."""
    if by not in TOKEN_GROUPS:
        raise typer.BadParameter(f"choose one of {', '.join(TOKEN_GROUPS)}", param_hint="--by")
    fmt = fmt.lower()
    if fmt not in TOKEN_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(TOKEN_FORMATS)}", param_hint="--format")
    if as_json:
        if fmt not in ("table", "json"):
            raise typer.BadParameter(f"--json is --format json; it conflicts with --format {fmt}", param_hint="--json")
        fmt = "json"
    return fmt


def _write_html_report(report, path: Path, by: str) -> None:
    try:
        report.save_html(path, by=by)
    except OSError as exc:
        fail(f"cannot write {path}: {exc}")
    totals = report.totals()
    err.print(f"wrote {escape(str(path))}: {totals['total_tokens']:,} tokens, estimated cost {totals['cost']}")


def _print_token_table(report, by: str, output: Path | None) -> None:
    """The report grouped `by`, as a table on the terminal or in `output` (160 columns wide)."""
    from rich.console import Console
    from rich.table import Table

    from ..reports import shown_models  # imported here: reports imports pandas, which `counts` never needs

    frame = shown_models(report.by(by))  # a step without a model reads (no model), never unknown
    columns = [c for c in frame.columns if c not in ("cost_usd", "unpriced_tokens")]
    totals = report.totals()
    table = Table(title=f"Tokens by {by}", header_style="bold", caption=(
        f"{totals['total_tokens']:,} tokens in {totals['ai_steps']:,} AI steps · estimated cost {totals['cost']}"))
    for column in columns:
        table.add_column(column, justify="right" if frame[column].dtype.kind in "iuf" else "left")
    for row in records(frame[columns]):
        table.add_row(*(escape("" if row[c] is None else str(row[c])) for c in columns))
    if output is None:
        out.print(table)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            Console(file=fh, width=160).print(table)
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")


def _write_text(body: str, output: Path | None) -> None:
    """CSV or JSON to stdout, or to `output`."""
    if output is None:
        sys.stdout.write(body)
        return
    try:
        output.write_text(body, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
