"""Failures of the selected range grouped by cause: a count, a trend sparkline, a click-through.

A click on a cause narrows the page to the failed executions of that cause (the Failed tab,
`state.cause`, in the URL); a second click, or "Show all", widens it again. The counts come
from `LogQueries.failure_causes`, which counts the same rows `failures()` lists.
"""

from __future__ import annotations

import datetime as dt

import panel as pn
import param
from panel.custom import JSComponent

from ..schema import FAILURE_CAUSE_LABELS, FailureCause, Tab
from .loader import Loader
from .source import LogSource
from .state import SCOPE_PARAMETERS, LogsState
from .theme import BASE_CSS, JS_HELPERS

MAX_POINTS = 48  # sparkline points: enough for a trend, few enough to read


class FailureCausesView(JSComponent):
    """One card per cause; `causes` is [{key, label, count, series}], `active` the chosen key."""

    causes = param.List(default=[], doc="One dict per cause: key, label, count, series.")
    active = param.String(default="", doc="The cause the list is narrowed to ('' for none).")
    loaded = param.Boolean(default=False, doc="Whether causes were loaded (else: loading).")
    bucket = param.String(default="day", doc="The sparklines' bucket: hour or day.")

    _esm = JS_HELPERS + """
function sparkline(series) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  const top = Math.max(1, ...series);
  const step = series.length > 1 ? 100 / (series.length - 1) : 100;
  const points = series.map((v, i) => `${(i * step).toFixed(2)},${(22 - 20 * v / top).toFixed(2)}`);
  if (points.length === 1) points.push(`100,${points[0].split(",")[1]}`);
  const area = document.createElementNS(ns, "polygon");
  area.setAttribute("points", `0,24 ${points.join(" ")} 100,24`);
  area.setAttribute("class", "area");
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "line");
  svg.append(area, line);
  return svg;
}
export function render({ model, el }) {
  const box = h("div", "causes");
  function draw() {
    box.replaceChildren();
    const head = h("div", "head");
    head.append(h("span", "title", "Failure causes"));
    const total = model.causes.reduce((n, c) => n + c.count, 0);
    head.append(h("span", "muted total", model.loaded ? fmtNumber(total) + " failed in the range" : "Counting…"));
    if (model.active) {
      const reset = h("button", "reset", "Show all executions");
      reset.addEventListener("click", () => model.send_msg({ cause: "" }));
      head.append(reset);
    }
    box.append(head);
    const cards = h("div", "cards");
    for (const c of model.causes) {
      const card = h("button", "card" + (c.key === model.active ? " active" : "") + (c.count ? "" : " none"));
      card.setAttribute("data-cause", c.key);
      card.setAttribute("aria-pressed", c.key === model.active ? "true" : "false");
      card.title = c.count ? `Show the ${c.count} failed executions: ${c.label}` : c.label;
      card.append(h("span", "label", c.label));
      const row = h("span", "row");
      row.append(h("span", "count", fmtNumber(c.count)));
      const spark = sparkline(c.series);
      spark.setAttribute("aria-label", `Failures per ${model.bucket}: ${c.series.join(", ")}`);
      row.append(spark);
      card.append(row);
      card.addEventListener("click", () => model.send_msg({ cause: c.key === model.active ? "" : c.key }));
      cards.append(card);
    }
    box.append(cards);
  }
  model.on(["causes", "active", "loaded", "bucket"], draw);
  draw();
  el.append(box);
}
"""

    _stylesheets = [BASE_CSS + """
.causes { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 10px 12px 12px; }
.head { display: flex; align-items: baseline; gap: 10px; margin-bottom: 8px; }
.title { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .06em; color: #475569; }
.total { font-size: 12.5px; }
.reset { margin-left: auto; border: 0; background: transparent; color: var(--accent); font-weight: 600;
         cursor: pointer; font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 8px; }
.card { display: flex; flex-direction: column; gap: 4px; text-align: left; border: 1px solid var(--line);
        background: #fff; border-radius: 9px; padding: 7px 10px; cursor: pointer; font: inherit; color: inherit; }
.card:hover { border-color: #fca5a5; background: #fffafa; }
.card.active { border-color: #dc2626; box-shadow: 0 0 0 2px #fee2e2; background: #fef2f2; }
.card.none { opacity: .6; }
.label { font-size: 12px; color: #475569; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row { display: flex; align-items: center; gap: 8px; }
.count { font-size: 19px; font-weight: 700; color: #b91c1c; font-variant-numeric: tabular-nums; min-width: 2ch; }
.card.none .count { color: #94a3b8; }
.spark { flex: 1; height: 24px; min-width: 40px; }
.spark .line { fill: none; stroke: #dc2626; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.spark .area { fill: #fee2e2; stroke: none; }
"""]

    def __init__(self, on_message, **params):
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict):
            self._on_message(msg)


