"""The options every command shares, and the data location they open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from ..logs import Logs, open_logs
from ..queries import parse_time
from ..schema import Tab
from ..store import LocationError
from .output import fail

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


def time_option(text: str | None) -> dt.datetime | dt.date | None:
    """A --since, --until or --now value; a bad one is a usage error."""
    try:
        return parse_time(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-20 or 2026-11-20T08:00Z)") from None


def open_data(data: str, prices: Path | None = None) -> Logs:
    """The data location a command works on, opened once (a bad location is a clear error)."""
    try:
        return open_logs(data, prices=prices)
    except LocationError as exc:
        fail(str(exc), 2)
