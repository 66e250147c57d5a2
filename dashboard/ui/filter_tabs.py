"""The filter tabs All / Running / Failed / Completed, each with its count."""

from __future__ import annotations

import panel as pn
import param
from panel.custom import JSComponent

from ..schema import Tab
from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import BASE_CSS, JS_HELPERS, asset

TAB_LABELS = {Tab.ALL: "All", Tab.RUNNING: "Running", Tab.FAILED: "Failed", Tab.COMPLETED: "Completed"}


class FilterTabsElement(JSComponent):
    """Four tabs; clicking one sets `value`."""

    value = param.String(default=Tab.ALL.value, doc="The selected tab (a Tab value).")
    counts = param.Dict(default={}, doc="Tab value -> executions in it, shown beside its label.")
    labels = param.Dict(default={t.value: label for t, label in TAB_LABELS.items()},
                        doc="Tab value -> the label shown.")

    _esm = JS_HELPERS + asset("filter_tabs.js")

    _stylesheets = [BASE_CSS + asset("filter_tabs.css")]


class FilterTabs(pn.viewable.Viewer):
    """Shows the tab counts, reloaded on every revision; a click switches `state.tab`."""

    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.view = FilterTabsElement(value=state.tab, margin=(4, 0))
        self.view.param.watch(self._clicked, "value")
        state.param.watch(self._tab_changed, "tab")
        state.param.watch(lambda *_: self.loader.request(spin=True), list(SCOPE_PARAMETERS))
        self.loader = Loader(lambda: source.tab_counts(state.scope()), self._show, spinner=self.view,
                             on_shown=source.shown,
                             on_error=lambda exc: state.tell(f"Could not count the executions: {exc}", "error"))
        state.reload_on_revision(self.loader)

    def _clicked(self, event) -> None:
        self.state.tab = event.new

    def _tab_changed(self, event) -> None:
        self.view.value = event.new

    def _show(self, counts: dict) -> None:
        self.view.counts = dict(counts)

    def __panel__(self):
        return self.view
