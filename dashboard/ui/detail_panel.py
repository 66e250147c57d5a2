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
from .compare_panel import ComparePanel
from .format import execution_item, now_ms
from .loader import Loader
from .source import LogSource
from .state import DETAIL_VIEWS, LogsState
from .step_card import StepCards
from .theme import BASE_CSS, JS_HELPERS, asset
from .timeline import Timeline

VIEW_LABELS = {"steps": "Steps", "timeline": "Timeline", "compare": "Compare with last success"}


class ExecutionSummaryElement(JSComponent):
    """Flow name, id, status, trigger, start, duration (ticking while running), messages, error."""

    execution = param.Dict(default=None, allow_None=True, doc="The open execution's row (None: none open).")
    message = param.String(default="", doc="Shown instead of the summary (loading, not found).")
    steps = param.Integer(default=0, doc="How many steps the execution has.")
    server_now = param.Integer(default=0, doc="The server's clock (epoch ms): a running duration ticks from it.")

    _esm = JS_HELPERS + asset("detail_summary.js")

    _stylesheets = [BASE_CSS + asset("detail_summary.css")]

    def __init__(self, on_close, **params):
        super().__init__(**params)
        self._on_close = on_close

    def _handle_msg(self, msg) -> None:
        if msg == "close":
            self._on_close()


class ViewSwitchElement(JSComponent):
    """Steps | Timeline | Compare: tabs bound to `state.view`; Compare only where it applies."""

    value = param.Selector(default="steps", objects=list(DETAIL_VIEWS), doc="The view chosen.")
    compare = param.Boolean(default=False, doc="Offer the comparison (the execution failed).")
    steps = param.Integer(default=None, allow_None=True, doc="How many steps the execution has (None: loading).")

    _esm = JS_HELPERS + f"const VIEW_LABELS = {json.dumps(VIEW_LABELS)};\n" + asset("detail_switch.js")

    _stylesheets = [BASE_CSS + asset("detail_switch.css")]


class DetailPanel(pn.viewable.Viewer):
    shown = param.Boolean(default=False, doc="Whether an execution is open. The page shows the panel by a CSS "
                          "display, not Bokeh's `visible`: a change of `visible` lays out the whole page again "
                          "(16-79 ms of the browser's time at every open and close: benchmarks/page_layouts.py).")

    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.summary = ExecutionSummaryElement(lambda: state.open_execution(None), sizing_mode="stretch_width",
                                            margin=0)
        self.switch = ViewSwitchElement(value=state.view, sizing_mode="stretch_width", margin=0,
                                 css_classes=["view-switch"])
        self.switch.param.watch(lambda e: setattr(self.state, "view", e.new), "value")
        self.steps_title = pn.pane.HTML("", margin=(14, 18, 4, 18), visible=False,
                                        stylesheets=[":host { font-size: 11px; font-weight: 700; color: #475569; "
                                                     "text-transform: uppercase; letter-spacing: .06em; }"])
        self.cards = StepCards(state.toggle_step)
        self.timeline = Timeline()
        self.comparison = ComparePanel(source, state.open_execution)
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
