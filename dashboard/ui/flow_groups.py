"""The flow group list: one group per flow, most recent activity on top.

A group shows the flow name, its number of runs, the latest run's status, a red dot
when any run failed, and how long ago it last ran; a click expands it to its
executions (execution_rows.py). All group headers are drawn by one browser
component from plain data, so switching tabs with 200 flows sends one list, not 200
widgets; the executions of expanded groups are its children, kept by flow name
across refreshes so that a refresh never collapses or redraws what is open.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param
from panel.custom import JSComponent

from .execution_rows import ROWS_CSS, ROWS_JS, ExecutionRows
from .format import now_ms
from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import BASE_CSS, JS_HELPERS, asset

GROUPS_SHOWN = 50  # more are one click away; 200 flows need not all be drawn at once


class FlowGroupListElement(JSComponent):
    """Group headers from `groups`; under each expanded one, its rows from `executions[flow]`."""

    groups = param.List(default=[], doc="One dict per flow: name, runs, latest status, failures, last start.")
    expanded = param.List(default=[], doc="Names of the flows whose executions are shown.")
    executions = param.Dict(default={}, doc="Flow name -> the page of rows shown under it (execution_rows.py).")
    selected = param.String(default="", doc="The execution open in the detail panel.")
    hidden = param.Integer(default=0, doc="Groups not drawn yet (behind 'Show more').")
    empty_text = param.String(default="Loading executions…", doc="Shown when there is no group.")
    server_now = param.Integer(default=0, doc="The server's clock (epoch ms): ages are counted from it.")
    live = param.Boolean(default=False, doc="Whether the latest change came from the auto-refresh alone: "
                         "then it is not drawn while the pointer is over the list.")

    _esm = JS_HELPERS + ROWS_JS + asset("flow_groups.js")

    _stylesheets = [BASE_CSS + ROWS_CSS + asset("flow_groups.css")]

    def __init__(self, on_message: Callable[[dict], None], **params):
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict):
            self._on_message(msg)


class FlowGroupList(pn.viewable.Viewer):
    """The flow groups of the current tab, and the executions of the expanded ones."""

    def __init__(self, state: LogsState, source: LogSource, *, on_delete: Callable[[dict], None],
                 can_delete: bool = True, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.on_delete = on_delete
        self.can_delete = can_delete  # admins only: viewers get no trash icon
        self.rows: dict[str, ExecutionRows] = {}
        self.shown = GROUPS_SHOWN
        self.data: list[dict] | None = None
        self.view = FlowGroupListElement(self._message, expanded=list(state.flows), selected=state.execution,
                                      sizing_mode="stretch_width", margin=0, css_classes=["flow-group-list"])
        self.loader = Loader(lambda: source.flow_groups(state.tab, state.scope()), self._show, spinner=self.view,
                             on_shown=source.shown,
                             on_error=lambda exc: state.tell(f"Could not load the flow groups: {exc}", "error"))
        state.reload_on_revision(self.loader)
        state.param.watch(self._tab_changed, ["tab", *SCOPE_PARAMETERS])
        state.param.watch(lambda _: self._render(), "flows")
        state.param.watch(lambda e: self.view.param.update(selected=e.new, live=False), "execution")

    def _message(self, msg: dict) -> None:
        action = msg.get("action")
        if action == "toggle":
            self.state.toggle_flow(str(msg.get("flow")))
        elif action == "more":
            self.shown += GROUPS_SHOWN
            self._render()
        elif msg.get("flow") in self.rows:
            self.rows[msg["flow"]].handle(msg)

    def _publish(self, flow: str, data: dict | None, live: bool = False) -> None:
        executions = {f: d for f, d in self.view.executions.items() if f in self.rows and f != flow}
        if data is not None:
            executions[flow] = data
        if executions != self.view.executions:
            self.view.param.update(executions=executions, live=live)

    def _tab_changed(self, *_) -> None:
        self.shown = GROUPS_SHOWN
        self.loader.request(spin=True)

    def _show(self, groups: list[dict]) -> None:
        self.data = groups
        self._render(live=self.loader.auto)

    def _render(self, live: bool = False) -> None:
        if self.data is None:
            return
        groups = self.data
        ranks = {g["flow_name"]: i for i, g in enumerate(groups)}
        # an expanded group (from a shared link, say) is always drawn, wherever it ranks
        limit = max([self.shown, *(ranks[f] + 1 for f in self.state.flows if f in ranks)])
        visible = groups[:limit]
        drawn = {g["flow_name"]: g for g in visible}
        open_flows = [f for f in self.state.flows if f in drawn]
        for flow in [f for f in self.rows if f not in open_flows]:
            self.rows.pop(flow).dispose()
        for flow in open_flows:
            if flow in self.rows:
                self.rows[flow].set_total(drawn[flow]["runs"], live=live)
            else:
                self.rows[flow] = ExecutionRows(flow, self.state, self.source, publish=self._publish,
                                                on_delete=self.on_delete, total=drawn[flow]["runs"],
                                                can_delete=self.can_delete)
        tab = self.state.tab
        self.view.param.update(
            groups=visible,
            expanded=open_flows,
            executions={f: d for f, d in self.view.executions.items() if f in self.rows},
            hidden=len(groups) - len(visible),
            empty_text=self._empty_text(tab),
            server_now=now_ms() if visible != self.view.groups else self.view.server_now,
            live=live,
        )

    def _empty_text(self, tab: str) -> str:
        scope = self.state.scope()
        if scope.search or scope.cause or scope.since or scope.until:
            kind = "executions" if tab == "all" else f"{tab} executions"
            return f"No {kind} match the search, cause and time range chosen."
        return "No executions yet." if tab == "all" else f"No {tab} executions."

    def __panel__(self):
        return self.view
