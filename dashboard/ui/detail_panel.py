"""The detail panel on the right: one execution and every step it ran, in order.

It follows `state.execution` (a click on a row, or the URL) and reloads on every
revision; step cards are kept by index and only updated when their data changed, so
a refresh never collapses an expanded step or a JSON tree the user opened.

Under the summary a switch picks the view (`state.view`, in the URL): the step cards,
the timeline (a waterfall of the steps), or, for a failed execution, the comparison with
the flow's last success. Opening another execution keeps the view; one that cannot be
compared (it did not fail) falls back to the steps.
"""

from __future__ import annotations

import json

import panel as pn
import param
from panel.custom import JSComponent

from ..compare import can_compare
from .compare_view import CompareView
from .format import execution_item, now_ms
from .loader import Loader
from .source import LogSource
from .state import DETAIL_VIEWS, LogsState
from .step_card import StepCards
from .theme import BASE_CSS, JS_HELPERS
from .timeline import Timeline

VIEW_LABELS = {"steps": "Steps", "timeline": "Timeline", "compare": "Compare with last success"}


class ExecutionSummaryView(JSComponent):
    """Flow name, id, status, trigger, start, duration (ticking while running), messages, error."""

    execution = param.Dict(default=None, allow_None=True, doc="The open execution's row (None: none open).")
    message = param.String(default="", doc="Shown instead of the summary (loading, not found).")
    steps = param.Integer(default=0, doc="How many steps the execution has.")
    server_now = param.Integer(default=0, doc="The server's clock (epoch ms): a running duration ticks from it.")

    _esm = JS_HELPERS + """
export function render({ model, el }) {
  const box = h("div", "summary");
  let clock = serverClock(model);
  let live = null;
  function fact(label, child) {
    const f = h("div", "fact");
    f.append(h("div", "label", label));
    const v = h("div", "value");
    v.append(child);
    f.append(v);
    return f;
  }
  // The head with its close button is built once: the rest is redrawn on every refresh of a
  // live execution, and a button replaced between a press and its release gets no click.
  const top = h("div", "top");
  const title = h("div", "title");
  const flowName = h("div", "flow-name");
  title.append(h("div", "eyebrow", "Execution"), flowName);
  const close = h("button", "close", "×");
  close.title = "Close";
  close.setAttribute("aria-label", "Close details");
  close.addEventListener("click", () => model.send_msg("close"));
  top.append(title, close);
  const body = h("div", "body");
  box.append(top, body);
  function draw() {
    clock = serverClock(model);
    live = null;
    const e = model.execution;
    flowName.textContent = e ? e.flow_name : "Execution";
    body.replaceChildren();
    if (!e) {
      body.append(h("div", "message muted", model.message));
      return;
    }
    const id = h("div", "exec-id mono", e.id);
    id.title = "Execution id";
    body.append(id);
    const facts = h("div", "facts");
    facts.append(fact("Status", chip(e.status)));
    const trig = h("span", null, TRIGGER_LABELS[e.trigger] || e.trigger);
    const tv = h("span");
    tv.append(trig);
    if (e.phone) tv.append(h("span", "phone mono", e.phone));
    facts.append(fact("Trigger", tv));
    facts.append(fact("Started", h("span", null, fmtTime(e.started))));
    const dur = h("span", "mono", e.status === "running" ? fmtDuration(clock() - e.started) : fmtDuration(e.duration));
    if (e.status === "running") { dur.classList.add("live"); live = [dur, e.started]; }
    facts.append(fact("Duration", dur));
    const msgs = h("span");
    msgs.append(h("span", e.sent > 0 ? "sent" : "zero", fmtNumber(e.sent) + " sent"), h("span", "sep", " · "),
                h("span", e.failed > 0 ? "failed-count" : "zero", fmtNumber(e.failed) + " failed"));
    facts.append(fact("Messages", msgs));
    facts.append(fact("Steps", h("span", null, fmtNumber(model.steps))));
    body.append(facts);
    if (e.error) {
      body.append(h("div", "error-title", "Error"));
      body.append(h("pre", "error", e.error));
    }
  }
  model.on(["execution", "message", "steps", "server_now"], draw);
  draw();
  const timer = setInterval(() => { if (live) live[0].textContent = fmtDuration(clock() - live[1]); }, 1000);
  model.on("remove", () => clearInterval(timer));
  el.append(box);
}
"""

    _stylesheets = [BASE_CSS + """
.summary { padding: 16px 18px 14px; border-bottom: 1px solid var(--line); }
.top { display: flex; align-items: flex-start; gap: 10px; }
.title { flex: 1; min-width: 0; }
.eyebrow { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 700; }
.flow-name { font-size: 18px; font-weight: 700; overflow-wrap: anywhere; margin-top: 2px; }
.close { border: 0; background: transparent; font-size: 22px; line-height: 22px; color: #64748b; cursor: pointer;
         border-radius: 6px; width: 32px; height: 32px; }
.close:hover { background: #f1f5f9; color: #0f172a; }
.exec-id { font-size: 12px; color: #475569; margin: 4px 0 12px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: minmax(170px, 1.2fr) minmax(0, 1.3fr) minmax(0, 1fr); gap: 10px 16px; }
.fact .label { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
               margin-bottom: 3px; }
.fact .value { font-size: 13px; }
.phone { margin-left: 6px; font-size: 12px; background: #f1f5f9; padding: 1px 6px; border-radius: 4px; }
.live { color: #1d4ed8; }
.sep { color: #cbd5e1; }
.error-title { font-size: 11px; font-weight: 700; text-transform: uppercase; color: #b91c1c; margin: 12px 0 4px;
               letter-spacing: .05em; }
.error { margin: 0; white-space: pre-wrap; word-break: break-word; background: #fef2f2; border: 1px solid #fecaca;
         color: #991b1b; border-radius: 8px; padding: 8px 10px; font-size: 12.5px; font-family: var(--mono); }
.message { padding: 12px 0 4px; font-size: 14px; }
"""]

    def __init__(self, on_close, **params):
        super().__init__(**params)
        self._on_close = on_close

    def _handle_msg(self, msg) -> None:
        if msg == "close":
            self._on_close()


