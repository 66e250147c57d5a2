"""The executions of one expanded flow group: a page at a time, newest first.

Each row shows status, trigger (with the phone number of an incoming message),
start time, duration (ticking while running), messages sent (green) and failed
(red), and a trash icon on hover (for admins). Pages are fetched with LIMIT/OFFSET one at a time;
a flow with a million runs costs the same as one with thirty.

`ExecutionRows` loads a flow's page and hands it to the group list as plain data;
`ROWS_JS` is how the group list draws it. Expanding a group therefore sends one
small message to the browser instead of creating a new widget.
"""

from __future__ import annotations

from collections.abc import Callable

from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import asset

ROWS_JS = asset("execution_rows.js")

ROWS_CSS = asset("execution_rows.css")


class _Busy:
    """What the Loader switches on and off while a page loads: the rows fade."""

    def __init__(self, rows: ExecutionRows):
        self.rows = rows
        self._loading = False

    @property
    def loading(self) -> bool:
        return self._loading

    @loading.setter
    def loading(self, value: bool) -> None:
        self._loading = value
        self.rows.publish({**self.rows.data, "loading": value} if self.rows.data else None)


class ExecutionRows:
    """Loads the current page of one flow's executions in the current tab, and handles its clicks."""

    def __init__(self, flow_name: str, state: LogsState, source: LogSource, *,
                 publish: Callable[[str, dict | None, bool], None], on_delete: Callable[[dict], None],
                 total: int | None = None, can_delete: bool = True):
        self.flow_name = flow_name
        self.state = state
        self.source = source
        self.on_delete = on_delete
        self.can_delete = can_delete  # draws the trash icon; the delete handler checks the role itself
        self._publish = publish
        self.total = total
        self.data: dict | None = None  # what the browser shows for this flow
        self.loader = Loader(self._load, self._show, on_shown=source.shown, spinner=_Busy(self),
                             on_error=lambda exc: state.tell(
            f"Could not load the executions of {flow_name}: {exc}", "error"))
        self._watchers = [
            state.reload_on_revision(self.loader),
            state.param.watch(lambda *_: self.loader.request(spin=True), ["tab", *SCOPE_PARAMETERS]),
            state.param.watch(self._pages_changed, "pages"),
        ]
        self.loader.request(spin=True)

    def dispose(self) -> None:
        for watcher in self._watchers:
            self.state.param.unwatch(watcher)
        self._watchers = []

    def publish(self, data: dict | None, live: bool = False) -> None:
        """Hand the rows to the group list; `live` when only the auto-refresh changed them."""
        self.data = data
        self._publish(self.flow_name, data, live)

    def set_total(self, total: int, live: bool = False) -> None:
        if total != self.total:
            self.total = total
            if self.data:
                self.publish({**self.data, "total": total}, live)

    @property
    def rows(self) -> list[dict]:
        return self.data["rows"] if self.data else []

    async def _load(self):
        page = self.state.page_of(self.flow_name)
        rows, has_next = await self.source.executions_page(self.flow_name, self.state.tab, page,
                                                           self.state.page_size, self.state.scope())
        return page, rows, has_next

    def _show(self, result) -> None:
        page, rows, has_next = result
        if not rows and page > 0:  # the page emptied (deleted, cleared): step back
            self.state.set_page(self.flow_name, page - 1)
            return
        self.publish({"rows": rows, "page": page, "has_next": has_next, "page_size": self.state.page_size,
                      "total": self.total, "loading": False, "can_delete": self.can_delete}, self.loader.auto)

    def _pages_changed(self, _) -> None:
        if self.data is None or self.state.page_of(self.flow_name) != self.data["page"]:
            self.loader.request(spin=True)

    def handle(self, msg: dict) -> None:
        """A click in this flow's rows: open, page, or delete."""
        action = msg.get("action")
        if action == "open":
            self.state.open_execution(str(msg.get("id")))
        elif action == "page":
            self.state.set_page(self.flow_name, int(msg.get("page", 0)))
        elif action == "delete":
            row = next((r for r in self.rows if r["id"] == msg.get("id")), None)
            if row is not None:
                self.on_delete(row)
