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

ROWS_JS = """
// One flow's page of executions. `send` posts a message to Python; running rows are
// pushed to `live` as [element, started] so the caller can tick their durations.
function renderRows(flow, data, selected, clock, live, send) {
  const root = h("div", "rows");
  root.setAttribute("data-rows-of", flow);
  function cell(cls, child, title) {
    const c = h("div", "cell col-" + cls);
    if (child) c.append(child);
    if (title) c.title = title;
    return c;
  }
  function count(n, cls, title) {
    const s = h("span", n > 0 ? cls : "zero", fmtNumber(n));
    s.title = title;
    return s;
  }
  if (!data) {
    root.append(h("div", "empty muted", "Loading executions…"));
    return root;
  }
  if (data.loading) root.classList.add("loading");
  const head = h("div", "row head");
  for (const [cls, label, title] of [["status", "Status"], ["trigger", "Trigger"], ["started", "Started"],
                                     ["duration", "Duration"], ["sent", "Sent", "Messages sent"],
                                     ["failed", "Failed", "Messages failed"], ["actions", ""]]) {
    head.append(cell(cls, h("span", null, label), title));
  }
  root.append(head);
  if (!data.rows.length) root.append(h("div", "empty muted", data.page > 0 ? "No more executions." : "No executions."));
  for (const r of data.rows) {
    const row = h("div", "row execution-row" + (r.id === selected ? " selected" : ""));
    row.setAttribute("role", "button");
    row.setAttribute("tabindex", "0");
    row.setAttribute("data-execution-id", r.id);
    row.setAttribute("data-status", r.status);
    row.append(cell("status", chip(r.status)));
    const trig = h("span", "trigger-label");
    trig.append(icon(r.trigger), h("span", "trigger-type", SHORT_TRIGGER_LABELS[r.trigger] || r.trigger));
    if (r.phone) trig.append(h("span", "phone mono", r.phone));
    row.append(cell("trigger", trig, (TRIGGER_LABELS[r.trigger] || r.trigger) + (r.phone ? " from " + r.phone : "")));
    row.append(cell("started", h("span", null, fmtTime(r.started)), new Date(r.started).toISOString()));
    const running = r.status === "running";
    const dur = h("span", "mono" + (running ? " live" : ""), fmtDuration(running ? clock() - r.started : r.duration));
    if (running) live.push([dur, r.started]);
    row.append(cell("duration", dur));
    row.append(cell("sent", count(r.sent, "sent", "Messages sent")));
    row.append(cell("failed", count(r.failed, "failed-count", "Messages failed")));
    if (data.can_delete) {  // viewers get no trash icon (and the server refuses a forged delete)
      const trash = h("button", "trash");
      trash.title = running ? "Running executions cannot be deleted" : "Delete this execution";
      trash.setAttribute("aria-label", "Delete execution");
      trash.append(icon("trash"));
      trash.addEventListener("click", (e) => { e.stopPropagation(); send({action: "delete", flow: flow, id: r.id}); });
      row.append(cell("actions", trash));
    } else {
      row.append(cell("actions"));
    }
    const open = () => send({action: "open", flow: flow, id: r.id});
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    root.append(row);
  }
  if (data.page > 0 || data.has_next) {
    const first = data.page * data.page_size;
    const pager = h("div", "pager");
    const shown = data.rows.length ? (first + 1) + "–" + (first + data.rows.length) : "–";
    pager.append(h("span", "muted range", shown + (data.total !== null ? " of " + fmtNumber(data.total) : "")));
    const prev = h("button", "page-btn prev", "‹ Newer");
    prev.disabled = data.page === 0;
    prev.addEventListener("click", () => send({action: "page", flow: flow, page: data.page - 1}));
    const next = h("button", "page-btn next", "Older ›");
    next.disabled = !data.has_next;
    next.addEventListener("click", () => send({action: "page", flow: flow, page: data.page + 1}));
    pager.append(prev, next);
    root.append(pager);
  }
  return root;
}
"""

ROWS_CSS = """
.rows { display: flex; flex-direction: column; padding: 0 10px 10px 34px; container-type: inline-size;
        transition: opacity .15s; }
.rows.loading { opacity: .5; }
.row { display: grid; grid-template-columns: 172px minmax(190px, 1fr) 116px 66px 38px 44px 28px;
       align-items: center; column-gap: 8px; padding: 6px 8px; border-radius: 8px; font-size: 13px; }
.row.head { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; padding-top: 0;
            padding-bottom: 2px; }
@container (max-width: 730px) {
  .row { grid-template-columns: 172px minmax(150px, 1fr) 66px 38px 44px 28px; }
  .col-started { display: none; }
}
.execution-row { cursor: pointer; border: 1px solid transparent; }
.execution-row:hover { background: #f1f5f9; border-color: var(--line); }
.execution-row.selected { background: #eef2ff; border-color: #c7d2fe; }
.execution-row:focus-visible { outline: 2px solid #6366f1; outline-offset: -1px; }
.cell { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.col-sent, .col-failed, .col-duration { text-align: right; font-variant-numeric: tabular-nums; }
.col-actions { text-align: right; }
.trigger-label { display: inline-flex; align-items: center; gap: 5px; max-width: 100%; }
.icon { display: inline-flex; color: #64748b; }
.phone { margin-left: 3px; color: #334155; font-size: 12px; background: #f1f5f9; padding: 1px 6px; border-radius: 4px;
         overflow: hidden; text-overflow: ellipsis; }
.live { color: #1d4ed8; }
.trash { visibility: hidden; border: 0; background: transparent; color: #94a3b8; cursor: pointer; padding: 4px;
         border-radius: 6px; display: inline-flex; }
.execution-row:hover .trash, .execution-row:focus-within .trash, .execution-row.selected .trash { visibility: visible; }
.trash:hover { color: #dc2626; background: #fee2e2; }
.rows .empty { padding: 10px 8px; font-size: 13px; }
.pager { display: flex; align-items: center; justify-content: flex-end; gap: 6px; padding: 6px 8px 0; font-size: 12px; }
.range { margin-right: 6px; font-variant-numeric: tabular-nums; }
.page-btn { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 3px 10px; cursor: pointer;
            font-size: 12px; color: #334155; }
.page-btn:hover:not(:disabled) { background: #f1f5f9; }
.page-btn:disabled { color: #cbd5e1; cursor: default; }
"""


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