class ViewSwitch(JSComponent):
    """Steps | Timeline | Compare: tabs bound to `state.view`; Compare only where it applies."""

    value = param.Selector(default="steps", objects=list(DETAIL_VIEWS), doc="The view chosen.")
    compare = param.Boolean(default=False, doc="Offer the comparison (the execution failed).")
    steps = param.Integer(default=None, allow_None=True, doc="How many steps the execution has (None: loading).")

    _esm = JS_HELPERS + f"""
const VIEW_LABELS = {json.dumps(VIEW_LABELS)};
export function render({{ model, el }}) {{
  const bar = h("div", "views");
  bar.setAttribute("role", "tablist");
  bar.setAttribute("aria-label", "Execution details view");
  // built when the choice of views changes, updated in place otherwise (see ExecutionSummaryView)
  let buttons = {{}};
  function build() {{
    buttons = {{}};
    bar.replaceChildren();
    for (const view of Object.keys(VIEW_LABELS)) {{
      if (view === "compare" && !model.compare) continue;
      const b = h("button", "view " + view, VIEW_LABELS[view]);
      b.setAttribute("role", "tab");
      b.setAttribute("data-view", view);
      b.addEventListener("click", () => {{ model.value = view; }});
      bar.append(b);
      buttons[view] = b;
    }}
    update();
  }}
  function update() {{
    for (const [view, b] of Object.entries(buttons)) {{
      const selected = model.value === view;
      b.classList.toggle("selected", selected);
      b.setAttribute("aria-selected", selected ? "true" : "false");
    }}
    const steps = buttons.steps;
    let count = steps.querySelector(".count");
    if (model.steps === null) {{ if (count) count.remove(); return; }}
    if (!count) {{ count = h("span", "count"); steps.append(count); }}
    count.textContent = fmtNumber(model.steps);
  }}
  model.on(["value", "steps"], update);
  model.on("compare", build);
  build();
  el.append(bar);
}}
"""

    _stylesheets = [BASE_CSS + """
.views { display: flex; gap: 4px; padding: 6px 18px 0; border-bottom: 1px solid var(--line); }
.count { margin-left: 6px; font-size: 11.5px; background: #eef2ff; color: #4338ca; border-radius: 999px;
         padding: 0 7px; }
.view { border: 0; background: transparent; padding: 7px 10px 8px; font-size: 13px; font-weight: 600;
        color: #64748b; cursor: pointer; border-bottom: 2px solid transparent; margin-bottom: -1px; }
.view:hover { color: #0f172a; }
.view.selected { color: var(--accent); border-bottom-color: var(--accent); }
.view.compare.selected { color: #b91c1c; border-bottom-color: #b91c1c; }
"""]


