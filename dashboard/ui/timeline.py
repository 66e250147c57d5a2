"""The timeline of one execution: a waterfall of its steps on a time axis (Bokeh).

One horizontal bar per step, from its start to its end, coloured by status, step names
down the y axis in the order they ran; a slow step is the long bar. While the execution
runs, a hatched bar from the end of the last recorded step to now stands for the step in
progress (the engine reports a step when it ends), and it grows every second.

Node names are untrusted: the axis draws them on a canvas, and the hover tooltip uses
`@field` values, which Bokeh inserts as text (`{safe}` would insert HTML; it is not used).
The bars' data source is named `timeline-steps`: tests count its rows in the browser with
`Bokeh.documents[0].get_model_by_name("timeline-steps")`.
"""

from __future__ import annotations

import panel as pn
from bokeh.models import ColumnDataSource, CustomJSTickFormatter, FactorRange, HoverTool, Range1d
from bokeh.plotting import figure

from .format import STATUS_LABELS, epoch_ms, esc, node_type_label, now_ms, plain
from .theme import BASE_CSS, SANS, STATUS_COLORS

STEPS_SOURCE = "timeline-steps"
RUNNING_SOURCE = "timeline-running"
TICK_MS = 1000
LABEL_CHARS = 26
ROW_PX, DENSE_ROW_PX, DENSE_AFTER = 28, 9, 30  # past 30 steps (long loops) the rows get thin
FRAME_PX = 72  # axis and padding
MIN_BAR_SHARE = 0.006  # of the time axis

# x is seconds since the execution started; the axis reads like the durations elsewhere
SECONDS_FORMAT = """
const s = tick;
if (s === 0) return "0";
if (Math.abs(s) < 1) return Math.round(s * 1000) + " ms";
if (s < 60) return (Math.round(s * 10) / 10) + " s";
const m = Math.floor(s / 60), r = Math.round(s % 60);
if (m < 60) return m + "m " + String(r).padStart(2, "0") + "s";
return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
"""

EMPTY_STEPS = {k: [] for k in ("y", "left", "right", "color", "index", "name", "type", "status", "start",
                               "duration")}
EMPTY_RUNNING = {k: [] for k in ("y", "left", "right", "duration")}


def _duration_text(ms) -> str:
    if ms is None:
        return "–"
    return f"{ms:,} ms" if ms < 1000 else f"{ms / 1000:,.2f} s"


def _label(index: int, name: str) -> str:
    name = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"
    return f"{index + 1}. {name}"  # the index keeps labels unique when a loop repeats a node


def timeline_data(record: dict, now: int | None = None) -> tuple[dict, dict, list[str]]:
    """The bars of an execution: (steps columns, running-bar columns, y factors top to bottom)."""
    start = epoch_ms(record["started_at"])
    columns = {k: [] for k in EMPTY_STEPS}
    factors = []
    last_end = start
    for step in sorted(record["steps"], key=lambda s: s["index"]):
        index = int(step["index"])
        begin, end = epoch_ms(step["started_at"]), epoch_ms(step["finished_at"])
        end = begin if end is None else end
        status = str(step.get("status") or "")
        label = _label(index, str(step.get("node_name") or ""))
        factors.append(label)
        columns["y"].append(label)
        columns["left"].append((begin - start) / 1000)
        columns["right"].append((end - start) / 1000)
        columns["color"].append(STATUS_COLORS.get(status, ("#64748b", ""))[0])
        columns["index"].append(index + 1)
        columns["name"].append(str(step.get("node_name") or ""))
        columns["type"].append(node_type_label(str(step.get("node_type") or "")))
        columns["status"].append(STATUS_LABELS.get(status, status))
        columns["start"].append(f"+{_duration_text(begin - start)}")
        columns["duration"].append(_duration_text(plain(step.get("duration_ms"))))
        last_end = max(last_end, end)
    span = max([*columns["right"], 0.001])
    for i, left in enumerate(columns["left"]):  # a skipped or instant step still shows as a sliver
        columns["right"][i] = max(columns["right"][i], left + span * MIN_BAR_SHARE)
    running = {k: [] for k in EMPTY_RUNNING}
    if record.get("status") == "running":
        now = now if now is not None else now_ms()
        label = f"{len(factors) + 1}. (running…)"
        factors.append(label)
        running.update(y=[label], left=[(last_end - start) / 1000], right=[(max(now, last_end) - start) / 1000],
                       duration=[_duration_text(max(0, now - last_end))])
    return columns, running, factors