def bucket_for(since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime) -> str:
    """Hours for a range of two days or less, days otherwise."""
    if since is None:
        return "day"
    return "hour" if (until or now) - since <= dt.timedelta(days=2) else "day"


def series_of(rows: list[dict], cause: str, bucket: str, since, until, now: dt.datetime) -> list[int]:
    """The cause's failures per bucket from the range's start (or its first failure) to its end, zeros included."""
    step = dt.timedelta(hours=1) if bucket == "hour" else dt.timedelta(days=1)

    def floor(ts: dt.datetime) -> dt.datetime:
        ts = ts.astimezone(dt.UTC)
        return ts.replace(minute=0, second=0, microsecond=0) if bucket == "hour" else \
            ts.replace(hour=0, minute=0, second=0, microsecond=0)

    counts = {floor(r["bucket"]): r["failures"] for r in rows if r["cause"] == cause}
    firsts = [floor(r["bucket"]) for r in rows]
    start = floor(since) if since is not None else min(firsts, default=floor(now))
    end = floor(min(until, now) if until is not None else now)
    points = []
    at = max(start, end - step * (MAX_POINTS - 1))
    while at <= end:
        points.append(int(counts.get(at, 0)))
        at += step
    return points or [0]


class FailureCausesPanel(pn.viewable.Viewer):
    def __init__(self, state: LogsState, source: LogSource, **params):
        super().__init__(**params)
        self.state = state
        self.source = source
        self.view = FailureCausesView(self._clicked, active=state.cause, sizing_mode="stretch_width", margin=0,
                                      css_classes=["failure-causes"])
        self.loader = Loader(self._load, self._show, on_shown=source.shown, spinner=self.view,
                             on_error=lambda exc: state.tell(f"Could not count the failures: {exc}", "error"))
        state.reload_on_revision(self.loader)
        state.param.watch(lambda *_: self.loader.request(spin=True), [p for p in SCOPE_PARAMETERS if p != "cause"])
        state.param.watch(lambda e: setattr(self.view, "active", e.new), "cause")

    async def _load(self):
        scope = self.state.scope()
        now = dt.datetime.now(dt.UTC)
        bucket = bucket_for(scope.since, scope.until, now)
        return scope, bucket, now, await self.source.failure_causes(scope, bucket)

    def _show(self, result) -> None:
        scope, bucket, now, rows = result
        totals: dict[str, int] = {}
        for row in rows:
            totals[row["cause"]] = totals.get(row["cause"], 0) + int(row["failures"])
        causes = [{"key": cause.value, "label": FAILURE_CAUSE_LABELS[cause], "count": totals.get(cause.value, 0),
                   "series": series_of(rows, cause.value, bucket, scope.since, scope.until, now)}
                  for cause in FailureCause]
        self.view.param.update(causes=causes, bucket=bucket, loaded=True)

    def _clicked(self, msg: dict) -> None:
        cause = str(msg.get("cause") or "")
        if cause and cause not in {c.value for c in FailureCause}:
            return
        if cause:
            self.state.param.update(cause=cause, tab=Tab.FAILED.value)
        else:
            self.state.cause = ""

    def __panel__(self):
        return self.view