class DetailPanel(pn.viewable.Viewer):
    shown = param.Boolean(default=False, doc="Whether an execution is open. The page shows the panel by a CSS "
                          "display, not Bokeh's `visible`: a change of `visible` lays out the whole page again "
                          "(16-79 ms of the browser's time at every open and close: benchmarks/page_layouts.py).")

    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.summary = ExecutionSummaryView(lambda: state.open_execution(None), sizing_mode="stretch_width",
                                            margin=0)
        self.switch = ViewSwitch(value=state.view, sizing_mode="stretch_width", margin=0,
                                 css_classes=["view-switch"])
        self.switch.param.watch(lambda e: setattr(self.state, "view", e.new), "value")
        self.steps_title = pn.pane.HTML("", margin=(14, 18, 4, 18), visible=False,
                                        stylesheets=[":host { font-size: 11px; font-weight: 700; color: #475569; "
                                                     "text-transform: uppercase; letter-spacing: .06em; }"])
        self.cards = StepCards(state.toggle_step)
        self.timeline = Timeline()
        self.comparison = CompareView(source, state.open_execution)
        self.record: dict | None = None
        self.layout = pn.Column(
            self.summary, self.switch, self.steps_title, self.cards, self.timeline, self.comparison,
            sizing_mode="stretch_width", margin=0, css_classes=["detail-panel"],
            stylesheets=[":host { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px; "
                         "overflow-y: auto; max-height: calc(100vh - 190px); position: sticky; top: 0; "
                         "box-shadow: 0 4px 18px rgba(15, 23, 42, .06); }"],
        )
        self.shown = bool(state.execution)
        self.loader = Loader(self._load, self._show, on_shown=source.shown, spinner=self.layout,
                             on_error=lambda exc: self._show((self.state.execution, None, f"Could not load: {exc}")))
        state.param.watch(self._opened, "execution")
        state.param.watch(self._steps_toggled, "steps")
        state.param.watch(self._revised, "revision")
        state.param.watch(self._view_changed, "view")
        self._show_view()

    async def _load(self):
        execution_id = self.state.execution
        if not execution_id:
            return "", None, ""
        return execution_id, await self.source.execution(execution_id), ""

    def _revised(self, _) -> None:
        if self.state.execution:
            self.loader.request(spin=self.record is None, auto=self.state.auto_refreshed)

    def _opened(self, event) -> None:
        if not event.new:
            self.shown = False
            self._clear()
            return
        if self.record is None or self.record.get("execution_id") != event.new:
            self._clear()
        self.shown = True
        self.loader.request(spin=True)

    def _clear(self, message: str = "Loading…") -> None:
        self.record = None
        self.cards.clear()
        self.timeline.show(None)
        self.comparison.clear()
        self.summary.param.update(execution=None, message=message, steps=0)
        self.switch.steps = None
        self.steps_title.object = ""

    def _show(self, result) -> None:
        execution_id, record, error = result
        if not execution_id or execution_id != self.state.execution:
            return
        if record is None:
            self._clear(error or "This execution no longer exists: it was deleted or removed by retention.")
            self.comparison.view.message = ""
            return
        head = {k: v for k, v in record.items() if k != "steps"}
        if (self.record is None or {k: v for k, v in self.record.items() if k != "steps"} != head
                or self.summary.steps != len(record["steps"])):  # its Steps fact counts them
            self.summary.param.update(execution=execution_item(record), message="", steps=len(record["steps"]),
                                      server_now=now_ms())
        self.record = record
        self.cards.show(record["steps"], self.state.steps)
        self.switch.steps = len(record["steps"])  # the Steps tab shows the count
        self.steps_title.object = "" if record["steps"] else "No steps recorded yet"
        self.switch.compare = can_compare(record)
        if self.state.view == "compare" and not can_compare(record):
            self.state.view = "steps"  # a run that did not fail has nothing to compare (calls _view_changed)
        else:
            self._show_view()

    def _view_changed(self, event) -> None:
        self.switch.value = event.new
        self._show_view()

    def _show_view(self) -> None:
        """Show the chosen view, and bring it up to date with the record (the others wait until chosen)."""
        view = self.state.view
        self.cards.view.visible = view == "steps"
        self.steps_title.visible = view == "steps" and self.record is not None and not self.record["steps"]
        self.timeline.layout.visible = view == "timeline"
        self.comparison.view.visible = view == "compare"
        if view == "timeline":
            self.timeline.show(self.record)
        else:
            self.timeline.stop()
        if view == "compare" and self.record is not None:
            self.comparison.show(self.record)

    def _steps_toggled(self, event) -> None:
        if self.record is not None:
            self.cards.show(self.record["steps"], event.new)

    def __panel__(self):
        return self.layout
