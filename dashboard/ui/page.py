"""The Execution Logs page: components wired to one state, the URL and the change token."""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse

import panel as pn
import param

from ..auth import AccessConfig, Guard, Session, current_session
from ..logs import Logs
from ..privacy import RedactedSource
from ..store import ExecutionNotFound, ExecutionRunning
from .banner import QuarantineBanner
from .confirm import ConfirmDialog
from .detail_panel import DetailPanel
from .failure_causes import FailureCausesPanel
from .filter_tabs import FilterTabs
from .flow_groups import FlowGroupList
from .format import esc
from .header import Header
from .notice import Notice
from .range_picker import RangePicker
from .search_box import SearchBox
from .sidebar import Sidebar
from .source import LogSource
from .state import LogsState
from .theme import SANS, asset
from .token_page import TokenPage

log = logging.getLogger(__name__)

POLL_MS = 1000  # the change token is the tables' versions: a look at each log, about a millisecond on disk
URL_PARAMETERS = {name: name for name in ("page", "tab", "range", "since", "until", "search", "cause", "flows",
                                          "execution", "view", "by")}
TEMPLATE_CSS = f"body {{ font-family: {SANS}; }}\n" + asset("page.css")


class ExecutionLogsPage:
    """Builds the page of one session. `page.template` is what gets served."""

    def __init__(self, logs: Logs, shared: LogSource, *, poll_ms: int = POLL_MS,
                 access: AccessConfig | None = None, session: Session | None = None):
        self.session = session or current_session(access or AccessConfig())
        # privacy is applied to the data before any component sees it: hidden text never reaches the browser
        self.source: LogSource = RedactedSource(shared, self.session.privacy) if self.session.privacy.active \
            else shared
        # a search must not tell what a hidden AI reply says either
        self.state = LogsState(change_token=self.source.change_token(),
                               search_ai_replies=not self.session.privacy.hide_ai_text)
        self.guard = Guard(self.session, logs.audit, self.state.tell)
        if pn.state.location is not None:
            pn.state.location.sync(self.state, URL_PARAMETERS, on_error=self._url_error)
        # The queries start now, while the browser loads the page; the first loads find them done.
        self.source.prefetch(self.state.tab, self.state.execution, self.state.scope())
        self.confirm = ConfirmDialog()
        self.notice = Notice(self.state)
        self.header = Header(self.state, self.source, self.confirm, self.guard)
        self.banner = QuarantineBanner(self.state, shared.store)
        self.range_picker = RangePicker(self.state)
        self.search = SearchBox(self.state)
        self.failure_causes = FailureCausesPanel(self.state, self.source)
        self.tabs = FilterTabs(self.state, self.source)
        self.groups = FlowGroupList(self.state, self.source, on_delete=self.ask_delete,
                                    can_delete=self.session.is_admin)
        self.detail = DetailPanel(self.state, self.source)
        self.sidebar = Sidebar(self.state)
        self.prices = logs.prices
        self.tokens: TokenPage | None = None  # built when first shown: its charts cost every session otherwise
        self.poll_ms = poll_ms
        self.template = self._template()
        # Load once the browser has the page: changes made before it connects would not reach it.
        pn.state.onload(self.start)

    def start(self) -> None:
        self.state.refresh(self.source.change_token())
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.poller = pn.state.add_periodic_callback(self.poll, period=self.poll_ms)

    def _url_error(self, values: dict) -> None:
        """One value of a link did not fit (Panel reads `?execution=123` or `?search=4915…` as a
        number, `?flows=Name` as text): keep every other value, and read text parameters as text."""
        raw = dict(urllib.parse.parse_qsl(pn.state.location.search.lstrip("?")))
        for name, value in values.items():
            parameter = self.state.param[name]
            if isinstance(parameter, param.String):
                value = raw.get(name, "")
            elif isinstance(parameter, param.List) and not isinstance(value, list):
                value = [raw[name]] if raw.get(name) else []  # a hand-written link names one flow
            try:
                setattr(self.state, name, value)
            except (ValueError, TypeError):
                pass  # a bad tab or range, or a flow that is not text (`flows=[1]`), keeps its default

    # -- auto-refresh -----------------------------------------------------------------

    def poll(self) -> None:
        """Reload everything shown when the store's change token moved; nothing expanded collapses."""
        token = self.source.live_token()
        if token != self.state.change_token:
            self.state.refresh(token, auto=True)

    # -- delete one execution -----------------------------------------------------------

    def ask_delete(self, row: dict) -> None:
        if not self.guard.allows("delete", execution_ids=[row["id"]]):
            return
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
        if not self.guard.allows("delete", execution_ids=[execution_id]):  # checked again: a confirm can be forged
            return
        try:
            await self.source.delete_execution(execution_id)
        except ExecutionRunning:
            self.guard.record("delete", "refused: running", execution_ids=[execution_id])
            self.state.tell("This execution is still running and cannot be deleted; "
                            "it can be deleted once it has finished.", "error")
        except ExecutionNotFound:
            self.guard.record("delete", "not found", execution_ids=[execution_id])
            self.state.tell("This execution was already deleted.", "info")
        else:
            self.guard.record("delete", "deleted", execution_ids=[execution_id])
            self.state.tell("Execution deleted.", "success")
            if self.state.execution == execution_id:
                self.state.open_execution(None)
        self.state.refresh(self.source.change_token())

    # -- layout ---------------------------------------------------------------------------

    def _template(self) -> pn.template.BootstrapTemplate:
        list_column = pn.Column(self.groups, sizing_mode="stretch_width", margin=(0, 16, 0, 0), min_width=520)
        def displayed(shown: bool) -> dict:
            # (an empty dict would leave the inline `display: none` in place: Bokeh only sets what is given)
            return {"display": "flex" if shown else "none"}

        detail_column = pn.Column(self.detail, width=540, margin=0, css_classes=["detail-column"],
                                  styles=displayed(self.detail.shown))
        self.detail.param.watch(lambda e: setattr(detail_column, "styles", displayed(e.new)), "shown")
        content = pn.Column(
            self.header,
            self.notice,
            self.banner,
            pn.Row(self.range_picker, pn.HSpacer(), self.search, sizing_mode="stretch_width", margin=(0, 0, 12, 0),
                   styles={"align-items": "center", "flex-wrap": "wrap", "gap": "8px"}, css_classes=["find-bar"]),
            pn.Row(self.failure_causes, sizing_mode="stretch_width", margin=(0, 0, 12, 0)),
            pn.Row(self.tabs, margin=(0, 0, 14, 0)),
            pn.Row(list_column, detail_column, sizing_mode="stretch_width", margin=0),
            self.confirm,
            sizing_mode="stretch_width", margin=(4, 8), css_classes=["execution-logs"],
            visible=self.state.page == "logs",
        )
        tokens = pn.Column(sizing_mode="stretch_width", margin=0, visible=self.state.page == "tokens")

        def show(page: str, *, switched: bool = True) -> None:
            if page == "tokens" and self.tokens is None:
                self.tokens = TokenPage(self.state, self.source, self.prices)
                tokens.append(self.tokens)
                if switched:  # a live session: load now (a first page loads in start(), once connected)
                    self.tokens._page_changed()
            content.visible, tokens.visible = page == "logs", page == "tokens"

        show(self.state.page, switched=False)
        self.state.param.watch(lambda e: show(e.new), "page")
        template = pn.template.BootstrapTemplate(
            title="flowlogs",
            sidebar=[self.sidebar],
            sidebar_width=220,
            main=[content, tokens],
            header_background="#0f172a",
            header_color="#f8fafc",
            busy_indicator=None,  # the page polls every second; each component shows its own spinner
        )
        template.config.raw_css.append(TEMPLATE_CSS)
        return template