def _height(rows: int) -> int:
    return FRAME_PX + min(ROW_PX * rows, max(ROW_PX * DENSE_AFTER, DENSE_ROW_PX * rows))


class Timeline(pn.viewable.Viewer):
    """The waterfall of the open execution; `show(record)` updates it in place (hover and zoom survive)."""

    def __init__(self, **params):
        super().__init__(**params)
        self.steps = ColumnDataSource(data=dict(EMPTY_STEPS), name=STEPS_SOURCE)
        self.running = ColumnDataSource(data=dict(EMPTY_RUNNING), name=RUNNING_SOURCE)
        self.record: dict | None = None
        self._ticker = None
        self.figure = None  # drawn when an execution is first shown here: it was half of building each page
        self.caption = pn.pane.HTML("", sizing_mode="stretch_width", margin=(4, 18, 0, 18), stylesheets=[CAPTION_CSS])
        self.layout = pn.Column(self.caption, sizing_mode="stretch_width", margin=0, css_classes=["timeline"])

    def _draw(self) -> None:
        """The figure, once: a page nobody opens the timeline of never builds its ~60 Bokeh models."""
        if self.figure is None:
            self.figure = self._figure()
            self.layout.append(pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", margin=(0, 10, 12, 6)))

    def _figure(self):
        fig = figure(y_range=FactorRange(), x_range=Range1d(0, 1), height=_height(1), sizing_mode="stretch_width",
                     tools="xpan,xwheel_zoom,reset", toolbar_location="above", name="timeline-figure")
        fig.toolbar.logo = None
        fig.toolbar.autohide = True
        bars = fig.hbar(y="y", left="left", right="right", height=0.66, source=self.steps, fill_color="color",
                        line_color="color", fill_alpha=0.85, name="timeline-bars")
        live = fig.hbar(y="y", left="left", right="right", height=0.66, source=self.running, fill_color="#dbeafe",
                        line_color="#1d4ed8", hatch_pattern="right_diagonal_line", hatch_color="#1d4ed8",
                        hatch_alpha=0.35, name="timeline-running-bar")
        # @field values are inserted as text; never add {safe} here: node names come from the logs
        fig.add_tools(HoverTool(renderers=[bars], tooltips=[
            ("Step", "@index. @name"), ("Type", "@type"), ("Status", "@status"), ("Started", "@start"),
            ("Duration", "@duration")]))
        fig.add_tools(HoverTool(renderers=[live], tooltips=[("Running for", "@duration")]))
        fig.xaxis.formatter = CustomJSTickFormatter(code=SECONDS_FORMAT)
        fig.xaxis.axis_label = "since the execution started"
        for axis in (fig.xaxis, fig.yaxis):
            axis.axis_label_text_font = SANS
            axis.major_label_text_font = SANS
            axis.axis_label_text_font_style = "normal"
            axis.axis_label_text_color = "#64748b"
            axis.major_label_text_color = "#334155"
            axis.axis_line_color = "#cbd5e1"
            axis.major_tick_line_color = "#cbd5e1"
            axis.minor_tick_line_color = None
        fig.yaxis.major_label_text_font_size = "11.5px"
        fig.ygrid.grid_line_color = None
        fig.xgrid.grid_line_color = "#eef2f6"
        fig.outline_line_color = None
        fig.min_border_left = 8
        fig.background_fill_color = "#ffffff"
        return fig

    # -- updates ---------------------------------------------------------------------------

    def show(self, record: dict | None, active: bool = True) -> None:
        """Draw this execution (None clears). `active`: the timeline is on screen (a running one ticks)."""
        if record is not None:
            self._draw()
        # Bokeh models changed from an async load need the document unlocked (Panel's panes do this themselves)
        with pn.io.unlocked():
            self._show(record, active)

    def _show(self, record: dict | None, active: bool) -> None:
        self.record = record
        if record is None:  # (each data change redraws the plot, even hidden: only when there was any)
            if self.steps.data != EMPTY_STEPS:
                self.steps.data = dict(EMPTY_STEPS)
            if self.running.data != EMPTY_RUNNING:
                self.running.data = dict(EMPTY_RUNNING)
            if self.figure is not None and list(self.figure.y_range.factors):
                self.figure.y_range.factors = []
            self.caption.object = ""
            self._tick_while(False)
            return
        columns, running, factors = timeline_data(record)
        if self.steps.data != columns:
            self.steps.data = columns
        if self.running.data != running:
            self.running.data = running
        if list(self.figure.y_range.factors) != factors[::-1]:
            self.figure.y_range.factors = factors[::-1]  # a categorical axis counts from the bottom
            self.figure.height = _height(len(factors))  # the pane follows (setting its height breaks panel 1.9)
            self.figure.yaxis.major_label_text_font_size = "11.5px" if len(factors) <= DENSE_AFTER else "8px"
        self._fit(columns, running)
        self.caption.object = self._caption(record)
        self._tick_while(active and record.get("status") == "running")

    def _fit(self, columns: dict, running: dict) -> None:
        """The axis spans the execution; left alone while the span is the same, so a zoom survives a refresh."""
        end = max([*columns["right"], *running["right"], 0.001]) * 1.04
        if self.figure.x_range.reset_end != end:
            self.figure.x_range.update(start=0, end=end, reset_start=0, reset_end=end)

    def _caption(self, record: dict) -> str:
        steps = record["steps"]
        if not steps and record.get("status") != "running":
            return '<div class="timeline-caption" data-bars="0">No steps recorded.</div>'
        parts = [f"{len(steps)} step{'' if len(steps) == 1 else 's'}"]
        timed = [s for s in steps if plain(s.get("duration_ms")) is not None]
        if timed:
            slowest = max(timed, key=lambda s: s["duration_ms"])
            parts.append(f'slowest: <b>{esc(slowest["node_name"])}</b> '
                         f'<span class="mono">{esc(_duration_text(plain(slowest["duration_ms"])))}</span>')
        if record.get("status") == "running":
            parts.append('<span class="live">running: the hatched bar grows until the next step is recorded</span>')
        return f'<div class="timeline-caption" data-bars="{len(steps)}">{" · ".join(parts)}</div>'

    # -- a running execution grows every second -------------------------------------------

    def _tick_while(self, running: bool) -> None:
        if running and self._ticker is None and pn.state.curdoc is not None \
                and pn.state.curdoc.session_context is not None:
            self._ticker = pn.state.add_periodic_callback(self._tick, period=TICK_MS)
        elif not running and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        if self.record is None or self.record.get("status") != "running":
            self._tick_while(False)
            return
        _, running, _ = timeline_data(self.record)
        with pn.io.unlocked():
            self.running.data = running
            self._fit(self.steps.data, running)

    def stop(self) -> None:
        self._tick_while(False)

    def __panel__(self):
        return self.layout


CAPTION_CSS = BASE_CSS + """
.timeline-caption { font-size: 12.5px; color: #475569; padding: 6px 0 2px; }
.timeline-caption b { color: #0f172a; font-weight: 600; }
.live { color: #1d4ed8; }
"""

