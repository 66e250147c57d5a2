"""What the user is looking at on the Execution Logs page: the single source of truth.

Components observe these parameters and never each other. `tab`, `flows` and
`execution` are mirrored in the URL (see page.py), so a shared link reopens the same
view. `revision` moves whenever the data on disk changed (the store's change token)
or the user asked for a refresh: every component reloads its data then, but nothing
here changes, which is why an auto-refresh keeps what the user had expanded.
"""

from __future__ import annotations

import param

from ..schema import Tab

PAGE_SIZE = 25


class LogsState(param.Parameterized):
    tab = param.Selector(default=Tab.ALL.value, objects=[t.value for t in Tab], doc="The filter tab.")

    flows = param.List(default=[], item_type=str, doc="Flow groups expanded to their executions.")

    execution = param.String(default="", doc="The execution open in the detail panel ('' for none).")

    steps = param.List(default=[], item_type=int, doc="Indexes of the steps expanded in the detail panel.")

    pages = param.Dict(default={}, doc="Page (0-based) of each expanded flow group's executions.")

    change_token = param.String(default="", doc="The store's change token the page last loaded.")

    revision = param.Integer(default=0, doc="Moves when the data changed or a refresh was asked for.")

    notice = param.String(default="", doc="A message for the user (an error or the outcome of an action).")

    notice_kind = param.Selector(default="info", objects=["info", "success", "error"])

    page_size = param.Integer(default=PAGE_SIZE, bounds=(1, 500), constant=True)

    @param.depends("tab", watch=True)
    def _first_pages(self):
        self.pages = {}

    @param.depends("execution", watch=True)
    def _collapse_steps(self):
        self.steps = []

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

    def refresh(self, change_token: str | None = None) -> None:
        if change_token is not None:
            self.change_token = change_token
        self.revision += 1

    def tell(self, message: str, kind: str = "info") -> None:
        if (message, kind) == (self.notice, self.notice_kind):
            self.param.trigger("notice")  # the same message again: show it again
        else:
            self.param.update(notice=message, notice_kind=kind)
