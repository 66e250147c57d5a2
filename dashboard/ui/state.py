"""What the user is looking at on the Execution Logs page: the single source of truth.

Components observe these parameters and never each other. `tab`, `flows` and
`execution` are mirrored in the URL (see page.py), so a shared link reopens the same
view. `revision` moves whenever the data on disk changed (the store's change token)
or the user asked for a refresh: every component reloads its data then, but nothing
here changes, which is why an auto-refresh keeps what the user had expanded.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import param

from ..queries import Search, parse_time
from ..schema import FailureCause, Tab

PAGE_SIZE = 25

# Range presets: label and how far back from now they reach (None: everything kept).
RANGES = {
    "1h": ("Last hour", dt.timedelta(hours=1)),
    "24h": ("Last 24 hours", dt.timedelta(hours=24)),
    "7d": ("Last 7 days", dt.timedelta(days=7)),
    "30d": ("Last 30 days", dt.timedelta(days=30)),
    "all": ("All kept", None),
    "custom": ("Custom", None),
}
PAGES = ("logs", "tokens")
SCOPE_PARAMETERS = ("range", "since", "until", "search", "cause")  # what narrows every list and count


class Scope(NamedTuple):
    """The executions the page is narrowed to: a time range on their start, a search, a failure cause.
    Hashable, so it keys the shared query cache."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    search: str = ""
    cause: str = ""
    search_ai_replies: bool = True  # False for a viewer from whom AI text is hidden

    def query_args(self) -> dict:
        search = Search(self.search, ai_replies=self.search_ai_replies) if self.search else None
        return {"since": self.since, "until": self.until, "search": search, "cause": self.cause or None}

DETAIL_VIEWS = ("steps", "timeline", "compare")


class LogsState(param.Parameterized):
    tab = param.Selector(default=Tab.ALL.value, objects=[t.value for t in Tab], doc="The filter tab.")

    flows = param.List(default=[], item_type=str, doc="Flow groups expanded to their executions.")

    execution = param.String(default="", doc="The execution open in the detail panel ('' for none).")

    steps = param.List(default=[], item_type=int, doc="Indexes of the steps expanded in the detail panel.")

    pages = param.Dict(default={}, doc="Page (0-based) of each expanded flow group's executions.")

    page = param.Selector(default="logs", objects=list(PAGES), doc="Execution Logs or Token usage.")

    by = param.Selector(default="day", objects=["day", "flow", "node", "model"], doc="Token usage page: grouping.")

    range = param.Selector(default="all", objects=list(RANGES), doc="The time range preset.")

    since = param.String(default="", doc="Start of a custom range: ISO 8601 date or time, UTC ('' for open).")

    until = param.String(default="", doc="End of a custom range (a date covers its whole day; '' for open).")

    search = param.String(default="", doc="Flow name, phone number, execution id or words of errors and AI replies.")

    cause = param.String(default="", doc="Failure cause the list is narrowed to ('' for none).")

    view = param.Selector(default="steps", objects=list(DETAIL_VIEWS), doc="What the detail panel shows.")

    search_ai_replies = param.Boolean(default=True, constant=True,
                                      doc="Whether a search looks into AI replies (not when they are hidden).")

    change_token = param.String(default="", doc="The store's change token the page last loaded.")

    revision = param.Integer(default=0, doc="Moves when the data changed or a refresh was asked for.")

    auto_refreshed = param.Boolean(default=False, doc="Whether the latest revision came from the auto-refresh "
                                   "alone, not from a click (a Refresh, a delete): the list holds still for it "
                                   "while the pointer is over it.")

    notice = param.String(default="", doc="A message for the user (an error or the outcome of an action).")

    notice_kind = param.Selector(default="info", objects=["info", "success", "error"], doc="How `notice` is shown.")

    page_size = param.Integer(default=PAGE_SIZE, bounds=(1, 500), constant=True,
                              doc="Executions in one page of a flow group's list.")

    @param.depends("tab", "range", "since", "until", "search", "cause", watch=True)
    def _first_pages(self):
        self.pages = {}

    @param.depends("execution", watch=True)
    def _collapse_steps(self):
        self.steps = []

    def bounds(self, now: dt.datetime | None = None) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The selected range as (since, until), UTC; None is open. Presets are rounded down to the
        minute, so the sessions of one minute share their cached queries."""
        if self.range == "custom":
            def bound(text, end):
                try:
                    value = parse_time(text.strip()) if text.strip() else None
                except ValueError:
                    return None  # the range picker says what is wrong; the list stays open-ended
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    try:
                        value = dt.datetime.combine(value + dt.timedelta(days=end), dt.time(), dt.UTC)
                    except OverflowError:
                        return None  # the whole of the last day there is: nothing is later, so open
                return value

            return bound(self.since, 0), bound(self.until, 1)
        reach = RANGES[self.range][1]
        if reach is None:
            return None, None
        now = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
        return now - reach, None

    @property
    def failure_cause(self) -> FailureCause | None:
        try:
            return FailureCause(self.cause) if self.cause else None
        except ValueError:
            return None  # a hand-edited link

    def scope(self) -> Scope:
        since, until = self.bounds()
        cause = self.failure_cause
        return Scope(since, until, self.search.strip(), cause.value if cause else "", self.search_ai_replies)

    # -- actions the components call ------------------------------------------

    def toggle_flow(self, flow_name: str) -> None:
        if flow_name in self.flows:
            self.flows = [f for f in self.flows if f != flow_name]
        else:
            self.flows = [*self.flows, flow_name]

    def set_page(self, flow_name: str, page: int) -> None:
        self.pages = {**self.pages, flow_name: max(0, int(page))}

    def page_of(self, flow_name: str) -> int:
        return int(self.pages.get(flow_name, 0))

    def open_execution(self, execution_id: str | None) -> None:
        self.execution = execution_id or ""

    def toggle_step(self, index: int) -> None:
        if index in self.steps:
            self.steps = [i for i in self.steps if i != index]
        else:
            self.steps = [*self.steps, index]

    def refresh(self, change_token: str | None = None, *, auto: bool = False) -> None:
        if change_token is not None:
            self.change_token = change_token
        self.auto_refreshed = auto  # set first: the revision's watchers read it
        self.revision += 1

    def reload_on_revision(self, loader):
        """Have `loader` load again at every revision, saying whether only the auto-refresh asked."""
        return self.param.watch(lambda _: loader.request(auto=self.auto_refreshed), "revision")

    def tell(self, message: str, kind: str = "info") -> None:
        if (message, kind) == (self.notice, self.notice_kind):
            self.param.trigger("notice")  # the same message again: show it again
        else:
            self.param.update(notice=message, notice_kind=kind)
