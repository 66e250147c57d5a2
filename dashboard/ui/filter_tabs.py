"""The filter tabs All / Running / Failed / Completed, each with its count."""

from __future__ import annotations

import panel as pn
import param
from panel.custom import JSComponent

from ..schema import Tab
from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import BASE_CSS, JS_HELPERS

TAB_LABELS = {Tab.ALL: "All", Tab.RUNNING: "Running", Tab.FAILED: "Failed", Tab.COMPLETED: "Completed"}


class FilterTabsView(JSComponent):
    """Four tabs; clicking one sets `value`."""

    value = param.String(default=Tab.ALL.value, doc="The selected tab (a Tab value).")
    counts = param.Dict(default={}, doc="Tab value -> executions in it, shown beside its label.")
    labels = param.Dict(default={t.value: label for t, label in TAB_LABELS.items()},
                        doc="Tab value -> the label shown.")

    _esm = JS_HELPERS + """
export function render({ model, el }) {
  const bar = h("div", "tabs");
  bar.setAttribute("role", "tablist");
  // The buttons are built once per set of labels and updated in place: the counts change on every
  // refresh of a live day, and a button replaced between a press and its release gets no click.
  let tabs = {};
  function build() {
    tabs = {};
    bar.replaceChildren();
    for (const [key, label] of Object.entries(model.labels)) {
      const tab = h("button", "tab " + key);
      tab.setAttribute("role", "tab");
      tab.setAttribute("data-tab", key);
      tab.append(h("span", "label", label), h("span", "count"));
      tab.addEventListener("click", () => { model.value = key; });
      bar.append(tab);
      tabs[key] = tab;
    }
    update();
  }
  function update() {
    for (const [key, tab] of Object.entries(tabs)) {
      const active = key === model.value;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", active ? "true" : "false");
      const n = model.counts[key];
      const count = tab.querySelector(".count");
      count.classList.toggle("alert", key === "failed" && n > 0);
      const text = n === undefined ? "…" : fmtNumber(n);
      if (count.textContent !== text) count.textContent = text;
    }
  }
  model.on(["value", "counts"], update);
  model.on("labels", build);
  build();
  el.append(bar);
}
"""

    _stylesheets = [BASE_CSS + """
.tabs { display: inline-flex; gap: 4px; padding: 4px; background: #f1f5f9; border-radius: 10px; }
.tab { display: inline-flex; align-items: center; gap: 8px; border: 0; background: transparent; cursor: pointer;
       padding: 7px 14px; border-radius: 7px; font-size: 14px; font-weight: 500; color: #475569; }
.tab:hover { color: #0f172a; background: #e2e8f0; }
.tab.active { background: #fff; color: #0f172a; box-shadow: 0 1px 3px rgba(15, 23, 42, .12); }
.count { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 999px; background: #e2e8f0;
         color: #334155; font-variant-numeric: tabular-nums; }
.tab.active .count { background: #e0e7ff; color: #3730a3; }
.count.alert { background: #fee2e2; color: #b91c1c; }
"""]


class FilterTabs(pn.viewable.Viewer):
    """Shows the tab counts, reloaded on every revision; a click switches `state.tab`."""

    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.view = FilterTabsView(value=state.tab, margin=(4, 0))
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