def create_page(logs: Logs, source: LogSource, access: AccessConfig | None = None) -> pn.template.BootstrapTemplate:
    """A fresh page for one session (what `pn.serve` and `panel serve` call), over the server's one
    Logs and LogSource; `access`: who signs in and their role (default: no sign-in, the local user is
    an admin). A refused session (a user not in the users file,
    a login cookie from before a sign-out) gets a page that says so and holds no log data."""
    access = access or AccessConfig()
    session = current_session(access)
    if session.refusal:
        log.warning("refused a page to %s: %s", session.user, session.refusal)
        return refusal_page("You cannot use this dashboard",
                            f"Your sign-in is not valid here: {session.refusal}.", sign_in_again=True)
    return ExecutionLogsPage(logs, source, access=access, session=session).template


def refusal_page(title: str, message: str, *, sign_in_again: bool = False) -> pn.template.BootstrapTemplate:
    """A page that only says why nothing is shown (every text escaped: it may quote a user name)."""
    link = '<p><a href="./logout">Sign in again</a></p>' if sign_in_again else ""
    body = pn.pane.HTML(f'<div class="refusal"><h2>{esc(title)}</h2><p>{esc(message)}</p>{link}</div>',
                        sizing_mode="stretch_width", css_classes=["refusal"])
    template = pn.template.BootstrapTemplate(title="flowlogs", main=[body], header_background="#0f172a",
                                             header_color="#f8fafc")
    template.config.raw_css.append(TEMPLATE_CSS)
    return template
