"""The detail panel on the right: one execution and every step it ran, in order.

It follows `state.execution` (a click on a row, or the URL) and reloads on every
revision; step cards are kept by index and only updated when their data changed, so
a refresh never collapses an expanded step or a JSON tree the user opened.
"""

from __future__ import annotations

import panel as pn
import param
from panel.custom import JSComponent

from .format import execution_item, now_ms
from .loader import Loader
from .source import LogSource
from .state import LogsState
from .step_card import StepCards
from .theme import BASE_CSS, JS_HELPERS


class ExecutionSummaryView(JSComponent):
    """Flow name, id, status, trigger, start, duration (ticking while running), messages, error."""

    execution = param.Dict(default=None, allow_None=True)
    message = param.String(default="")
    steps = param.Integer(default=0)
    server_now = param.Integer(default=0)

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
  function draw() {
    clock = serverClock(model);
    live = null;
    box.replaceChildren();
    const top = h("div", "top");
    const e = model.execution;
    const title = h("div", "title");
    title.append(h("div", "eyebrow", "Execution"));
    title.append(h("div", "flow-name", e ? e.flow_name : "Execution"));
    top.append(title);
    const close = h("button", "close", "×");
    close.title = "Close";
    close.setAttribute("aria-label", "Close details");
    close.addEventListener("click", () => model.send_msg("close"));
    top.append(close);
    box.append(top);
    if (!e) {
      box.append(h("div", "message muted", model.message));
      return;
    }
    const id = h("div", "exec-id mono", e.id);
    id.title = "Execution id";
    box.append(id);
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
    box.append(facts);
    if (e.error) {
      box.append(h("div", "error-title", "Error"));
      box.append(h("pre", "error", e.error));
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


class DetailPanel(pn.viewable.Viewer):
    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.summary = ExecutionSummaryView(lambda: state.open_execution(None), sizing_mode="stretch_width",
                                            margin=0)
        self.steps_title = pn.pane.HTML("", margin=(14, 18, 4, 18),
                                        stylesheets=[":host { font-size: 11px; font-weight: 700; color: #475569; "
                                                     "text-transform: uppercase; letter-spacing: .06em; }"])
        self.cards = StepCards(state.toggle_step)
        self.record: dict | None = None
        self.layout = pn.Column(
            self.summary, self.steps_title, self.cards,
            visible=bool(state.execution), sizing_mode="stretch_width", margin=0,
            css_classes=["detail-panel"],
            stylesheets=[":host { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px; "
                         "overflow-y: auto; max-height: calc(100vh - 190px); position: sticky; top: 0; "
                         "box-shadow: 0 4px 18px rgba(15, 23, 42, .06); }"],
        )
        self.loader = Loader(self._load, self._show, spinner=self.layout,
                             on_error=lambda exc: self._show((self.state.execution, None, f"Could not load: {exc}")))
        state.param.watch(self._opened, "execution")
        state.param.watch(self._steps_toggled, "steps")
        state.param.watch(self._revised, "revision")

    async def _load(self):
        execution_id = self.state.execution
        if not execution_id:
            return "", None, ""
        return execution_id, await self.source.execution(execution_id), ""

    def _revised(self, _) -> None:
        if self.state.execution:
            self.loader.request(spin=self.record is None)

    def _opened(self, event) -> None:
        if not event.new:
            self.layout.visible = False
            self._clear()
            return
        if self.record is None or self.record.get("execution_id") != event.new:
            self._clear()
        self.layout.visible = True
        self.loader.request(spin=True)

    def _clear(self, message: str = "Loading…") -> None:
        self.record = None
        self.cards.clear()
        self.summary.param.update(execution=None, message=message, steps=0)
        self.steps_title.object = ""

    def _show(self, result) -> None:
        execution_id, record, error = result
        if not execution_id or execution_id != self.state.execution:
            return
        if record is None:
            self._clear(error or "This execution no longer exists: it was deleted or removed by retention.")
            return
        head = {k: v for k, v in record.items() if k != "steps"}
        if self.record is None or {k: v for k, v in self.record.items() if k != "steps"} != head:
            self.summary.param.update(execution=execution_item(record), message="", steps=len(record["steps"]),
                                      server_now=now_ms())
        self.record = record
        self.cards.show(record["steps"], self.state.steps)
        count = len(record["steps"])
        self.steps_title.object = f"Steps ({count})" if count else "No steps recorded yet"

    def _steps_toggled(self, event) -> None:
        if self.record is not None:
            self.cards.show(self.record["steps"], event.new)

    def __panel__(self):
        return self.layout
