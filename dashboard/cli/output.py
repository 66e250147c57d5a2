"""What the commands print: values made JSON-ready, tables that keep ids whole, progress bars, errors.

Every query command has a `--json` twin whose field names are those of the event contract
(docs/events.md), so what a person reads a script can fetch."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from contextlib import contextmanager
from typing import Any

import typer


class _Console:
    """A rich Console made when first used: rich takes ~15 ms to import, and `counts --json` prints no rich text."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    @property
    def rich(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.rich, name)


out = _Console()
err = _Console(stderr=True)
LISTED_IDS = 10  # ids a human-readable message lists before "… and N more"
LONG_WORD = 16  # a column is not made narrower than its longest word, up to this many characters
_ISO_UTC = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$")


def escape(text: str) -> str:
    """Text printed as it is, never read as rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def plain(value: Any) -> Any:
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
        return plain(value.item())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [plain(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    return value


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


def records(frame) -> list[dict]:
    """A pandas frame's rows as JSON-ready dicts (missing values as None)."""
    return [plain(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


def _cell(value: Any) -> str:
    """A value as a table shows it; times to the second, with a space where the line may break."""
    text = "" if value is None else str(plain(value))
    return _ISO_UTC.sub(r"\1 \2Z", text)


def print_table(rows: list[dict], columns: list[str], title: str | None = None, *, ids: tuple[str, ...] = (),
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
    shown = _shown_columns(columns, optional, floors)
    widths = _share(_room(shown), {c: wants[c] for c in shown}, {c: floors[c] for c in shown})
    left_out = [c for c in columns if c not in shown]
    from rich.console import Console
    from rich.table import Table

    caption = f"left out at {out.width} columns: {', '.join(left_out)} (--json has every field)" if left_out else None
    table = Table(title=title, caption=caption, header_style="bold")
    for column in shown:
        table.add_column(column, width=widths[column], no_wrap=column in ids, overflow="fold")
    for line in cells:
        table.add_row(*(escape(line[c]) for c in shown))  # escape(): log text is shown as text, never as markup
    # on a terminal too narrow even for the ids, the table is drawn wider and the terminal wraps its lines
    least = 1 + sum(3 + (widths[c] or floors[c]) for c in shown)
    (out if least <= out.width else Console(width=least)).print(table)


def _room(shown: list[str]) -> int:
    """Characters for the cells of these columns: borders and padding take 3 a column, plus 1."""
    return out.width - 1 - 3 * len(shown)


def _shown_columns(columns: list[str], optional: tuple[str, ...], floors: dict[str, int]) -> list[str]:
    """The columns that fit with their words whole, leaving out `optional` ones in order until they do."""
    shown = list(columns)
    for column in optional:
        if sum(floors[c] for c in shown) <= _room(shown):
            break
        shown.remove(column)
    return shown


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


@contextmanager
def progress_bar(description: str, total: int | None):
    """A progress bar on stderr (only on a terminal); yields the function that advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err.rich, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def fail(message: str, code: int = 1) -> None:
    """Print the error on stderr and end the command with this exit status."""
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)
