"""The Execution Logs page: components wired to one state, the URL and the change token."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

import panel as pn

from ..store import ExecutionNotFound, ExecutionRunning
from .confirm import ConfirmDialog
from .detail_panel import DetailPanel
from .failure_causes import FailureCausesPanel
from .filter_tabs import FilterTabs
from .flow_groups import FlowGroupList
from .header import Header
from .notice import Notice
from .range_picker import RangePicker
from .search_box import SearchBox
from .sidebar import Sidebar
from .source import LogSource, source_for
from .state import LogsState
from .theme import SANS

POLL_MS = 1000  # the change token is one small file: reading it every second costs nothing
URL_PARAMETERS = {name: name for name in ("page", "tab", "range", "since", "until", "search", "cause", "flows",
                                          "execution", "view")}
TEMPLATE_CSS = f"""
body {{ font-family: {SANS}; background: #f6f7fb; }}
#main, .main {{ background: #f6f7fb; }}
#header {{ box-shadow: none; border-bottom: 1px solid #1e293b; }}
#sidebar {{ background: #fff; border-right: 1px solid #e2e8f0; }}
.app-header .title, #header .title {{ font-weight: 700; letter-spacing: -.01em; }}
"""


class ExecutionLogsPage:
    """Builds the page of one session. `page.template` is what gets served."""

    def __init__(self, data_dir: str | Path, *, poll_ms: int = POLL_MS):
        self.source: LogSource = source_for(data_dir)
        self.state = LogsState(change_token=self.source.change_token())
        if pn.state.location is not None:
            pn.state.location.sync(self.state, URL_PARAMETERS, on_error=self._url_error)
        # The queries start now, while the browser loads the page; the first loads find them done.
        self.source.prefetch(self.state.tab, self.state.execution, self.state.scope())
        self.confirm = ConfirmDialog()
        self.notice = Notice(self.state)
        self.header = Header(self.state, self.source, self.confirm)
        self.range_picker = RangePicker(self.state)
        self.search = SearchBox(self.state)
        self.failure_causes = FailureCausesPanel(self.state, self.source)
        self.tabs = FilterTabs(self.state, self.source)
        self.groups = FlowGroupList(self.state, self.source, on_delete=self.ask_delete)
        self.detail = DetailPanel(self.state, self.source)
        self.sidebar = Sidebar()
        self.poll_ms = poll_ms
        self.template = self._template()
        # Load once the browser has the page: changes made before it connects would not reach it.
        pn.state.onload(self.start)

    def start(self) -> None:
        self.state.refresh(self.source.change_token())
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.poller = pn.state.add_periodic_callback(self.poll, period=self.poll_ms)

    def _url_error(self, values: dict) -> None:
        """Panel reads `?execution=123` as a number; an execution id is always text."""
        if "execution" in values:
            raw = dict(urllib.parse.parse_qsl(pn.state.location.search.lstrip("?")))
            self.state.execution = raw.get("execution", "")
        # a hand-edited link with a bad tab or flow list keeps the defaults

    # -- auto-refresh -----------------------------------------------------------------

    def poll(self) -> None:
        """Reload everything shown when the store's change token moved; nothing expanded collapses."""
        token = self.source.change_token()
        if token != self.state.change_token:
            self.state.refresh(token)

    # -- delete one execution -----------------------------------------------------------

    def ask_delete(self, row: dict) -> None:
        if row["status"] == "running":
            self.state.tell("This execution is still running and cannot be deleted; "
                            "it can be deleted once it has finished.", "error")
            return
        started = dt.datetime.fromtimestamp(row["started"] / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.confirm.ask(
            "Delete this execution?",
            f"The execution of “{row['flow_name']}” started {started} and all its steps are deleted from disk.",
            detail=f"Execution id: {row['id']}",
            confirm_label="Delete",
            action=lambda: self.delete(row["id"]),
        )

    async def delete(self, execution_id: str) -> None:
        try:
            await self.source.delete_execution(execution_id)
        except ExecutionRunning:
            self.state.tell("This execution is still running and cannot be deleted; "
                            "it can be deleted once it has finished.", "error")
        except ExecutionNotFound:
            self.state.tell("This execution was already deleted.", "info")
        else:
            self.state.tell("Execution deleted.", "success")
            if self.state.execution == execution_id:
                self.state.open_execution(None)
        self.state.refresh(self.source.change_token())

    # -- layout ---------------------------------------------------------------------------

    def _template(self) -> pn.template.BootstrapTemplate:
        list_column = pn.Column(self.groups, sizing_mode="stretch_width", margin=(0, 16, 0, 0), min_width=520)
        detail_column = pn.Column(self.detail, width=540, margin=0, css_classes=["detail-column"],
                                  visible=self.detail.layout.visible)
        self.detail.layout.param.watch(lambda e: setattr(detail_column, "visible", e.new), "visible")
        content = pn.Column(
            self.header,
            self.notice,
            pn.Row(self.range_picker, pn.HSpacer(), self.search, sizing_mode="stretch_width", margin=(0, 0, 12, 0),
                   styles={"align-items": "center", "flex-wrap": "wrap", "gap": "8px"}, css_classes=["find-bar"]),
            pn.Row(self.failure_causes, sizing_mode="stretch_width", margin=(0, 0, 12, 0)),
            pn.Row(self.tabs, margin=(0, 0, 14, 0)),
            pn.Row(list_column, detail_column, sizing_mode="stretch_width", margin=0),
            self.confirm,
            sizing_mode="stretch_width", margin=(4, 8), css_classes=["execution-logs"],
        )
        template = pn.template.BootstrapTemplate(
            title="flowlogs",
            sidebar=[self.sidebar],
            sidebar_width=220,
            main=[content],
            header_background="#0f172a",
            header_color="#f8fafc",
            busy_indicator=None,  # the page polls every second; each component shows its own spinner
        )
        template.config.raw_css.append(TEMPLATE_CSS)
        return template


def create_page(data_dir: str | Path) -> pn.template.BootstrapTemplate:
    """A fresh page for one session (what `pn.serve` and `panel serve` call)."""
    return ExecutionLogsPage(data_dir).template
